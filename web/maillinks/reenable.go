package maillinks

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/urls"
)

// The link in the notice sent when mail to an address stopped because of
// bounces or a spam complaint: following it (GET shows a button, POST
// acts) starts mail again and clears the bounce score.

func (h *handler) reenableLink(c *gin.Context) (string, bool) {
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != sign.PurposeReenable || l.Value == "" {
		h.invalid(c)
		return "", false
	}
	return l.Value, true
}

func (h *handler) reenableForm(c *gin.Context) {
	email, ok := h.reenableLink(c)
	if !ok {
		return
	}
	p := h.page("Start email again")
	p.Heading = "Start email to " + email + " again?"
	p.Message = "Email from " + h.BrandTitle + " to this address was paused. Press the button to receive it again."
	p.Action = h.url(urls.ReenablePath, c.Param("token"))
	h.pages.HTML(c, http.StatusOK, "web/join_confirm.html", p)
}

func (h *handler) reenable(c *gin.Context) {
	email, ok := h.reenableLink(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	reason, err := h.Store.Suppression(ctx, email)
	if err == nil && (reason == "bounce_score" || reason == "complaint") {
		_, err = h.Store.Unsuppress(ctx, email)
	}
	if err == nil {
		err = h.Store.ResetBounceScore(ctx, email)
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	h.Log.Info("mail re-enabled by its owner", "email", email, "was", reason)
	p := h.page("Email restarted")
	p.Heading = "Email restarted"
	p.Message = email + " will receive email from " + h.BrandTitle + " again."
	if reason == "unsubscribed" || reason == "manual" {
		p.Message = "This address was unsubscribed or blocked on purpose; this link cannot undo that. Sign in to change your email settings."
	}
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
}
