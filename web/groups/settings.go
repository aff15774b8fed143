package groups

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	groupsvc "github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// renderGroupForm shows the create or edit form; g is nil when creating.
func (h *handler) renderGroupForm(c *gin.Context, status int, g *mailflow.Group, cats []mailflow.Category, form, errs map[string]string) {
	title := "Create a group"
	if g != nil {
		title = "Edit " + g.Name
	}
	h.Shell.HTML(c, status, "group_form", page.Data{Title: title, Nav: "explore", Form: form, Errors: errs, Page: gin.H{
		"Group": g, "Categories": cats, "MailDomain": h.MailDomain,
		"CanSetOfficial": mailflow.CanSetOfficial(session.User(c)) == nil,
	}})
}

func (h *handler) newGroupForm(c *gin.Context) {
	if err := mailflow.CanCreateGroup(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	cats, err := h.Store.Categories(c.Request.Context())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	// The API's defaults: open, listed, members see members, replies to
	// the group; the archive is for members until an owner opens it.
	form := groupFormValues(groupsvc.Defaults(), cats)
	h.renderGroupForm(c, http.StatusOK, nil, cats, form, nil)
}

// createGroup makes the group with every setting, its picture, its extra
// owners and its whitelist in one transaction; the creator is its first
// owner.
func (h *handler) createGroup(c *gin.Context) {
	u := session.User(c)
	if err := mailflow.CanCreateGroup(u); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cats, err := h.Store.Categories(ctx)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	form := page.FormValues(c, groupFields...)
	in, errs, err := h.parseGroupForm(c, u, groupsvc.Defaults(), form, true)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if errs.Any() {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, nil, cats, form, errs.Fields)
		return
	}
	g, err := h.Groups.Create(ctx, u, in.Change)
	if errs, ok := problemFields(err); ok {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, nil, cats, form, errs)
		return
	}
	if errors.Is(err, mailflow.ErrDuplicate) && mailflow.FieldOf(err) == "slug" {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, nil, cats, form,
			map[string]string{"slug": "Another group already uses this address; choose another."})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Your group "+g.Name+" is created. Its address is "+h.address(g)+".")
	h.Shell.Redirect(c, groupPath(g, ""))
}

// editable loads the group for its edit form, for owners and superusers.
func (h *handler) editable(c *gin.Context) (mailflow.Group, *mailflow.Membership, []mailflow.Category, bool) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return g, m, nil, false
	}
	if err := mailflow.CanEditGroup(session.User(c), g, m); err != nil {
		h.Shell.Fail(c, err)
		return g, m, nil, false
	}
	cats, err := h.Store.Categories(c.Request.Context())
	if err != nil {
		h.Shell.Fail(c, err)
		return g, m, nil, false
	}
	return g, m, cats, true
}

func (h *handler) editGroupForm(c *gin.Context) {
	g, _, cats, ok := h.editable(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	members, err := h.Store.ListMembers(ctx, g.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	form := groupFormValues(g, cats)

	form["owners"] = emails(members, func(m mailflow.Member) bool { return m.Role == mailflow.RoleOwner && m.Status == mailflow.MemberActive })
	form["whitelist"] = emails(members, func(m mailflow.Member) bool { return m.Whitelisted })
	h.renderGroupForm(c, http.StatusOK, &g, cats, form, nil)
}

// updateGroup saves the edit form: settings, picture, owners and
// whitelist stand or fall together, and the change is audited.
func (h *handler) updateGroup(c *gin.Context) {
	g, m, cats, ok := h.editable(c)
	if !ok {
		return
	}
	form := page.FormValues(c, groupFields...)
	form["slug"] = g.Slug // the slug is the group's address: replies to mail already sent need it
	in, errs, err := h.parseGroupForm(c, session.User(c), g, form, false)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if errs.Any() {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, &g, cats, form, errs.Fields)
		return
	}
	saved, err := h.Groups.Update(c.Request.Context(), session.User(c), g, m, in.Change)
	if errs, ok := problemFields(err); ok {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, &g, cats, form, errs)
		return
	}
	if errs, ok := page.FieldErrors(err); ok {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, &g, cats, form, errs)
		return
	}
	if errors.Is(err, mailflow.ErrConflict) {
		h.renderGroupForm(c, http.StatusUnprocessableEntity, &g, cats, form, map[string]string{"owners": "A group needs at least one owner."})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "The settings of "+saved.Name+" are saved.")
	h.Shell.Redirect(c, groupPath(g, ""))
}
