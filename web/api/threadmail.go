package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
)

// threadMailIn is the body of PUT /threads/{id}/mail.
type threadMailIn struct {
	Pref mailflow.ThreadPref `json:"pref"` // "mute", "follow" or "" (the group setting)
}

// getThreadMail: GET /threads/{id}/mail: the caller's choice for the
// thread's email (issue 19).
func (h *handler) getThreadMail(c *gin.Context) {
	t, _, _, ok := h.loadThread(c)
	if !ok {
		return
	}
	p, err := h.Store.ThreadPref(c.Request.Context(), actor(c).ID, t.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"pref": p})
}

// putThreadMail: PUT /threads/{id}/mail: mute or follow the thread, or
// go back to the group setting. Only the group's active members get its
// email, so only they choose.
func (h *handler) putThreadMail(c *gin.Context) {
	t, _, m, ok := h.loadThread(c)
	if !ok {
		return
	}
	var in threadMailIn
	if !decode(c, &in) {
		return
	}
	if !in.Pref.Valid() {
		abort(c, http.StatusUnprocessableEntity, "pref must be mute, follow or empty", "pref")
		return
	}
	if !m.Active() {
		h.fail(c, mailflow.Forbidden("only the group's members get its email"))
		return
	}
	prev, err := h.Store.SetThreadPref(c.Request.Context(), actor(c).ID, t.ID, in.Pref)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"pref": in.Pref, "previous": prev})
}
