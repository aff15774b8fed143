package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

type memberIn struct {
	Role         *string `json:"role"`
	Delivery     *string `json:"delivery"`
	SendOwnPosts *bool   `json:"send_own_posts"`
}

// listMembers: GET /groups/{slug}/members, as the group's member list
// visibility allows.
func (h *handler) listMembers(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	a := actor(c)
	if err := mailflow.CanListMembers(a, g, m); err != nil {
		h.fail(c, err)
		return
	}
	members, err := h.Store.ListMembers(c.Request.Context(), g.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	// Only those who run the group see requests, invitations and bans.
	if !mailflow.IsGroupModerator(a, m) {
		active := members[:0]
		for _, x := range members {
			if x.Status == mailflow.MemberActive {
				active = append(active, x)
			}
		}
		members = active
	}
	c.JSON(http.StatusOK, gin.H{"members": members})
}

// target loads the user named in the path; an unknown address is a 404
// that names the field.
func (h *handler) target(c *gin.Context) (mailflow.User, bool) {
	u, err := h.Store.UserByEmail(c.Request.Context(), c.Param("email"))
	if errors.Is(err, mailflow.ErrNotFound) {
		err = mailflow.NotFound("email", "no user has this address")
	}
	if err != nil {
		h.fail(c, err)
		return u, false
	}
	return u, true
}

// putMember: PUT /groups/{slug}/members/{email}. Owners add and change
// anyone; a user joins (or asks to join) and sets their own delivery.
// 201 when the membership is new, 200 when it changed.
func (h *handler) putMember(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	g, am, ok := h.loadGroup(c)
	if !ok {
		return
	}
	var in memberIn
	if !decode(c, &in) {
		return
	}
	var ch mailflow.MembershipChange
	if in.Role != nil {
		r := mailflow.Role(*in.Role)
		if !r.Valid() {
			h.fail(c, mailflow.Invalid("role", "must be member, moderator or owner"))
			return
		}
		ch.Role = &r
	}
	if in.Delivery != nil {
		d := mailflow.Delivery(*in.Delivery)
		if !d.Valid() {
			h.fail(c, mailflow.Invalid("delivery", "must be immediate, digest, weekly or none"))
			return
		}
		ch.Delivery = &d
	}
	t, ok := h.target(c)
	if !ok {
		return
	}
	current, err := h.Store.Membership(ctx, g.ID, t.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	status, err := mailflow.CanChangeMembership(a, t, g, am, current, ch)
	if err != nil {
		h.fail(c, err)
		return
	}
	want := mailflow.Membership{GroupID: g.ID, UserID: t.ID, Status: status, SendOwnPosts: in.SendOwnPosts}
	if ch.Role != nil {
		want.Role = *ch.Role
	}
	if ch.Delivery != nil {
		want.Delivery = *ch.Delivery
	}
	var out mailflow.Membership
	var created bool
	err = h.Store.Tx(ctx, func(tx *store.Store) error {
		if out, created, err = tx.SetMembership(ctx, want); err != nil {
			return err
		}
		if a.ID == t.ID && ch.Role == nil {
			return nil // joining or choosing one's delivery is not an admin act
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &a.ID, Action: "membership.set", TargetType: "group", TargetID: g.Slug,
			Details: map[string]any{"user": t.Email, "role": out.Role, "status": out.Status}})
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	c.JSON(code, mailflow.Member{Membership: out, Email: t.Email, Name: t.Name})
}

// deleteMember: DELETE /groups/{slug}/members/{email}: leave, or remove.
func (h *handler) deleteMember(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	g, am, ok := h.loadGroup(c)
	if !ok {
		return
	}
	t, ok := h.target(c)
	if !ok {
		return
	}
	if err := mailflow.CanRemoveMembership(a, t, g, am); err != nil {
		h.fail(c, err)
		return
	}
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteMembership(ctx, g.ID, t.ID); err != nil {
			return err
		}
		if a.ID == t.ID {
			return nil
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &a.ID, Action: "membership.remove", TargetType: "group", TargetID: g.Slug,
			Details: map[string]any{"user": t.Email}})
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
