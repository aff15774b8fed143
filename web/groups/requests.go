package groups

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/session"
)

func (h *handler) approveRequest(c *gin.Context) { h.decideRequest(c, true) }
func (h *handler) denyRequest(c *gin.Context)    { h.decideRequest(c, false) }

// decideRequest approves or denies a request to join. The decision, its
// line in the moderation record and in the audit log, and the email that
// tells the requester are one transaction: the mail goes if and only if
// the decision stands.
func (h *handler) decideRequest(c *gin.Context, approve bool) {
	g, _, t, tm, ok := h.manageable(c)
	if !ok {
		return
	}
	if tm.Status != mailflow.MemberRequested {
		h.Shell.Flash(c, "There is no pending request from "+t.Name+" any more.")
		h.Shell.Redirect(c, groupPath(g, "/members"))
		return
	}
	err := h.Store.Tx(c.Request.Context(), func(tx *store.Store) error {
		return h.decideOne(c, tx, g, t, approve)
	})
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		h.Shell.Flash(c, "There is no pending request from "+t.Name+" any more.")
	case err != nil:
		h.Shell.Fail(c, err)
		return
	case approve:
		h.Shell.Flash(c, t.Name+" is now a member of "+g.Name+"; we emailed them.")
	default:
		h.Shell.Flash(c, "You declined the request of "+t.Name+"; we emailed them.")
	}
	h.Shell.Redirect(c, groupPath(g, "/members"))
}

// decideOne records one decision on a request to join, in tx: the
// membership, the moderation record, the audit line and the email that
// tells the requester.
func (h *handler) decideOne(c *gin.Context, tx *store.Store, g mailflow.Group, t mailflow.User, approve bool) error {
	ctx := c.Request.Context()
	u := session.User(c)
	action, audit := "reject_member", "membership.deny"
	if approve {
		action, audit = "approve_member", "membership.approve"
	}
	decide := tx.DenyRequest
	if approve {
		decide = tx.ApproveRequest
	}
	if err := decide(ctx, g.ID, t.ID); err != nil {
		return err
	}
	if err := tx.RecordModeration(ctx, store.ModerationAction{GroupID: g.ID, TargetUser: &t.ID, ModeratorID: &u.ID, Action: action}); err != nil {
		return err
	}
	if err := h.audit(c, tx, audit, "group", g.Slug, map[string]any{"user": t.Email}); err != nil {
		return err
	}
	return h.sendMail(ctx, tx, t.Email, notice.JoinDecision{Name: t.Name, Group: g.Name, GroupAddress: h.address(g),
		GroupURL: h.URLs.Group(g.Slug), Approved: approve})
}

// decideRequests approves or denies every ticked request at once (the
// form's user fields), each as decideRequest would; a request decided
// meanwhile by another owner is skipped.
func (h *handler) decideRequests(c *gin.Context) {
	g, am, ok := h.loadGroup(c)
	if !ok {
		return
	}
	if err := mailflow.CanManageMembers(session.User(c), g, am); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	approve := c.PostForm("decision") == "approve"
	if !approve && c.PostForm("decision") != "deny" {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Choose to approve or to deny the ticked requests.")
		return
	}
	ctx := c.Request.Context()
	done := 0
	for _, v := range c.PostFormArray("user") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		t, err := h.Store.UserByID(ctx, id)
		if errors.Is(err, mailflow.ErrNotFound) {
			continue
		}
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		err = h.Store.Tx(ctx, func(tx *store.Store) error { return h.decideOne(c, tx, g, t, approve) })
		if errors.Is(err, mailflow.ErrNotFound) {
			continue // not a pending request (any more)
		}
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		done++
	}
	switch {
	case done == 0:
		h.Shell.Flash(c, "Tick the requests to decide first.")
	case approve:
		h.Shell.Flash(c, fmt.Sprintf("%d approved; we emailed them.", done))
	default:
		h.Shell.Flash(c, fmt.Sprintf("%d declined; we emailed them.", done))
	}
	h.Shell.Redirect(c, groupPath(g, "/members"))
}
