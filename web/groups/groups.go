// Package groups holds the pages of groups: Explore, a group's page,
// creating and editing groups, members, joining and leaving, requests and
// invitations, and the categories Explore is sorted by.
//
// Every handler asks mailflow's policy functions (policy.go and
// policy_groups.go) before it reads or changes anything, as the JSON API
// does, so a page and an API call never disagree; a private group is a
// 404 to whoever may not see it, never a 403 that would reveal it.
package groups

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	groupsvc "github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the group pages need.
type Deps struct {
	Shell      *page.Shell
	Store      *store.Store
	Groups     *groupsvc.Service // creates and updates groups, as the API does
	Keys       sign.Keys         // checks invitation links
	URLs       *urls.Map         // links in the mail it sends
	Notices    notice.Sender     // writes and queues that mail
	MailDomain string            // a group's address is SLUG@MAIL_DOMAIN
	Log        *slog.Logger
}

type handler struct {
	Deps
	links linkCache
}

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{Deps: d}
	signedIn := d.Shell.RequireUser
	rg.GET("/explore", signedIn, h.explore)
	rg.GET("/groups/new", signedIn, h.newGroupForm)
	rg.POST("/groups/new", signedIn, h.createGroup)

	// Opened from an email, perhaps signed out: it sends to sign-in itself.
	rg.GET(urls.AcceptInvitePath, h.acceptInviteForm)
	rg.POST(urls.AcceptInvitePath, h.acceptInvite)
	g := rg.Group(urls.GroupPath, signedIn)
	g.GET("", h.groupPage)
	g.GET("/edit", h.editGroupForm)
	g.POST("/edit", h.updateGroup)
	g.POST("/join", h.join)
	g.GET("/leave", h.leaveForm)
	g.POST("/leave", h.leave)
	g.POST("/delivery", h.setDelivery)
	g.GET("/members", h.members)
	g.POST("/members/:userID/role", h.setRole)
	g.POST("/members/:userID/remove", h.removeMember)
	g.POST("/requests", h.decideRequests)
	g.POST("/requests/:userID/approve", h.approveRequest)
	g.POST("/requests/:userID/deny", h.denyRequest)
	g.GET("/invite", h.inviteForm)
	g.POST("/invite", h.invite)

	cats := rg.Group("/admin/categories", signedIn, h.requireCategoryManager)
	cats.GET("", h.categories)
	cats.POST("", h.createCategory)
	cats.GET("/:id/edit", h.editCategoryForm)
	cats.POST("/:id", h.updateCategory)
	cats.POST("/:id/delete", h.deleteCategory)
}

// loadGroup reads the group named in the path and the signed-in member's
// membership (nil when there is none), and renders the 404 page when
// they may not see the group.
func (h *handler) loadGroup(c *gin.Context) (mailflow.Group, *mailflow.Membership, bool) {
	ctx := c.Request.Context()
	g, err := h.Store.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		h.Shell.Fail(c, err)
		return g, nil, false
	}
	m, err := h.Store.Membership(ctx, g.ID, session.User(c).ID)
	if err == nil {
		err = mailflow.CanViewGroup(session.User(c), g, m)
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return g, nil, false
	}
	return g, m, true
}

func (h *handler) targetUser(c *gin.Context) (mailflow.User, bool) {
	return h.Shell.PathUser(c, h.Store, "userID")
}

// audit records an owner's or an administrator's act, naming the
// superuser behind an impersonation too.
func (h *handler) audit(c *gin.Context, tx *store.Store, action, targetType, targetID string, details map[string]any) error {
	cur := session.Get(c)
	e := store.AuditEntry{ActorID: &cur.User.ID, Action: action, TargetType: targetType, TargetID: targetID, Details: details}
	if cur.Impersonator != nil {
		e.ImpersonatorID = &cur.Impersonator.ID
	}
	return tx.Audit(c.Request.Context(), e)
}

// sendMail queues a system email in tx, so it goes if and only if the
// change it tells of commits.
func (h *handler) sendMail(ctx context.Context, tx *store.Store, to string, f notice.Facts) error {
	return h.Notices.Send(ctx, tx, notice.Mail{To: to, Facts: f})
}

// flashError sets a flash shown as an error on the next page.
func (h *handler) flashError(c *gin.Context, text string) {
	h.Shell.Sessions.SetFlash(c, "error", text)
}

// groupPath is the path of a group's page, or of one of its sub-pages.
func groupPath(g mailflow.Group, sub string) string { return "/g/" + g.Slug + sub }

// address is the group's email address.
func (h *handler) address(g mailflow.Group) string { return g.Address(h.MailDomain) }

// message renders the simple page with a title, a sentence and a link.
func (h *handler) message(c *gin.Context, status int, title, text, link, linkText string) {
	h.Shell.HTML(c, status, "message", page.Data{Title: title, Page: gin.H{"Text": text, "Link": link, "LinkText": linkText}})
	c.Abort()
}
