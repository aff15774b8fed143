package posting

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// Decision is a moderator's verdict on a held message.
type Decision string

const (
	Approve Decision = "approve" // deliver it as if just posted
	Veto    Decision = "veto"    // reject it; the poster is told
)

// DecideHook runs in the transaction that records a decision on a held
// message (after the approval's own accept hooks): the veto notice to the
// poster is queued here, so it exists if and only if the veto does.
type DecideHook func(ctx context.Context, tx *store.Store, g mailflow.Group, m mailflow.Message, d Decision, reason string) error

// ErrDecided: another moderator decided first. The error names who and what.
var ErrDecided = errors.New("already decided")

// DecidedError says who decided a message first, and how.
type DecidedError struct {
	Status    mailflow.MessageStatus
	Moderator string // name; empty when unknown
}

func (e *DecidedError) Error() string {
	who := e.Moderator
	if who == "" {
		who = "another moderator"
	}
	if e.Status == mailflow.MessageApproved {
		return who + " already approved this message"
	}
	return who + " already vetoed this message"
}

func (e *DecidedError) Unwrap() error { return ErrDecided }

// Decide approves or vetoes a held message. It is the second half of the
// accept path: an approval runs the same hooks as Accept (the fan-out),
// in the same transaction that marks the message approved, so a message
// is delivered once and only once approved. The first decision wins: a
// message no longer held is a *DecidedError.
func (s *Service) Decide(ctx context.Context, moderator *mailflow.User, messageID int64, d Decision, reason string) (mailflow.Message, error) {
	var out mailflow.Message
	if d != Approve && d != Veto {
		return out, mailflow.Invalid("decision", "must be approve or veto")
	}
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		m, err := tx.MessageForUpdate(ctx, messageID)
		if err != nil {
			return err
		}
		g, err := tx.GroupByID(ctx, m.GroupID)
		if err != nil {
			return err
		}
		var mm *mailflow.Membership
		if moderator != nil {
			if mm, err = tx.Membership(ctx, g.ID, moderator.ID); err != nil {
				return err
			}
		}
		if !mailflow.IsGroupModerator(moderator, mm) {
			if err := mailflow.CanViewGroup(moderator, g, mm); err != nil {
				return err
			}
			return mailflow.Forbidden("only the group's moderators decide on held messages")
		}
		if m.Status != mailflow.MessageHeld {
			who, _ := tx.LastModerator(ctx, m.ID)
			return &DecidedError{Status: m.Status, Moderator: who}
		}
		status, action := mailflow.MessageApproved, "approve"
		if d == Veto {
			status, action = mailflow.MessageRejected, "veto"
		}
		if err := tx.SetMessageStatus(ctx, m.ID, status); err != nil {
			return err
		}
		m.Status = status
		if err := tx.RecordModeration(ctx, store.ModerationAction{GroupID: g.ID, MessageID: &m.ID, TargetUser: m.AuthorID,
			ModeratorID: &moderator.ID, Action: action, Reason: reason}); err != nil {
			return err
		}
		// The one audit log records moderation too, beside the group's own
		// moderation record.
		if err := tx.Audit(ctx, store.AuditEntry{ActorID: &moderator.ID, Action: "message." + action, TargetType: "message",
			TargetID: strconv.FormatInt(m.ID, 10), Details: map[string]any{"group": g.Slug, "reason": reason}}); err != nil {
			return err
		}
		if status == mailflow.MessageApproved {
			t, err := tx.ThreadByID(ctx, m.ThreadID)
			if err != nil {
				return err
			}
			for _, h := range s.hooks {
				if err := h(ctx, tx, g, t, m); err != nil {
					return fmt.Errorf("after approving message: %w", err)
				}
			}
		}
		for _, h := range s.decideHooks {
			if err := h(ctx, tx, g, m, d, reason); err != nil {
				return fmt.Errorf("after deciding on a message: %w", err)
			}
		}
		out = m
		return nil
	})
	if err == nil {
		s.log.Info("held message decided", "message_id", messageID, "decision", d, "moderator", moderator.ID)
	}
	return out, err
}
