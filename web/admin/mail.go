package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// failedMailLimit is how many troubled messages the page lists: a few
// hundred is already an incident, not a list to page through.
const failedMailLimit = 200

// failedMail lists received mail that could not be processed, and mail
// left unprocessed for an hour, with a Retry button for each.
func (h *handler) failedMail(c *gin.Context) {
	list, err := h.Store.InboundNeedingAttention(c.Request.Context(), failedMailLimit)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, http.StatusOK, "admin_failed_mail", page.Data{Title: "Failed mail", Nav: "admin", Page: gin.H{"Messages": list}})
}

// retryMail puts a failed message back on the inbound queue; the retry
// and its job commit together.
func (h *handler) retryMail(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.Shell.Fail(c, mailflow.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	err = h.Store.RetryInbound(ctx, id, func(tx *store.Store) error {
		return tx.Enqueue(ctx, inbound.ProcessArgs{InboundID: id})
	})
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		h.Shell.Flash(c, "That message was processed already, or does not exist.")
	case err != nil:
		h.Shell.Fail(c, err)
		return
	default:
		h.Log.Info("admin retried received mail", "inbound_id", id)
		h.Shell.Flash(c, "Message "+strconv.FormatInt(id, 10)+" will be processed again.")
	}
	h.Shell.Redirect(c, "/admin/mail/failed")
}
