package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// The suppression list and bounce records, for admins: search, read an
// address's bounce log and score, and lift a suppression (with a reason,
// written to the audit log).

func (h *handler) listSuppressions(c *gin.Context) {
	if err := mailflow.CanManageDeliverability(actor(c)); err != nil {
		h.fail(c, err)
		return
	}
	limit, offset, ok := page(c)
	if !ok {
		return
	}
	list, err := h.Store.Suppressions(c.Request.Context(), c.Query("search"), limit, offset)
	if err != nil {
		h.fail(c, err)
		return
	}
	if list == nil {
		list = []store.Suppression{}
	}
	c.JSON(http.StatusOK, gin.H{"suppressions": list, "limit": limit, "offset": offset})
}

type liftIn struct {
	Reason string `json:"reason"`
}

func (h *handler) deleteSuppression(c *gin.Context) {
	a := actor(c)
	if err := mailflow.CanManageDeliverability(a); err != nil {
		h.fail(c, err)
		return
	}
	var in liftIn
	if !decode(c, &in) {
		return
	}
	if strings.TrimSpace(in.Reason) == "" {
		h.fail(c, mailflow.Invalid("reason", "is required: say why mail may go to this address again"))
		return
	}
	ctx := c.Request.Context()
	email := c.Param("email")
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		was, err := tx.Suppression(ctx, email)
		if err != nil {
			return err
		}
		if was == "" {
			return mailflow.NotFound("email", "is not suppressed")
		}
		if _, err := tx.Unsuppress(ctx, email); err != nil {
			return err
		}
		if err := tx.ResetBounceScore(ctx, email); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &a.ID, Action: "suppression.remove", TargetType: "email", TargetID: strings.ToLower(email),
			Details: map[string]any{"reason": in.Reason, "was": was}})
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *handler) bounceLog(c *gin.Context) {
	if err := mailflow.CanManageDeliverability(actor(c)); err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	email := c.Param("email")
	score, err := h.Store.BounceScoreOf(ctx, email)
	if err != nil {
		h.fail(c, err)
		return
	}
	events, err := h.Store.BounceEvents(ctx, email, 200)
	if err != nil {
		h.fail(c, err)
		return
	}
	suppressed, err := h.Store.Suppression(ctx, email)
	if err != nil {
		h.fail(c, err)
		return
	}
	if events == nil {
		events = []store.BounceEvent{}
	}
	c.JSON(http.StatusOK, gin.H{"email": strings.ToLower(email), "score": score, "suppressed": suppressed, "events": events})
}
