// Package admin holds the Admin menu's pages. This first part is the
// user pages of Connect's "User Report": find a user, see their account,
// and (superusers) update their permissions. Every handler asks
// mailflow's policy first; the pages are 403 for everyone else.
package admin

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the admin pages need.
type Deps struct {
	Shell *page.Shell
	Store *store.Store
}

type handler struct{ Deps }

// Register adds the routes under /admin; rg has the session, CSRF and
// terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	g := rg.Group("/admin", d.Shell.RequireUser, h.requireUserManager)
	g.GET("/users", h.users)
	g.GET("/users/:id", h.user)
	g.POST("/users/:id/roles", h.setRoles)
}

func (h *handler) requireUserManager(c *gin.Context) {
	if err := mailflow.CanManageUsers(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Next()
}

const pageSize = 50

func (h *handler) users(c *gin.Context) {
	q := c.Query("q")
	pg, _ := strconv.Atoi(c.Query("page"))
	pg = max(pg, 1)
	list, err := h.Store.ListUsers(c.Request.Context(), q, pageSize+1, (pg-1)*pageSize)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	more := len(list) > pageSize
	if more {
		list = list[:pageSize]
	}
	h.Shell.HTML(c, http.StatusOK, "admin_users", page.Data{Title: "Users", Nav: "admin", Form: map[string]string{"q": q},
		Page: gin.H{"Users": list, "More": more, "Next": pg + 1}})
}

func (h *handler) target(c *gin.Context) (mailflow.User, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return mailflow.User{}, false
	}
	u, err := h.Store.UserByID(c.Request.Context(), id)
	if err != nil {
		h.Shell.Fail(c, err)
		return u, false
	}
	return u, true
}

type permChoice struct {
	Value, Label string
	On           bool
}

func (h *handler) user(c *gin.Context) {
	u, ok := h.target(c)
	if !ok {
		return
	}
	var perms []permChoice
	for _, p := range mailflow.Permissions {
		perms = append(perms, permChoice{Value: string(p), Label: p.Label(), On: slices.Contains(u.Permissions, p)})
	}
	h.Shell.HTML(c, http.StatusOK, "admin_user", page.Data{Title: u.Name, Nav: "admin", Page: gin.H{
		"Person": u, "Permissions": perms, "CanGrant": mailflow.CanGrantPermissions(session.User(c)) == nil}})
}

// setRoles is "Update Permissions". The member's sessions move to new ids
// at their next request, as at any change of privilege.
func (h *handler) setRoles(c *gin.Context) {
	actor := session.User(c)
	if err := mailflow.CanGrantPermissions(actor); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	u, ok := h.target(c)
	if !ok {
		return
	}
	var perms []mailflow.Permission
	for _, v := range c.PostFormArray("perm") {
		p := mailflow.Permission(v)
		if !slices.Contains(mailflow.Permissions, p) {
			h.Shell.ErrorPage(c, http.StatusBadRequest, "Unknown permission "+strconv.Quote(v)+".")
			return
		}
		perms = append(perms, p)
	}
	superuser, staff := c.PostForm("superuser") == "1", c.PostForm("staff") == "1"
	if u.ID == actor.ID && !superuser {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "You cannot take away your own superuser status; ask another superuser.")
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetRoles(ctx, u.ID, superuser, staff, perms); err != nil {
			return err
		}
		if err := tx.RotateUserSessions(ctx, u.ID); err != nil {
			return err
		}
		cur := session.Get(c)
		return tx.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, ImpersonatorID: impersonatorID(cur), Action: "user.roles",
			TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10),
			Details: map[string]any{"superuser": superuser, "staff": staff, "permissions": perms}})
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Permissions of "+u.Name+" are updated.")
	h.Shell.Redirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}

func impersonatorID(cur *session.Current) *int64 {
	if cur == nil || cur.Impersonator == nil {
		return nil
	}
	return &cur.Impersonator.ID
}
