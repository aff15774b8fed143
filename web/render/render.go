// Package render executes page templates: each page is parsed once, at
// start-up, as its own template set (layout + partials + the page), so
// pages cannot overwrite each other's blocks, and is rendered into a
// buffer first, so a failed render is a clean 500 and never half a page.
package render

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

// Pages holds parsed page templates.
type Pages struct {
	sets map[string]*template.Template
	log  *slog.Logger
	pool sync.Pool
}

// New parses each page in pages together with the shared files.
func New(fsys fs.FS, shared []string, pages []string, funcs template.FuncMap, log *slog.Logger) (*Pages, error) {
	p := &Pages{sets: map[string]*template.Template{}, log: log}
	p.pool.New = func() any { return new(bytes.Buffer) }
	for _, page := range pages {
		t, err := template.New(page).Funcs(funcs).ParseFS(fsys, append(append([]string{}, shared...), page)...)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", page, err)
		}
		p.sets[page] = t
	}
	return p, nil
}

// HTML renders page with data, executing its "layout" template.
func (p *Pages) HTML(c *gin.Context, status int, page string, data any) {
	t, ok := p.sets[page]
	if !ok {
		p.log.Error("unknown page template", "page", page)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	buf := p.pool.Get().(*bytes.Buffer)
	buf.Reset()
	defer p.pool.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", data); err != nil {
		p.log.Error("rendering page", "page", page, "err", err)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
