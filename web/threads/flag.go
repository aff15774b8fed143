package threads

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// maxFlagReason bounds the note a member may add to a flag.
const maxFlagReason = 1000

type flagPage struct {
	Group   mailflow.Group
	Thread  store.WebThread
	Message messageView
	TZ      string
}

// flagConfirm: GET /messages/:id/flag asks first, so that a link (or a
// link scanner) never flags anything; the form posts.
func (h *handler) flagConfirm(c *gin.Context) {
	r, t, m, ok := h.loadFlaggable(c)
	if !ok {
		return
	}
	h.renderFlag(c, r, t, m, http.StatusOK, nil, nil)
}

// flag: POST /messages/:id/flag. The message then shows only to its
// author and the group's moderators until one of them reviews it.
func (h *handler) flag(c *gin.Context) {
	r, t, m, ok := h.loadFlaggable(c)
	if !ok {
		return
	}
	reason := strings.TrimSpace(c.PostForm("reason"))
	if utf8.RuneCountInString(reason) > maxFlagReason {
		h.renderFlag(c, r, t, m, http.StatusUnprocessableEntity, map[string]string{"reason": reason},
			map[string]string{"reason": "Keep it under " + strconv.Itoa(maxFlagReason) + " characters"})
		return
	}
	if err := h.Store.FlagMessage(c.Request.Context(), m.ID, r.user.ID, reason); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	// Back to the thread, unless the flag hid its last message from the
	// flagger: then the thread is not theirs to open until a moderator
	// decides, and the inbox (or the group, for a reader who is not a
	// member) is where they came from.
	left, err := h.Store.VisibleThreadMessages(c.Request.Context(), t.ID, r.viewer())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if len(left) > 0 {
		h.Shell.Flash(c, "Thank you: moderators will review it. The message is hidden from you until they do.")
		h.Shell.Redirect(c, threadPath(r.group.Slug, t.ID))
		return
	}
	h.Shell.Flash(c, "Thank you: moderators will review it. The thread is hidden from you until they do.")
	if r.membership.Active() {
		h.Shell.Redirect(c, "/inbox")
		return
	}
	h.Shell.Redirect(c, "/g/"+r.group.Slug)
}

// loadFlaggable finds the message in the path and checks that the member
// reads its thread, sees it and may flag it; a message they do not see
// is not found.
func (h *handler) loadFlaggable(c *gin.Context) (reader, store.WebThread, store.ListedMessage, bool) {
	var r reader
	var t store.WebThread
	ctx := c.Request.Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return r, t, store.ListedMessage{}, false
	}
	m, err := h.Store.ListedMessageByID(ctx, id)
	if err != nil {
		h.Shell.Fail(c, err)
		return r, t, m, false
	}
	g, err := h.Store.GroupByID(ctx, m.GroupID)
	if err != nil {
		h.Shell.Fail(c, err)
		return r, t, m, false
	}
	r, ok := h.readerOf(c, g)
	if !ok {
		return r, t, m, false
	}
	if t, err = h.Store.ThreadWithPrivacy(ctx, m.ThreadID); err == nil {
		err = mailflow.CanReadThread(r.user, g, r.membership, g.ArchivePublic, t.Private())
	}
	if err == nil && !r.canSee(m) {
		err = mailflow.ErrNotFound
	}
	if err == nil {
		err = mailflow.CanFlag(r.user, m.Message)
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return r, t, m, false
	}
	return r, t, m, true
}

func (h *handler) renderFlag(c *gin.Context, r reader, t store.WebThread, m store.ListedMessage, status int, form, errs map[string]string) {
	h.Shell.HTML(c, status, "flag_confirm", page.Data{Title: "Flag a message", Form: form, Errors: errs, Page: flagPage{
		Group: r.group, Thread: t, TZ: r.tz(),
		Message: messageView{ID: m.ID, CreatedAt: m.CreatedAt, Body: m.Body,
			Author: authorOf(m.AuthorID, m.AuthorName, m.AuthorPicture, m.FromEmail, m.FromHead, r.moderator(), true)},
	}})
}
