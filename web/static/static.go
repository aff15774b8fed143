// Package static serves the stylesheet, script and icons embedded from
// templates/static. Each URL carries a hash of the file's content, so
// browsers may cache a file for a year and still see a new release at once.
package static

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/templates"
)

// Assets knows each file's content and version.
type Assets struct {
	base     string // the path prefix of ORIGIN, "" for none
	files    map[string][]byte
	versions map[string]string
}

// New loads every file under templates/static.
func New(base string) (*Assets, error) {
	a := &Assets{base: strings.TrimRight(base, "/"), files: map[string][]byte{}, versions: map[string]string{}}
	err := fs.WalkDir(templates.FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		a.files[name] = b
		a.versions[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return a, err
}

// URL returns the versioned URL of a static file (under the path prefix).
func (a *Assets) URL(name string) string {
	return a.base + "/static/" + name + "?v=" + a.versions[name]
}

// Register serves the files under rg at /static/.
func (a *Assets) Register(rg *gin.RouterGroup) {
	rg.GET("/static/*file", func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		b, ok := a.files[name]
		if !ok {
			c.String(http.StatusNotFound, "not found")
			return
		}
		if c.Query("v") == a.versions[name] {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "no-cache")
		}
		c.Header("ETag", `"`+a.versions[name]+`"`)
		if c.GetHeader("If-None-Match") == `"`+a.versions[name]+`"` {
			c.Status(http.StatusNotModified)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		c.Data(http.StatusOK, ct, b)
	})
}
