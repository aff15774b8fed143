// Package people holds members' profile pages ("My Profile" in Connect),
// the pictures they show, and the start page. What a profile shows to
// whom is decided by mailflow's policy: groups only when the member
// allows it, and a private group only to its own members.
package people

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the profile pages need.
type Deps struct {
	Shell    *page.Shell
	Store    *store.Store
	Pictures *picture.Gallery
}

type handler struct{ Deps }

// Register adds the routes; rg has the session and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	rg.GET("/", h.home)
	rg.GET("/people/:id", d.Shell.RequireUser, h.profile)
	rg.GET("/pictures/:key", h.picture)
}

func (h *handler) home(c *gin.Context) {
	var groups []store.UserGroup
	if u := session.User(c); u != nil {
		var err error
		if groups, err = h.Store.UserGroups(c.Request.Context(), u.ID); err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	h.Shell.HTML(c, http.StatusOK, "home", page.Data{Title: "Home", Nav: "home", Page: gin.H{
		"Groups": groups, "Deliveries": page.DeliveryChoices(), "Back": h.Shell.URL("/")}})
}

func (h *handler) profile(c *gin.Context) {
	viewer := session.User(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	ctx := c.Request.Context()
	person, err := h.Store.UserByID(ctx, id)
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && person.Status == mailflow.UserBanned && mailflow.CanManageUsers(viewer) != nil) {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	self := viewer.ID == person.ID
	showGroups := self || person.ShowGroups
	var visible []store.UserGroup
	if showGroups {
		groups, err := h.Store.UserGroups(ctx, person.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		for _, g := range groups {
			var vm *mailflow.Membership
			if !self && !g.Group.Listed {
				if vm, err = h.Store.Membership(ctx, g.Group.ID, viewer.ID); err != nil {
					h.Shell.Fail(c, err)
					return
				}
			}
			if self || mailflow.CanSeeProfileGroup(viewer, g.Group, vm) {
				visible = append(visible, g)
			}
		}
	}
	var writeIn []mailflow.Group
	if !self {
		if writeIn, err = h.writableOwnedGroups(c, viewer, person.ID); err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	h.Shell.HTML(c, http.StatusOK, "profile", page.Data{Title: person.Name, Nav: "profile", Page: gin.H{
		"Person": person, "Self": self, "ShowGroups": showGroups, "Groups": visible, "WriteIn": writeIn,
		"CanManage": mailflow.CanManageUsers(viewer) == nil,
		// My subscriptions: each row's forms come back to this page.
		"Deliveries": page.DeliveryChoices(), "Back": h.Shell.URL("/people/" + strconv.FormatInt(person.ID, 10)),
	}})
}

// writableOwnedGroups are the groups where the viewer may write to the
// person alone, as one of its owners (mailflow.CanWriteToOwner): the
// profile's "Send a message", one per group, since the private thread it
// starts belongs to a group.
func (h *handler) writableOwnedGroups(c *gin.Context, viewer *mailflow.User, ownerID int64) ([]mailflow.Group, error) {
	ctx := c.Request.Context()
	groups, err := h.Store.GroupsOwnedWith(ctx, ownerID, viewer.ID)
	if err != nil {
		return nil, err
	}
	var out []mailflow.Group
	for _, g := range groups {
		vm, err := h.Store.Membership(ctx, g.ID, viewer.ID)
		if err != nil {
			return nil, err
		}
		om, err := h.Store.Membership(ctx, g.ID, ownerID)
		if err != nil {
			return nil, err
		}
		if mailflow.CanWriteToOwner(viewer, g, vm, om) == nil {
			out = append(out, g)
		}
	}
	return out, nil
}

// picture serves a stored picture. Keys are random and change with every
// upload, so a picture can be cached for good; only someone shown the
// key (on a page they may see) can fetch it.
func (h *handler) picture(c *gin.Context) {
	ct, data, err := h.Pictures.Open(c.Request.Context(), c.Param("key"))
	if errors.Is(err, mailflow.ErrNotFound) {
		c.String(http.StatusNotFound, "not found")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, ct, data)
}
