package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound/quote"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/posting"
)

// moderate handles a moderator's answer to a moderation notice: the
// first word of their new text is "approve" (or "yes", "ok") or "veto"
// (or "reject", "no"), and for a veto the rest is the reason. The answer
// must come from the moderator the address was made for: a notice
// forwarded to someone else does not make them a moderator, and the
// moderator's From must be authenticated (a forged one decides nothing).
func (p *Processor) moderate(ctx context.Context, g mailflow.Group, from string, m *mailparse.Message, r Route, auth senderauth.Result) (string, error) {
	mod, err := p.Store.UserByID(ctx, r.ModeratorID)
	if errors.Is(err, mailflow.ErrNotFound) {
		return "rejected: the moderator's account is gone", nil
	}
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(from, mod.Email) {
		return "rejected: a moderation answer from another address than the moderator's", nil
	}
	if !auth.Authenticated {
		// Told at most once a day: a forger must not be able to flood the
		// moderator, and a moderator whose provider signs nothing learns why.
		_, err := p.explain(ctx, mod.Email, "moderate-unauthenticated:"+g.Slug,
			notice.ModerationUnverified{Group: g.Name, Summary: auth.Summary, ModerationURL: p.URLs.Moderation(g.Slug)}, m)
		if err != nil {
			return "", err
		}
		return "rejected: a moderation answer whose From is not authenticated (" + auth.Summary + ")", nil
	}
	d, reason, ok := moderationAnswer(m.Text)
	if !ok {
		return "dropped: " + p.tellModerator(ctx, mod, m, "Parley could not tell whether you approve or veto the message: start your answer with the word approve or veto (and, for a veto, a reason)."), nil
	}
	msg, err := p.Posting.Decide(ctx, &mod, r.MessageID, d, reason)
	var de *posting.DecidedError
	switch {
	case errors.As(err, &de):
		return "dropped: " + p.tellModerator(ctx, mod, m, mailflow.UpperFirst(de.Error())+"."), nil
	case errors.Is(err, mailflow.ErrForbidden), errors.Is(err, mailflow.ErrNotFound):
		return "dropped: " + p.tellModerator(ctx, mod, m, "You are no longer a moderator of "+g.Name+", so your answer was not applied."), nil
	case err != nil:
		return "", err
	}
	if d == posting.Approve {
		return fmt.Sprintf("moderation: message %d approved by email", msg.ID), nil
	}
	return fmt.Sprintf("moderation: message %d vetoed by email", msg.ID), nil
}

// moderationAnswer reads the decision from the new text of a reply.
func moderationAnswer(text string) (posting.Decision, string, bool) {
	fresh := strings.TrimSpace(quote.Split(text).Text)
	first, rest, _ := strings.Cut(fresh, "\n")
	word, reason, _ := strings.Cut(strings.TrimSpace(first), " ")
	word = strings.ToLower(strings.Trim(word, ".,!:;"))
	switch word {
	case "approve", "approved", "yes", "ok", "accept":
		return posting.Approve, "", true
	case "veto", "vetoed", "reject", "no", "deny":
		reason = strings.TrimSpace(strings.TrimLeft(reason, ":-– "))
		if reason == "" {
			reason = strings.TrimSpace(rest)
		}
		return posting.Veto, reason, true
	}
	return "", "", false
}

// tellModerator answers a moderator's email, and says so for the trace.
func (p *Processor) tellModerator(ctx context.Context, mod mailflow.User, m *mailparse.Message, text string) string {
	err := p.sendSystem(ctx, notice.Mail{To: mod.Email, Facts: notice.ModeratorAnswer{Subject: m.Subject, Answer: text}, InReplyTo: m.MessageID})
	if err != nil {
		p.Log.Warn("answering a moderator", "err", err)
	}
	return text
}
