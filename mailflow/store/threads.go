package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const threadCols = `id, group_id, subject, created_by, message_count, created_at, last_message_at`

func scanThread(row pgx.Row) (mailflow.Thread, error) {
	var t mailflow.Thread
	err := row.Scan(&t.ID, &t.GroupID, &t.Subject, &t.CreatedBy, &t.MessageCount, &t.CreatedAt, &t.LastMessageAt)
	return t, err
}

// messageCols are a message's columns as the store reads it, without
// raw_source: the message as received can be tens of megabytes, and
// every reader of a message (the fan-out, each sender, the pages) held
// its own copy of it; processing thirty 24 MB posts kept the daemon at
// 200 MB of live heap. The mbox export reads it where it needs it.
const messageCols = `m.id, m.thread_id, m.group_id, m.parent_id, m.author_id, coalesce(u.name, ''), m.from_email,
	m.message_id, m.in_reply_to, m.subject, m.body, m.source, m.status, m.created_at, m.sender_auth`

const messageFrom = ` FROM messages m LEFT JOIN users u ON u.id = m.author_id `

func scanMessage(row pgx.Row) (mailflow.Message, error) {
	var m mailflow.Message
	err := row.Scan(&m.ID, &m.ThreadID, &m.GroupID, &m.ParentID, &m.AuthorID, &m.AuthorName, &m.FromEmail,
		&m.MessageID, &m.InReplyTo, &m.Subject, &m.Body, &m.Source, &m.Status, &m.CreatedAt, &m.SenderAuth)
	return m, err
}

// CreateThread inserts a new thread (with no messages yet).
func (s *Store) CreateThread(ctx context.Context, groupID int64, subject string, createdBy *int64) (mailflow.Thread, error) {
	t, err := scanThread(s.db.QueryRow(ctx, `
		INSERT INTO threads (group_id, subject, created_by) VALUES ($1, $2, $3)
		RETURNING `+threadCols, groupID, subject, createdBy))
	return t, mapErr(err, "create thread")
}

// InsertMessage stores a message and, when it is approved, counts it in
// its thread. A second message with the same Message-ID is ErrDuplicate
// on field "message_id" (mail retried by a sender is not posted twice).
func (s *Store) InsertMessage(ctx context.Context, m mailflow.Message) (mailflow.Message, error) {
	var id int64
	err := s.db.QueryRow(ctx, `
		INSERT INTO messages (thread_id, group_id, parent_id, author_id, from_email, message_id, in_reply_to,
			subject, body, raw_source, source, status, approved_at, sender_auth)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $12 = 'approved' THEN now() END, $13)
		RETURNING id`,
		m.ThreadID, m.GroupID, m.ParentID, m.AuthorID, m.FromEmail, m.MessageID, m.InReplyTo,
		m.Subject, m.Body, m.RawSource, m.Source, m.Status, m.SenderAuth).Scan(&id)
	if err != nil {
		return m, mapErr(err, "insert message")
	}
	if m.Status == mailflow.MessageApproved {
		if err := s.countApproved(ctx, m.ThreadID, m.AuthorID); err != nil {
			return m, err
		}
	}
	return s.MessageByID(ctx, id)
}

// MessageByID finds a message.
func (s *Store) MessageByID(ctx context.Context, id int64) (mailflow.Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageCols+messageFrom+`WHERE m.id = $1`, id))
	return m, mapErr(err, fmt.Sprintf("get message %d", id))
}

// ThreadByID finds a thread.
func (s *Store) ThreadByID(ctx context.Context, id int64) (mailflow.Thread, error) {
	t, err := scanThread(s.db.QueryRow(ctx, `SELECT `+threadCols+` FROM threads WHERE id = $1`, id))
	return t, mapErr(err, fmt.Sprintf("get thread %d", id))
}

// LastMessage returns the latest approved message of a thread (what a
// reply answers), or ErrNotFound when there is none.
func (s *Store) LastMessage(ctx context.Context, threadID int64) (mailflow.Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageCols+messageFrom+`
		WHERE m.thread_id = $1 AND m.status = 'approved' ORDER BY m.created_at DESC, m.id DESC LIMIT 1`, threadID))
	return m, mapErr(err, "get last message")
}

// ListThreads returns a group's threads, most recently active first:
// those with approved messages, plus those viewer started (their own held
// posts), plus every thread for moderators.
func (s *Store) ListThreads(ctx context.Context, groupID, viewerID int64, moderator bool, limit, offset int) ([]mailflow.Thread, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+threadCols+` FROM threads
		WHERE group_id = $1 AND private_member_id IS NULL AND (message_count > 0 OR created_by = $2 OR $3)
		ORDER BY last_message_at DESC, id DESC
		LIMIT $4 OFFSET $5`, groupID, viewerID, moderator, limit, offset)
	if err != nil {
		return nil, mapErr(err, "list threads")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Thread, error) { return scanThread(r) })
	return out, mapErr(err, "list threads")
}

// ThreadMessages returns every message of a thread, oldest first. The
// caller filters by what the viewer may see (mailflow.CanSeeMessage).
func (s *Store) ThreadMessages(ctx context.Context, threadID int64) ([]mailflow.Message, error) {
	rows, err := s.db.Query(ctx, `SELECT `+messageCols+messageFrom+`WHERE m.thread_id = $1 ORDER BY m.created_at, m.id`, threadID)
	if err != nil {
		return nil, mapErr(err, "list messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Message, error) { return scanMessage(r) })
	return out, mapErr(err, "list messages")
}

// countApproved counts a newly approved message in its thread. The
// author's own message is not news to them: when they had read the
// thread as it was before it (or it starts the thread), it stays read for
// them, so their inbox and badge do not count their own post as unread.
func (s *Store) countApproved(ctx context.Context, threadID int64, authorID *int64) error {
	_, err := s.db.Exec(ctx, `
		WITH prev AS (
			SELECT id, message_count, last_message_at FROM threads WHERE id = $1
		), counted AS (
			UPDATE threads t SET message_count = t.message_count + 1, last_message_at = now()
			FROM prev WHERE t.id = prev.id
			RETURNING t.id, t.last_message_at
		)
		INSERT INTO thread_states (user_id, thread_id, read_at)
		SELECT $2, counted.id, counted.last_message_at FROM counted, prev
		WHERE $2::bigint IS NOT NULL
		  AND (prev.message_count = 0 OR EXISTS (SELECT 1 FROM thread_states st
		       WHERE st.user_id = $2 AND st.thread_id = $1 AND st.read_at >= prev.last_message_at))
		ON CONFLICT (user_id, thread_id) DO UPDATE SET read_at = excluded.read_at`, threadID, authorID)
	return mapErr(err, "count message in thread")
}
