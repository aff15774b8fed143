package groups

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const (
	groupPageThreads = 20 // the first page; the thread pages have the rest
	popularLinks     = 10
	latestResources  = 5
)

// groupView is what a group's page shows.
type groupView struct {
	Group         mailflow.Group
	Address       string
	Category      *categoryView
	Membership    *mailflow.Membership
	Owners        []mailflow.User
	MemberCount   int
	RequestCount  int  // pending requests, shown to owners
	CanRead       bool // threads, popular links
	CanPost       bool // the compose box
	CanEdit       bool
	CanManage     bool // members, requests, invitations
	CanSeeMembers bool
	// The moderation panel, for the group's moderators, with the number
	// of held and flagged messages waiting there.
	CanModerate       bool
	ModerationWaiting int
	Threads           []store.ThreadSummary
	Newest            []shownMessage // the newest thread's messages, as this viewer may see them
	Links             []store.LinkCount
	Deliveries        []page.DeliveryChoice
	// The latest resources, for members (mailflow.CanAccessResources),
	// and whether the viewer may add one.
	CanSeeResources bool
	CanUpload       bool
	Resources       []store.ListedResource
}

// shownMessage is a message of the newest thread; AuthorUserID is 0 for
// a deleted author (templates cannot dereference AuthorID).
type shownMessage struct {
	store.GroupMessage
	AuthorUserID int64
}

// groupPage shows a group: what it is, who runs it, its latest threads
// (for those who may read them) and the member's own settings.
func (h *handler) groupPage(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	u := session.User(c)
	v := groupView{Group: g, Address: h.address(g), Membership: m, Deliveries: page.DeliveryChoices(),
		CanEdit:       mailflow.CanEditGroup(u, g, m) == nil,
		CanManage:     mailflow.CanManageMembers(u, g, m) == nil,
		CanSeeMembers: mailflow.CanListMembers(u, g, m) == nil,
		CanRead:       mailflow.CanReadThreads(u, g, m) == nil,
	}
	v.CanPost = v.CanRead && mailflow.MayPost(u, g, m)
	var err error
	if v.CanModerate = mailflow.IsGroupModerator(u, m); v.CanModerate {
		if v.ModerationWaiting, err = h.Store.ModerationWaiting(ctx, g.ID); err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	if g.CategoryID != nil {
		cat, err := h.Store.CategoryByID(ctx, *g.CategoryID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		cv := viewCategory(cat)
		v.Category = &cv
	}
	if v.Owners, err = h.Store.GroupOwners(ctx, g.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if v.MemberCount, v.RequestCount, err = h.Store.GroupCounts(ctx, g.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if v.CanRead {
		if err := h.loadThreads(c, &v, u, m); err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	if v.CanSeeResources = mailflow.CanAccessResources(u, m) == nil; v.CanSeeResources {
		v.CanUpload = mailflow.CanUploadResource(u, g, m) == nil
		v.Resources, err = h.Store.ListResources(ctx, store.ResourceQuery{Viewer: store.ResourceViewerOf(u), GroupID: &g.ID, Limit: latestResources})
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	h.Shell.HTML(c, http.StatusOK, "group", page.Data{Title: g.Name, Nav: "explore", Page: v})
}

// loadThreads fills in the latest threads, the newest one's messages as
// the viewer may see them, and the popular links.
func (h *handler) loadThreads(c *gin.Context, v *groupView, u *mailflow.User, m *mailflow.Membership) error {
	ctx := c.Request.Context()
	var err error
	viewer := store.MessageViewer{Moderator: mailflow.IsGroupModerator(u, m)}
	if u != nil {
		viewer.ID = u.ID
	}
	if v.Threads, err = h.Store.GroupThreadSummaries(ctx, v.Group.ID, viewer, groupPageThreads, 0); err != nil {
		return err
	}
	if len(v.Threads) > 0 {
		msgs, err := h.Store.ThreadMessagesWithState(ctx, v.Threads[0].ID)
		if err != nil {
			return err
		}
		for _, msg := range msgs {
			if !mailflow.CanSeeGroupMessage(u, msg.Message, m, msg.MessageState) {
				continue
			}
			sm := shownMessage{GroupMessage: msg}
			if msg.AuthorID != nil {
				sm.AuthorUserID = *msg.AuthorID
			}
			v.Newest = append(v.Newest, sm)
		}
	}
	v.Links, err = h.links.get(ctx, h.Store, v.Group.ID, popularLinks)
	return err
}
