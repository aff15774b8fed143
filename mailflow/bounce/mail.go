package bounce

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/bounce/dsn"
	"github.com/parleymail/parley/mailflow/store"
)

// FromMail applies a delivery report that arrived as mail. token is the
// VERP token of bounces+TOKEN@ ("" for reports that came to another
// address): when it verifies, it names the one delivery the report is
// about, whatever the report's own text says (a forwarding mailbox often
// reports a different address). Reports that cannot be read are kept for
// admins; mail that is no report at all changes nothing.
func (s *Service) FromMail(ctx context.Context, in store.Inbound, token string) (string, error) {
	rep := dsn.Classify(in.Raw)
	var deliveryID int64
	var verpEmail string
	if token != "" {
		id, err := s.Keys.VerifyVERP(token)
		if err == nil {
			email, _, err := s.Store.DeliveryRecipient(ctx, id)
			switch {
			case err == nil:
				deliveryID, verpEmail = id, email
			case !errors.Is(err, mailflow.ErrNotFound):
				return "", err
			}
		}
	}
	switch rep.Kind {
	case dsn.KindAutoReply:
		return "an automatic reply: ignored", nil
	case dsn.KindComplaint:
		if strings.EqualFold(rep.FeedbackType, "not-spam") {
			return "a retracted complaint (not-spam): ignored", nil
		}
	case dsn.KindNotBounce:
		if verpEmail == "" {
			return "not a delivery report: ignored", nil
		}
	}
	if len(rep.Recipients) == 0 || rep.Kind == dsn.KindUnparsable || rep.Kind == dsn.KindNotBounce {
		if verpEmail == "" {
			_, err := s.Store.RecordBounceEvent(ctx, store.BounceEvent{Kind: KindUnparsed, Provider: "dsn", InboundID: &in.ID, Diagnostic: "no recipient found in the report"})
			return "unreadable report: kept for admins", err
		}
		rep.Recipients = []dsn.Recipient{{Address: verpEmail, Class: dsn.ClassHard, Scores: true}}
		if rep.Kind != dsn.KindBounce && rep.Kind != dsn.KindComplaint {
			// A message to a VERP address that no parser understood: keep
			// it, but do not score on a guess.
			_, err := s.Store.RecordBounceEvent(ctx, store.BounceEvent{Email: verpEmail, DeliveryID: &deliveryID, Kind: KindUnparsed, Provider: "dsn", InboundID: &in.ID})
			return "unreadable report for " + verpEmail + ": kept for admins", err
		}
	}
	var outs []string
	for i, rc := range rep.Recipients {
		email := rc.Address
		if verpEmail != "" {
			if i > 0 {
				break // a VERP report is about its one delivery
			}
			email = verpEmail
		}
		r := Report{Provider: "dsn", Email: email, Status: rc.Status, Reason: rc.Reason, Diagnostic: rc.Diagnostic,
			Scores: rc.Scores, DeliveryID: deliveryID, InboundID: in.ID}
		switch {
		case rep.Kind == dsn.KindComplaint:
			r.Kind = KindComplaint
		case rep.Kind == dsn.KindDelayed:
			r.Kind = KindDelayed
		case rc.Class == dsn.ClassSoft:
			r.Kind = KindSoft
		default:
			r.Kind = KindHard
		}
		out, err := s.Apply(ctx, r)
		if err != nil {
			return "", err
		}
		outs = append(outs, fmt.Sprintf("%s: %s", email, out))
	}
	return strings.Join(outs, ", "), nil
}
