// Package resources holds the Resources pages: the files shared with
// groups (list, search, filters, grid and list views), uploading,
// details, downloads and thumbnails, editing and deleting, and Admin ›
// Tags. Files go through mailflow/library, which detects their type from
// the content and keeps the blob store and the database in step.
//
// Every handler asks mailflow's policy (policy_resources.go) first: a
// resource is its group's members' business, and anyone else gets the
// 404 page, never a 403 that would reveal it.
package resources

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the resource pages need.
type Deps struct {
	Shell *page.Shell
	Store *store.Store
	Files *library.Library // the files and their blobs (its Blobs nil: uploads refused)
	Keys  sign.Keys        // verifies the file links of group mail (urls.Map.File)
	Log   *slog.Logger
}

type handler struct {
	Deps
}

// Register adds the routes; rg has the session, CSRF and terms guards.
// The two upload routes read their multipart bodies themselves, as
// streams (page.Shell.StreamBody).
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{Deps: d}
	signedIn := d.Shell.RequireUser
	rg.GET(urls.FilePath, h.mailedDownload)
	r := rg.Group("/resources", signedIn)
	r.GET("", h.list)
	r.GET("/new", h.newForm)
	streamedPOST(d.Shell, r, "/new", h.upload)
	r.GET("/:id", h.show)
	r.GET("/:id/download", h.download)
	r.GET("/:id/thumb", h.thumb)
	r.GET("/:id/edit", h.editForm)
	r.POST("/:id/edit", h.update)
	r.GET("/:id/delete", h.deleteForm)
	r.POST("/:id/delete", h.delete)

	g := rg.Group("/g/:slug/resources", signedIn)
	g.GET("/new", h.newForm)
	streamedPOST(d.Shell, g, "/new", h.upload)

	t := rg.Group("/admin/tags", signedIn, h.requireTagManager)
	t.GET("", h.tags)
	t.GET("/new", h.newTagForm)
	t.POST("/new", h.createTag)
	t.POST("/delete", h.deleteTags)
	t.GET("/:id", h.editTagForm)
	t.POST("/:id", h.updateTag)
}

// streamedPOST registers a POST route whose handler reads the body as a
// stream, and tells the CSRF guard so.
func streamedPOST(sh *page.Shell, g *gin.RouterGroup, rel string, h gin.HandlerFunc) {
	g.POST(rel, h)
	sh.StreamBody(joinPath(g.BasePath(), rel))
}

// joinPath joins a group's base path and a relative path as gin does.
func joinPath(base, rel string) string {
	if base == "" || base == "/" {
		return rel
	}
	if base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + rel
}

// loaded is a resource with what deciding about it takes.
type loaded struct {
	store.ListedResource
	Group      mailflow.Group
	Membership *mailflow.Membership
	From       *mailflow.AttachedTo
}

// load reads the resource named by :id and renders the 404 page when the
// signed-in member may not see it.
func (h *handler) load(c *gin.Context) (loaded, bool) {
	var l loaded
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return l, false
	}
	return h.loadFor(c, session.User(c), id)
}

// loadFor reads resource id and renders the 404 page when u may not see
// it.
func (h *handler) loadFor(c *gin.Context, u *mailflow.User, id int64) (loaded, bool) {
	var l loaded
	var err error
	ctx := c.Request.Context()
	if l.ListedResource, err = h.Store.ResourceByID(ctx, id); err != nil {
		h.Shell.Fail(c, err)
		return l, false
	}
	if l.Group, err = h.Store.GroupByID(ctx, l.GroupID); err != nil {
		h.Shell.Fail(c, err)
		return l, false
	}
	if l.Membership, err = h.Store.Membership(ctx, l.GroupID, u.ID); err != nil {
		h.Shell.Fail(c, err)
		return l, false
	}
	if l.MessageID != nil {
		msg, err := h.Store.ListedMessageByID(ctx, *l.MessageID)
		if err != nil {
			h.Shell.Fail(c, err)
			return l, false
		}
		t, err := h.Store.ThreadWithPrivacy(ctx, msg.ThreadID)
		if err != nil {
			h.Shell.Fail(c, err)
			return l, false
		}
		l.From = &mailflow.AttachedTo{Message: msg.Message, State: msg.State, Private: t.Private()}
	}
	if err := mailflow.CanAccessResource(u, l.Membership, l.From); err != nil {
		h.Shell.Fail(c, err)
		return l, false
	}
	return l, true
}

// uploadGroups returns the groups the member may add files to, by name:
// every group for a superuser, else their groups where
// mailflow.CanUploadResource allows it.
func (h *handler) uploadGroups(c *gin.Context) ([]mailflow.Group, error) {
	ctx := c.Request.Context()
	u := session.User(c)
	var out []mailflow.Group
	if u.IsSuperuser {
		list, err := h.Store.ListGroups(ctx, u.ID, true, 10000, 0)
		if err != nil {
			return nil, err
		}
		for _, l := range list {
			if mailflow.CanUploadResource(u, l.Group, l.Membership) == nil {
				out = append(out, l.Group)
			}
		}
		return out, nil
	}
	list, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, ug := range list {
		m := ug.Membership
		if mailflow.CanUploadResource(u, ug.Group, &m) == nil {
			out = append(out, ug.Group)
		}
	}
	return out, nil
}

// audit records a change to a tag, naming the superuser behind an
// impersonation too.
func (h *handler) audit(c *gin.Context, tx *store.Store, action string, tagID int64, details map[string]any) error {
	cur := session.Get(c)
	e := store.AuditEntry{ActorID: &cur.User.ID, Action: action, TargetType: "tag", TargetID: strconv.FormatInt(tagID, 10), Details: details}
	if cur.Impersonator != nil {
		e.ImpersonatorID = &cur.Impersonator.ID
	}
	return tx.Audit(c.Request.Context(), e)
}

// actorID is the signed-in member's id, for the audit log.
func actorID(c *gin.Context) *int64 {
	id := session.User(c).ID
	return &id
}

func humanSize(n int64) string { return mailflow.HumanSize(n) }
