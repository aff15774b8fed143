package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// Private addresses (SLUG+p-TOKEN@MAIL_DOMAIN, sign.PrivateAddress):
// mail to one is a private message to the member the token names, from
// the member it was given to and from no one else. It starts a private
// thread between the two (mailflow.Private with OwnerID the addressee),
// or continues the one the token names; either way it is mailed to the
// other through Parley, and neither sees the other's address.

var (
	// RFC 3463 §3.8: 5.7.1, delivery not authorized.
	errPrivateSender = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "this private reply address takes mail only from the member it was given to"}
	errPrivateOff = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
		Message: "sorry, this member does not take private messages; please write to the group instead"}
)

// checkPrivate refuses at RCPT (RFC 5321 §3.3) what a private address
// must never take: mail whose envelope sender is not the member the
// address was given to, and a new conversation with a member who has
// turned private messages off. Delivery reports (null sender) and
// Parley's own addresses pass, as they do to the group address: the
// processing records them as reports and loops, and delivers nothing.
func (s *Server) checkPrivate(ctx context.Context, g mailflow.Group, a sign.PrivateAddress, mailFrom string) error {
	from := strings.ToLower(strings.Trim(strings.TrimSpace(mailFrom), "<>"))
	if from == "" || strings.HasSuffix(from, "@"+strings.ToLower(s.cfg.Domain)) {
		return nil
	}
	giver, err := s.store.UserByID(ctx, a.GivenTo)
	if errors.Is(err, mailflow.ErrNotFound) {
		return errUnknownRecipient
	}
	if err != nil {
		s.log.Error("smtp: looking up a private address's member", "err", err)
		return errTempFailure
	}
	if !strings.EqualFold(giver.Email, from) {
		s.metrics.InboundRejected.WithLabelValues("private_sender").Inc()
		return errPrivateSender
	}
	t, err := s.store.ThreadWithPrivacy(ctx, a.ThreadID)
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && t.GroupID != g.ID) {
		return errUnknownRecipient
	}
	if err != nil {
		return errTempFailure
	}
	if t.Private() != nil {
		return nil // a conversation already going: the setting guards new ones
	}
	accepts, err := s.store.AcceptsPrivate(ctx, a.ToID)
	if errors.Is(err, mailflow.ErrNotFound) {
		return errUnknownRecipient
	}
	if err != nil {
		return errTempFailure
	}
	if !accepts {
		s.metrics.InboundRejected.WithLabelValues("private_off").Inc()
		return errPrivateOff
	}
	return nil
}

// private posts a private message that came to a private address. Only
// the member the address was given to may write to it, from their own
// authenticated address (a forged From delivers nothing); the checks of
// the message itself are the posting service's (CanWritePrivately for a
// new conversation, PrivatePostDecision for a reply in one).
func (p *Processor) private(ctx context.Context, g mailflow.Group, from string, in store.Inbound, m *mailparse.Message, a sign.PrivateAddress, auth senderauth.Result) (string, error) {
	giver, err := p.Store.UserByID(ctx, a.GivenTo)
	if errors.Is(err, mailflow.ErrNotFound) {
		return "rejected: the member this private address was given to no longer exists", nil
	}
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(giver.Email, from) {
		return "refused: a private address takes mail only from the member it was given to", nil
	}
	if !auth.Authenticated {
		return "refused: private message whose From is not authenticated (" + auth.Summary + ")", nil
	}
	t, err := p.Store.ThreadWithPrivacy(ctx, a.ThreadID)
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && t.GroupID != g.ID) {
		return "rejected: the conversation no longer exists", nil
	}
	if err != nil {
		return "", err
	}
	sub := posting.Submission{
		Author: &giver, FromEmail: from, Body: postText(m, true), Source: mailflow.SourceEmail,
		RawSource: in.Raw, MessageID: p.messageID(in, m),
		Sender: &mailflow.SenderAuth{Authenticated: auth.Authenticated, DMARCFailed: auth.DMARCFailed(), Summary: auth.Summary},
	}
	if len(m.InReplyTo) > 0 {
		sub.InReplyTo = m.InReplyTo[0]
	}
	if priv := t.Private(); priv != nil {
		if !between(*priv, a.ToID, a.GivenTo) {
			return "rejected: the conversation is not between these members", nil
		}
		sub.ThreadID = t.ID
	} else {
		sub.GroupID, sub.PrivateMemberID, sub.PrivateOwnerID, sub.ToMember = g.ID, giver.ID, a.ToID, true
		if sub.Subject = strings.TrimSpace(m.Subject); sub.Subject == "" {
			sub.Subject = "Re: " + t.Subject
		}
	}
	acc, err := p.Posting.Accept(ctx, sub)
	switch {
	case err == nil:
	case errors.Is(err, mailflow.ErrDuplicate):
		return "duplicate: this Message-ID is already in the group", nil
	case errors.Is(err, mailflow.ErrNotMember), errors.Is(err, mailflow.ErrForbidden),
		errors.Is(err, mailflow.ErrNotFound), errors.Is(err, mailflow.ErrInvalid):
		return "refused: private message: " + err.Error(), nil
	default:
		var unauth *posting.UnauthenticatedError
		if errors.As(err, &unauth) {
			return "refused: " + auth.Summary, nil
		}
		return "", err
	}
	return fmt.Sprintf("sent privately (message %d in private thread %d)", acc.Message.ID, acc.Thread.ID), nil
}

// between says whether the private thread p is between members x and y.
func between(p mailflow.Private, x, y int64) bool {
	return p.OwnerID != 0 && (p.MemberID == x && p.OwnerID == y || p.MemberID == y && p.OwnerID == x)
}
