package account

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// verifyEmailForm: GET /verify-email?token= opens the link of the
// verification email. It only asks: link scanners and previews fetch
// links, and must not confirm an address for anyone. The button's POST
// confirms it.
func (h *handler) verifyEmailForm(c *gin.Context) {
	tok := c.Query("token")
	u, err := h.Accounts.CheckVerifyLink(c.Request.Context(), tok)
	if err != nil {
		h.badVerifyLink(c, err)
		return
	}
	h.Shell.ConfirmPage(c, page.Confirm{Title: "Confirm your address", Text: "Confirm that " + u.Email + " is your address.",
		Action: urls.VerifyEmailPath, Fields: map[string]string{"token": tok}, Button: "Confirm my address"})
}

// verifyEmail: POST /verify-email, the button of verifyEmailForm.
func (h *handler) verifyEmail(c *gin.Context) {
	u, err := h.Accounts.VerifyEmail(c.Request.Context(), c.PostForm("token"))
	if err != nil {
		h.badVerifyLink(c, err)
		return
	}
	if cur := session.Get(c); cur != nil && cur.User.ID == u.ID {
		h.Shell.Flash(c, "Thank you: your address "+u.Email+" is confirmed.")
		h.Shell.Redirect(c, "/")
		return
	}
	h.Shell.Flash(c, "Thank you: "+u.Email+" is confirmed. You can log in now.")
	h.Shell.Redirect(c, "/login")
}

// badVerifyLink answers a verification link that does not work (tampered,
// expired, or for an address the account no longer has) with 400 and
// what to do, and any other error as a fault.
func (h *handler) badVerifyLink(c *gin.Context, err error) {
	if errors.Is(err, accounts.ErrBadLink) {
		h.message(c, http.StatusBadRequest, "This link does not work any more",
			"Confirmation links work for 7 days, for the address they were sent to. Log in and ask for a new one.", "/login", "Log in")
		return
	}
	h.Shell.Fail(c, err)
}
