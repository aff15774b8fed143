package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// MessageForUpdate reads a message and locks it until the transaction
// ends: two moderators deciding at once are serialised here.
func (s *Store) MessageForUpdate(ctx context.Context, id int64) (mailflow.Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageCols+messageFrom+` WHERE m.id = $1 FOR UPDATE OF m`, id))
	return m, mapErr(err, "lock message")
}

// SetMessageStatus moves a message to status. Approving one counts it in
// its thread, as InsertMessage does for a message approved on arrival.
func (s *Store) SetMessageStatus(ctx context.Context, id int64, status mailflow.MessageStatus) error {
	var threadID int64
	var authorID *int64
	err := s.db.QueryRow(ctx, `
		UPDATE messages SET status = $2, approved_at = CASE WHEN $2 = 'approved' THEN now() ELSE approved_at END
		WHERE id = $1 RETURNING thread_id, author_id`, id, status).Scan(&threadID, &authorID)
	if err != nil {
		return mapErr(err, "set message status")
	}
	if status == mailflow.MessageApproved {
		return s.countApproved(ctx, threadID, authorID)
	}
	return nil
}

// LastModerator names who last decided on a message ("" if nobody known).
func (s *Store) LastModerator(ctx context.Context, messageID int64) (string, error) {
	var name string
	err := s.db.QueryRow(ctx, `
		SELECT coalesce(u.name, '') FROM moderation_actions a LEFT JOIN users u ON u.id = a.moderator_id
		WHERE a.message_id = $1 ORDER BY a.created_at DESC, a.id DESC LIMIT 1`, messageID).Scan(&name)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return name, mapErr(err, "last moderator")
}

// HeldMessage is a message waiting for a moderator, as the panel lists it.
type HeldMessage struct {
	ID         int64
	ThreadID   int64
	Thread     string // the thread's subject
	Subject    string
	Body       string
	AuthorID   *int64
	AuthorName string
	FromEmail  string
	Source     string
	CreatedAt  time.Time
	SenderAuth string // for mail: what checking the From found
}

// HeldMessages lists a group's held messages, oldest first.
func (s *Store) HeldMessages(ctx context.Context, groupID int64, limit int) ([]HeldMessage, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.thread_id, t.subject, m.subject, m.body, m.author_id, coalesce(u.name, ''), m.from_email, m.source, m.created_at, m.sender_auth
		FROM messages m JOIN threads t ON t.id = m.thread_id LEFT JOIN users u ON u.id = m.author_id
		WHERE m.group_id = $1 AND m.status = 'held'
		ORDER BY m.created_at, m.id LIMIT $2`, groupID, limit)
	if err != nil {
		return nil, mapErr(err, "list held messages")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (HeldMessage, error) {
		var h HeldMessage
		return h, r.Scan(&h.ID, &h.ThreadID, &h.Thread, &h.Subject, &h.Body, &h.AuthorID, &h.AuthorName, &h.FromEmail, &h.Source, &h.CreatedAt, &h.SenderAuth)
	})
}

// FlaggedMessage is a message with open flags, as the panel lists it.
type FlaggedMessage struct {
	HeldMessage
	Flags     int
	FlaggedBy string // the first flagger's name
	Reasons   []string
}

// FlaggedMessages lists a group's messages with open flags, oldest flag first.
func (s *Store) FlaggedMessages(ctx context.Context, groupID int64, limit int) ([]FlaggedMessage, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.thread_id, t.subject, m.subject, m.body, m.author_id, coalesce(u.name, ''), m.from_email, m.source, m.created_at,
		       f.n, f.first_by, f.reasons
		FROM messages m JOIN threads t ON t.id = m.thread_id LEFT JOIN users u ON u.id = m.author_id
		JOIN LATERAL (
			SELECT count(*) AS n, min(fl.created_at) AS first_at,
			       (array_agg(coalesce(fu.name, 'a deleted member') ORDER BY fl.created_at))[1] AS first_by,
			       array_remove(array_agg(NULLIF(fl.reason, '') ORDER BY fl.created_at), NULL) AS reasons
			FROM flags fl LEFT JOIN users fu ON fu.id = fl.flagged_by
			WHERE fl.message_id = m.id AND fl.resolved_at IS NULL
		) f ON f.n > 0
		WHERE m.group_id = $1 AND m.status = 'approved'
		ORDER BY f.first_at, m.id LIMIT $2`, groupID, limit)
	if err != nil {
		return nil, mapErr(err, "list flagged messages")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FlaggedMessage, error) {
		var f FlaggedMessage
		h := &f.HeldMessage
		return f, r.Scan(&h.ID, &h.ThreadID, &h.Thread, &h.Subject, &h.Body, &h.AuthorID, &h.AuthorName, &h.FromEmail, &h.Source, &h.CreatedAt,
			&f.Flags, &f.FlaggedBy, &f.Reasons)
	})
}

// ResolveFlags closes a message's open flags: "approved" keeps the
// message (it shows again), "removed" takes it down. It reports whether
// there was anything open.
func (s *Store) ResolveFlags(ctx context.Context, messageID, moderatorID int64, resolution string) (bool, error) {
	tag, err := s.db.Exec(ctx, `
		UPDATE flags SET resolved_by = $2, resolved_at = now(), resolution = $3
		WHERE message_id = $1 AND resolved_at IS NULL`, messageID, moderatorID, resolution)
	if err != nil {
		return false, mapErr(err, "resolve flags")
	}
	if tag.RowsAffected() > 0 && resolution == "removed" {
		if _, err := s.db.Exec(ctx, `
			WITH m AS (UPDATE messages SET status = 'removed' WHERE id = $1 AND status = 'approved' RETURNING thread_id)
			UPDATE threads SET message_count = greatest(message_count - 1, 0) WHERE id IN (SELECT thread_id FROM m)`, messageID); err != nil {
			return false, mapErr(err, "remove flagged message")
		}
	}
	return tag.RowsAffected() > 0, nil
}

// FlagLogEntry is one flag as the flag moderation log shows it.
type FlagLogEntry struct {
	MessageID  int64
	ThreadID   int64
	GroupSlug  string
	GroupName  string
	Subject    string
	FlaggedBy  string
	FlaggedAt  time.Time
	Reason     string
	ResolvedBy string
	ResolvedAt *time.Time
	Resolution string // "", approved (kept), removed
}

// FlagLog lists flags, newest first, of one group (groupID 0: all).
func (s *Store) FlagLog(ctx context.Context, groupID int64, limit, offset int) ([]FlagLogEntry, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.thread_id, g.slug, g.name, m.subject, coalesce(fu.name, 'a deleted member'), f.created_at, f.reason,
		       coalesce(ru.name, ''), f.resolved_at, coalesce(f.resolution, '')
		FROM flags f JOIN messages m ON m.id = f.message_id JOIN groups g ON g.id = m.group_id
		LEFT JOIN users fu ON fu.id = f.flagged_by LEFT JOIN users ru ON ru.id = f.resolved_by
		WHERE $1 = 0 OR m.group_id = $1
		ORDER BY f.created_at DESC, f.id DESC LIMIT $2 OFFSET $3`, groupID, limit, offset)
	if err != nil {
		return nil, mapErr(err, "flag log")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FlagLogEntry, error) {
		var e FlagLogEntry
		return e, r.Scan(&e.MessageID, &e.ThreadID, &e.GroupSlug, &e.GroupName, &e.Subject, &e.FlaggedBy, &e.FlaggedAt, &e.Reason,
			&e.ResolvedBy, &e.ResolvedAt, &e.Resolution)
	})
}

// waitingSQL lists the group_id of each message waiting on a moderation
// panel: held (messages_held_idx), or approved under an open flag (from
// the flags, which are few), as HeldMessages and FlaggedMessages list
// them; never a scan of every message.
const waitingSQL = `SELECT m.group_id FROM messages m WHERE m.status = 'held'
	UNION ALL
	SELECT m.group_id FROM messages m
	WHERE m.status = 'approved' AND m.id IN (SELECT f.message_id FROM flags f WHERE f.resolved_at IS NULL)`

// ModerationWaiting counts what waits on a group's moderation panel:
// held messages and flagged ones.
func (s *Store) ModerationWaiting(ctx context.Context, groupID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM (`+waitingSQL+`) w WHERE w.group_id = $1`, groupID).Scan(&n)
	return n, mapErr(err, "count moderation waiting")
}

// ModerationQueue is a group whose moderation panel has work waiting.
type ModerationQueue struct {
	Slug, Name string
	Waiting    int // held and flagged messages
}

// ModerationQueues lists the groups the member moderates (as a moderator
// or owner, or every group with moderate_groups, as the inbox badge
// counts them) whose panel has messages waiting, by name.
func (s *Store) ModerationQueues(ctx context.Context, userID int64) ([]ModerationQueue, error) {
	rows, err := s.db.Query(ctx, `
		SELECT g.slug, g.name, count(*)
		FROM (`+waitingSQL+`) w JOIN groups g ON g.id = w.group_id
		WHERE w.group_id IN (SELECT group_id FROM memberships
		                     WHERE user_id = $1 AND status = 'active' AND role IN ('moderator', 'owner'))
		   OR EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status = 'active'
		              AND (u.is_superuser OR 'moderate_groups' = ANY (u.permissions)))
		GROUP BY g.id ORDER BY g.name, g.id`, userID)
	if err != nil {
		return nil, mapErr(err, "list moderation queues")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ModerationQueue, error) {
		var q ModerationQueue
		return q, r.Scan(&q.Slug, &q.Name, &q.Waiting)
	})
	return out, mapErr(err, "list moderation queues")
}
