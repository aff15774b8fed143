package resources

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// DownloadCSP is the Content-Security-Policy of every file Parley serves
// from the blob store: whatever a file is, it runs nothing and loads
// nothing, even when a browser is tricked into rendering it.
const DownloadCSP = "sandbox; default-src 'none'"

// inlineTypes are the only types a browser is let show (Content-
// Disposition: inline); everything else is saved as an attachment.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "text/plain": true,
}

func inlineType(ct string) bool { return inlineTypes[ct] && !scriptable(ct) }

// scriptable reports whether a browser could run a file of this type as a
// page or a script: HTML, SVG, XML and JavaScript of any spelling. None is
// in the allowlist; this is the second line of defence, for a type that
// was stored some other way. "xml" is matched as the subtype (xml, or a
// +xml suffix), so the Office Open XML types (…openxmlformats…) are not.
func scriptable(ct string) bool {
	ct = strings.ToLower(ct)
	mt, _, _ := strings.Cut(ct, ";")
	_, sub, _ := strings.Cut(strings.TrimSpace(mt), "/")
	return strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.Contains(ct, "javascript") ||
		strings.Contains(ct, "ecmascript") || sub == "xml" || strings.HasSuffix(sub, "+xml") || strings.Contains(sub, "xml-")
}

// detail is what a resource's page shows.
type detail struct {
	card
	Group       mailflow.Group
	MessagePath string // the message it came attached to
	CanEdit     bool
	Filename    string // as it is downloaded
}

// show is a resource's page: what it is, where it came from, the links
// to open and download it, and editing for those allowed.
func (h *handler) show(c *gin.Context) {
	l, ok := h.load(c)
	if !ok {
		return
	}
	d := detail{card: h.cardOf(l.ListedResource), Group: l.Group, Filename: library.Filename(l.Filename, l.ContentType),
		CanEdit: mailflow.CanEditResource(session.User(c), l.Resource, l.Membership, l.From) == nil}
	if l.MessageID != nil && l.ThreadID != nil {
		d.MessagePath = "/g/" + l.GroupSlug + "/t/" + strconv.FormatInt(*l.ThreadID, 10) + "#m" + strconv.FormatInt(*l.MessageID, 10)
	}
	h.Shell.HTML(c, http.StatusOK, "resource", page.Data{Title: l.Name, Nav: "resources", Page: d})
}

// download sends the file, streamed from the blob store. Images, PDFs and
// plain text open in the browser (inline) unless ?download=1 asks to
// save; everything else is an attachment. Every response says nosniff
// and carries a sandboxing Content-Security-Policy, and a type a browser
// could run (HTML, SVG, XML, JavaScript) is only ever an attachment of
// type application/octet-stream.
func (h *handler) download(c *gin.Context) {
	l, ok := h.load(c)
	if ok {
		h.sendFile(c, l)
	}
}

// sendFile sends a resource's file (download).
func (h *handler) sendFile(c *gin.Context, l loaded) {
	disposition := "attachment"
	ct := l.ContentType
	switch {
	case scriptable(ct):
		ct = "application/octet-stream"
	case inlineType(ct) && c.Query("download") == "":
		disposition = "inline"
	}
	h.serveBlob(c, l.BlobKey, ct, disposition, library.Filename(l.Filename, l.ContentType))
}

// thumb sends an image's thumbnail.
func (h *handler) thumb(c *gin.Context) {
	l, ok := h.load(c)
	if !ok {
		return
	}
	if l.ThumbKey == "" {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	h.serveBlob(c, l.ThumbKey, "", "inline", "thumbnail")
}

// serveBlob streams a blob with the download headers; ct "" takes the
// blob store's type (a thumbnail's), which must still be an image.
func (h *handler) serveBlob(c *gin.Context, key, ct, disposition, filename string) {
	if h.Files.Blobs == nil {
		h.Shell.ErrorPage(c, http.StatusServiceUnavailable, "File storage is not set up on this site.")
		return
	}
	rc, info, err := h.Files.Blobs.Get(c.Request.Context(), key)
	if errors.Is(err, blobstore.ErrNotFound) {
		h.Log.Error("a resource's blob is missing", "key", key)
		h.Shell.ErrorPage(c, http.StatusNotFound, "The file is missing from storage. It was logged; tell the group's owners.")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	defer rc.Close()
	if ct == "" {
		ct = info.ContentType
		if !inlineType(ct) || !strings.HasPrefix(ct, "image/") {
			ct, disposition = "application/octet-stream", "attachment"
		}
	}
	if strings.HasPrefix(ct, "text/") {
		ct += "; charset=utf-8"
	}
	hd := c.Writer.Header()
	hd.Set("Content-Type", ct)
	cd := mime.FormatMediaType(disposition, map[string]string{"filename": filename})
	if cd == "" {
		cd = disposition // a name mime cannot write: the browser names the file
	}
	hd.Set("Content-Disposition", cd)
	hd.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", DownloadCSP)
	hd.Set("Cache-Control", "private, no-cache")
	c.Status(http.StatusOK)
	if c.Request.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(c.Writer, rc); err != nil {
		// The headers are gone: all that is left is to stop, and log.
		h.Log.Info("sending a file", "key", key, "err", err)
	}
}
