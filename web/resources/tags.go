package resources

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Admin › Tags (Connect's "Tag Admin"): the tags with the number of
// resources each labels; add a tag; edit a tag's slug and name, with its
// history read from the audit log; delete the tags ticked in the list,
// after a confirmation (they leave their resources). Superusers and
// holders of manage_categories only. Every change is audit-logged with
// target type "tag" and details {"before": …, "after": …}.

const tagHistoryLimit = 100

func (h *handler) requireTagManager(c *gin.Context) {
	if err := mailflow.CanManageTags(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Next()
}

func (h *handler) tags(c *gin.Context) {
	list, err := h.Store.TagsWithCounts(c.Request.Context())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, http.StatusOK, "admin_tags", page.Data{Title: "Tags", Nav: "admin", Page: gin.H{"Tags": list}})
}

func (h *handler) newTagForm(c *gin.Context) {
	h.renderTag(c, http.StatusOK, nil, map[string]string{}, nil)
}

// renderTag shows the form that adds a tag (editing nil) or edits one,
// with its history.
func (h *handler) renderTag(c *gin.Context, status int, editing *mailflow.Tag, form, errs map[string]string) {
	p := gin.H{"Editing": editing}
	title := "Add tag"
	if editing != nil {
		title = "Edit tag " + editing.Name
		recs, err := h.Store.AuditHistory(c.Request.Context(), "tag", editing.ID, tagHistoryLimit)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		hist := make([]historyLine, len(recs))
		for i, r := range recs {
			hist[i] = historyLine{At: r.At, Who: r.ActorName, Impersonator: r.ImpersonatorName, What: describeTagChange(r)}
		}
		p["History"] = hist
	}
	h.Shell.HTML(c, status, "admin_tag", page.Data{Title: title, Nav: "admin", Form: form, Errors: errs, Page: p})
}

// historyLine is one change in a tag's history.
type historyLine struct {
	At           time.Time
	Who          string // "" when the account is gone
	Impersonator string
	What         string
}

// tagForm reads and checks the tag form.
func tagForm(c *gin.Context) (mailflow.Tag, map[string]string, map[string]string) {
	form := page.FormValues(c, "slug", "name")
	t, err := mailflow.ValidateTag(mailflow.Tag{Slug: form["slug"], Name: form["name"]})
	var fes *mailflow.FieldErrors
	if !errors.As(err, &fes) {
		return t, form, nil
	}
	labels := map[string]string{"slug": "The slug", "name": "The name"}
	errs := make(map[string]string, len(fes.Fields))
	for f, msg := range fes.Fields {
		errs[f] = labels[f] + " " + msg + "."
	}
	return t, form, errs
}

// tagFailed renders what went wrong with a save: a slug or name in use
// beside its field, anything else as the error page.
func (h *handler) tagFailed(c *gin.Context, err error, editing *mailflow.Tag, form map[string]string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, mailflow.ErrDuplicate):
		field := mailflow.FieldOf(err)
		if field != "slug" {
			field = "name"
		}
		h.renderTag(c, http.StatusUnprocessableEntity, editing, form, map[string]string{field: "Another tag has this " + field + "."})
	default:
		h.Shell.Fail(c, err)
	}
	return true
}

func (h *handler) createTag(c *gin.Context) {
	t, form, errs := tagForm(c)
	if errs != nil {
		h.renderTag(c, http.StatusUnprocessableEntity, nil, form, errs)
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if t, err = tx.CreateTag(ctx, t); err != nil {
			return err
		}
		return h.audit(c, tx, "tag.create", t.ID, map[string]any{"before": nil, "after": tagDetails(t)})
	})
	if h.tagFailed(c, err, nil, form) {
		return
	}
	h.Shell.Flash(c, "The tag "+t.Name+" is added.")
	h.afterSave(c, t)
}

// afterSave goes where the button pressed says: back to the list, to a
// new form, or on editing this tag.
func (h *handler) afterSave(c *gin.Context, t mailflow.Tag) {
	switch c.PostForm("then") {
	case "another":
		h.Shell.Redirect(c, "/admin/tags/new")
	case "edit":
		h.Shell.Redirect(c, "/admin/tags/"+strconv.FormatInt(t.ID, 10))
	default:
		h.Shell.Redirect(c, "/admin/tags")
	}
}

// tag loads the tag named by :id.
func (h *handler) tag(c *gin.Context) (mailflow.Tag, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return mailflow.Tag{}, false
	}
	t, err := h.Store.TagByID(c.Request.Context(), id)
	if err != nil {
		h.Shell.Fail(c, err)
		return t, false
	}
	return t, true
}

func (h *handler) editTagForm(c *gin.Context) {
	t, ok := h.tag(c)
	if !ok {
		return
	}
	h.renderTag(c, http.StatusOK, &t, map[string]string{"slug": t.Slug, "name": t.Name}, nil)
}

func (h *handler) updateTag(c *gin.Context) {
	old, ok := h.tag(c)
	if !ok {
		return
	}
	t, form, errs := tagForm(c)
	if errs != nil {
		h.renderTag(c, http.StatusUnprocessableEntity, &old, form, errs)
		return
	}
	t.ID = old.ID
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if t, err = tx.UpdateTag(ctx, t); err != nil {
			return err
		}
		return h.audit(c, tx, "tag.update", t.ID, map[string]any{"before": tagDetails(old), "after": tagDetails(t)})
	})
	if h.tagFailed(c, err, &old, form) {
		return
	}
	h.Shell.Flash(c, "The tag "+t.Name+" is saved.")
	h.afterSave(c, t)
}

// deleteTags is the list's action "Delete selected tags": a first post
// shows what would go (and how many resources lose each tag); the
// confirmation's post deletes them.
func (h *handler) deleteTags(c *gin.Context) {
	var ids []int64
	for _, s := range c.PostFormArray("id") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 || c.PostForm("action") != "delete" {
		h.Shell.Sessions.SetFlash(c, "error", "Tick the tags to delete, then choose the action.")
		h.Shell.Redirect(c, "/admin/tags")
		return
	}
	ctx := c.Request.Context()
	if c.PostForm("confirm") != "1" {
		all, err := h.Store.TagsWithCounts(ctx)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		want := map[int64]bool{}
		for _, id := range ids {
			want[id] = true
		}
		var chosen []store.TagListing
		for _, t := range all {
			if want[t.ID] {
				chosen = append(chosen, t)
			}
		}
		if len(chosen) == 0 {
			h.Shell.Redirect(c, "/admin/tags")
			return
		}
		h.Shell.HTML(c, http.StatusOK, "admin_tags_delete", page.Data{Title: "Delete tags", Nav: "admin", Page: gin.H{"Tags": chosen}})
		return
	}
	var gone []store.TagListing
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if gone, err = tx.DeleteTags(ctx, ids); err != nil {
			return err
		}
		for _, t := range gone {
			if err := h.audit(c, tx, "tag.delete", t.ID, map[string]any{"before": tagDetails(t.Tag), "after": nil,
				"resources": t.Resources}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	names := make([]string, len(gone))
	for i, t := range gone {
		names[i] = t.Name
	}
	switch len(gone) {
	case 0:
		h.Shell.Flash(c, "Those tags were deleted already.")
	case 1:
		h.Shell.Flash(c, "The tag "+names[0]+" is deleted.")
	default:
		h.Shell.Flash(c, fmt.Sprintf("%d tags are deleted: %s.", len(gone), strings.Join(names, ", ")))
	}
	h.Shell.Redirect(c, "/admin/tags")
}

// describeTagChange says in words what one audit record of a tag did.
func describeTagChange(r store.AuditRecord) string {
	before, _ := r.Details["before"].(map[string]any)
	after, _ := r.Details["after"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	switch r.Action {
	case "tag.create":
		s := fmt.Sprintf("Added, with slug “%s” and name “%s”", str(after, "slug"), str(after, "name"))
		if r.Details["via"] == "resource" {
			s += ", while tagging a resource"
		}
		return s + "."
	case "tag.update":
		var parts []string
		for _, f := range []string{"name", "slug"} {
			if b, a := str(before, f), str(after, f); b != a {
				parts = append(parts, fmt.Sprintf("%s from “%s” to “%s”", f, b, a))
			}
		}
		if len(parts) == 0 {
			return "Saved without changes."
		}
		return "Changed " + strings.Join(parts, " and ") + "."
	case "tag.delete":
		return "Deleted."
	}
	return r.Action
}
