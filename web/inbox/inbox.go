// Package inbox holds a member's inbox: every thread of their groups and
// their private threads, newest activity first, with unread and archived
// state, and the count behind the navigation badge.
//
// The page is one GET with three views (inbox, unread, archive), a group
// filter and keyset pagination; bulk actions are plain form posts that
// redirect back to the view they came from. Nothing needs JavaScript.
package inbox

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the inbox needs.
type Deps struct {
	Shell *page.Shell
	Store *store.Store
	Log   *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	rg.GET("/inbox", d.Shell.RequireUser, h.list)
	rg.POST("/inbox/archive", d.Shell.RequireUser, h.bulk(archive))
	rg.POST("/inbox/read", d.Shell.RequireUser, h.bulk(markRead))
	rg.POST("/inbox/unarchive", d.Shell.RequireUser, h.bulk(unarchive))
}

// filter is what a page of the inbox shows: a view, perhaps one group,
// and where the page starts. GET links carry it in the query; the bulk
// form carries it in hidden fields, to come back to the same place.
type filter struct {
	View    store.InboxView
	Group   string // the group's slug; "" for all the member's groups
	GroupID int64
	Before  string // the cursor as sent; "" on the first page
	cursor  *store.InboxCursor
}

// readFilter reads and checks the filter through get (c.Query or
// c.PostForm). A group the member is not active in is ErrNotFound, as
// its thread pages would be.
func readFilter(get func(string) string, groups []store.UserGroup) (filter, error) {
	f := filter{View: store.InboxView(get("view")), Group: get("group"), Before: get("before")}
	if f.View == "" {
		f.View = store.ViewInbox
	}
	if !f.View.Valid() {
		return f, mailflow.Invalid("", "There is no such view of the inbox.")
	}
	if f.Group != "" {
		for _, g := range groups {
			if g.Group.Slug == f.Group {
				f.GroupID = g.Group.ID
			}
		}
		if f.GroupID == 0 {
			return f, mailflow.ErrNotFound
		}
	}
	if f.Before != "" {
		cur, err := store.ParseInboxCursor(f.Before)
		if err != nil {
			return f, mailflow.Invalid("", "That page of the inbox does not exist.")
		}
		f.cursor = &cur
	}
	return f, nil
}

// path is the inbox's address for the filter, starting at before.
func (f filter) path(view store.InboxView, before string) string {
	v := url.Values{}
	if view != store.ViewInbox {
		v.Set("view", string(view))
	}
	if f.Group != "" {
		v.Set("group", f.Group)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return "/inbox"
	}
	return "/inbox?" + v.Encode()
}

// tab is a link to one view.
type tab struct {
	Label, Path string
	Current     bool
}

// listPage is what the inbox template shows.
type listPage struct {
	View      string
	Tabs      []tab
	Group     string // the filter's slug
	GroupName string
	Groups    []groupOption
	Items     []store.InboxItem
	Before    string
	Older     string // the next page's path; "" on the last page
	Newest    string // the first page's path, on a later page
	AllGroups string // this view in every group
	Empty     string // what an empty view says
	// The moderation panels with messages waiting, for those who
	// moderate: the badge counts held messages, and this is where they go.
	Moderation []store.ModerationQueue
}

type groupOption struct{ Slug, Name string }

var views = []struct {
	View  store.InboxView
	Label string
}{{store.ViewInbox, "Inbox"}, {store.ViewUnread, "Unread"}, {store.ViewArchive, "Archive"}}

func (h *handler) list(c *gin.Context) {
	u := session.User(c)
	ctx := c.Request.Context()
	groups, err := h.Store.UserGroups(ctx, u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	f, err := readFilter(c.Query, groups)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	res, err := h.Store.InboxPage(ctx, store.InboxQuery{UserID: u.ID, View: f.View, GroupID: f.GroupID, Before: f.cursor})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	p := listPage{View: string(f.View), Group: f.Group, Items: res.Items, Before: f.Before}
	if p.Moderation, err = h.Store.ModerationQueues(ctx, u.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	title := "Inbox"
	for _, v := range views {
		p.Tabs = append(p.Tabs, tab{Label: v.Label, Path: f.path(v.View, ""), Current: v.View == f.View})
		if v.View == f.View {
			title = v.Label
		}
	}
	for _, g := range groups {
		p.Groups = append(p.Groups, groupOption{Slug: g.Group.Slug, Name: g.Group.Name})
		if g.Group.ID == f.GroupID {
			p.GroupName = g.Group.Name
		}
	}
	if res.Next != nil {
		p.Older = f.path(f.View, res.Next.String())
	}
	if f.Before != "" {
		p.Newest = f.path(f.View, "")
	}
	p.AllGroups = filter{}.path(f.View, "")
	switch {
	case f.Before != "":
		p.Empty = "There are no older threads."
	case f.View == store.ViewUnread:
		p.Empty = "Nothing unread."
	case f.View == store.ViewArchive:
		p.Empty = "Nothing archived. Archive threads from your inbox to put them away until someone writes again."
	case len(groups) == 0:
		p.Empty = "You are not in any group yet."
	default:
		p.Empty = "Your inbox is empty."
	}
	if p.GroupName != "" {
		title += " · " + p.GroupName
	}
	h.Shell.HTML(c, http.StatusOK, "inbox", page.Data{Title: title, Nav: "messages", Page: p})
}
