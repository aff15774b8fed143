package threads

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
)

// threadMail is what the thread page offers a member about the
// conversation's email (issue 19): mute it, follow it, or undo either.
type threadMail struct {
	Pref   mailflow.ThreadPref
	Follow bool   // "Follow" is offered: the member does not get every message (mailflow.OffersFollow)
	Action string // the form's action
}

// threadMailControls reads the member's choice for the thread; nil for
// readers who are not active members (nothing of theirs is mailed).
func (h *handler) threadMailControls(c *gin.Context, r reader, threadID int64) (*threadMail, error) {
	if r.user == nil || !r.membership.Active() {
		return nil, nil
	}
	p, err := h.Store.ThreadPref(c.Request.Context(), r.user.ID, threadID)
	if err != nil {
		return nil, err
	}
	return &threadMail{Pref: p, Follow: mailflow.OffersFollow(r.membership.Delivery),
		Action: threadPath(r.group.Slug, threadID) + "/mail"}, nil
}

// setThreadMail: POST /g/:slug/t/:id/mail with pref = mute, follow or
// empty (the group setting). It says what it did in a flash, and the
// page it returns to offers the button that undoes it.
func (h *handler) setThreadMail(c *gin.Context) {
	r, t, ok := h.loadThread(c)
	if !ok {
		return
	}
	if !r.membership.Active() {
		h.Shell.ErrorPage(c, http.StatusForbidden, "Only members of "+r.group.Name+" get its email.")
		return
	}
	p := mailflow.ThreadPref(c.PostForm("pref"))
	if !p.Valid() {
		h.renderThread(c, r, t, http.StatusUnprocessableEntity, map[string]string{}, map[string]string{"pref": "Choose mute, follow or your group setting."})
		return
	}
	if _, err := h.Store.SetThreadPref(c.Request.Context(), r.user.ID, t.ID, p); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	switch p {
	case mailflow.ThreadMuted:
		h.Shell.Flash(c, "Conversation muted: no more email from it, and your digests leave it out. Unmute below to undo.")
	case mailflow.ThreadFollowed:
		h.Shell.Flash(c, "You follow this conversation: every new message in it is emailed to you at once. Stop following below to undo.")
	default:
		h.Shell.Flash(c, "Email from this conversation follows your group setting again.")
	}
	h.Shell.Redirect(c, threadPath(r.group.Slug, t.ID))
}
