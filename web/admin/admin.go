// Package admin holds the Admin menu's pages. This first part is the
// user pages of Connect's "User Report": find a user, see their account,
// and (superusers) update their permissions. Every handler asks
// mailflow's policy first; the pages are 403 for everyone else.
package admin

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/account"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the admin pages need.
type Deps struct {
	Shell    *page.Shell
	Store    *store.Store
	Log      *slog.Logger
	Accounts *accounts.Service // invitations
	Now      func() time.Time  // the clock pauses are judged by (issue 19); nil: time.Now
}

// pausedView is the day a user's paused mail resumes, "" when it is not
// paused (issue 19).
func (h *handler) pausedView(u mailflow.User) string {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	if !u.PausedAt(now) {
		return ""
	}
	loc, _ := mailflow.Location(u.Timezone)
	return mailflow.ResumeDay(*u.PausedUntil, loc)
}

type handler struct{ Deps }

// Register adds the routes under /admin; rg has the session, CSRF and
// terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	a := rg.Group("/admin", d.Shell.RequireUser)
	a.GET("", h.landing)
	g := a.Group("", h.requireUserManager)
	g.GET("/users", h.users)
	g.GET("/users/:id", h.user)
	g.POST("/users/:id/roles", h.setRoles)
	g.POST("/users/:id/status", h.setStatus)
	g.GET("/users/:id/edit", h.editForm)
	g.POST("/users/:id/edit", h.edit)
	g.POST("/users/:id/impersonate", h.impersonate)
	g.GET("/invite", h.inviteForm)
	g.POST("/invite", h.invite)
	g.GET("/bounces", h.bounceReports)
	g.GET("/import", h.importForm)
	g.POST("/import", h.importUpload)
	g.GET("/mail/failed", h.failedMail)
	g.POST("/mail/failed/:id/retry", h.retryMail)
	r := a.Group("", h.requireReports)
	r.GET("/dashboard", h.dashboard)
	a.GET("/gallery", h.gallery)
	r.GET("/reports/users", h.userReport)
	r.GET("/reports/users.csv", h.userReportCSV)
	r.GET("/reports/groups", h.groupReport)
	r.GET("/reports/groups.csv", h.groupReportCSV)
	// Stopping is open to the impersonated session, which is not a user
	// manager's: it only ever returns to the superuser's own account.
	rg.POST("/admin/impersonate/stop", d.Shell.RequireUser, h.stopImpersonating)
}

// landing sends each admin to the first part of the menu they may use.
func (h *handler) landing(c *gin.Context) {
	u := session.User(c)
	switch {
	case mailflow.CanManageUsers(u) == nil:
		h.Shell.Redirect(c, "/admin/users")
	case mailflow.CanViewReports(u) == nil:
		h.Shell.Redirect(c, "/admin/dashboard")
	case mailflow.CanManageCategories(u) == nil:
		h.Shell.Redirect(c, "/admin/categories")
	case u.Has(mailflow.PermModerateGroups):
		h.Shell.Redirect(c, "/admin/flags")
	default:
		h.Shell.Fail(c, mailflow.Forbidden("the Admin menu is for administrators"))
	}
}

func (h *handler) requireReports(c *gin.Context) {
	if err := mailflow.CanViewReports(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Next()
}

func (h *handler) requireUserManager(c *gin.Context) {
	if err := mailflow.CanManageUsers(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Next()
}

const pageSize = 50

// maxPage bounds ?page= so that a crafted number cannot ask PostgreSQL
// to skip billions of rows.
const maxPage = 10_000

// pageNumber reads ?page= (1 when absent or bad, at most maxPage).
func pageNumber(c *gin.Context) int {
	pg, _ := strconv.Atoi(c.Query("page"))
	return min(max(pg, 1), maxPage)
}

// onePage cuts a list read with one row more than a page: the page, and
// whether there is a next one.
func onePage[T any](list []T, size int) ([]T, bool) {
	if len(list) > size {
		return list[:size], true
	}
	return list, false
}

func (h *handler) users(c *gin.Context) {
	q := c.Query("q")
	pg := pageNumber(c)
	list, err := h.Store.ListUsers(c.Request.Context(), q, pageSize+1, (pg-1)*pageSize)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	list, more := onePage(list, pageSize)
	h.Shell.HTML(c, http.StatusOK, "admin_users", page.Data{Title: "Users", Nav: "admin", Form: map[string]string{"q": q},
		Page: gin.H{"Users": list, "More": more, "Next": pg + 1}})
}

func (h *handler) target(c *gin.Context) (mailflow.User, bool) {
	return h.Shell.PathUser(c, h.Store, "id")
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
	for _, p := range mailflow.Permissions() {
		perms = append(perms, permChoice{Value: string(p), Label: p.Label(), On: slices.Contains(u.Permissions, p)})
	}
	h.Shell.HTML(c, http.StatusOK, "admin_user", page.Data{Title: u.Name, Nav: "admin", Page: gin.H{
		"Person": u, "Permissions": perms, "CanGrant": mailflow.CanGrantPermissions(session.User(c)) == nil,
		"Paused": h.pausedView(u)}})
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
		if !slices.Contains(mailflow.Permissions(), p) {
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

// setStatus is "Ban user" (and its undoing). A banned member cannot sign
// in, their sessions end, no mail goes to them, and their messages are
// visible only to themselves.
func (h *handler) setStatus(c *gin.Context) {
	actor := session.User(c)
	u, ok := h.target(c)
	if !ok {
		return
	}
	st := mailflow.UserStatus(c.PostForm("status"))
	if st != mailflow.UserActive && st != mailflow.UserBanned {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Choose to ban or to reinstate the user.")
		return
	}
	if st == mailflow.UserBanned && c.PostForm("confirm") != "1" {
		h.Shell.Flash(c, "Tick the box to confirm the ban.")
		h.Shell.Redirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10))
		return
	}
	if u.ID == actor.ID {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "You cannot ban yourself.")
		return
	}
	if u.IsSuperuser && !actor.IsSuperuser {
		h.Shell.Fail(c, mailflow.Forbidden("only superusers can ban a superuser"))
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetUserStatus(ctx, u.ID, st); err != nil {
			return err
		}
		if st == mailflow.UserBanned {
			if _, err := tx.DeleteUserSessions(ctx, u.ID, nil); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, ImpersonatorID: impersonatorID(session.Get(c)),
			Action:     "user." + map[mailflow.UserStatus]string{mailflow.UserBanned: "ban", mailflow.UserActive: "reinstate"}[st],
			TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10), Details: map[string]any{"reason": c.PostForm("reason")}})
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if st == mailflow.UserBanned {
		h.Shell.Flash(c, u.Name+" is banned.")
	} else {
		h.Shell.Flash(c, u.Name+" is reinstated.")
	}
	h.Shell.Redirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}

// impersonate is "Become user": a new session as the user, remembering
// who is behind it. Only superusers may become a superuser.
func (h *handler) impersonate(c *gin.Context) {
	cur := session.Get(c)
	if cur.Impersonator != nil {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "Return to your own account first.")
		return
	}
	actor := cur.User
	u, ok := h.target(c)
	if !ok {
		return
	}
	if err := mailflow.CanImpersonate(&actor, u); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := h.Store.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, Action: "user.impersonate", TargetType: "user",
		TargetID: strconv.FormatInt(u.ID, 10)}); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if err := h.Shell.Sessions.Login(c, u.ID, &actor.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "You are now acting as "+u.Name+". Everything you do is recorded.")
	h.Shell.Redirect(c, "/")
}

// stopImpersonating returns the superuser to their own account, in a new
// session.
func (h *handler) stopImpersonating(c *gin.Context) {
	cur := session.Get(c)
	if cur == nil || cur.Impersonator == nil {
		h.Shell.Redirect(c, "/")
		return
	}
	back, target := cur.Impersonator.ID, cur.User.ID
	ctx := c.Request.Context()
	if err := h.Store.Audit(ctx, store.AuditEntry{ActorID: &back, Action: "user.impersonate_end", TargetType: "user",
		TargetID: strconv.FormatInt(target, 10)}); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if err := h.Shell.Sessions.Login(c, back, nil); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "You are back in your own account.")
	h.Shell.Redirect(c, "/admin/users/"+strconv.FormatInt(target, 10))
}

// AuditImpersonation records every state-changing request made while a
// superuser acts as someone else, with both names, before it runs.
func AuditImpersonation(st *store.Store) gin.HandlerFunc {
	return func(c *gin.Context) {
		cur := session.Get(c)
		if cur == nil || cur.Impersonator == nil || c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			c.Next()
			return
		}
		err := st.Audit(c.Request.Context(), store.AuditEntry{ActorID: &cur.User.ID, ImpersonatorID: &cur.Impersonator.ID,
			Action: "impersonated.request", TargetType: "path", TargetID: c.Request.Method + " " + c.Request.URL.Path})
		if err != nil {
			// No record, no action: an unrecorded change while impersonating
			// is exactly what the audit log exists to prevent.
			c.AbortWithStatus(http.StatusServiceUnavailable)
			return
		}
		c.Next()
	}
}

// editForm is "Update user": the member's profile, edited on their behalf.
func (h *handler) editForm(c *gin.Context) {
	u, ok := h.target(c)
	if !ok {
		return
	}
	h.renderEdit(c, http.StatusOK, u, account.ProfileForm(u), nil)
}

func (h *handler) renderEdit(c *gin.Context, status int, u mailflow.User, form, errs map[string]string) {
	h.Shell.HTML(c, status, "admin_user_edit", page.Data{Title: "Update " + u.Name, Nav: "admin", Form: form, Errors: errs,
		Page: gin.H{"Person": u, "Timezones": accounts.Timezones(), "Deliveries": page.DeliveryChoices()}})
}

func (h *handler) edit(c *gin.Context) {
	actor := session.User(c)
	u, ok := h.target(c)
	if !ok {
		return
	}
	if u.IsSuperuser && !actor.IsSuperuser {
		h.Shell.Fail(c, mailflow.Forbidden("only superusers can edit a superuser"))
		return
	}
	form := page.FormValues(c, "name", "title", "organization", "bio", "website", "social_links", "timezone", "default_delivery", "show_groups")
	p, errs := account.ParseProfile(form)
	if errs.Any() {
		h.renderEdit(c, http.StatusUnprocessableEntity, u, form, errs.Fields)
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.UpdateProfile(ctx, u.ID, p); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, ImpersonatorID: impersonatorID(session.Get(c)),
			Action: "user.update", TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10)})
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "The profile of "+p.Name+" is updated.")
	h.Shell.Redirect(c, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}
