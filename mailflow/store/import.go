package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// The imports (mailflow/importer) bring a list's past into Parley: its
// members from a CSV file and its archive from an mbox. They write here
// directly, never through posting.Service, so nothing they store is mailed
// to anyone: no deliveries rows, no jobs.

// asyncCommit makes the transaction's commit asynchronous: no disk flush
// waited for, which is most of the cost of one small transaction. An
// import can afford it, as no one is told anything was stored: should
// PostgreSQL itself crash, the last fraction of a second of imported rows
// may be lost, and running the import again restores them.
func (s *Store) asyncCommit(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `SET LOCAL synchronous_commit TO off`)
	return mapErr(err, "set synchronous_commit")
}

// GroupsByName returns every group, by name: what an admin imports into.
func (s *Store) GroupsByName(ctx context.Context) ([]mailflow.Group, error) {
	rows, err := s.db.Query(ctx, `SELECT `+groupCols+` FROM groups ORDER BY lower(name), id`)
	if err != nil {
		return nil, mapErr(err, "list groups")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Group, error) { return scanGroup(r) })
	return out, mapErr(err, "list groups")
}

// ImportedMember is one member of a list being moved to Parley.
type ImportedMember struct {
	GroupID  int64
	Email    string // a valid address (mailflow.NormalizeEmail)
	Name     string // for a new account
	Delivery mailflow.Delivery
	// Delivery empty: a new membership gets the user's default delivery.
}

// MemberOutcome says what importing one member did.
type MemberOutcome string

const (
	MemberAdded      MemberOutcome = "added"       // a new active membership
	MemberActivated  MemberOutcome = "activated"   // a request or an invitation became an active membership
	MemberAlready    MemberOutcome = "already"     // already an active member: nothing changed
	MemberBanned     MemberOutcome = "banned"      // banned from the group: left banned
	MemberUserBanned MemberOutcome = "user_banned" // the account is banned or deactivated: left alone
)

// MemberImport is the result of ImportMember.
type MemberImport struct {
	UserID     int64
	NewAccount bool
	Outcome    MemberOutcome
}

// ImportMember finds or creates the user with m's address and makes them
// an active member of the group, in one transaction. A new account is
// verified (the address was on the old list) and has no password: its
// owner signs in by resetting it, or by single sign-on. An existing
// membership keeps its role and delivery; a banned one stays banned.
// Running it twice changes nothing the second time.
func (s *Store) ImportMember(ctx context.Context, m ImportedMember) (MemberImport, error) {
	var out MemberImport
	err := s.Tx(ctx, func(tx *Store) error {
		out = MemberImport{}
		if err := tx.asyncCommit(ctx); err != nil {
			return err
		}
		// ON CONFLICT on the lower(email) index: two imports of the same
		// address at once make one account.
		err := tx.db.QueryRow(ctx, `
			INSERT INTO users (email, name, email_verified_at) VALUES ($1, $2, now())
			ON CONFLICT ((lower(email))) DO NOTHING
			RETURNING id`, m.Email, m.Name).Scan(&out.UserID)
		switch {
		case err == nil:
			out.NewAccount = true
		case errors.Is(err, pgx.ErrNoRows):
			var status mailflow.UserStatus
			if err := tx.db.QueryRow(ctx, `SELECT id, status FROM users WHERE lower(email) = lower($1)`, m.Email).Scan(&out.UserID, &status); err != nil {
				return mapErr(err, "find user")
			}
			if status != mailflow.UserActive {
				out.Outcome = MemberUserBanned
				return nil
			}
		default:
			return mapErr(err, "create user")
		}
		tag, err := tx.db.Exec(ctx, `
			INSERT INTO memberships (group_id, user_id, delivery, status)
			SELECT $1, u.id, coalesce(nullif($3, ''), u.default_delivery), 'active' FROM users u WHERE u.id = $2
			ON CONFLICT (group_id, user_id) DO NOTHING`, m.GroupID, out.UserID, string(m.Delivery))
		if err != nil {
			return mapErr(err, "add member")
		}
		if tag.RowsAffected() == 1 {
			out.Outcome = MemberAdded
			return nil
		}
		var status mailflow.MemberStatus
		if err := tx.db.QueryRow(ctx, `SELECT status FROM memberships WHERE group_id = $1 AND user_id = $2 FOR UPDATE`,
			m.GroupID, out.UserID).Scan(&status); err != nil {
			return mapErr(err, "get membership")
		}
		switch status {
		case mailflow.MemberActive:
			out.Outcome = MemberAlready
		case mailflow.MemberBanned:
			out.Outcome = MemberBanned
		default:
			if _, err := tx.db.Exec(ctx, `
				UPDATE memberships SET status = 'active', delivery = coalesce(nullif($3, ''), delivery), updated_at = now()
				WHERE group_id = $1 AND user_id = $2`, m.GroupID, out.UserID, string(m.Delivery)); err != nil {
				return mapErr(err, "activate membership")
			}
			out.Outcome = MemberActivated
		}
		return nil
	})
	return out, err
}

// MessageRef is a message an import found by its Message-ID.
type MessageRef struct {
	ID, ThreadID int64
	MessageID    string
	Private      bool // in a private thread
}

// MessageRefs returns those of messageIDs the group has, by Message-ID.
func (s *Store) MessageRefs(ctx context.Context, groupID int64, messageIDs []string) (map[string]MessageRef, error) {
	out := map[string]MessageRef{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.thread_id, m.message_id, t.private_member_id IS NOT NULL
		FROM messages m JOIN threads t ON t.id = m.thread_id
		WHERE m.group_id = $1 AND m.message_id = ANY($2)`, groupID, messageIDs)
	if err != nil {
		return nil, mapErr(err, "find messages by Message-ID")
	}
	defer rows.Close()
	for rows.Next() {
		var r MessageRef
		if err := rows.Scan(&r.ID, &r.ThreadID, &r.MessageID, &r.Private); err != nil {
			return nil, mapErr(err, "find messages by Message-ID")
		}
		out[r.MessageID] = r
	}
	return out, mapErr(rows.Err(), "find messages by Message-ID")
}

// ThreadCandidate is a thread an import might join by subject.
type ThreadCandidate struct {
	ID            int64
	Subject       string
	LastMessageAt time.Time
}

// ThreadsEndingWith returns the group's ordinary (not private) threads
// whose last message is within window of at and whose subject, with runs
// of ASCII white space made one space, ends with tail (compared with
// PostgreSQL's lower()), nearest in time first. It is a coarse filter:
// the caller compares the normalized subjects itself.
func (s *Store) ThreadsEndingWith(ctx context.Context, groupID int64, tail string, at time.Time, window time.Duration, limit int) ([]ThreadCandidate, error) {
	if tail == "" {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `
		SELECT id, subject, last_message_at FROM threads
		WHERE group_id = $1 AND private_member_id IS NULL
		  AND last_message_at BETWEEN $2::timestamptz - $3 * interval '1 second' AND $2::timestamptz + $3 * interval '1 second'
		  AND right(lower(btrim(regexp_replace(subject, '[ \t\r\n\f\v]+', ' ', 'g'))), char_length($4)) = lower($4)
		ORDER BY abs(extract(epoch FROM last_message_at - $2::timestamptz)), id DESC
		LIMIT $5`, groupID, at, int64(window/time.Second), tail, limit)
	if err != nil {
		return nil, mapErr(err, "find threads by subject")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadCandidate, error) {
		var c ThreadCandidate
		err := r.Scan(&c.ID, &c.Subject, &c.LastMessageAt)
		return c, err
	})
	return out, mapErr(err, "find threads by subject")
}

// ImportedMessage is a message from a group's archive, stored as it was
// sent: approved, from email, with its own date.
type ImportedMessage struct {
	GroupID   int64
	ThreadID  int64  // the thread it joins; 0 starts a new one named Subject
	ParentID  *int64 // the message it answers, when its headers say so
	AuthorID  *int64 // nil: the sender has no account (FromEmail says who)
	FromEmail string
	MessageID string
	InReplyTo string
	Subject   string
	Body      string
	RawSource []byte
	Date      time.Time
}

// ImportMessage stores an archived message and counts it in its thread
// (a new one, or ThreadID), in one transaction. The thread's first and
// last dates follow its messages' own. A reply joined without a known
// parent answers the thread's latest message before it. Nothing is
// queued: the message is mailed to no one. A Message-ID the group has
// already is ErrDuplicate.
func (s *Store) ImportMessage(ctx context.Context, m ImportedMessage) (messageID, threadID int64, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		if err := tx.asyncCommit(ctx); err != nil {
			return err
		}
		threadID = m.ThreadID
		parent := m.ParentID
		if threadID == 0 {
			if err := tx.db.QueryRow(ctx, `
				INSERT INTO threads (group_id, subject, created_by, created_at, last_message_at)
				VALUES ($1, $2, $3, $4, $4) RETURNING id`, m.GroupID, m.Subject, m.AuthorID, m.Date).Scan(&threadID); err != nil {
				return mapErr(err, "create thread")
			}
		} else if parent == nil {
			var id int64
			err := tx.db.QueryRow(ctx, `
				SELECT id FROM messages WHERE thread_id = $1 AND created_at <= $2
				ORDER BY created_at DESC, id DESC LIMIT 1`, threadID, m.Date).Scan(&id)
			if err == nil {
				parent = &id
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return mapErr(err, "find parent message")
			}
		}
		if err := tx.db.QueryRow(ctx, `
			INSERT INTO messages (thread_id, group_id, parent_id, author_id, from_email, message_id, in_reply_to,
				subject, body, raw_source, source, status, created_at, approved_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'email', 'approved', $11, $11)
			RETURNING id`,
			threadID, m.GroupID, parent, m.AuthorID, m.FromEmail, m.MessageID, m.InReplyTo,
			m.Subject, m.Body, m.RawSource, m.Date).Scan(&messageID); err != nil {
			return mapErr(err, "import message")
		}
		tag, err := tx.db.Exec(ctx, `
			UPDATE threads SET message_count = message_count + 1,
				created_at = least(created_at, $2), last_message_at = greatest(last_message_at, $2)
			WHERE id = $1 AND group_id = $3`, threadID, m.Date, m.GroupID)
		if err != nil {
			return mapErr(err, "count message in thread")
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("import message: thread %d is not in group %d: %w", threadID, m.GroupID, mailflow.ErrNotFound)
		}
		return nil
	})
	return messageID, threadID, err
}
