package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
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
	Raw        []byte
	MessageID  string
	State      string
	Outcome    string
	Helo       string // the name the SMTP client gave in HELO/EHLO
	// SenderAuth is the stored result of checking the sender (JSON, as
	// mailflow/inbound/senderauth writes it); nil until checked.
	SenderAuth []byte
}

// InsertInbound stores a received message and reports whether it is new.
// A message with the same bytes as one already stored is not stored
// again (created false, and the existing id); the caller answers 250
// all the same, since the message is safe. after runs in the same
// transaction for a new message (to enqueue its processing).
func (s *Store) InsertInbound(ctx context.Context, in Inbound, after func(tx *Store, id int64) error) (id int64, created bool, err error) {
	sum := sha256.Sum256(in.Raw)
	err = s.Tx(ctx, func(tx *Store) error {
		err := tx.db.QueryRow(ctx, `
			INSERT INTO inbound_messages (transport, remote_addr, mail_from, rcpt_to, raw, size_bytes, sha256, message_id, helo)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (sha256) DO NOTHING
			RETURNING id`,
			in.Transport, in.RemoteAddr, in.MailFrom, in.RcptTo, in.Raw, len(in.Raw), sum[:], in.MessageID, in.Helo).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.db.QueryRow(ctx, `SELECT id FROM inbound_messages WHERE sha256 = $1`, sum[:]).Scan(&id)
		}
		if err != nil {
			return mapErr(err, "store inbound message")
		}
		created = true
		if after != nil {
			return after(tx, id)
		}
		return nil
	})
	return id, created, err
}

// InboundByID loads a received message.
func (s *Store) InboundByID(ctx context.Context, id int64) (Inbound, error) {
	var in Inbound
	err := s.db.QueryRow(ctx, `
		SELECT id, received_at, transport, remote_addr, mail_from, rcpt_to, raw, message_id, state, outcome, helo, sender_auth
		FROM inbound_messages WHERE id = $1`, id).
		Scan(&in.ID, &in.ReceivedAt, &in.Transport, &in.RemoteAddr, &in.MailFrom, &in.RcptTo, &in.Raw, &in.MessageID, &in.State, &in.Outcome,
			&in.Helo, &in.SenderAuth)
	return in, mapErr(err, fmt.Sprintf("get inbound message %d", id))
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
