package maillinks

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/urls"
)

// The page behind "Going away? Pause email" in every email's footer
// (issue 19): a date form on GET, which changes nothing; the POST
// pauses all the member's mail until that date, says so and offers to
// end the pause now (action=end), which the same page does too.

// pausePage is what web/pause.html sees.
type pausePage struct {
	page
	Resumes      string // the day paused mail resumes; "" when not paused
	Until, Error string // the form's date as given, and what is wrong with it
	Min, Max     string // the date input's bounds
	ShowForm     bool
}

func (h *handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *handler) pausePage(u mailflow.User, token string) pausePage {
	loc, _ := mailflow.Location(u.Timezone)
	now := h.now()
	p := pausePage{page: h.page("Pause email"), ShowForm: true,
		Min: now.In(loc).AddDate(0, 0, 1).Format(mailflow.PauseDateLayout),
		Max: now.In(loc).AddDate(1, 0, 0).Format(mailflow.PauseDateLayout)}
	p.Email, p.Action, p.Heading = u.Email, h.url(urls.PausePath, token), "Going away? Pause your email"
	if u.PausedAt(now) {
		p.Resumes = mailflow.ResumeDay(*u.PausedUntil, loc)
	}
	return p
}

func (h *handler) pauseForm(c *gin.Context) {
	_, u, _, ok := h.resolve(c, sign.PurposePause)
	if !ok {
		return
	}
	h.pages.HTML(c, http.StatusOK, "web/pause.html", h.pausePage(u, c.Param("token")))
}

func (h *handler) pause(c *gin.Context) {
	_, u, _, ok := h.resolve(c, sign.PurposePause)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p := h.pausePage(u, c.Param("token"))
	if c.PostForm("action") == "end" {
		if err := h.Store.EndPause(ctx, u.ID); err != nil {
			h.serverError(c, err)
			return
		}
		p.Heading, p.Message, p.Resumes = "Your email is no longer paused", "Email to "+u.Email+" is sent as before.", ""
		h.pages.HTML(c, http.StatusOK, "web/pause.html", p)
		return
	}
	loc, _ := mailflow.Location(u.Timezone)
	now := h.now()
	p.Until = c.PostForm("until")
	until, err := mailflow.PauseEnd(p.Until, loc, now)
	var fe *mailflow.FieldError
	if errors.As(err, &fe) {
		p.Error = mailflow.UpperFirst(fe.Msg) + "."
		h.pages.HTML(c, http.StatusUnprocessableEntity, "web/pause.html", p)
		return
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	if err := h.Store.SetPause(ctx, u.ID, until, now); err != nil {
		h.serverError(c, err)
		return
	}
	h.Log.Info("mail paused", "user_id", u.ID, "until", until)
	p.Heading, p.Message, p.Resumes, p.ShowForm = "Your email is paused", "", mailflow.ResumeDay(until, loc), false
	h.pages.HTML(c, http.StatusOK, "web/pause.html", p)
}
