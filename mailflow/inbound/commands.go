package inbound

import (
	"context"
	"fmt"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound/parse"
	"github.com/parleymail/parley/mailflow/notice"
)

// joinLinkFor is how long a subscribe confirmation link works.
const joinLinkFor = 7 * 24 * time.Hour

// command answers mail to SLUG+subscribe@, +unsubscribe@, +help@ and
// +owner@. Subscribe and unsubscribe only ever send a confirmation link to
// the From address: a forged From can make someone receive one email,
// never change their subscriptions.
func (p *Processor) command(ctx context.Context, g mailflow.Group, author *mailflow.User, from string, m *parse.Message, cmd string) (string, error) {
	switch cmd {
	case CmdSubscribe:
		if g.JoinPolicy == mailflow.JoinInvite || !g.Listed && author == nil {
			_, err := p.explain(ctx, from, "subscribe:"+g.Slug, "Joining "+g.Name,
				fmt.Sprintf("The group %q accepts members by invitation only. Please ask one of its owners: %s+owner@%s\n", g.Name, g.Slug, p.MailDomain), m)
			return "subscribe refused: invitation only", err
		}
		link := p.URLs.Join(g.ID, from, time.Now().Add(joinLinkFor))
		what := "join"
		if g.JoinPolicy == mailflow.JoinRequest {
			what = "ask to join"
		}
		_, err := p.explain(ctx, from, "subscribe:"+g.Slug, "Confirm: "+what+" "+g.Name,
			fmt.Sprintf("Someone, probably you, asked to %s the group %q with this address.\n\nTo confirm, open this link and press the button:\n%s\n\nIf it was not you, ignore this email: nothing changes.\n", what, g.Name, link), m)
		return "subscribe: confirmation sent", err
	case CmdUnsubscribe:
		if author == nil {
			return "unsubscribe: not a member", nil
		}
		ms, err := p.Store.Membership(ctx, g.ID, author.ID)
		if err != nil {
			return "", err
		}
		if !ms.Active() {
			return "unsubscribe: not a member", nil
		}
		link := p.URLs.Unsubscribe(author.ID, g.ID)
		_, err = p.explain(ctx, from, "unsubscribe:"+g.Slug, "Confirm: stop email from "+g.Name,
			fmt.Sprintf("To stop receiving email from %q, open this link and press the button:\n%s\n\nIf you did not ask for this, ignore this email.\n", g.Name, link), m)
		return "unsubscribe: confirmation sent", err
	case CmdHelp:
		text := fmt.Sprintf(`%s (%s)

Post to the group: write to %s
Reply to a message: use your mail program's Reply.
Join: send an empty email to %s+subscribe@%s
Stop email: send an empty email to %s+unsubscribe@%s, or use the link at the bottom of every message.
Write to the group's owners: %s+owner@%s
On the web: %s

-- 
%s
`, g.Name, p.groupAddress(g), p.groupAddress(g), g.Slug, p.MailDomain, g.Slug, p.MailDomain, g.Slug, p.MailDomain, p.groupURL(g), p.BrandTitle)
		_, err := p.explain(ctx, from, "help:"+g.Slug, "Help for "+g.Name, text, m)
		return "help sent", err
	case CmdOwner:
		owners, err := p.Store.GroupOwners(ctx, g.ID)
		if err != nil {
			return "", err
		}
		for _, o := range owners {
			err := p.sendSystem(ctx, notice.Args{To: o.Email, ReplyTo: from,
				Subject: "[" + g.Name + " owners] " + m.Subject,
				Text:    fmt.Sprintf("%s wrote to the owners of %s:\n\n%s\n", from, g.Name, excerpt(m.Text, 100_000))})
			if err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("forwarded to %d owner(s)", len(owners)), nil
	}
	return "dropped: unknown command", nil
}
