package groups

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const (
	inviteValidity = 14 * 24 * time.Hour
	maxInvites     = 50 // addresses a submission; more is a mailing, not an invitation
)

func (h *handler) inviteForm(c *gin.Context) {
	g, ok := h.invitable(c)
	if !ok {
		return
	}
	h.renderInvite(c, http.StatusOK, g, nil, nil)
}

func (h *handler) renderInvite(c *gin.Context, status int, g mailflow.Group, form, errs map[string]string) {
	h.Shell.HTML(c, status, "group_invite", page.Data{Title: "Invite people to " + g.Name, Nav: "explore", Form: form, Errors: errs,
		Page: gin.H{"Group": g, "Days": int(inviteValidity.Hours() / 24)}})
}

// invitable loads the group for the invitation pages, for its owners.
func (h *handler) invitable(c *gin.Context) (mailflow.Group, bool) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return g, false
	}
	if err := mailflow.CanInvite(session.User(c), g, m); err != nil {
		h.Shell.Fail(c, err)
		return g, false
	}
	return g, true
}

// invite mails each address a signed link to join. People who have an
// account get an invited membership too, so the group shows among theirs
// until they answer; current members are skipped.
func (h *handler) invite(c *gin.Context) {
	g, ok := h.invitable(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	form := page.FormValues(c, "addresses")
	addrs, bad := mailflow.SplitAddresses(form["addresses"])
	switch {
	case len(bad) > 0:
		h.renderInvite(c, http.StatusUnprocessableEntity, g, form, map[string]string{"addresses": "These are not email addresses: " + strings.Join(bad, ", ") + "."})
		return
	case len(addrs) == 0:
		h.renderInvite(c, http.StatusUnprocessableEntity, g, form, map[string]string{"addresses": "Enter at least one email address."})
		return
	case len(addrs) > maxInvites:
		h.renderInvite(c, http.StatusUnprocessableEntity, g, form, map[string]string{"addresses": "Invite at most 50 people at a time."})
		return
	}
	users, err := h.Store.UsersByEmails(ctx, addrs)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	members, err := h.Store.ListMembers(ctx, g.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	already := map[string]bool{}
	for _, m := range members {
		if m.Status == mailflow.MemberActive {
			already[strings.ToLower(m.Email)] = true
		}
	}
	var send []string
	var skipped []string
	for _, a := range addrs {
		if already[a] {
			skipped = append(skipped, a)
		} else {
			send = append(send, a)
		}
	}
	var invitees []int64
	for _, u := range users {
		if !already[strings.ToLower(u.Email)] {
			invitees = append(invitees, u.ID)
		}
	}
	err = h.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.InviteUsers(ctx, g.ID, invitees); err != nil {
			return err
		}
		for _, a := range send {
			if err := h.sendMail(ctx, tx, a, h.invitation(c, g, a)); err != nil {
				return err
			}
		}
		if len(send) == 0 {
			return nil
		}
		return h.audit(c, tx, "membership.invite", "group", g.Slug, map[string]any{"addresses": send})
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	msg := "Invitations sent: " + plural(len(send), "address", "addresses") + "."
	if len(skipped) > 0 {
		msg += " Already members: " + strings.Join(skipped, ", ") + "."
	}
	h.Shell.Flash(c, msg)
	h.Shell.Redirect(c, groupPath(g, "/invite"))
}

// invitation is the invitation email: who invites, to what, and a link
// valid for two weeks, for that address only.
func (h *handler) invitation(c *gin.Context, g mailflow.Group, addr string) notice.GroupInvite {
	link := h.URLs.GroupInvitation(g.Slug, g.ID, addr, time.Now().Add(inviteValidity))
	return notice.GroupInvite{Inviter: session.User(c).Name, Group: g.Name, GroupAddress: h.address(g), Invitee: addr, Link: link}
}

// acceptInviteForm is the link in an invitation: it shows the
// signed-in member whose address it was sent to a page with one button
// and changes nothing (link scanners open links); anyone else is told
// whose it is; a visitor who is signed out is sent to sign in (or up)
// and back.
func (h *handler) acceptInviteForm(c *gin.Context) {
	g, u, tok, ok := h.inviteLink(c, c.Query("token"))
	if !ok {
		return
	}
	m, err := h.Store.Membership(c.Request.Context(), g.ID, u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if m.Active() {
		h.Shell.Flash(c, "You are already a member of "+g.Name+".")
		h.Shell.Redirect(c, groupPath(g, ""))
		return
	}
	h.Shell.ConfirmPage(c, page.Confirm{Title: "Join " + g.Name + "?",
		Text:   "You were invited to join " + g.Name + " as " + u.Email + ". Join to read its conversations and get its email.",
		Action: groupPath(g, "/accept-invite"), Fields: map[string]string{"token": tok}, Button: "Join " + g.Name, Cancel: "/explore"})
}

// acceptInvite is the button of acceptInviteForm: the member joins.
func (h *handler) acceptInvite(c *gin.Context) {
	g, u, _, ok := h.inviteLink(c, c.PostForm("token"))
	if !ok {
		return
	}
	ctx := c.Request.Context()
	m, err := h.Store.Membership(ctx, g.ID, u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	status, err := mailflow.CanAcceptInvitation(u, m)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if m.Active() {
		h.Shell.Flash(c, "You are already a member of "+g.Name+".")
	} else {
		if _, _, err := h.Store.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: u.ID, Status: status}); err != nil {
			h.Shell.Fail(c, err)
			return
		}
		h.Shell.Flash(c, "You joined "+g.Name+".")
	}
	h.Shell.Redirect(c, groupPath(g, ""))
}

// inviteLink checks an invitation's token against the group in the path
// and the member signed in, answering itself when it fails.
func (h *handler) inviteLink(c *gin.Context, tok string) (mailflow.Group, *mailflow.User, string, bool) {
	l, err := h.Keys.Verify(tok, time.Now())
	if err != nil || l.Purpose != sign.PurposeInvite {
		h.badInvite(c)
		return mailflow.Group{}, nil, "", false
	}
	g, err := h.Store.GroupBySlug(c.Request.Context(), c.Param("slug"))
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && g.ID != l.GroupID) {
		h.badInvite(c)
		return g, nil, "", false
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return g, nil, "", false
	}
	u := session.User(c)
	if u == nil {
		h.Shell.Flash(c, "Log in as "+l.Value+" to accept the invitation to "+g.Name+
			". No account yet? Sign up with that address, then open the link in the email again.")
		h.Shell.Redirect(c, "/login?next="+url.QueryEscape(h.Shell.URL(groupPath(g, "/accept-invite"))+"?token="+url.QueryEscape(tok)))
		return g, nil, "", false
	}
	if !strings.EqualFold(u.Email, l.Value) {
		h.message(c, http.StatusForbidden, "This invitation is for someone else",
			"The invitation to "+g.Name+" was sent to "+l.Value+", but you are logged in as "+u.Email+
				". Log out, then log in (or sign up) with "+l.Value+" and open the link again.", "", "")
		return g, nil, "", false
	}
	return g, u, tok, true
}

func (h *handler) badInvite(c *gin.Context) {
	h.message(c, http.StatusBadRequest, "This invitation does not work any more",
		"Invitation links work for 14 days, for the address they were sent to. Ask the group's owners for a new one.", "/explore", "Explore groups")
}
