package maillinks

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// threadMailPage is the page behind "Mute this conversation" and
// "Follow this conversation" (issue 19): GET asks (Action, Button),
// POST acts and offers the undo (UndoAction).
type threadMailPage struct {
	page
	Button    string
	ThreadURL string
}

// resolveThreadMail verifies a thread-mail token and loads its member
// and thread (with its group's slug and name). It answers 400 itself
// when the link is bad or its thread or account is gone.
func (h *handler) resolveThreadMail(c *gin.Context) (sign.Link, mailflow.User, store.WebThread, mailflow.Group, bool) {
	var t store.WebThread
	var g mailflow.Group
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != sign.PurposeThreadMail || !mailflow.ThreadPref(l.Value).Valid() {
		h.invalid(c)
		return l, mailflow.User{}, t, g, false
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByID(ctx, l.UserID)
	if err == nil {
		t, err = h.Store.ThreadWithPrivacy(ctx, l.GroupID)
	}
	if err == nil {
		g, err = h.Store.GroupByID(ctx, t.GroupID)
	}
	if errors.Is(err, mailflow.ErrNotFound) {
		h.invalid(c)
		return l, u, t, g, false
	}
	if err != nil {
		h.serverError(c, err)
		return l, u, t, g, false
	}
	return l, u, t, g, true
}

func (h *handler) threadMailView(title string, u mailflow.User, t store.WebThread, g mailflow.Group) threadMailPage {
	p := threadMailPage{page: h.page(title),
		ThreadURL: strings.TrimRight(h.Origin.Path, "/") + urls.Path(urls.ThreadPath, g.Slug, strconv.FormatInt(t.ID, 10))}
	p.Email, p.Group = u.Email, &g
	return p
}

// threadMailForm: GET shows what the link would do, with one button,
// and changes nothing (mail scanners open links).
func (h *handler) threadMailForm(c *gin.Context) {
	l, u, t, g, ok := h.resolveThreadMail(c)
	if !ok {
		return
	}
	p := h.threadMailView("Conversation email", u, t, g)
	p.Action = h.url(urls.ThreadMailPath, c.Param("token"))
	switch mailflow.ThreadPref(l.Value) {
	case mailflow.ThreadMuted:
		p.Heading, p.Button = "Mute this conversation?", "Mute"
		p.Message = "No more email from “" + t.Subject + "” in " + g.Name + " will reach " + u.Email +
			", and your digests will leave it out. The rest of the group's email does not change."
	case mailflow.ThreadFollowed:
		p.Heading, p.Button = "Follow this conversation?", "Follow"
		p.Message = "Every new message in “" + t.Subject + "” will be emailed to " + u.Email +
			" at once, whatever your email setting for " + g.Name + ". The rest of the group's email does not change."
	default:
		p.Heading, p.Button = "Back to your group setting?", "Confirm"
		p.Message = "Email from “" + t.Subject + "” will follow your email setting for " + g.Name + " again."
	}
	h.pages.HTML(c, http.StatusOK, "web/thread_mail.html", p)
}

// threadMail: the POST sets the choice, says so, and offers an undo: a
// button whose link restores the choice before (and is itself undone
// the same way).
func (h *handler) threadMail(c *gin.Context) {
	l, u, t, g, ok := h.resolveThreadMail(c)
	if !ok {
		return
	}
	want := mailflow.ThreadPref(l.Value)
	prev, err := h.Store.SetThreadPref(c.Request.Context(), u.ID, t.ID, want)
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.Log.Info("conversation email", "user_id", u.ID, "thread_id", t.ID, "pref", want, "before", prev)
	p := h.threadMailView("Conversation email", u, t, g)
	p.Heading, p.Message = threadPrefDone(want, t.Subject, g.Name)
	if prev != want {
		undo := sign.Link{Purpose: sign.PurposeThreadMail, UserID: u.ID, GroupID: t.ID, Value: string(prev)}
		p.UndoAction = h.url(urls.ThreadMailPath, h.Keys.Token(undo))
	}
	h.pages.HTML(c, http.StatusOK, "web/thread_mail.html", p)
}

// threadPrefDone says, in a heading and a sentence, what a member's
// choice for a conversation now does.
func threadPrefDone(p mailflow.ThreadPref, subject, group string) (heading, message string) {
	switch p {
	case mailflow.ThreadMuted:
		return "Conversation muted", "You will get no more email from “" + subject + "” in " + group + ", and your digests will leave it out."
	case mailflow.ThreadFollowed:
		return "You follow this conversation", "Every new message in “" + subject + "” will be emailed to you at once; the rest of " + group + " reaches you as before."
	}
	return "Back to your group setting", "Email from “" + subject + "” follows your email setting for " + group + " again."
}
