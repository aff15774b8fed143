package bounce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/bounce/dsn"
	"github.com/parleymail/parley/mailflow/bounce/proof"
	"github.com/parleymail/parley/mailflow/store"
)

// maxUnverified bounds the records kept of one unverified report: it may
// name any number of addresses.
const maxUnverified = 10

// FromMail applies a delivery report that arrived as mail. token is the
// VERP token of bounces+TOKEN@ ("" for reports that came to another
// address). Anyone can write a report naming any address, so a report
// acts only when it proves it is about mail Parley sent (see
// bounce/proof): it arrived at bounces+TOKEN@ with a valid token naming
// a delivery, or it returns Parley's copy with that copy's own valid
// token. The token's recipient is the one scored or suppressed, whatever
// address the report's own text names (a forwarding mailbox often
// reports another). Every other report is recorded as unverified, with
// why, and changes nothing. Mail that is no report at all is ignored.
func (s *Service) FromMail(ctx context.Context, in store.Inbound, token string) (string, error) {
	rep := dsn.Classify(in.Raw)
	switch rep.Kind {
	case dsn.KindAutoReply:
		return "an automatic reply: ignored", nil
	case dsn.KindComplaint:
		if strings.EqualFold(rep.FeedbackType, "not-spam") {
			return "a retracted complaint (not-spam): ignored", nil
		}
	}
	pr, why, err := s.prove(ctx, in.Raw, token)
	if err != nil {
		return "", err
	}
	if rep.Kind == dsn.KindNotBounce && !pr.viaEnvelope {
		// Ordinary mail that reached a report address, or a loop: it
		// reports nothing, even if it quotes one of our messages.
		return "not a delivery report: ignored", nil
	}
	if pr.email == "" {
		return s.unverified(ctx, in, rep, why)
	}
	if len(rep.Recipients) == 0 || rep.Kind == dsn.KindUnparsable || rep.Kind == dsn.KindNotBounce {
		rep.Recipients = []dsn.Recipient{{Address: pr.email, Class: dsn.ClassHard, Scores: true}}
		if rep.Kind != dsn.KindBounce && rep.Kind != dsn.KindComplaint {
			// A proven report that no parser understood: keep it, but do
			// not score on a guess.
			_, err := s.Store.RecordBounceEvent(ctx, store.BounceEvent{Email: pr.email, DeliveryID: pr.deliveryPtr(), Kind: KindUnparsed,
				Provider: "dsn", InboundID: &in.ID, Verified: true, Proof: pr.how})
			return "unreadable report for " + pr.email + ": kept for admins (" + pr.how + ")", err
		}
	}
	// The report's entry about the proven recipient, by its address or
	// by the Original-Recipient a forwarding mailbox reports beside the
	// address it forwarded to; else, when it names only addresses Parley
	// does not know, a forwarding address of the proven recipient's. A
	// report naming another account's address while proving a delivery
	// to this one contradicts itself.
	i := slices.IndexFunc(rep.Recipients, func(rc dsn.Recipient) bool {
		return strings.EqualFold(rc.Address, pr.email) || strings.EqualFold(rc.Original, pr.email)
	})
	how := pr.how
	if i < 0 {
		for _, rc := range rep.Recipients[:min(len(rep.Recipients), maxUnverified)] {
			known, err := s.knownAddress(ctx, rc.Address)
			if err != nil {
				return "", err
			}
			if known {
				return s.unverified(ctx, in, rep, fmt.Sprintf("the report names %s, another account's address, but its proof (%s) is about mail to %s", rc.Address, pr.how, pr.email))
			}
		}
		i = 0
		if rep.Recipients[0].Address != "" {
			how += "; the report names " + rep.Recipients[0].Address + " (forwarded mail): " + pr.email + " counts"
		}
	}
	rc := rep.Recipients[i]
	r := Report{Provider: "dsn", Email: pr.email, Status: rc.Status, Reason: rc.Reason, Diagnostic: rc.Diagnostic,
		Scores: rc.Scores, DeliveryID: pr.deliveryID, InboundID: in.ID, Proof: how}
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
	return fmt.Sprintf("%s: %s (verified: %s)", pr.email, out, how), nil
}

// proven is a report's proof: the recipient of the mail it is about.
type proven struct {
	email       string // "" when the report proves nothing
	deliveryID  int64  // the delivery, when the token names one
	viaEnvelope bool   // it came to the delivery's own VERP address
	how         string
}

func (p proven) deliveryPtr() *int64 {
	if p.deliveryID == 0 {
		return nil
	}
	return &p.deliveryID
}

// prove finds who a report is about: the delivery of its VERP envelope
// token, else the one recipient the tokens inside it name. When there is
// none it says why.
func (s *Service) prove(ctx context.Context, raw []byte, envToken string) (proven, string, error) {
	var notes []string
	if envToken != "" {
		id, err := s.Keys.VerifyVERP(envToken)
		if err == nil {
			email, _, err := s.Store.DeliveryRecipient(ctx, id)
			switch {
			case err == nil:
				return proven{email: strings.ToLower(email), deliveryID: id, viaEnvelope: true,
					how: fmt.Sprintf("arrived at the VERP address of delivery %d", id)}, "", nil
			case errors.Is(err, mailflow.ErrNotFound):
				notes = append(notes, fmt.Sprintf("its bounces+ address names delivery %d, which does not exist", id))
			default:
				return proven{}, "", err
			}
		} else {
			notes = append(notes, "its bounces+ address has no valid token")
		}
	}
	toks := proof.Find(raw, s.Keys)
	var found []proven
	var invalid []proof.Token
	for _, t := range toks {
		if !t.Valid {
			invalid = append(invalid, t)
			continue
		}
		email, err := s.tokenRecipient(ctx, t)
		if errors.Is(err, mailflow.ErrNotFound) {
			notes = append(notes, fmt.Sprintf("its %s token names %s, which does not exist", t.Source, t.Names()))
			continue
		}
		if err != nil {
			return proven{}, "", err
		}
		found = append(found, proven{email: strings.ToLower(email), deliveryID: t.DeliveryID,
			how: fmt.Sprintf("the returned message carries Parley's %s token for %s", t.Source, t.Names())})
	}
	emails := map[string]bool{}
	for _, f := range found {
		emails[f.email] = true
	}
	switch {
	case len(emails) == 1:
		// Prefer a token that names the delivery itself.
		best := found[0]
		for _, f := range found {
			if f.deliveryID != 0 {
				best = f
				break
			}
		}
		return best, "", nil
	case len(emails) > 1:
		names := make([]string, 0, len(emails))
		for e := range emails {
			names = append(names, e)
		}
		slices.Sort(names)
		notes = append(notes, "its tokens name several recipients ("+strings.Join(names, ", ")+")")
	case len(invalid) > 0 || len(notes) == 0 || envToken != "":
		notes = append(notes, proof.Missing(invalid))
	}
	return proven{}, strings.Join(notes, "; "), nil
}

// tokenRecipient returns the address a valid token's mail went to.
func (s *Service) tokenRecipient(ctx context.Context, t proof.Token) (string, error) {
	switch {
	case t.DeliveryID != 0:
		email, _, err := s.Store.DeliveryRecipient(ctx, t.DeliveryID)
		return email, err
	case t.DigestID != 0:
		return s.Store.DigestRecipient(ctx, t.DigestID)
	default:
		u, err := s.Store.UserByID(ctx, t.UserID)
		return u.Email, err
	}
}

// knownAddress reports an address that is some account's.
func (s *Service) knownAddress(ctx context.Context, email string) (bool, error) {
	if email == "" {
		return false, nil
	}
	_, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, mailflow.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// unverified records a report that proved nothing, once per address it
// names (at most maxUnverified), for admins. It scores nothing,
// suppresses nothing and mails no one.
func (s *Service) unverified(ctx context.Context, in store.Inbound, rep dsn.Report, why string) (string, error) {
	kind := KindUnparsed
	switch rep.Kind {
	case dsn.KindComplaint:
		kind = KindComplaint
	case dsn.KindDelayed:
		kind = KindDelayed
	case dsn.KindBounce:
		kind = KindHard
	}
	rcs := rep.Recipients
	if len(rcs) == 0 {
		rcs = []dsn.Recipient{{}}
	}
	rcs = rcs[:min(len(rcs), maxUnverified)]
	events := make([]store.BounceEvent, 0, len(rcs))
	for _, rc := range rcs {
		k, class := kind, ""
		if kind == KindHard && rc.Class == dsn.ClassSoft {
			k = KindSoft
		}
		if k == KindHard || k == KindSoft {
			class = k
		}
		note := why
		if known, err := s.knownAddress(ctx, rc.Address); err != nil {
			return "", err
		} else if !known && rc.Address != "" {
			note += "; " + rc.Address + " is no account's address"
		}
		events = append(events, store.BounceEvent{Email: rc.Address, Kind: k, Class: class, Status: rc.Status,
			Reason: rc.Reason, Diagnostic: rc.Diagnostic, Provider: "dsn", InboundID: &in.ID, Verified: false, Proof: note})
	}
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		for _, e := range events {
			if _, err := tx.RecordBounceEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	s.Log.Warn("unverified delivery report: recorded, nothing changed", "inbound_id", in.ID, "kind", rep.Kind,
		"names", len(rep.Recipients), "why", why)
	return "unverified report (" + why + "): recorded for admins, nothing changed", nil
}
