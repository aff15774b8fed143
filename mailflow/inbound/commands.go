package inbound

import (
	"context"
	"fmt"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/notice"
)

// joinLinkFor is how long a subscribe confirmation link works.
const joinLinkFor = 7 * 24 * time.Hour

// command answers mail to SLUG+subscribe@, +unsubscribe@, +help@ and
// +owner@. Subscribe and unsubscribe only ever send a confirmation link to
// the From address: a forged From can make someone receive one email,
// never change their subscriptions.
func (p *Processor) command(ctx context.Context, g mailflow.Group, author *mailflow.User, from string, m *mailparse.Message, cmd string) (string, error) {
	switch cmd {
	case CmdSubscribe:
		if g.JoinPolicy == mailflow.JoinInvite || !g.Listed && author == nil {
			_, err := p.explain(ctx, from, "subscribe:"+g.Slug, notice.InviteOnly{Group: g.Name, OwnerAddress: p.commandAddress(g, CmdOwner)}, m)
			return "subscribe refused: invitation only", err
		}
		link := p.URLs.Join(g.ID, from, time.Now().Add(joinLinkFor))
		_, err := p.explain(ctx, from, "subscribe:"+g.Slug, notice.JoinConfirm{Group: g.Name, Link: link, Request: g.JoinPolicy == mailflow.JoinRequest}, m)
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
		_, err = p.explain(ctx, from, "unsubscribe:"+g.Slug, notice.LeaveConfirm{Group: g.Name, Link: link}, m)
		return "unsubscribe: confirmation sent", err
	case CmdHelp:
		_, err := p.explain(ctx, from, "help:"+g.Slug, notice.Help{Group: g.Name, GroupAddress: p.groupAddress(g),
			JoinAddress: p.commandAddress(g, CmdSubscribe), LeaveAddress: p.commandAddress(g, CmdUnsubscribe),
			OwnerAddress: p.commandAddress(g, CmdOwner), GroupURL: p.groupURL(g)}, m)
		return "help sent", err
	case CmdOwner:
		owners, err := p.Store.GroupOwners(ctx, g.ID)
		if err != nil {
			return "", err
		}
		for _, o := range owners {
			f := notice.OwnerForward{From: from, Group: g.Name, Subject: m.Subject, Text: excerpt(m.Text, 100_000)}
			err := p.sendSystem(ctx, notice.Mail{To: o.Email, ReplyTo: from, Facts: f})
			if err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("forwarded to %d owner(s)", len(owners)), nil
	}
	return "dropped: unknown command", nil
}
