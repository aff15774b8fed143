package maillinks

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
)

// The links in a moderation notice (mailflow/modmail): the token names
// the moderator, the held message and the decision. GET shows the message
// and a button; POST decides, through the same path as the panel.

type moderatePage struct {
	page
	Decision, Subject, Body, From, Group, Action, Done string
}

func (h *handler) moderateLink(c *gin.Context) (sign.Link, *mailflow.User, mailflow.Message, bool) {
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != sign.PurposeModerate || (l.Value != "approve" && l.Value != "veto") {
		h.invalid(c)
		return l, nil, mailflow.Message{}, false
	}
	u, err := h.Store.UserByID(c.Request.Context(), l.UserID)
	if err != nil {
		h.invalid(c)
		return l, nil, mailflow.Message{}, false
	}
	m, err := h.Store.MessageByID(c.Request.Context(), l.GroupID)
	if err != nil {
		h.invalid(c)
		return l, nil, mailflow.Message{}, false
	}
	return l, &u, m, true
}

func (h *handler) moderateForm(c *gin.Context) {
	l, _, m, ok := h.moderateLink(c)
	if !ok {
		return
	}
	g, err := h.Store.GroupByID(c.Request.Context(), m.GroupID)
	if err != nil {
		h.serverError(c, err)
		return
	}
	p := moderatePage{page: h.page("Moderate: " + m.Subject), Decision: l.Value, Subject: m.Subject, Body: m.Body,
		From: m.AuthorName, Group: g.Name, Action: c.Request.URL.Path}
	if m.Status != mailflow.MessageHeld {
		who, _ := h.Store.LastModerator(c.Request.Context(), m.ID)
		p.Done = (&posting.DecidedError{Status: m.Status, Moderator: who}).Error()
	}
	h.pages.HTML(c, http.StatusOK, "web/moderate_confirm.html", p)
}

func (h *handler) moderate(c *gin.Context) {
	l, u, m, ok := h.moderateLink(c)
	if !ok {
		return
	}
	_, err := h.Posting.Decide(c.Request.Context(), u, m.ID, posting.Decision(l.Value), strings.TrimSpace(c.PostForm("reason")))
	p := moderatePage{page: h.page("Moderate: " + m.Subject), Decision: l.Value, Subject: m.Subject, From: m.AuthorName}
	var de *posting.DecidedError
	switch {
	case errors.As(err, &de):
		p.Done = de.Error()
		h.pages.HTML(c, http.StatusConflict, "web/moderate_confirm.html", p)
		return
	case errors.Is(err, mailflow.ErrForbidden), errors.Is(err, mailflow.ErrNotFound):
		h.pages.HTML(c, http.StatusForbidden, "web/link_invalid.html", h.page("You are no longer a moderator of this group"))
		return
	case err != nil:
		h.serverError(c, err)
		return
	}
	if l.Value == "approve" {
		p.Done = "Approved: the message is on its way to the group."
	} else {
		p.Done = "Vetoed: the poster will be told."
	}
	h.pages.HTML(c, http.StatusOK, "web/moderate_confirm.html", p)
}
