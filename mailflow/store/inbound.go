package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// Inbound is a received message as stored, before and after processing.
type Inbound struct {
	ID         int64
	ReceivedAt time.Time
	Transport  string // smtp, lmtp, imap
	RemoteAddr string
	MailFrom   string
	RcptTo     []string
	Raw        []byte // filled by InboundByID; InsertInbound reads a RawBody instead
	Size       int64
	MessageID  string
	State      string
	Outcome    string
	Helo       string // the name the SMTP client gave in HELO/EHLO
	// SenderAuth is the stored result of checking the sender (JSON, as
	// mailflow/inbound/senderauth writes it); nil until checked.
	SenderAuth []byte
}

// RawBody is a received message's bytes on their way to storage: R is
// read once, a chunk at a time, so that a message is never held whole.
// Size and SHA256 are of those bytes (the intake counted and hashed them
// as they arrived).
type RawBody struct {
	R      io.Reader
	Size   int64
	SHA256 [sha256.Size]byte
}

// BytesBody is the RawBody of a message already in memory (IMAP fetches
// whole messages).
func BytesBody(b []byte) RawBody {
	return RawBody{R: bytes.NewReader(b), Size: int64(len(b)), SHA256: sha256.Sum256(b)}
}

// chunkBytes is the size of the rows a message's bytes are stored in:
// small enough that a row in flight costs little memory, large enough
// that a 25 MB message is a couple of dozen rows.
const chunkBytes = 1 << 20

// InsertInbound stores a received message and reports whether it is new.
// A message with the same bytes as one already stored is not stored
// again (created false, and the existing id); the caller answers 250
// all the same, since the message is safe. The bytes are copied into
// inbound_message_chunks with COPY, one chunk in memory at a time. after
// runs in the same transaction for a new message (to enqueue its
// processing).
func (s *Store) InsertInbound(ctx context.Context, in Inbound, body RawBody, after func(tx *Store, id int64) error) (id int64, created bool, err error) {
	rcpts := make([]string, len(in.RcptTo))
	for i, r := range in.RcptTo {
		rcpts[i] = mailflow.CleanText(r)
	}
	err = s.Tx(ctx, func(tx *Store) error {
		err := tx.db.QueryRow(ctx, `
			INSERT INTO inbound_messages (transport, remote_addr, mail_from, rcpt_to, raw, size_bytes, sha256, message_id, helo)
			VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8)
			ON CONFLICT (sha256) DO NOTHING
			RETURNING id`,
			in.Transport, mailflow.CleanText(in.RemoteAddr), mailflow.CleanText(in.MailFrom), rcpts, body.Size, body.SHA256[:],
			truncate(in.MessageID, 998), truncate(in.Helo, 255)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.db.QueryRow(ctx, `SELECT id FROM inbound_messages WHERE sha256 = $1`, body.SHA256[:]).Scan(&id)
		}
		if err != nil {
			return mapErr(err, "store inbound message")
		}
		created = true
		src := &chunkSource{r: body.R, id: id, buf: make([]byte, chunkBytes)}
		n, err := tx.tx.CopyFrom(ctx, pgx.Identifier{"inbound_message_chunks"}, []string{"inbound_id", "seq", "data"}, src)
		if err == nil {
			err = src.err
		}
		if err != nil {
			return fmt.Errorf("store inbound message bytes: %w", err)
		}
		if src.total != body.Size {
			return fmt.Errorf("store inbound message bytes: read %d of %d in %d chunks", src.total, body.Size, n)
		}
		if after != nil {
			return after(tx, id)
		}
		return nil
	})
	return id, created, err
}

// chunkSource feeds COPY one chunk of a message at a time. pgx encodes
// the values of a row before it asks for the next, so one buffer serves
// every chunk.
type chunkSource struct {
	r     io.Reader
	id    int64
	seq   int
	buf   []byte
	n     int
	total int64
	err   error
}

func (c *chunkSource) Next() bool {
	if c.err != nil {
		return false
	}
	n, err := io.ReadFull(c.r, c.buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	if err != nil {
		c.err = fmt.Errorf("reading the message: %w", err)
		return false
	}
	if n == 0 {
		return false
	}
	if c.n > 0 {
		c.seq++
	}
	c.n = n
	c.total += int64(n)
	return true
}

func (c *chunkSource) Values() ([]any, error) { return []any{c.id, c.seq, c.buf[:c.n]}, nil }

func (c *chunkSource) Err() error { return c.err }

// InboundSize returns the size of a received message in bytes, for the
// processing job to reserve memory before it loads the message.
func (s *Store) InboundSize(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT size_bytes FROM inbound_messages WHERE id = $1`, id).Scan(&n)
	return n, mapErr(err, fmt.Sprintf("get inbound message %d size", id))
}

// InboundByID loads a received message with its bytes. It holds the
// whole message: only the processing job calls it, and the job's memory
// budget bounds how many bytes of messages are held at once.
func (s *Store) InboundByID(ctx context.Context, id int64) (Inbound, error) {
	var in Inbound
	err := s.db.QueryRow(ctx, `
		SELECT id, received_at, transport, remote_addr, mail_from, rcpt_to, raw, size_bytes, message_id, state, outcome, helo, sender_auth
		FROM inbound_messages WHERE id = $1`, id).
		Scan(&in.ID, &in.ReceivedAt, &in.Transport, &in.RemoteAddr, &in.MailFrom, &in.RcptTo, &in.Raw, &in.Size, &in.MessageID, &in.State, &in.Outcome,
			&in.Helo, &in.SenderAuth)
	if err != nil {
		return in, mapErr(err, fmt.Sprintf("get inbound message %d", id))
	}
	if len(in.Raw) > 0 {
		return in, nil // stored whole, before migration 0014
	}
	in.Raw = make([]byte, 0, in.Size)
	rows, err := s.db.Query(ctx, `SELECT data FROM inbound_message_chunks WHERE inbound_id = $1 ORDER BY seq`, id)
	if err != nil {
		return in, mapErr(err, fmt.Sprintf("get inbound message %d bytes", id))
	}
	defer rows.Close()
	for rows.Next() {
		// RawValues is pgx's read buffer: appended, never kept.
		in.Raw = append(in.Raw, rows.RawValues()[0]...)
	}
	if err := rows.Err(); err != nil {
		return in, mapErr(err, fmt.Sprintf("get inbound message %d bytes", id))
	}
	return in, nil
}

// SetInboundSenderAuth keeps the result of checking a received message's
// sender (JSON), so that a retried job reads it instead of asking DNS
// again, and admins see it.
func (s *Store) SetInboundSenderAuth(ctx context.Context, id int64, result []byte) error {
	_, err := s.db.Exec(ctx, `UPDATE inbound_messages SET sender_auth = $2 WHERE id = $1`, id, result)
	return mapErr(err, "record sender authentication")
}

// FinishInbound records what became of a received message.
func (s *Store) FinishInbound(ctx context.Context, id int64, state, outcome string) error {
	_, err := s.db.Exec(ctx, `UPDATE inbound_messages SET state = $2, outcome = $3, processed_at = now() WHERE id = $1`, id, state, truncate(outcome, 4000))
	return mapErr(err, "finish inbound message")
}

// InboundTrouble is a received message that needs an admin: processing
// failed, or it has waited unprocessed for more than an hour.
type InboundTrouble struct {
	ID         int64
	ReceivedAt time.Time
	MailFrom   string
	RcptTo     []string
	Subject    string // not parsed: the Message-ID stands in when there is one
	MessageID  string
	State      string
	Reason     string
}

// InboundNeedingAttention lists failed messages, and messages left
// unprocessed for an hour (their job was lost), newest first.
func (s *Store) InboundNeedingAttention(ctx context.Context, limit int) ([]InboundTrouble, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, received_at, mail_from, rcpt_to, message_id, state, outcome
		FROM inbound_messages
		WHERE state = 'failed' OR (state = 'received' AND received_at < now() - interval '1 hour')
		ORDER BY received_at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, mapErr(err, "list failed inbound messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboundTrouble, error) {
		var t InboundTrouble
		err := r.Scan(&t.ID, &t.ReceivedAt, &t.MailFrom, &t.RcptTo, &t.MessageID, &t.State, &t.Reason)
		if t.State == "received" {
			t.Reason = "not processed yet after an hour"
		}
		return t, err
	})
	return out, mapErr(err, "list failed inbound messages")
}

// RetryInbound puts a failed (or stuck) message back to "received" and
// runs enqueue in the same transaction, so that the retry and its job
// commit together. A message already processed is ErrNotFound: there is
// nothing to retry.
func (s *Store) RetryInbound(ctx context.Context, id int64, enqueue func(tx *Store) error) error {
	return s.Tx(ctx, func(tx *Store) error {
		tag, err := tx.db.Exec(ctx, `UPDATE inbound_messages SET state = 'received', outcome = '', processed_at = NULL
			WHERE id = $1 AND state <> 'processed'`, id)
		if err != nil {
			return mapErr(err, "retry inbound message")
		}
		if tag.RowsAffected() == 0 {
			return mailflow.ErrNotFound
		}
		return enqueue(tx)
	})
}

// MessageInGroup finds a message of a group by its Message-ID: how a reply
// from a mail client finds its thread.
func (s *Store) MessageInGroup(ctx context.Context, groupID int64, messageID string) (mailflow.Message, error) {
	m, err := scanMessage(s.db.QueryRow(ctx, `SELECT `+messageCols+messageFrom+`WHERE m.group_id = $1 AND m.message_id = $2`, groupID, messageID))
	return m, mapErr(err, "find message by Message-ID")
}

// KnownMessageID reports whether any group has a message with this
// Message-ID (Parley's own mail coming back is a loop).
func (s *Store) KnownMessageID(ctx context.Context, messageID string) (bool, error) {
	var ok bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE message_id = $1)`, messageID).Scan(&ok)
	return ok, mapErr(err, "look up Message-ID")
}

// ClaimAutoReply reports whether an automatic answer for reason may go to
// email now (none in the last day), and records it if so.
func (s *Store) ClaimAutoReply(ctx context.Context, email, reason string) (bool, error) {
	tag, err := s.db.Exec(ctx, `
		INSERT INTO auto_replies (email, reason) VALUES (lower($1), $2)
		ON CONFLICT (email, reason) DO UPDATE SET sent_at = now()
		WHERE auto_replies.sent_at < now() - interval '1 day'`, email, reason)
	if err != nil {
		return false, mapErr(err, "claim auto-reply")
	}
	return tag.RowsAffected() == 1, nil
}

// GroupOwners returns the active owners of a group.
func (s *Store) GroupOwners(ctx context.Context, groupID int64) ([]mailflow.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userCols+` FROM users WHERE id IN (
		SELECT user_id FROM memberships WHERE group_id = $1 AND role = 'owner' AND status = 'active') ORDER BY id`, groupID)
	if err != nil {
		return nil, mapErr(err, "list owners")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.User, error) { return scanUser(r) })
	return out, mapErr(err, "list owners")
}

// GroupModerators returns the active owners and moderators of a group.
func (s *Store) GroupModerators(ctx context.Context, groupID int64) ([]mailflow.User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userCols+` FROM users WHERE id IN (
		SELECT user_id FROM memberships WHERE group_id = $1 AND role IN ('owner', 'moderator') AND status = 'active') ORDER BY id`, groupID)
	if err != nil {
		return nil, mapErr(err, "list moderators")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.User, error) { return scanUser(r) })
	return out, mapErr(err, "list moderators")
}
