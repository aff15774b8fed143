package maillinks

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 parts for display
	"github.com/gin-gonic/gin"
)

// The development outbox: what EMAIL_BACKEND=file wrote, for a developer
// to read in the browser. Registered only outside production.

const outboxList = 200

type outboxFile struct{ Name, Time, To, Subject string }

type header struct{ Name, Value string }

type part struct{ Type, Body string }

func (h *handler) outbox(c *gin.Context) {
	entries, err := os.ReadDir(h.OutboxDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		h.serverError(c, err)
		return
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".eml") {
			names = append(names, e.Name())
		}
	}
	// File names start with a sortable timestamp.
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	p := h.page("Outbox")
	p.Wide, p.Dir = true, h.OutboxDir
	if len(names) > outboxList {
		names, p.More = names[:outboxList], true
	}
	for _, n := range names {
		f := outboxFile{Name: n}
		if info, err := os.Stat(filepath.Join(h.OutboxDir, n)); err == nil {
			f.Time = info.ModTime().Format("2006-01-02 15:04:05")
		}
		if hdr, err := readHeader(filepath.Join(h.OutboxDir, n)); err == nil {
			f.To = hdr.Get("X-Parley-Envelope-To")
			f.Subject = decodeWord(hdr.Get("Subject"))
		}
		p.Files = append(p.Files, f)
	}
	h.pages.HTML(c, http.StatusOK, "web/dev_outbox.html", p)
}

func readHeader(path string) (message.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return message.Header{}, err
	}
	defer f.Close()
	e, err := message.Read(io.LimitReader(f, 64<<10))
	if e == nil {
		return message.Header{}, err
	}
	return e.Header, nil
}

func decodeWord(s string) string {
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func (h *handler) outboxMessage(c *gin.Context) {
	name := c.Param("name")
	// Only plain file names from the listing: no path may leave the outbox.
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
		c.String(http.StatusNotFound, "not found")
		return
	}
	raw, err := os.ReadFile(filepath.Join(h.OutboxDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		c.String(http.StatusNotFound, "not found")
		return
	}
	if err != nil {
		h.serverError(c, err)
		return
	}
	p := h.page("Message")
	p.Wide = true
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		p.Subject = "Unreadable message"
		p.Parts = []part{{Type: "raw (" + err.Error() + ")", Body: string(raw)}}
		h.pages.HTML(c, http.StatusOK, "web/dev_outbox_message.html", p)
		return
	}
	p.Subject = decodeWord(e.Header.Get("Subject"))
	for f := e.Header.Fields(); f.Next(); {
		p.Headers = append(p.Headers, header{Name: f.Key(), Value: decodeWord(f.Value())})
	}
	_ = e.Walk(func(_ []int, pe *message.Entity, err error) error {
		if err != nil || pe.MultipartReader() != nil {
			return nil
		}
		t, _, _ := pe.Header.ContentType()
		b, _ := io.ReadAll(io.LimitReader(pe.Body, 1<<20))
		p.Parts = append(p.Parts, part{Type: t, Body: string(b)})
		return nil
	})
	h.pages.HTML(c, http.StatusOK, "web/dev_outbox_message.html", p)
}
