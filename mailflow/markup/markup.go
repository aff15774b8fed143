// Package markup turns what members write (Markdown, GitHub flavoured:
// tables, autolinks, strikethrough, task lists) into HTML that is safe to
// put in a page: goldmark renders, bluemonday then keeps only harmless
// elements and attributes, so raw HTML, event handlers and javascript:
// links never reach a browser, whatever the source. Balance then closes
// every element the post opened, so nothing a member writes can swallow
// the page or the email around it. Mail shows the same dialect its own
// way (mail.go): inline styles, and a plain-text rendering.
package markup

import (
	"bytes"
	"crypto/sha256"
	"html/template"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// md and policy are the Markdown dialect and the sanitiser: built once
// when the package loads, never changed, and safe for concurrent use.
var (
	md     = newMarkdown()
	policy = newPolicy()
)

// dialect is the Markdown members write, on the web and in mail alike:
// GitHub flavoured (autolinks, tables, strikethrough, task lists). Each
// medium renders it its own way; tableOpts are how tables are drawn.
func dialect(tableOpts ...extension.TableOption) goldmark.Option {
	return goldmark.WithExtensions(extension.Linkify, extension.NewTable(tableOpts...), extension.Strikethrough, extension.TaskList)
}

func newMarkdown() goldmark.Markdown {
	return goldmark.New(
		dialect(),
		// Raw HTML in the source is passed to bluemonday, which keeps
		// the harmless part (a <b> someone typed) and drops the rest.
		goldmark.WithRendererOptions(html.WithUnsafe(), html.WithHardWraps()),
	)
}

func newPolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	return p
}

// HTML renders Markdown to sanitised, balanced HTML.
func HTML(src string) template.HTML { return render(src) }

// Cache remembers the rendered HTML of recent texts, by their SHA-256: a
// 200-message thread renders each message once, not at every view.
// Messages do not change, so nothing goes stale; the map is bounded by
// starting over. The web UI keeps one for its pages.
type Cache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]template.HTML
}

// NewCache returns a cache of at most max texts.
func NewCache(max int) *Cache {
	return &Cache{max: max, m: map[[32]byte]template.HTML{}}
}

// HTML is HTML(src), from the cache when it was rendered lately.
func (c *Cache) HTML(src string) template.HTML {
	key := sha256.Sum256([]byte(src))
	c.mu.Lock()
	out, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return out
	}
	out = render(src)
	c.mu.Lock()
	if len(c.m) >= c.max {
		c.m = map[[32]byte]template.HTML{}
	}
	c.m[key] = out
	c.mu.Unlock()
	return out
}

// Plain is Plain(src, n), made from the cached rendering.
func (c *Cache) Plain(src string, n int) string { return plainOf(c.HTML(src), n) }

func render(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark does not fail on any input; if it ever did, show the
		// text itself, escaped, rather than nothing.
		return template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	return template.HTML(Balance(policy.SanitizeBytes(buf.Bytes())))
}

// Balance parses sanitised HTML as the content of a <body> (HTML's
// fragment parsing algorithm, WHATWG HTML §13.4) and writes it out
// again: an element left open is closed at the end of the fragment, a
// stray end tag is dropped, and a table is completed, so that the
// fragment put inside a page's or an email's element ends inside it. An
// unclosed <a href> no longer turns the page's Flag link and reply form
// into part of the post's link.
func Balance(fragment []byte) []byte {
	ctx := &xhtml.Node{Type: xhtml.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := xhtml.ParseFragment(bytes.NewReader(fragment), ctx)
	if err != nil {
		// The parser fails only when reading fails, which a byte slice
		// does not; had it, the escaped text is safe and balanced.
		return []byte(template.HTMLEscapeString(string(fragment)))
	}
	var out bytes.Buffer
	out.Grow(len(fragment) + 64)
	for _, n := range nodes {
		if err := xhtml.Render(&out, n); err != nil {
			return []byte(template.HTMLEscapeString(string(fragment)))
		}
	}
	return out.Bytes()
}

var urlRE = regexp.MustCompile(`https?://[^\s<>()"'\]\[]+[^\s<>()"'\]\[.,;:!?]`)

// Links returns the http(s) URLs in a text, in order, without repeats.
func Links(src string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range urlRE.FindAllString(src, -1) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// Plain returns a preview of a message or description: the text of its
// rendered Markdown (so no Markdown marks, and of raw HTML only what the
// sanitiser keeps, as text), entities decoded once, quoted passages left
// out, whitespace collapsed, and cut at a word boundary to at most n
// characters with an ellipsis. The page escapes it once more, as it does
// any text.
func Plain(src string, n int) string { return plainOf(HTML(src), n) }

// plainOf is Plain of an HTML rendering.
func plainOf(h template.HTML, n int) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(string(h)))
	quoted := 0 // depth of <blockquote>: quotes are the earlier mail
	space := func() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
	}
	for b.Len() <= 4*n+8 { // enough for n characters, whatever they are
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		name, _ := z.TagName()
		a := atom.Lookup(name)
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			if a == atom.Blockquote {
				if tt == xhtml.StartTagToken {
					quoted++
				} else if tt == xhtml.EndTagToken && quoted > 0 {
					quoted--
				}
			}
			if !inline[a] {
				space() // blocks, cells, line breaks: words do not run together
			}
		case xhtml.TextToken:
			if quoted == 0 {
				b.Write(z.Text()) // Text decodes entities, once
			}
		}
	}
	return cut(strings.Join(strings.Fields(b.String()), " "), n)
}

// inline elements join their text to what is around them.
var inline = map[atom.Atom]bool{atom.A: true, atom.Strong: true, atom.B: true, atom.Em: true, atom.I: true,
	atom.Code: true, atom.Del: true, atom.S: true, atom.U: true, atom.Span: true, atom.Sub: true, atom.Sup: true,
	atom.Abbr: true, atom.Mark: true, atom.Small: true, atom.Kbd: true, atom.Q: true, atom.Cite: true, atom.Ins: true}

// cut shortens s to at most n characters, at the last space before the
// limit when there is one in its second half, adding an ellipsis.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	r = r[:n]
	for i := len(r) - 1; i > n/2; i-- {
		if r[i] == ' ' {
			r = r[:i]
			break
		}
	}
	return strings.TrimRight(string(r), " .,;:") + "…"
}
