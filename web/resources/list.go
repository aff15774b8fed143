package resources

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const (
	listPageSize = 48
	maxListPage  = 1000
	// viewCookie remembers grid or list. A plain preference, set by the
	// server when the member switches (a link, no script needed); it is
	// read only to choose between two layouts.
	viewCookie = "parley_resources_view"
)

// card is a resource as lists show it.
type card struct {
	store.ListedResource
	SizeText  string
	Icon      string // the static file of the type's icon
	KindLabel string
	Opens     bool  // the browser shows it (inline) rather than saving it
	Uploader  int64 // the uploader's id; 0 when unknown (templates cannot follow UploaderID)
}

func (h *handler) cardOf(r store.ListedResource) card {
	c := card{ListedResource: r, SizeText: humanSize(r.Size), Icon: "icons/" + string(r.Kind) + ".svg",
		KindLabel: r.Kind.Label(), Opens: inlineType(r.ContentType)}
	if r.UploaderID != nil {
		c.Uploader = *r.UploaderID
	}
	return c
}

// kindChoice is one option of the type filter.
type kindChoice struct{ Value, Label string }

// list is the Resources page: the files of the member's groups (or of
// one group), newest first, searched by keyword and filtered by group,
// type and tag, as a grid or a list.
func (h *handler) list(c *gin.Context) {
	ctx := c.Request.Context()
	u := session.User(c)
	form := map[string]string{
		"q":     strings.TrimSpace(c.Query("q")),
		"group": c.Query("group"),
		"type":  c.Query("type"),
		"tag":   c.Query("tag"),
	}
	view := h.view(c)
	pg, _ := strconv.Atoi(c.Query("page"))
	pg = min(max(pg, 1), maxListPage)

	q := store.ResourceQuery{Viewer: store.ResourceViewerOf(u), Keyword: form["q"], TagSlug: form["tag"],
		Limit: listPageSize + 1, Offset: (pg - 1) * listPageSize}
	if k := mailflow.ResourceKind(form["type"]); k.Valid() {
		q.Kind = k
	} else {
		form["type"] = ""
	}
	mine, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	groups := make([]mailflow.Group, 0, len(mine))
	for _, ug := range mine {
		groups = append(groups, ug.Group)
	}
	var group *mailflow.Group
	if slug := form["group"]; slug != "" {
		g, err := h.Store.GroupBySlug(ctx, slug)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		m, err := h.Store.Membership(ctx, g.ID, u.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		if err := mailflow.CanAccessResources(u, m); err != nil {
			h.Shell.Fail(c, err)
			return
		}
		group, q.GroupID = &g, &g.ID
		if m == nil || !m.Active() {
			groups = append(groups, g) // a superuser looking at another group
		}
	}
	list, err := h.Store.ListResources(ctx, q)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	more := len(list) > listPageSize
	if more {
		list = list[:listPageSize]
	}
	cards := make([]card, len(list))
	for i, r := range list {
		cards[i] = h.cardOf(r)
	}
	upload, err := h.uploadGroups(c)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	uploadURL := h.uploadURL(upload, group)
	kinds := kindChoices()
	title := "Resources"
	if group != nil {
		title = "Resources of " + group.Name
	}
	p := gin.H{
		"Resources": cards, "Groups": groups, "Group": group, "Kinds": kinds, "View": view, "UploadURL": uploadURL,
		"Searched": form["q"] != "" || form["type"] != "" || form["tag"] != "", "PageNumber": pg,
		"GridURL": h.listURL(form, 1, "grid"), "ListURL": h.listURL(form, 1, "list"),
		"ClearURL": h.listURL(map[string]string{"group": form["group"]}, 1, ""),
	}
	if more {
		p["NextURL"] = h.listURL(form, pg+1, "")
	}
	if pg > 1 {
		p["PrevURL"] = h.listURL(form, pg-1, "")
	}
	h.Shell.HTML(c, http.StatusOK, "resources", page.Data{Title: title, Nav: "resources", Form: form, Page: p})
}

// uploadURL is where the list's Upload button leads: the upload form of
// the group shown, when the member may add to it, else the general one;
// "" when the member may upload nowhere.
func (h *handler) uploadURL(upload []mailflow.Group, group *mailflow.Group) string {
	if len(upload) == 0 {
		return ""
	}
	if group != nil {
		for _, g := range upload {
			if g.ID == group.ID {
				return h.Shell.URL("/g/" + g.Slug + "/resources/new")
			}
		}
	}
	return h.Shell.URL("/resources/new")
}

// kindChoices are the type filter's options.
func kindChoices() []kindChoice {
	all := mailflow.ResourceKinds()
	kinds := make([]kindChoice, len(all))
	for i, k := range all {
		kinds[i] = kindChoice{string(k), k.Label()}
	}
	return kinds
}

// view returns "grid" or "list": the one the member just chose (the view
// query parameter, remembered in a cookie), else the one remembered.
func (h *handler) view(c *gin.Context) string {
	if v := c.Query("view"); v == "grid" || v == "list" {
		http.SetCookie(c.Writer, &http.Cookie{Name: viewCookie, Value: v, Path: h.cookiePath(), MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: h.Shell.Sessions.Secure, SameSite: http.SameSiteLaxMode})
		return v
	}
	if v, err := c.Cookie(viewCookie); err == nil && (v == "grid" || v == "list") {
		return v
	}
	return "grid"
}

func (h *handler) cookiePath() string {
	if h.Shell.Sessions.Path == "" {
		return "/"
	}
	return h.Shell.Sessions.Path
}

// listURL is the link to a page of the same search, built whole (a query
// put after "?" in a template would be escaped as one value); view is
// set only by the grid and list switches.
func (h *handler) listURL(form map[string]string, pg int, view string) string {
	v := url.Values{}
	for k, val := range form {
		if val != "" {
			v.Set(k, val)
		}
	}
	if pg > 1 {
		v.Set("page", strconv.Itoa(pg))
	}
	if view != "" {
		v.Set("view", view)
	}
	if len(v) == 0 {
		return h.Shell.URL("/resources")
	}
	return h.Shell.URL("/resources") + "?" + v.Encode()
}
