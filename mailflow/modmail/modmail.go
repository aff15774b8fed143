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
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/outbound"
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
func Notices(keys sign.Keys, links *urls.Map, brand, mailDomain string) func(ctx context.Context, tx *store.Store, g mailflow.Group, t mailflow.Thread, m mailflow.Message) error {
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
			text := Text(links, brand, g, m, from, mod.ID)
			// Answering the notice decides too: its reply address names the
			// moderator and the message, signed.
			replyTo := g.Slug + "+m-" + keys.ModerateToken(mod.ID, m.ID) + "@" + mailDomain
			args := notice.Args{To: mod.Email, Subject: "To moderate in " + g.Name + ": " + m.Subject, Text: text, ReplyTo: replyTo}
			if err := tx.Enqueue(ctx, args); err != nil {
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

// Text is the body of a notice.
func Text(links *urls.Map, brand string, g mailflow.Group, m mailflow.Message, from string, moderatorID int64) string {
	// The message as members would read its text part: Markdown rendered
	// to plain text, raw HTML reduced to its text.
	body := outbound.BodyText(m.Body)
	if r := []rune(body); len(r) > 4000 {
		body = string(r[:4000]) + "\n[…]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A message to %s is waiting for a moderator.\n\nFrom: %s\nSubject: %s\n", g.Name, from, m.Subject)
	if m.SenderAuth != "" {
		// Why a trusted member's mail may be here: its From was not
		// authenticated (or its domain's DMARC policy failed).
		fmt.Fprintf(&b, "Sender check: %s\n", m.SenderAuth)
	}
	b.WriteString("\n")
	for _, line := range strings.Split(body, "\n") {
		b.WriteString("| " + line + "\n")
	}
	fmt.Fprintf(&b, "\nApprove (it is sent to the group):\n%s\n\nVeto (the poster is told):\n%s\n\n", Link(links, moderatorID, m.ID, "approve"),
		Link(links, moderatorID, m.ID, "veto"))
	fmt.Fprintf(&b, "Each link asks you to confirm. Or reply to this email with the word approve, or veto and a reason.\nThe first moderator to decide wins. All held messages: %s\n\n-- \n%s\n",
		links.Moderation(g.Slug), brand)
	return b.String()
}

// VetoNotices returns a decision hook that tells a poster their message
// was vetoed, with the moderator's reason and their own text back, so
// nothing they wrote is lost.
func VetoNotices(brand string) func(ctx context.Context, tx *store.Store, g mailflow.Group, m mailflow.Message, d posting.Decision, reason string) error {
	return func(ctx context.Context, tx *store.Store, g mailflow.Group, m mailflow.Message, d posting.Decision, reason string) error {
		if d != posting.Veto || m.FromEmail == "" {
			return nil
		}
		text := fmt.Sprintf("Your message to %s, %q, was not accepted by the group's moderators.\n", g.Name, m.Subject)
		if reason != "" {
			text += "\nTheir reason: " + reason + "\n"
		}
		text += "\nThis is what you wrote:\n\n" + m.Body + "\n\n-- \n" + brand + "\n"
		return tx.Enqueue(ctx, notice.Args{To: m.FromEmail, Subject: "Not accepted: " + m.Subject, Text: text})
	}
}
