package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
)

type threadIn struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

type replyIn struct {
	Body string `json:"body"`
}

type postOut struct {
	Thread  mailflow.Thread  `json:"thread"`
	Message mailflow.Message `json:"message"`
}

// posted answers 201 for a delivered post, 202 for one held for
// moderation (accepted, but not yet published).
func posted(c *gin.Context, acc posting.Accepted) {
	code := http.StatusCreated
	if acc.Message.Status == mailflow.MessageHeld {
		code = http.StatusAccepted
	}
	c.Header("Location", "/api/v1/threads/"+strconv.FormatInt(acc.Thread.ID, 10))
	c.JSON(code, postOut{Thread: acc.Thread, Message: acc.Message})
}

// listThreads: GET /groups/{slug}/threads.
func (h *handler) listThreads(c *gin.Context) {
	a := actor(c)
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	if err := mailflow.CanReadThreads(a, g, m); err != nil {
		h.fail(c, err)
		return
	}
	limit, offset, ok := page(c)
	if !ok {
		return
	}
	threads, err := h.Store.ListThreads(c.Request.Context(), g.ID, a.ID, mailflow.IsGroupModerator(a, m), limit, offset)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"threads": threads, "limit": limit, "offset": offset})
}

// createThread: POST /groups/{slug}/threads, through the one posting path.
func (h *handler) createThread(c *gin.Context) {
	g, _, ok := h.loadGroup(c)
	if !ok {
		return
	}
	var in threadIn
	if !decode(c, &in) {
		return
	}
	acc, err := h.Posting.Accept(c.Request.Context(), posting.Submission{
		Author: actor(c), GroupID: g.ID, Subject: in.Subject, Body: in.Body, Source: mailflow.SourceAPI,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	posted(c, acc)
}

// loadThread reads the thread in the path; a thread whose group the caller
// may not read is not found.
func (h *handler) loadThread(c *gin.Context) (mailflow.Thread, mailflow.Group, *mailflow.Membership, bool) {
	ctx := c.Request.Context()
	var g mailflow.Group
	var m *mailflow.Membership
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		abort(c, http.StatusNotFound, "not found", "")
		return mailflow.Thread{}, g, nil, false
	}
	wt, err := h.Store.ThreadWithPrivacy(ctx, id)
	if err == nil {
		g, err = h.Store.GroupByID(ctx, wt.GroupID)
	}
	if err == nil {
		m, err = h.Store.Membership(ctx, g.ID, actor(c).ID)
	}
	if err == nil {
		// A private thread (a member and the group's owners) is read by
		// them only; the rest by whoever reads the group's threads.
		if p := wt.Private(); p != nil {
			err = mailflow.CanReadPrivateThread(actor(c), m, *p)
		} else {
			err = mailflow.CanReadThreads(actor(c), g, m)
		}
	}
	if err != nil {
		h.fail(c, err)
		return wt.Thread, g, m, false
	}
	return wt.Thread, g, m, true
}

// getThread: GET /threads/{id}: the thread and the messages the caller may see.
func (h *handler) getThread(c *gin.Context) {
	t, _, m, ok := h.loadThread(c)
	if !ok {
		return
	}
	a := actor(c)
	// The same visibility as the pages: held and flagged messages for
	// their author and the moderators, banned authors' for themselves.
	listed, err := h.Store.VisibleThreadMessages(c.Request.Context(), t.ID, store.MessageViewer{ID: a.ID, Moderator: mailflow.IsGroupModerator(a, m)})
	if err != nil {
		h.fail(c, err)
		return
	}
	visible := make([]mailflow.Message, 0, len(listed))
	for _, l := range listed {
		visible = append(visible, l.Message)
	}
	if len(visible) == 0 {
		abort(c, http.StatusNotFound, "not found", "")
		return
	}
	c.JSON(http.StatusOK, gin.H{"thread": t, "messages": visible})
}

// reply: POST /threads/{id}/messages.
func (h *handler) reply(c *gin.Context) {
	t, _, _, ok := h.loadThread(c)
	if !ok {
		return
	}
	var in replyIn
	if !decode(c, &in) {
		return
	}
	acc, err := h.Posting.Accept(c.Request.Context(), posting.Submission{
		Author: actor(c), ThreadID: t.ID, Body: in.Body, Source: mailflow.SourceAPI,
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	posted(c, acc)
}
