package admin

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/importer"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// The Import page brings a list's past into a group: its members from a
// CSV file, or its archive from an mbox file, through the same importer
// as `parleyd import-members` and `parleyd import-mbox`. Uploads are
// bounded by the CSRF guard (page.MaxUploadBytes); larger archives go
// through the command line.

// shownProblems bounds the skipped lines listed on the result page.
const shownProblems = 200

type importResult struct {
	Kind     string // "members" or "mbox"
	Group    mailflow.Group
	File     string
	Summary  string
	Problems []importer.Problem
	More     int // problems not listed
}

func (h *handler) importForm(c *gin.Context) {
	h.renderImport(c, http.StatusOK, map[string]string{"group": c.Query("group"), "kind": "members"}, nil, nil)
}

func (h *handler) renderImport(c *gin.Context, status int, form, errs map[string]string, res *importResult) {
	groups, err := h.Store.GroupsByName(c.Request.Context())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, status, "admin_import", page.Data{Title: "Import", Nav: "admin", Form: form, Errors: errs,
		Page: gin.H{"Groups": groups, "Result": res, "MaxMB": page.MaxUploadBytes >> 20}})
}

// importUpload runs the import and shows what it did, with the form
// again below for the next file. It does not redirect: the result is the
// page, and importing the same file twice changes nothing.
func (h *handler) importUpload(c *gin.Context) {
	ctx := c.Request.Context()
	form := page.FormValues(c, "group", "kind")
	errs := map[string]string{}
	var g mailflow.Group
	if form["group"] == "" {
		errs["group"] = "Choose a group."
	} else {
		var err error
		g, err = h.Store.GroupBySlug(ctx, form["group"])
		if errors.Is(err, mailflow.ErrNotFound) {
			errs["group"] = "There is no such group."
		} else if err != nil {
			h.Shell.Fail(c, err)
			return
		}
	}
	if form["kind"] != "members" && form["kind"] != "mbox" {
		errs["kind"] = "Choose what the file holds."
	}
	fh, err := c.FormFile("file")
	if err != nil {
		errs["file"] = "Choose a file."
	}
	if len(errs) > 0 {
		h.renderImport(c, http.StatusUnprocessableEntity, form, errs, nil)
		return
	}
	f, err := fh.Open()
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	defer f.Close()

	actor := session.User(c)
	im := &importer.Importer{Store: h.Store, Actor: &actor.ID}
	res := &importResult{Kind: form["kind"], Group: g, File: fh.Filename}
	if form["kind"] == "members" {
		var r importer.MembersResult
		r, err = im.ImportMembers(ctx, g, f)
		res.Summary, res.Problems = r.Summary(), r.Problems
	} else {
		var r importer.ArchiveResult
		r, err = im.ImportMbox(ctx, g, f, importer.MboxOptions{})
		res.Summary, res.Problems = r.Summary(), r.Problems
	}
	if errors.Is(err, importer.ErrBadFile) {
		errs["file"] = sentence(err.Error())
		h.renderImport(c, http.StatusUnprocessableEntity, form, errs, nil)
		return
	}
	if err != nil {
		// Fail logs the error; this says how far the import got.
		h.Log.Warn("import stopped part-way", "group", g.Slug, "kind", res.Kind, "user_id", actor.ID, "done", res.Summary)
		h.Shell.Fail(c, err)
		return
	}
	h.Log.Info("import", "group", g.Slug, "kind", res.Kind, "user_id", actor.ID, "file", res.File, "result", res.Summary)
	if len(res.Problems) > shownProblems {
		res.More = len(res.Problems) - shownProblems
		res.Problems = res.Problems[:shownProblems]
	}
	h.renderImport(c, http.StatusOK, form, nil, res)
}

// sentence makes an error message a sentence for the page.
func sentence(s string) string {
	return mailflow.UpperFirst(s) + "."
}
