package account

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/web/page"
)

// Pausing mail and plain-text-only email on "Manage my account" (issue
// 19). The footer of every email has the same pause behind a signed
// link (web/maillinks).

// now is the clock a pause is judged by.
func (h *handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// pauseView is what the account page shows of a pause: the day mail
// resumes, "" when it is not paused; and the bounds of the date input.
func (h *handler) pauseView(u mailflow.User) gin.H {
	loc, _ := mailflow.Location(u.Timezone)
	now := h.now()
	v := gin.H{"Min": now.In(loc).AddDate(0, 0, 1).Format(mailflow.PauseDateLayout),
		"Max": now.In(loc).AddDate(1, 0, 0).Format(mailflow.PauseDateLayout)}
	if u.PausedAt(now) {
		v["Resumes"] = mailflow.ResumeDay(*u.PausedUntil, loc)
	}
	return v
}

func (h *handler) pause(c *gin.Context) {
	u := userOf(c)
	form := page.FormValues(c, "until")
	loc, _ := mailflow.Location(u.Timezone)
	now := h.now()
	until, err := mailflow.PauseEnd(form["until"], loc, now)
	if errs, ok := page.FieldErrors(err); ok {
		h.renderAccount(c, http.StatusUnprocessableEntity, form, errs, "")
		return
	}
	if err == nil {
		err = h.Store.SetPause(c.Request.Context(), u.ID, until, now)
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Log.Info("mail paused", "user_id", u.ID, "until", until)
	h.Shell.Flash(c, "Your email is paused. It resumes by itself on "+mailflow.ResumeDay(until, loc)+"; digests collect until then.")
	h.Shell.Redirect(c, "/account")
}

func (h *handler) endPause(c *gin.Context) {
	u := userOf(c)
	if err := h.Store.EndPause(c.Request.Context(), u.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Your email is no longer paused.")
	h.Shell.Redirect(c, "/account")
}

func (h *handler) plainText(c *gin.Context) {
	u := userOf(c)
	on := c.PostForm("plain_text") == "1"
	if err := h.Store.SetPlainTextEmail(c.Request.Context(), u.ID, on); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if on {
		h.Shell.Flash(c, "Group mail and digests now come to you as plain text only.")
	} else {
		h.Shell.Flash(c, "Group mail and digests now come to you with a formatted (HTML) version as well.")
	}
	h.Shell.Redirect(c, "/account")
}
