package resources

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/web/input"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const (
	// formMargin is what the upload form may send beyond the file: its
	// other fields and the multipart framing.
	formMargin = 256 << 10
	// maxField bounds one text field of the upload form.
	maxField = 64 << 10
	// drainAfterRefusal is how much of a refused body is still read, so
	// that a browser that is still sending sees the answer rather than a
	// reset connection; beyond it the connection is closed.
	drainAfterRefusal = 1 << 20
)

// newForm is "Upload a file", from the Resources page or a group's page
// (/g/:slug/resources/new, with the group chosen).
func (h *handler) newForm(c *gin.Context) {
	form := map[string]string{}
	if slug := c.Param("slug"); slug != "" {
		g, err := h.Store.GroupBySlug(c.Request.Context(), slug)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		m, err := h.Store.Membership(c.Request.Context(), g.ID, session.User(c).ID)
		if err == nil {
			err = mailflow.CanUploadResource(session.User(c), g, m)
		}
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		form["group"] = g.Slug
	}
	h.renderNew(c, http.StatusOK, form, nil)
}

// renderNew shows the upload form. Its action carries the CSRF token in
// the query: the upload route reads its body as a stream, and the guard
// does not look into it (page.Shell.StreamBody).
func (h *handler) renderNew(c *gin.Context, status int, form, errs map[string]string) {
	groups, err := h.uploadGroups(c)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if len(groups) == 0 {
		h.Shell.Fail(c, mailflow.Forbidden("adding resources needs the add_resources permission and a group of yours, or owning a group"))
		return
	}
	path := "/resources/new"
	if slug := c.Param("slug"); slug != "" {
		path = "/g/" + slug + "/resources/new"
	}
	action := h.Shell.URL(path) + "?" + url.Values{"csrf_token": {h.Shell.Sessions.CSRFToken(c)}}.Encode()
	if len(groups) == 1 && form["group"] == "" {
		form["group"] = groups[0].Slug
	}
	h.Shell.HTML(c, status, "resource_new", page.Data{Title: "Upload a file", Nav: "resources", Form: form, Errors: errs,
		Page: gin.H{"Groups": groups, "Action": action, "MaxSize": humanSize(h.Files.MaxBytes), "Accepted": library.Accepted}})
}

// upload reads the upload form as a stream: the file part goes straight
// to a temporary file (library.Stage, bounded by RESOURCE_MAX_BYTES),
// never whole into memory, and is removed whatever happens next unless
// it becomes a resource.
func (h *handler) upload(c *gin.Context) {
	if c.ContentType() != "multipart/form-data" {
		h.Shell.ErrorPage(c, http.StatusBadRequest, "The form could not be read. Go back and try again.")
		return
	}
	if h.Files.Blobs == nil {
		h.Shell.ErrorPage(c, http.StatusServiceUnavailable, "File storage is not set up on this site.")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, h.Files.MaxBytes+formMargin)
	form, staged, filename, err := h.readUpload(c)
	defer func() {
		if staged != nil {
			if err := staged.Remove(); err != nil {
				h.Log.Warn("removing a staged upload", "err", err)
			}
		}
	}()
	switch {
	case tooLarge(err):
		_, _ = io.CopyN(io.Discard, c.Request.Body, drainAfterRefusal)
		h.renderNew(c, http.StatusRequestEntityTooLarge, form, map[string]string{
			"file": fmt.Sprintf("This file is too large: files may be at most %s.", humanSize(h.Files.MaxBytes))})
		return
	case err != nil:
		h.Log.Info("reading an upload", "err", err)
		h.Shell.ErrorPage(c, http.StatusBadRequest, "The upload could not be read. Go back and try again.")
		return
	}
	// The guard does not read this route's body (StreamBody), so its
	// fields are checked here: text, as every form's (package input).
	for _, f := range []string{"group", "name", "tags"} {
		if !input.Text(form[f]) {
			h.Shell.ErrorPage(c, http.StatusBadRequest, "The form field “"+f+"” holds a NUL byte or bytes that are not UTF-8 text. "+
				"Parley takes only text there; nothing was changed.")
			return
		}
	}
	u := session.User(c)
	ctx := c.Request.Context()
	errs := map[string]string{}
	var group mailflow.Group
	if slug := form["group"]; slug == "" {
		errs["group"] = "Choose the group to share the file with."
	} else if g, err := h.Store.GroupBySlug(ctx, slug); err != nil && !errors.Is(err, mailflow.ErrNotFound) {
		h.Shell.Fail(c, err)
		return
	} else if err == nil {
		m, err := h.Store.Membership(ctx, g.ID, u.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		if mailflow.CanUploadResource(u, g, m) == nil {
			group = g
		}
	}
	if group.ID == 0 && errs["group"] == "" {
		errs["group"] = "Choose one of the groups in the list."
	}
	tags, err := mailflow.ParseTags(form["tags"])
	if err != nil {
		errs["tags"] = mailflow.UpperFirst(mailflow.FieldMsg(err)) + "."
	}
	if strings.TrimSpace(form["name"]) != "" {
		if _, err := mailflow.ValidateResourceName(form["name"]); err != nil {
			errs["name"] = "The name " + mailflow.FieldMsg(err) + "."
		}
	}
	if staged == nil {
		errs["file"] = "Choose a file to upload."
	}
	if len(errs) > 0 {
		if staged != nil {
			errs["file"] = "Choose the file again: a browser does not keep it when a form comes back."
		}
		h.renderNew(c, http.StatusUnprocessableEntity, form, errs)
		return
	}
	st := staged
	staged = nil // Add removes it
	r, _, err := h.Files.Add(ctx, st, library.File{GroupID: group.ID, UploaderID: &u.ID, ActorID: actorID(c),
		Name: strings.TrimSpace(form["name"]), Filename: filename, Tags: tags})
	switch {
	case errors.Is(err, library.ErrUnsupported):
		msg := strings.TrimPrefix(err.Error(), library.ErrUnsupported.Error()+": ")
		h.renderNew(c, http.StatusUnsupportedMediaType, form, map[string]string{
			"file": "Parley cannot take this file: it is " + msg + ". It accepts " + library.Accepted + "."})
		return
	case err != nil:
		if fe, ok := page.FieldErrors(err); ok {
			h.renderNew(c, http.StatusUnprocessableEntity, form, fe)
			return
		}
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "“"+r.Name+"” is shared with "+group.Name+".")
	h.Shell.Redirect(c, "/resources/"+strconv.FormatInt(r.ID, 10))
}

// readUpload reads the parts of the upload form: its text fields (each
// bounded) and the file, which it stages. staged is nil when no file was
// chosen.
func (h *handler) readUpload(c *gin.Context) (form map[string]string, staged *blobstore.Staged, filename string, err error) {
	form = map[string]string{}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return form, nil, "", err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, staged, filename, nil
		}
		if err != nil {
			return form, staged, filename, err
		}
		switch name := part.FormName(); name {
		case "file":
			if part.FileName() == "" || staged != nil {
				continue // no file chosen; or a second file, which the form does not send
			}
			filename = part.FileName()
			staged, err = h.Files.Stage(part)
			if err != nil {
				return form, nil, filename, err
			}
		case "name", "group", "tags":
			b, err := io.ReadAll(io.LimitReader(part, maxField+1))
			if err != nil {
				return form, staged, filename, err
			}
			if len(b) > maxField {
				return form, staged, filename, fmt.Errorf("field %s is over %d bytes", name, maxField)
			}
			form[name] = string(b)
		}
	}
}

// tooLarge reports whether err is an upload over the limit: the file
// (blobstore.ErrTooLarge) or the whole body (http.MaxBytesError).
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.Is(err, blobstore.ErrTooLarge) || errors.As(err, &mbe)
}
