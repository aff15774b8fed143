package groups

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// join: an open group takes the member at once, with their default email
// setting; a by-request group records the request for its owners; an
// invitation accepts it. An invitation-only group refuses (403) anyone
// not invited.
func (h *handler) join(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	u := session.User(c)
	status, err := mailflow.CanChangeMembership(u, *u, g, m, m, mailflow.MembershipChange{})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	switch {
	case m.Active():
		h.Shell.Flash(c, "You are already a member of "+g.Name+".")
	case m != nil && m.Status == status:
		h.Shell.Flash(c, "You asked to join "+g.Name+" already; its owners will decide.")
	default:
		// Role and delivery left empty: a member, with the user's own
		// default email setting (users.default_delivery).
		if _, _, err := h.Store.SetMembership(c.Request.Context(), mailflow.Membership{GroupID: g.ID, UserID: u.ID, Status: status}); err != nil {
			h.Shell.Fail(c, err)
			return
		}
		if status == mailflow.MemberRequested {
			h.Shell.Flash(c, "Your request to join "+g.Name+" is sent. Its owners will decide, and you will get an email.")
		} else {
			h.Shell.Flash(c, "You joined "+g.Name+".")
		}
	}
	h.Shell.Redirect(c, groupPath(g, ""))
}

// leaveForm asks before leaving (a link, or a crawler following one,
// must never take someone out of a group).
func (h *handler) leaveForm(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	if m == nil {
		h.Shell.Flash(c, "You are not a member of "+g.Name+".")
		h.Shell.Redirect(c, groupPath(g, ""))
		return
	}
	if err := mailflow.CanLeave(session.User(c), g, m); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.renderLeave(c, http.StatusOK, g, m)
}

// renderLeave shows the confirmation; the only owner of a group is told
// at once that they cannot leave it, with no button to try.
func (h *handler) renderLeave(c *gin.Context, status int, g mailflow.Group, m *mailflow.Membership) {
	lastOwner := false
	if m.Active() && m.Role == mailflow.RoleOwner {
		n, err := h.Store.OwnerCount(c.Request.Context(), g.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		lastOwner = n <= 1
	}
	// Back: the page the member came from (their subscriptions), where
	// Stay and Leave return; empty for the group page's own Leave.
	back := h.Shell.SafeNext(c.Request.FormValue("back"))
	h.Shell.HTML(c, status, "group_leave", page.Data{Title: "Leave " + g.Name, Nav: "explore",
		Page: gin.H{"Group": g, "Membership": m, "LastOwner": lastOwner, "Back": back}})
}

// leave ends the member's membership (or withdraws a request, or
// declines an invitation). The last owner cannot leave: the group would
// have no one to run it.
func (h *handler) leave(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	u := session.User(c)
	if err := mailflow.CanLeave(u, g, m); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	err := h.Store.DeleteMembership(c.Request.Context(), g.ID, u.ID)
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		h.Shell.Flash(c, "You are not a member of "+g.Name+".")
	case errors.Is(err, mailflow.ErrConflict):
		h.renderLeave(c, http.StatusConflict, g, m)
		return
	case err != nil:
		h.Shell.Fail(c, err)
		return
	case m != nil && m.Status == mailflow.MemberRequested:
		h.Shell.Flash(c, "Your request to join "+g.Name+" is withdrawn.")
	case m != nil && m.Status == mailflow.MemberInvited:
		h.Shell.Flash(c, "You declined the invitation to "+g.Name+".")
	default:
		h.Shell.Flash(c, "You left "+g.Name+".")
	}
	h.Shell.Redirect(c, h.back(c, "/explore"))
}

// back is where a form sent from a list of the member's groups ("My
// subscriptions" on the start page and the profile) returns: the local
// page named in its "back" field, or def.
func (h *handler) back(c *gin.Context, def string) string {
	if b := h.Shell.SafeNext(c.Request.FormValue("back")); b != "" {
		return b
	}
	return def
}

// setDelivery is the member's email setting for this group.
func (h *handler) setDelivery(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	u := session.User(c)
	d := mailflow.Delivery(c.PostForm("delivery"))
	if !d.Valid() {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Choose one of the email settings.")
		return
	}
	if !m.Active() {
		h.Shell.Fail(c, mailflow.Forbidden("join the group first"))
		return
	}
	if _, err := mailflow.CanChangeMembership(u, *u, g, m, m, mailflow.MembershipChange{Delivery: &d}); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if _, err := h.Store.SetDelivery(c.Request.Context(), g.ID, u.ID, d); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Your email setting for "+g.Name+" is now: "+page.DeliveryLabel(d)+".")
	h.Shell.Redirect(c, h.back(c, groupPath(g, "")))
}

// membersView is what the members page shows.
type membersView struct {
	Group     mailflow.Group
	Active    []mailflow.Member
	Requested []mailflow.Member
	Invited   []mailflow.Member
	Banned    []mailflow.Member
	Moderator bool // sees requests, invitations and bans
	Manager   bool // decides requests, changes roles, removes
	CanWrite  bool // may write to an owner (the envelope beside each)
	Self      int64
}

// members lists a group's members as its member list visibility allows:
// names linking to profiles, and roles. Owners also see the pending
// requests (with Approve and Deny), invitations and bans, and manage
// roles; addresses are shown to them only.
func (h *handler) members(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	u := session.User(c)
	if err := mailflow.CanListMembers(u, g, m); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	list, err := h.Store.ListMembers(c.Request.Context(), g.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	v := membersView{Group: g, Moderator: mailflow.IsGroupModerator(u, m), Manager: mailflow.CanManageMembers(u, g, m) == nil, Self: u.ID,
		CanWrite: mailflow.CanWriteToOwners(u, g, m) == nil}
	for _, x := range list {
		switch x.Status {
		case mailflow.MemberActive:
			v.Active = append(v.Active, x)
		case mailflow.MemberRequested:
			v.Requested = append(v.Requested, x)
		case mailflow.MemberInvited:
			v.Invited = append(v.Invited, x)
		case mailflow.MemberBanned:
			v.Banned = append(v.Banned, x)
		}
	}
	if !v.Moderator {
		v.Requested, v.Invited, v.Banned = nil, nil, nil
	}
	h.Shell.HTML(c, http.StatusOK, "group_members", page.Data{Title: "Members of " + g.Name, Nav: "explore", Page: v})
}

// manageable loads the group, checks that the signed-in member runs it,
// and loads the member named in the path with their membership.
func (h *handler) manageable(c *gin.Context) (mailflow.Group, *mailflow.Membership, mailflow.User, *mailflow.Membership, bool) {
	g, am, ok := h.loadGroup(c)
	if !ok {
		return g, nil, mailflow.User{}, nil, false
	}
	if err := mailflow.CanManageMembers(session.User(c), g, am); err != nil {
		h.Shell.Fail(c, err)
		return g, nil, mailflow.User{}, nil, false
	}
	t, ok := h.targetUser(c)
	if !ok {
		return g, nil, t, nil, false
	}
	tm, err := h.Store.Membership(c.Request.Context(), g.ID, t.ID)
	if err == nil && tm == nil {
		err = mailflow.ErrNotFound
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return g, nil, t, nil, false
	}
	return g, am, t, tm, true
}

// setRole makes an active member an owner, a moderator or a member.
func (h *handler) setRole(c *gin.Context) {
	g, am, t, tm, ok := h.manageable(c)
	if !ok {
		return
	}
	role := mailflow.Role(c.PostForm("role"))
	if !role.Valid() {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Choose owner, moderator or member.")
		return
	}
	if !tm.Active() {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Only active members have a role.")
		return
	}
	u := session.User(c)
	status, err := mailflow.CanChangeMembership(u, t, g, am, tm, mailflow.MembershipChange{Role: &role})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	err = h.Store.Tx(ctx, func(tx *store.Store) error {
		out, _, err := tx.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: t.ID, Role: role, Status: status})
		if err != nil {
			return err
		}
		return h.audit(c, tx, "membership.set", "group", g.Slug, map[string]any{"user": t.Email, "role": out.Role, "status": out.Status})
	})
	if errors.Is(err, mailflow.ErrConflict) {
		h.flashError(c, "A group needs at least one owner: make someone else an owner first.")
		h.Shell.Redirect(c, groupPath(g, "/members"))
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, t.Name+" is now "+roleName(role)+" of "+g.Name+".")
	h.Shell.Redirect(c, groupPath(g, "/members"))
}

func roleName(r mailflow.Role) string {
	switch r {
	case mailflow.RoleOwner:
		return "an owner"
	case mailflow.RoleModerator:
		return "a moderator"
	}
	return "a member"
}

// removeMember takes someone out of the group (or cancels their
// invitation, or lifts a ban, which is the same row).
func (h *handler) removeMember(c *gin.Context) {
	g, am, t, _, ok := h.manageable(c)
	if !ok {
		return
	}
	if err := mailflow.CanRemoveMembership(session.User(c), t, g, am); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteMembership(ctx, g.ID, t.ID); err != nil {
			return err
		}
		return h.audit(c, tx, "membership.remove", "group", g.Slug, map[string]any{"user": t.Email})
	})
	if errors.Is(err, mailflow.ErrConflict) {
		h.flashError(c, t.Name+" is the only owner of "+g.Name+": make someone else an owner first.")
		h.Shell.Redirect(c, groupPath(g, "/members"))
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, t.Name+" is no longer in "+g.Name+".")
	h.Shell.Redirect(c, groupPath(g, "/members"))
}
