package threads

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/input"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// The post forms (compose, a group's compose box, reply) take files, which
// become resources of the group linked from the message, as the files of
// a message posted by email do. They go through mailflow/library: the
// same allowlist (by content), the same RESOURCE_MAX_BYTES, streamed to a
// staging file as they arrive. The message and its files' resources
// commit in one transaction (posting.Submission.Attach); blobs stored for
// a post that is then refused are removed (library.Discard).
const (
	// MaxFiles is how many files one post takes.
	MaxFiles = 10
	// formMargin is what a post form may send beyond its files: the
	// subject, the body (posting.MaxBody) and the multipart framing.
	formMargin = 1 << 20
	// maxField bounds a text field: one byte over posting.MaxBody, so that
	// the posting service says the body is too long.
	maxField = posting.MaxBody + 1
	// drainAfterRefusal is how much of a refused body is still read, so a
	// browser still sending sees the answer rather than a reset.
	drainAfterRefusal = 1 << 20
	filesField        = "files"
)

// stagedFile is a file of a post form, on disk until it is prepared.
type stagedFile struct {
	name string
	st   *blobstore.Staged
}

// postForm is a post form as read: its text fields, its files staged,
// and what is wrong with the files (with the status to answer: 422, or
// 413 when the whole request was over the bound).
type postForm struct {
	values map[string]string
	files  []stagedFile
	errs   map[string]string
	status int
}

// remove deletes the staged files not handed on to the library.
func (h *handler) removeStaged(pf *postForm) {
	for _, f := range pf.files {
		if err := f.st.Remove(); err != nil {
			h.Log.Warn("removing a staged file of a post", "err", err)
		}
	}
	pf.files = nil
}

// filesOn reports whether this site takes files with posts.
func (h *handler) filesOn() bool { return h.Files != nil && h.Files.Blobs != nil }

// readPostForm reads a post form's fields: a multipart form as a stream
// (the route is a page.Shell.StreamBody one), its files staged; any
// other form as the CSRF guard parsed it. ok is false when it has
// answered already (a field that is not text, a body it cannot read).
// The caller must removeStaged the result.
func (h *handler) readPostForm(c *gin.Context, fields ...string) (pf postForm, ok bool) {
	pf = postForm{values: map[string]string{}, errs: map[string]string{}, status: http.StatusUnprocessableEntity}
	if c.ContentType() != "multipart/form-data" {
		for _, f := range fields {
			pf.values[f] = c.PostForm(f)
		}
		return pf, true
	}
	limit := int64(formMargin)
	if h.filesOn() {
		limit += h.Files.MaxBytes
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	err := h.readParts(c, &pf, fields)
	var mbe *http.MaxBytesError
	var pe textproto.ProtocolError
	switch {
	case errors.As(err, &pe):
		// A part's header that is not a header: a browser writes a file
		// name with control characters (a NUL) raw, which a MIME header
		// may not hold (RFC 7578 §4.2, RFC 5322 §2.2). The text before
		// it was read, and comes back.
		pf.errs[filesField] = "A file's name holds a NUL byte or another control character: rename the file and choose it again."
	case errors.As(err, &mbe):
		pf.status = http.StatusRequestEntityTooLarge
		pf.errs[filesField] = fmt.Sprintf("What you sent is larger than this form takes: a post and its files may be at most %s together.", mailflow.HumanSize(limit))
	case err != nil:
		h.Log.Info("reading a post form", "err", err)
		h.removeStaged(&pf)
		h.Shell.ErrorPage(c, http.StatusBadRequest, "The form could not be read. Go back and try again.")
		return pf, false
	}
	if len(pf.errs) > 0 {
		_, _ = io.CopyN(io.Discard, c.Request.Body, drainAfterRefusal)
	}
	// The guard does not read this route's body (StreamBody), so its
	// fields are checked here: text, as every form's (package input).
	for _, f := range fields {
		if !input.Text(pf.values[f]) {
			h.removeStaged(&pf)
			h.Shell.ErrorPage(c, http.StatusBadRequest, "The form field “"+f+"” holds a NUL byte or bytes that are not UTF-8 text. "+
				"Parley takes only text there; nothing was changed.")
			return pf, false
		}
	}
	return pf, true
}

// readParts reads the parts of a multipart post form into pf. It stops at
// the first bad file, noting it in pf.errs: the form puts the files last,
// so the text is read by then.
func (h *handler) readParts(c *gin.Context, pf *postForm, fields []string) error {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := part.FormName()
		if name == filesField {
			if stop, err := h.readFile(part, pf); stop || err != nil {
				return err
			}
			continue
		}
		for _, f := range fields {
			if f != name {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(part, maxField))
			if err != nil {
				return err
			}
			pf.values[name] = string(b)
		}
	}
}

// filePart is a file part of a multipart form.
type filePart interface {
	io.Reader
	FileName() string
}

// readFile stages one file of the form, or notes why not; stop is true
// when reading should stop there.
func (h *handler) readFile(part filePart, pf *postForm) (stop bool, err error) {
	raw := part.FileName()
	if strings.TrimSpace(raw) == "" {
		// A file input left empty sends a part with no name and no
		// content; a part with content and no name is a file without one.
		var one [1]byte
		if n, _ := io.ReadFull(part, one[:]); n == 0 {
			return false, nil
		}
		pf.errs[filesField] = "A file has no name: give it one and choose it again."
		return true, nil
	}
	switch {
	case !h.filesOn():
		pf.errs[filesField] = "This site takes no files with posts: its file storage is not set up."
		return true, nil
	case strings.IndexByte(raw, 0) >= 0 || !input.Text(raw):
		pf.errs[filesField] = "A file's name holds a NUL byte or bytes that are not text: rename the file and choose it again."
		return true, nil
	case len(pf.files) >= MaxFiles:
		pf.errs[filesField] = fmt.Sprintf("A post takes at most %d files.", MaxFiles)
		return true, nil
	}
	st, err := h.Files.Stage(part)
	if errors.Is(err, blobstore.ErrTooLarge) {
		pf.errs[filesField] = fmt.Sprintf("“%s” is too large: files may be at most %s.", mailflow.CleanFilename(raw), mailflow.HumanSize(h.Files.MaxBytes))
		return true, nil
	}
	if err != nil {
		return true, err
	}
	pf.files = append(pf.files, stagedFile{name: raw, st: st})
	return false, nil
}

// fileErrors merges what is wrong with the files into errs (the text's
// problems) and returns the status to answer with. A form that comes
// back loses its files (browsers do not keep them): it says so.
func fileErrors(pf *postForm, errs map[string]string) int {
	for k, v := range pf.errs {
		errs[k] = v
	}
	if len(pf.files) > 0 && errs[filesField] == "" && len(errs) > 0 {
		errs[filesField] = "Choose the files again: a browser does not keep them when a form comes back."
	}
	if pf.status == http.StatusRequestEntityTooLarge {
		return pf.status
	}
	return http.StatusUnprocessableEntity
}

// prepareFiles checks the staged files against the allowlist and stores
// their blobs, for the group r reads; the resources are recorded with
// the message (attach). A file the library refuses is a field error, and
// nothing of the others stays. err is a fault of Parley's own.
func (h *handler) prepareFiles(c *gin.Context, r reader, pf *postForm) (ps []*library.Pending, errs map[string]string, err error) {
	ctx := c.Request.Context()
	u := session.User(c)
	files := pf.files
	pf.files = nil // Prepare removes each staged file, or hands it on
	for i, f := range files {
		p, err := h.Files.Prepare(ctx, f.st, library.File{GroupID: r.group.ID, UploaderID: &u.ID, ActorID: &u.ID, Filename: f.name})
		if err == nil {
			ps = append(ps, p)
			continue
		}
		pf.files = files[i+1:]
		h.discard(ctx, ps)
		name := mailflow.CleanFilename(f.name)
		if errors.Is(err, library.ErrUnsupported) {
			msg := strings.TrimPrefix(err.Error(), library.ErrUnsupported.Error()+": ")
			return nil, map[string]string{filesField: "Parley cannot take “" + name + "”: it is " + msg + ". It accepts " + library.Accepted + "."}, nil
		}
		if fe, ok := page.FieldErrors(err); ok {
			return nil, map[string]string{filesField: "“" + name + "”: the name " + fe["name"] + "."}, nil
		}
		return nil, nil, err
	}
	return ps, nil, nil
}

// attach records the prepared files as resources of the message, in the
// posting transaction, in content-hash order (library.SortPending).
func (h *handler) attach(ps []*library.Pending) func(context.Context, *store.Store, mailflow.Message) error {
	if len(ps) == 0 {
		return nil
	}
	library.SortPending(ps)
	return func(ctx context.Context, tx *store.Store, m mailflow.Message) error {
		for _, p := range ps {
			if _, _, err := h.Files.Record(ctx, tx, p, m.ID); err != nil {
				return err
			}
		}
		return nil
	}
}

// accept posts sub with the prepared files: they are recorded with the
// message, or discarded with it.
func (h *handler) accept(ctx context.Context, sub posting.Submission, ps []*library.Pending) (posting.Accepted, error) {
	sub.Attach = h.attach(ps)
	acc, err := h.Posting.Accept(ctx, sub)
	if err != nil {
		h.discard(ctx, ps)
		return acc, err
	}
	for _, p := range ps {
		h.Files.Done(p)
	}
	return acc, nil
}

func (h *handler) discard(ctx context.Context, ps []*library.Pending) {
	for _, p := range ps {
		h.Files.Discard(ctx, p)
	}
}

// fileLimits is what a post form says about files; nil when the site
// takes none.
type fileLimits struct {
	Max      int
	MaxSize  string
	Accepted string
}

func (h *handler) fileLimits() *fileLimits {
	if !h.filesOn() {
		return nil
	}
	return &fileLimits{Max: MaxFiles, MaxSize: mailflow.HumanSize(h.Files.MaxBytes), Accepted: library.Accepted}
}

// formAction is a post form's action: path with the CSRF token in the
// query, since the route reads a multipart body as a stream and the
// guard does not look into it (page.Shell.StreamBody).
func (h *handler) formAction(c *gin.Context, path string) string {
	return h.Shell.URL(path) + "?" + url.Values{"csrf_token": {h.Shell.Sessions.CSRFToken(c)}}.Encode()
}
