package groups

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
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
	ctx := c.Request.Context()
	u := session.User(c)
	action, audit, subject, text := "reject_member", "membership.deny", "Your request to join "+g.Name,
		"Hello "+t.Name+",\n\nThe owners of "+g.Name+" did not accept your request to join the group.\n"
	if approve {
		action, audit, subject = "approve_member", "membership.approve", "Welcome to "+g.Name
		text = "Hello " + t.Name + ",\n\nYour request to join " + g.Name + " is approved: you are a member now.\n\n" +
			"Write to the group at " + h.address(g) + ", or read it at " + h.Shell.Absolute(groupPath(g, "")) + "\n"
	}
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
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
		return h.sendMail(ctx, tx, t.Email, subject, text)
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
