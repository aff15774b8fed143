package bounce

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// Kinds of report.
const (
	KindHard        = "hard"
	KindSoft        = "soft"
	KindComplaint   = "complaint"
	KindDelayed     = "delayed"
	KindUnsubscribe = "unsubscribe"
	KindUnparsed    = "unparsed"
	KindOther       = "other"
)

// Report is one bounce, complaint or other report about one address,
// from whatever source.
type Report struct {
	Provider   string // dsn, smtp (the relay's own reply), ses, postmark, mailgun, sendgrid
	EventID    string // the provider's event id, for idempotency ("" for mail)
	Email      string
	Kind       string
	Status     string // enhanced status code
	Reason     string
	Diagnostic string
	Scores     bool // counts against the address (a mailbox failure, not a policy block)
	DeliveryID int64
	InboundID  int64
	// Proof says how the report is known to be about mail Parley sent to
	// Email (a VERP token, a returned delivery header); empty for the
	// relay's own replies and the providers' signed webhooks, which
	// Apply describes itself.
	Proof string
}

// Service applies reports.
type Service struct {
	Store    *store.Store
	Keys     sign.Keys
	URLs     *urls.Map     // the re-enable link in its notices
	Notices  notice.Sender // writes and queues them
	Settings Settings
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now (tests move days forward)
}

// Apply records a report and does what it calls for. It returns a short
// description for the trace an admin reads. A report seen before (same
// provider event) does nothing the second time.
func (s *Service) Apply(ctx context.Context, r Report) (string, error) {
	r.Email = strings.ToLower(strings.TrimSpace(r.Email))
	if r.Email == "" {
		return "no recipient", nil
	}
	ev := store.BounceEvent{Email: r.Email, Kind: r.Kind, Status: r.Status, Reason: r.Reason, Diagnostic: r.Diagnostic,
		Provider: r.Provider, ProviderEventID: r.EventID, Scored: r.Scores && (r.Kind == KindHard || r.Kind == KindSoft),
		Verified: true, Proof: r.Proof}
	if ev.Proof == "" {
		switch r.Provider {
		case "smtp":
			ev.Proof = "the relay's own reply to Parley"
		case "dsn":
			ev.Proof = "a report by mail"
		default:
			ev.Proof = "a signed " + r.Provider + " webhook"
		}
	}
	if ev.Kind != KindHard && ev.Kind != KindSoft && ev.Kind != KindComplaint && ev.Kind != KindDelayed && ev.Kind != KindUnparsed {
		ev.Kind = KindUnparsed
	}
	if r.Kind == KindHard || r.Kind == KindSoft {
		ev.Class = r.Kind
	}
	if r.DeliveryID != 0 {
		ev.DeliveryID = &r.DeliveryID
	}
	if r.InboundID != 0 {
		ev.InboundID = &r.InboundID
	}
	var out string
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		created, err := tx.RecordBounceEvent(ctx, ev)
		if err != nil || !created {
			out = "duplicate report"
			return err
		}
		switch {
		case r.Kind == KindComplaint:
			if err := tx.Suppress(ctx, r.Email, "complaint", r.Provider, r.Diagnostic); err != nil {
				return err
			}
			out = "complaint: address suppressed"
			return s.notify(ctx, tx, r.Email, "complaint")
		case r.Kind == KindUnsubscribe:
			out = "unsubscribed at the provider: address suppressed"
			return tx.Suppress(ctx, r.Email, "unsubscribed", r.Provider, "")
		case ev.Scored:
			now := time.Now()
			if s.Now != nil {
				now = s.Now()
			}
			var stop bool
			sc, err := tx.UpdateBounceScore(ctx, r.Email, func(cur store.BounceScore) (store.BounceScore, error) {
				next, st := s.Settings.Apply(fromStore(cur), r.Kind, now)
				stop = st
				return toStore(cur, next), nil
			})
			if err != nil {
				return err
			}
			out = fmt.Sprintf("%s bounce: score %.1f", r.Kind, sc.Score)
			if stop {
				if err := tx.Suppress(ctx, r.Email, "bounce_score", r.Provider, fmt.Sprintf("score %.1f", sc.Score)); err != nil {
					return err
				}
				out += ": delivery stopped"
				return s.notify(ctx, tx, r.Email, "disabled")
			}
			return nil
		case r.Kind == KindHard || r.Kind == KindSoft:
			// A policy, spam or reputation rejection says nothing about
			// the mailbox: an alarm for admins, not a mark on the member.
			s.Log.Warn("deliverability alarm: a message was refused for its content or the sender's reputation",
				"email", r.Email, "status", r.Status, "reason", r.Reason, "diagnostic", r.Diagnostic)
			out = "refused by policy (" + r.Status + "): recorded, not scored"
			return nil
		default:
			out = r.Kind + ": recorded"
			return nil
		}
	})
	if err != nil {
		return "", err
	}
	s.Log.Info("bounce report applied", "email", r.Email, "kind", r.Kind, "provider", r.Provider, "proof", ev.Proof, "outcome", out)
	return out, nil
}

// notify tells the member, once, in plain words, why mail stopped and how
// to start it again.
func (s *Service) notify(ctx context.Context, tx *store.Store, email, why string) error {
	f := notice.DeliveryStopped{Email: email, Link: s.URLs.Reenable(email), Complaint: why == "complaint"}
	return s.Notices.Send(ctx, tx, notice.Mail{To: email, Facts: f})
}

func fromStore(b store.BounceScore) Score {
	sc := Score{Email: b.Email, Score: b.Score}
	if b.LastHardOn != nil {
		sc.LastHardOn = b.LastHardOn.UTC().Truncate(24 * time.Hour)
	}
	if b.LastSoftOn != nil {
		sc.LastSoftOn = b.LastSoftOn.UTC().Truncate(24 * time.Hour)
	}
	if b.LastBounceAt != nil {
		sc.LastBounce = *b.LastBounceAt
	}
	if b.DisabledAt != nil {
		sc.DisabledAt = *b.DisabledAt
	}
	return sc
}

func toStore(cur store.BounceScore, sc Score) store.BounceScore {
	ptr := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	cur.Score, cur.LastHardOn, cur.LastSoftOn, cur.LastBounceAt, cur.DisabledAt =
		sc.Score, ptr(sc.LastHardOn), ptr(sc.LastSoftOn), ptr(sc.LastBounce), ptr(sc.DisabledAt)
	return cur
}

// OnSendFailure scores a permanent failure reported by the relay itself
// during the SMTP transaction (a 5xx to RCPT or DATA).
func (s *Service) OnSendFailure(ctx context.Context, deliveryID int64, email string, code int, enhanced, msg string) {
	r := Report{Provider: "smtp", Email: email, Kind: KindHard, Status: enhanced, Diagnostic: fmt.Sprintf("%d %s %s", code, enhanced, msg),
		DeliveryID: deliveryID, Scores: ScoresStatus(enhanced), Reason: ReasonOfStatus(enhanced)}
	if _, err := s.Apply(ctx, r); err != nil {
		s.Log.Error("scoring a refused delivery", "delivery_id", deliveryID, "err", err)
	}
}

// ScoresStatus says whether a failure with this enhanced status says
// something about the mailbox: 5.7.x (security and policy: spam, DMARC,
// blocklists) is about the message or the sender, not the recipient.
func ScoresStatus(enhanced string) bool {
	return !strings.HasPrefix(enhanced, "5.7.") && !strings.HasPrefix(enhanced, "4.7.")
}

// ReasonOfStatus names the reason an enhanced status code stands for (RFC 3463).
func ReasonOfStatus(enhanced string) string {
	switch {
	case strings.HasPrefix(enhanced, "5.1.1"), strings.HasPrefix(enhanced, "5.1.0"):
		return "user-unknown"
	case strings.HasPrefix(enhanced, "5.1.2"), strings.HasPrefix(enhanced, "4.1.2"):
		return "domain"
	case strings.HasPrefix(enhanced, "5.2.2"), strings.HasPrefix(enhanced, "4.2.2"):
		return "mailbox-full"
	case strings.HasPrefix(enhanced, "5.7."), strings.HasPrefix(enhanced, "4.7."):
		return "policy"
	case strings.HasPrefix(enhanced, "4.4."), strings.HasPrefix(enhanced, "5.4."):
		return "network"
	}
	return "other"
}
