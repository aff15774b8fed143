package maillinks

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// The confirmation link of a subscribe by email (SLUG+subscribe@): the
// address proved itself by receiving the link, so following it joins (or
// asks to join) with that address, creating a verified account for it if
// there is none.

func (h *handler) joinLink(c *gin.Context) (sign.Link, mailflow.Group, bool) {
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != sign.PurposeJoin || l.Value == "" {
		h.invalid(c)
		return l, mailflow.Group{}, false
	}
	g, err := h.Store.GroupByID(c.Request.Context(), l.GroupID)
	if errors.Is(err, mailflow.ErrNotFound) {
		h.invalid(c)
		return l, g, false
	}
	if err != nil {
		h.serverError(c, err)
		return l, g, false
	}
	return l, g, true
}

func (h *handler) joinForm(c *gin.Context) {
	l, g, ok := h.joinLink(c)
	if !ok {
		return
	}
	p := h.page("Join " + g.Name)
	p.Heading = "Join " + g.Name + "?"
	p.Message = l.Value + " will become a member of " + g.Name + " and receive its messages by email."
	if g.JoinPolicy == mailflow.JoinRequest {
		p.Heading = "Ask to join " + g.Name + "?"
		p.Message = "The group's owners will review the request from " + l.Value + "."
	}
	p.Action = h.url(urls.JoinPath, c.Param("token"))
	h.pages.HTML(c, http.StatusOK, "web/join_confirm.html", p)
}

func (h *handler) join(c *gin.Context) {
	l, g, ok := h.joinLink(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByEmail(ctx, l.Value)
	if errors.Is(err, mailflow.ErrNotFound) {
		name := l.Value[:max(0, strings.IndexByte(l.Value, '@'))]
		u, err = h.Store.CreateUser(ctx, store.NewUser{Email: l.Value, Name: name, Verified: true})
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	if !u.Verified() {
		// Receiving the link proves the address.
		if err := h.Store.VerifyEmail(ctx, u.ID); err != nil {
			h.serverError(c, err)
			return
		}
	}
	m, err := h.Store.Membership(ctx, g.ID, u.ID)
	if err != nil {
		h.serverError(c, err)
		return
	}
	p := h.page("Join " + g.Name)
	status, err := mailflow.CanChangeMembership(&u, u, g, m, m, mailflow.MembershipChange{})
	if err != nil {
		p.Heading = "You cannot join " + g.Name
		p.Message = err.Error()
		h.pages.HTML(c, http.StatusForbidden, "web/unsubscribe_done.html", p)
		return
	}
	if _, _, err := h.Store.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: u.ID, Status: status}); err != nil {
		h.serverError(c, err)
		return
	}
	if status == mailflow.MemberRequested {
		p.Heading = "Request sent"
		p.Message = "The owners of " + g.Name + " will review your request. You will get an email when they decide."
	} else {
		p.Heading = "Welcome to " + g.Name
		p.Message = u.Email + " is now a member of " + g.Name + ". Messages will reach you by email; reply or write to the group from this address to post."
	}
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
}
