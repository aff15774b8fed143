package account

import (
	"github.com/gin-gonic/gin"
)

// "Others may write to me privately" (issue 19): on by default; off,
// the member's messages offer no "Write privately" on the web and no
// "Reply to the author privately" in mail, and mail to a private address
// from older mail that would start a conversation with them is refused
// (mailflow/inbound/private.go). Conversations already going go on.

// setPrivateMessages: POST /account/private-messages.
func (h *handler) setPrivateMessages(c *gin.Context) {
	u := userOf(c)
	on := c.PostForm("private_messages") == "1"
	if err := h.Store.SetAcceptsPrivate(c.Request.Context(), u.ID, on); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if on {
		h.Shell.Flash(c, "Other members may write to you privately again.")
	} else {
		h.Shell.Flash(c, "Other members can no longer start private conversations with you. Tick the box again to undo.")
	}
	h.Shell.Redirect(c, "/account")
}
