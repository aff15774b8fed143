package notice

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/templates"
)

// Renderer writes system mail from the templates and queues it. It is the
// one Sender of the daemon.
type Renderer struct {
	text map[Kind]*texttemplate.Template
	html map[Kind]*htmltemplate.Template
}

// NewRenderer compiles every kind's templates once; brand (BRAND_TITLE)
// signs and names the site in them.
func NewRenderer(brand string) (*Renderer, error) {
	r := &Renderer{text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
	brandFunc := func() string { return brand }
	for _, k := range kinds() {
		name := string(k)
		t, err := texttemplate.New(name+".txt.tmpl").Option("missingkey=error").
			Funcs(texttemplate.FuncMap{"brand": brandFunc, "quote": quote}).
			ParseFS(templates.FS, "email/notice/"+name+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("notice templates: %w", err)
		}
		if t.Lookup("subject") == nil {
			return nil, fmt.Errorf("notice templates: %s.txt.tmpl defines no subject", name)
		}
		h, err := htmltemplate.New("layout.html.tmpl").Option("missingkey=error").
			Funcs(htmltemplate.FuncMap{"brand": brandFunc}).
			ParseFS(templates.FS, "email/notice/layout.html.tmpl", "email/notice/"+name+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("notice templates: %w", err)
		}
		r.text[k], r.html[k] = t, h
	}
	return r, nil
}

// Render returns the subject, text and HTML of one mail.
func (r *Renderer) Render(f Facts) (subject, text, html string, err error) {
	t, h := r.text[f.Kind()], r.html[f.Kind()]
	if t == nil || h == nil {
		return "", "", "", fmt.Errorf("no templates for system mail %q", f.Kind())
	}
	var sb, tb, hb bytes.Buffer
	if err := t.ExecuteTemplate(&sb, "subject", f); err != nil {
		return "", "", "", fmt.Errorf("rendering the subject of %s: %w", f.Kind(), err)
	}
	if err := t.Execute(&tb, f); err != nil {
		return "", "", "", fmt.Errorf("rendering the text of %s: %w", f.Kind(), err)
	}
	if err := h.ExecuteTemplate(&hb, "layout", f); err != nil {
		return "", "", "", fmt.Errorf("rendering the HTML of %s: %w", f.Kind(), err)
	}
	return strings.TrimSpace(sb.String()), tb.String(), hb.String(), nil
}

// Send renders m and queues it in tx.
func (r *Renderer) Send(ctx context.Context, tx *store.Store, m Mail) error {
	subject, text, html, err := r.Render(m.Facts)
	if err != nil {
		return err
	}
	err = tx.Enqueue(ctx, Args{To: m.To, Subject: subject, Text: text, HTML: html, InReplyTo: m.InReplyTo,
		References: m.References, ReplyTo: m.ReplyTo, AutoReply: m.AutoReply})
	if err != nil {
		return fmt.Errorf("queueing %s mail: %w", m.Facts.Kind(), err)
	}
	return nil
}

// quote prefixes each line of s as a quotation ("| "), for a message
// shown inside a notice.
func quote(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString("| " + line + "\n")
	}
	return b.String()
}
