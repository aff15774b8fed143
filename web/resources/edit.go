package resources

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// editable loads the resource named by :id for someone who may change it
// (mailflow.CanEditResource): the uploader, the group's owners and
// superusers.
func (h *handler) editable(c *gin.Context) (loaded, bool) {
	l, ok := h.load(c)
	if !ok {
		return l, false
	}
	if err := mailflow.CanEditResource(session.User(c), l.Resource, l.Membership, l.From); err != nil {
		h.Shell.Fail(c, err)
		return l, false
	}
	return l, true
}

// editForm: name, tags and group of a resource.
func (h *handler) editForm(c *gin.Context) {
	l, ok := h.editable(c)
	if !ok {
		return
	}
	h.renderEdit(c, http.StatusOK, l, map[string]string{"name": l.Name, "tags": mailflow.TagList(l.Tags), "group": l.GroupSlug}, nil)
}

func (h *handler) renderEdit(c *gin.Context, status int, l loaded, form, errs map[string]string) {
	groups, err := h.uploadGroups(c)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	// The resource's own group stays a choice, even for an owner who could
	// not upload there.
	own := false
	for _, g := range groups {
		own = own || g.ID == l.GroupID
	}
	if !own {
		groups = append([]mailflow.Group{l.Group}, groups...)
	}
	h.Shell.HTML(c, status, "resource_edit", page.Data{Title: "Edit " + l.Name, Nav: "resources", Form: form, Errors: errs,
		Page: gin.H{"Resource": h.cardOf(l.ListedResource), "Groups": groups}})
}

// update saves a resource's name, tags and group. Moving it to another
// group needs the right to upload there.
func (h *handler) update(c *gin.Context) {
	l, ok := h.editable(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	u := session.User(c)
	form := page.FormValues(c, "name", "tags", "group")
	errs := map[string]string{}
	name, err := mailflow.ValidateResourceName(form["name"])
	if err != nil {
		errs["name"] = "The name " + mailflow.FieldMsg(err) + "."
	}
	tags, err := mailflow.ParseTags(form["tags"])
	if err != nil {
		errs["tags"] = mailflow.UpperFirst(mailflow.FieldMsg(err)) + "."
	}
	groupID := l.GroupID
	if slug := form["group"]; slug != "" && slug != l.GroupSlug {
		g, err := h.Store.GroupBySlug(ctx, slug)
		var m *mailflow.Membership
		if err == nil {
			m, err = h.Store.Membership(ctx, g.ID, u.ID)
		}
		if err == nil && mailflow.CanUploadResource(u, g, m) == nil {
			groupID = g.ID
		} else {
			errs["group"] = "Choose one of the groups in the list."
		}
	}
	if len(errs) > 0 {
		h.renderEdit(c, http.StatusUnprocessableEntity, l, form, errs)
		return
	}
	err = h.Store.Tx(ctx, func(tx *store.Store) error {
		created, err := tx.UpdateResource(ctx, l.ID, store.ResourceChange{Name: name, GroupID: groupID, Tags: tags})
		if err != nil {
			return err
		}
		for _, t := range created {
			if err := h.audit(c, tx, "tag.create", t.ID, map[string]any{"after": tagDetails(t), "via": "resource"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "“"+name+"” is saved.")
	h.Shell.Redirect(c, "/resources/"+strconv.FormatInt(l.ID, 10))
}

// deleteForm asks before deleting: a link cannot delete anything.
func (h *handler) deleteForm(c *gin.Context) {
	l, ok := h.editable(c)
	if !ok {
		return
	}
	h.Shell.HTML(c, http.StatusOK, "resource_delete", page.Data{Title: "Delete " + l.Name, Nav: "resources",
		Page: gin.H{"Resource": h.cardOf(l.ListedResource)}})
}

// delete removes a resource, and its file when no other resource has the
// same content.
func (h *handler) delete(c *gin.Context) {
	l, ok := h.editable(c)
	if !ok {
		return
	}
	if _, err := h.Files.Delete(c.Request.Context(), l.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "“"+strings.TrimSpace(l.Name)+"” is deleted.")
	h.Shell.Redirect(c, "/resources?group="+l.GroupSlug)
}

func tagDetails(t mailflow.Tag) map[string]any { return map[string]any{"slug": t.Slug, "name": t.Name} }
