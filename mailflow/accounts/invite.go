package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// InviteTTL is how long an invitation link works.
const InviteTTL = 30 * 24 * time.Hour

// InviteResult says what became of each address.
type InviteResult struct {
	Sent          []string // invitation mailed (sending twice is safe: the links are alike)
	HaveAccount   []string // an account uses it already (and no group was chosen)
	AlreadyMember []string
	Invalid       []string
}

// Invite mails each address a signed link to sign up (or, for an
// existing account, to join the group) and, when group is set, to join
// that group at once.
func (s *Service) Invite(ctx context.Context, inviter mailflow.User, addrs []string, group *mailflow.Group) (InviteResult, error) {
	var res InviteResult
	seen := map[string]bool{}
	err := s.Store.Tx(ctx, func(tx *store.Store) error {
		for _, raw := range addrs {
			addr, err := mailflow.NormalizeEmail(raw)
			if err != nil {
				if strings.TrimSpace(raw) != "" {
					res.Invalid = append(res.Invalid, raw)
				}
				continue
			}
			key := strings.ToLower(addr)
			if seen[key] {
				continue
			}
			seen[key] = true
			u, err := tx.UserByEmail(ctx, addr)
			switch {
			case err == nil && group == nil:
				res.HaveAccount = append(res.HaveAccount, addr)
				continue
			case err == nil:
				m, err := tx.Membership(ctx, group.ID, u.ID)
				if err != nil {
					return err
				}
				if m.Active() {
					res.AlreadyMember = append(res.AlreadyMember, addr)
					continue
				}
			case !errors.Is(err, mailflow.ErrNotFound):
				return err
			}
			f := notice.SiteInvite{Inviter: inviter.Name}
			var gid int64
			if group != nil {
				gid, f.Group = group.ID, group.Name
			}
			f.Link = s.URLs.SiteInvitation(gid, key, s.now().Add(InviteTTL))
			if err := s.Notices.Send(ctx, tx, notice.Mail{To: addr, Facts: f}); err != nil {
				return err
			}
			res.Sent = append(res.Sent, addr)
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &inviter.ID, Action: "user.invite", TargetType: "invitations",
			TargetID: fmt.Sprint(len(res.Sent)), Details: map[string]any{"group": groupSlug(group)}})
	})
	return res, err
}

func groupSlug(g *mailflow.Group) string {
	if g == nil {
		return ""
	}
	return g.Slug
}

// Invitation is what an invitation link says.
type Invitation struct {
	Email string
	Group *mailflow.Group
}

// CheckInvite reads an invitation link.
func (s *Service) CheckInvite(ctx context.Context, token string) (Invitation, error) {
	var inv Invitation
	// The token travels in the URL path, so it is the bare token here.
	l, err := s.Keys.Verify(token, s.now())
	if err != nil || l.Purpose != sign.PurposeSiteInvite {
		return inv, ErrBadLink
	}
	inv.Email = l.Value
	if l.GroupID != 0 {
		g, err := s.Store.GroupByID(ctx, l.GroupID)
		if errors.Is(err, mailflow.ErrNotFound) {
			return inv, ErrBadLink
		}
		if err != nil {
			return inv, err
		}
		inv.Group = &g
	}
	return inv, nil
}

// ErrInviteForOther: the invitation was sent to another address.
var ErrInviteForOther = errors.New("this invitation was sent to another address")

// AcceptInvite applies an invitation to the member it was sent to: the
// address counts as verified (the link arrived there), and they join the
// group, unless the group banned them.
func (s *Service) AcceptInvite(ctx context.Context, u mailflow.User, inv Invitation) error {
	if !strings.EqualFold(u.Email, inv.Email) {
		return ErrInviteForOther
	}
	return s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.VerifyEmail(ctx, u.ID); err != nil {
			return err
		}
		if inv.Group == nil {
			return nil
		}
		m, err := tx.Membership(ctx, inv.Group.ID, u.ID)
		if err != nil {
			return err
		}
		if m != nil && m.Status == mailflow.MemberBanned {
			return mailflow.Forbidden("you cannot join this group")
		}
		if m.Active() {
			return nil
		}
		_, _, err = tx.SetMembership(ctx, mailflow.Membership{GroupID: inv.Group.ID, UserID: u.ID, Status: mailflow.MemberActive})
		return err
	})
}
