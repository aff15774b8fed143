package groups

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// The categories page (Admin › Categories): one page lists the categories
// beside a form that creates one or, at /admin/categories/ID/edit, edits
// one. Superusers and holders of manage_categories only.

func (h *handler) requireCategoryManager(c *gin.Context) {
	if err := mailflow.CanManageCategories(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	c.Next()
}

// renderCategories shows the list and the form; editing is nil when the
// form creates a category.
func (h *handler) renderCategories(c *gin.Context, status int, editing *mailflow.Category, form, errs map[string]string) {
	list, err := h.Store.CategoriesWithCounts(c.Request.Context())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	views := make([]gin.H, len(list))
	for i, l := range list {
		views[i] = gin.H{"Category": l.Category, "Groups": l.Groups, "Class": colorClass(l.Color)}
	}
	title := "Categories"
	if editing != nil {
		title = "Edit category " + editing.Name
	}
	p := gin.H{"Categories": views, "Editing": editing}
	if editing != nil {
		recs, err := h.Store.AuditHistory(c.Request.Context(), "category", editing.ID, 100)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		hist := make([]gin.H, len(recs))
		for i, r := range recs {
			hist[i] = gin.H{"At": r.At, "Who": r.ActorName, "Impersonator": r.ImpersonatorName, "What": describeChange(r.Action, r.Details)}
		}
		p["History"] = hist
	}
	h.Shell.HTML(c, status, "admin_categories", page.Data{Title: title, Nav: "admin", Form: form, Errors: errs, Page: p})
}

// categoryFields are what a category's history records.
func categoryFields(c mailflow.Category) map[string]any {
	return map[string]any{"slug": c.Slug, "name": c.Name, "colour": c.Color}
}

// describeChange says in words what an audited change did: the fields
// that differ between its "before" and "after".
func describeChange(action string, details map[string]any) string {
	before, _ := details["before"].(map[string]any)
	after, _ := details["after"].(map[string]any)
	verb := action[strings.LastIndexByte(action, '.')+1:]
	switch {
	case before == nil && after != nil:
		return fmt.Sprintf("created: %s (%s), colour %s", after["name"], after["slug"], after["colour"])
	case after == nil && before != nil:
		return fmt.Sprintf("deleted: %s", before["name"])
	case before == nil:
		return verb
	}
	var parts []string
	for _, k := range []string{"name", "slug", "colour"} {
		if fmt.Sprint(before[k]) != fmt.Sprint(after[k]) {
			parts = append(parts, fmt.Sprintf("%s from %q to %q", k, before[k], after[k]))
		}
	}
	if len(parts) == 0 {
		return "saved without changes"
	}
	return "changed " + strings.Join(parts, ", ")
}

func (h *handler) categories(c *gin.Context) {
	h.renderCategories(c, http.StatusOK, nil, map[string]string{"color": "#5b6b7b"}, nil)
}

// categoryForm reads and checks the form with mailflow's shared rules.
func categoryForm(c *gin.Context) (mailflow.Category, map[string]string, map[string]string) {
	form := page.FormValues(c, "slug", "name", "color")
	cat, err := mailflow.ValidateCategory(mailflow.Category{Slug: form["slug"], Name: form["name"], Color: form["color"]})
	var fes *mailflow.FieldErrors
	if !errors.As(err, &fes) {
		return cat, form, nil
	}
	labels := map[string]string{"slug": "The slug", "name": "The name", "color": "The colour"}
	errs := make(map[string]string, len(fes.Fields))
	for f, msg := range fes.Fields {
		errs[f] = sentence(labels[f], msg)
	}
	return cat, form, errs
}

func (h *handler) createCategory(c *gin.Context) {
	cat, form, errs := categoryForm(c)
	if errs != nil {
		h.renderCategories(c, http.StatusUnprocessableEntity, nil, form, errs)
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if cat, err = tx.CreateCategory(ctx, cat); err != nil {
			return err
		}
		return h.audit(c, tx, "category.create", "category", strconv.FormatInt(cat.ID, 10), map[string]any{"after": categoryFields(cat)})
	})
	if h.categoryFailed(c, err, nil, form) {
		return
	}
	h.Shell.Flash(c, "The category "+cat.Name+" is created.")
	h.Shell.Redirect(c, "/admin/categories")
}

// categoryFailed renders what went wrong with a save, if anything: a
// taken slug beside its field, anything else as the error page.
func (h *handler) categoryFailed(c *gin.Context, err error, editing *mailflow.Category, form map[string]string) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, mailflow.ErrDuplicate):
		h.renderCategories(c, http.StatusUnprocessableEntity, editing, form, map[string]string{"slug": "Another category has this slug."})
	default:
		h.Shell.Fail(c, err)
	}
	return true
}

// category loads the category named by :id.
func (h *handler) category(c *gin.Context) (mailflow.Category, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return mailflow.Category{}, false
	}
	cat, err := h.Store.CategoryByID(c.Request.Context(), id)
	if err != nil {
		h.Shell.Fail(c, err)
		return cat, false
	}
	return cat, true
}

func (h *handler) editCategoryForm(c *gin.Context) {
	cat, ok := h.category(c)
	if !ok {
		return
	}
	h.renderCategories(c, http.StatusOK, &cat, map[string]string{"slug": cat.Slug, "name": cat.Name, "color": cat.Color}, nil)
}

func (h *handler) updateCategory(c *gin.Context) {
	old, ok := h.category(c)
	if !ok {
		return
	}
	cat, form, errs := categoryForm(c)
	if errs != nil {
		h.renderCategories(c, http.StatusUnprocessableEntity, &old, form, errs)
		return
	}
	cat.ID = old.ID
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.UpdateCategory(ctx, cat); err != nil {
			return err
		}
		return h.audit(c, tx, "category.update", "category", strconv.FormatInt(old.ID, 10),
			map[string]any{"before": categoryFields(old), "after": categoryFields(cat)})
	})
	if h.categoryFailed(c, err, &old, form) {
		return
	}
	h.Shell.Flash(c, "The category "+cat.Name+" is saved.")
	h.Shell.Redirect(c, "/admin/categories")
}

// deleteCategory removes a category; its groups stay, without one.
func (h *handler) deleteCategory(c *gin.Context) {
	cat, ok := h.category(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	err := h.Store.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.DeleteCategory(ctx, cat.ID); err != nil {
			return err
		}
		return h.audit(c, tx, "category.delete", "category", strconv.FormatInt(cat.ID, 10), map[string]any{"before": categoryFields(cat)})
	})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "The category "+cat.Name+" is deleted; its groups have no category now.")
	h.Shell.Redirect(c, "/admin/categories")
}
