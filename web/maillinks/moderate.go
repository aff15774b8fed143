package maillinks

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
)

// The links in a moderation notice (mailflow/modmail): the token names
// the moderator, the held message and the decision. GET shows the message
// and a button; POST decides, through the same path as the panel.

type moderatePage struct {
	page
	Decision, Subject, From, Group, Action, Done string
	Body                                         template.HTML // the message as the group would see it
}

// moderateLink checks the link and that the moderator it names still
// moderates the message's group, at every use: a link outlives a role
// (moderators change, accounts are banned), and the page shows a held
// message that only the group's moderators may read. It answers itself
// when either fails: 400 for a bad link, 403 for a lost role.
func (h *handler) moderateLink(c *gin.Context) (sign.Link, *mailflow.User, mailflow.Message, mailflow.Group, bool) {
	ctx := c.Request.Context()
	var g mailflow.Group
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != sign.PurposeModerate || (l.Value != "approve" && l.Value != "veto") {
		h.invalid(c)
		return l, nil, mailflow.Message{}, g, false
	}
	u, err := h.Store.UserByID(ctx, l.UserID)
	if err != nil {
		h.invalid(c)
		return l, nil, mailflow.Message{}, g, false
	}
	m, err := h.Store.MessageByID(ctx, l.GroupID)
	if err != nil {
		h.invalid(c)
		return l, nil, mailflow.Message{}, g, false
	}
	if g, err = h.Store.GroupByID(ctx, m.GroupID); err != nil {
		h.invalid(c)
		return l, nil, mailflow.Message{}, g, false
	}
	mm, err := h.Store.Membership(ctx, g.ID, u.ID)
	if err != nil {
		h.serverError(c, err)
		return l, nil, mailflow.Message{}, g, false
	}
	if !mailflow.IsGroupModerator(&u, mm) {
		h.refuse(c, http.StatusForbidden, "You no longer moderate this group",
			"This link was sent to a moderator of the group, and your account no longer moderates it, so the message "+
				"it was about is not shown. If you think this is a mistake, ask the group's owners.")
		return l, nil, mailflow.Message{}, g, false
	}
	return l, &u, m, g, true
}

func (h *handler) moderateForm(c *gin.Context) {
	l, _, m, g, ok := h.moderateLink(c)
	if !ok {
		return
	}
	p := moderatePage{page: h.page("Moderate: " + m.Subject), Decision: l.Value, Subject: m.Subject, Body: markup.HTML(m.Body),
		From: m.AuthorName, Group: g.Name, Action: c.Request.URL.Path}
	if m.Status != mailflow.MessageHeld {
		who, _ := h.Store.LastModerator(c.Request.Context(), m.ID)
		p.Done = (&posting.DecidedError{Status: m.Status, Moderator: who}).Error()
	}
	h.pages.HTML(c, http.StatusOK, "web/moderate_confirm.html", p)
}

func (h *handler) moderate(c *gin.Context) {
	l, u, m, _, ok := h.moderateLink(c)
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
		h.refuse(c, http.StatusForbidden, "You no longer moderate this group",
			"This link was sent to a moderator of the group, and your account no longer moderates it.")
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
