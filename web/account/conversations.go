package account

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// conversations is the account page's "Conversations" card (issue 19):
// the threads the member muted or follows, each with a button that
// undoes the choice, and the setting "follow conversations I start or
// reply to".
type conversations struct {
	Chosen    []store.ChosenThread
	FollowOwn bool
}

// maxChosen bounds the list on the account page.
const maxChosen = 200

func (h *handler) conversations(ctx context.Context, userID int64) (conversations, error) {
	var cv conversations
	var err error
	if cv.Chosen, err = h.Store.ChosenThreads(ctx, userID, maxChosen); err != nil {
		return cv, err
	}
	cv.FollowOwn, err = h.Store.FollowsOwnThreads(ctx, userID)
	return cv, err
}

// setFollowOwn: POST /account/conversations/follow-own (a checkbox).
func (h *handler) setFollowOwn(c *gin.Context) {
	u := userOf(c)
	on := c.PostForm("follow_own") == "on"
	if err := h.Store.SetFollowsOwnThreads(c.Request.Context(), u.ID, on); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if on {
		h.Shell.Flash(c, "Conversations you start or reply to will be emailed to you at once, even from groups you read by digest.")
	} else {
		h.Shell.Flash(c, "Conversations you start or reply to follow your group settings.")
	}
	h.Shell.Redirect(c, "/account")
}

// setConversation: POST /account/conversations/:id with pref = mute,
// follow or empty: the list's buttons (and their undo).
func (h *handler) setConversation(c *gin.Context) {
	u := userOf(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	p := mailflow.ThreadPref(c.PostForm("pref"))
	if err != nil || id <= 0 || !p.Valid() {
		h.renderAccount(c, http.StatusUnprocessableEntity, nil, map[string]string{"conversation": "Choose mute, follow or your group setting."}, "")
		return
	}
	ctx := c.Request.Context()
	t, err := h.Store.ThreadByID(ctx, id)
	if err != nil {
		h.Shell.Fail(c, err) // ErrNotFound answers 404
		return
	}
	prev, err := h.Store.SetThreadPref(ctx, u.ID, t.ID, p)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	switch {
	case p == mailflow.ThreadMuted:
		h.Shell.Flash(c, "“"+t.Subject+"” is muted again.")
	case p == mailflow.ThreadFollowed:
		h.Shell.Flash(c, "You follow “"+t.Subject+"” again.")
	case prev == mailflow.ThreadMuted:
		h.Shell.Flash(c, "“"+t.Subject+"” is no longer muted: its email follows your group setting.")
	default:
		h.Shell.Flash(c, "You no longer follow “"+t.Subject+"”: its email follows your group setting.")
	}
	h.Shell.Redirect(c, "/account")
}
