// Package modmail lets moderators decide from their mailbox: when a
// message is held, each of the group's owners and moderators gets an
// email with the message and two signed links, Approve and Veto. A link
// opens a confirmation page (link scanners fetch links; only the page's
// button acts), which calls the same decision as the moderation panel, so
// the first decision wins and the others are told who made it.
package modmail

import (
	"context"
	"fmt"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// LinkTTL is how long the links in a notice work.
const LinkTTL = 14 * 24 * time.Hour

// Notices returns a posting hook that, in the transaction that holds a
// message, queues one notice per moderator: the notice exists if and only
// if the held message does.
func Notices(keys sign.Keys, links *urls.Map, notices notice.Sender, mailDomain string) func(ctx context.Context, tx *store.Store, g mailflow.Group, t mailflow.Thread, m mailflow.Message) error {
	return func(ctx context.Context, tx *store.Store, g mailflow.Group, t mailflow.Thread, m mailflow.Message) error {
		if m.Status != mailflow.MessageHeld {
			return nil
		}
		mods, err := tx.GroupModerators(ctx, g.ID)
		if err != nil {
			return err
		}
		from := m.AuthorName
		if from == "" {
			from = m.FromEmail
		}
		if m.AuthorID != nil {
			if u, err := tx.UserByID(ctx, *m.AuthorID); err == nil {
				from = u.Name + " <" + u.Email + ">"
			}
		}
		for _, mod := range mods {
			// Answering the notice decides too: its reply address names the
			// moderator and the message, signed.
			replyTo := g.Slug + "+m-" + keys.ModerateToken(mod.ID, m.ID) + "@" + mailDomain
			err := notices.Send(ctx, tx, notice.Mail{To: mod.Email, Facts: Facts(links, g, m, from, mod.ID), ReplyTo: replyTo})
			if err != nil {
				return fmt.Errorf("queueing a moderation notice: %w", err)
			}
		}
		return nil
	}
}

// Link returns the signed decision link for one moderator.
func Link(links *urls.Map, moderatorID, messageID int64, decision string) string {
	return links.ModerationDecision(moderatorID, messageID, decision, time.Now().Add(LinkTTL))
}

// Facts are what one moderator's notice says.
func Facts(links *urls.Map, g mailflow.Group, m mailflow.Message, from string, moderatorID int64) notice.Moderation {
	// The message as members would read its text part: Markdown rendered
	// to plain text, raw HTML reduced to its text.
	body := markup.MailText(m.Body)
	if r := []rune(body); len(r) > 4000 {
		body = string(r[:4000]) + "\n[…]"
	}
	// SenderAuth says why a trusted member's mail may be here: its From
	// was not authenticated (or its domain's DMARC policy failed).
	return notice.Moderation{Group: g.Name, From: from, Subject: m.Subject, SenderAuth: m.SenderAuth, Body: body,
		ApproveLink: Link(links, moderatorID, m.ID, "approve"), VetoLink: Link(links, moderatorID, m.ID, "veto"),
		ModerationURL: links.Moderation(g.Slug)}
}

// VetoNotices returns a decision hook that tells a poster their message
// was vetoed, with the moderator's reason and their own text back, so
// nothing they wrote is lost.
func VetoNotices(notices notice.Sender) func(ctx context.Context, tx *store.Store, g mailflow.Group, m mailflow.Message, d posting.Decision, reason string) error {
	return func(ctx context.Context, tx *store.Store, g mailflow.Group, m mailflow.Message, d posting.Decision, reason string) error {
		if d != posting.Veto || m.FromEmail == "" {
			return nil
		}
		f := notice.Veto{Group: g.Name, Subject: m.Subject, Reason: reason, Body: m.Body}
		return notices.Send(ctx, tx, notice.Mail{To: m.FromEmail, Facts: f})
	}
}
