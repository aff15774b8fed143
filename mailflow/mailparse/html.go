package mailparse

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText converts an HTML body to plain text for reading: block
// elements become paragraphs or lines, list items start with "- " (or
// "1. " in ordered lists), links keep their target as "text (url)",
// blockquotes are quoted with "> " as a plain-text reply would be, and
// the content of script, style, head and hidden elements is dropped.
// It runs in linear time and never fails; broken HTML is read the way a
// browser reads it (golang.org/x/net/html implements the WHATWG parser).
func HTMLToText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// Parse only fails when its reader does; keep the text anyway.
		return strings.TrimSpace(s)
	}
	var w textWriter
	// An explicit stack rather than recursion: hostile HTML nests deep.
	type frame struct {
		n    *html.Node
		exit bool
	}
	stack := []frame{{n: doc}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.exit {
			w.leave(f.n)
			continue
		}
		switch f.n.Type {
		case html.TextNode:
			w.text(f.n.Data)
			continue
		case html.ElementNode:
			if skipElement(f.n) {
				continue
			}
			w.enter(f.n)
			stack = append(stack, frame{n: f.n, exit: true})
		case html.DocumentNode:
		default: // comments, doctypes
			continue
		}
		for c := f.n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, frame{n: c})
		}
	}
	return w.finish()
}

// skipElement reports elements whose content is not text a reader sees.
func skipElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template,
		atom.Svg, atom.Math, atom.Iframe, atom.Object, atom.Embed, atom.Audio, atom.Video,
		atom.Canvas, atom.Select, atom.Datalist:
		return true
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			return true
		case "style":
			// Preheaders and tracking blocks hide themselves this way.
			st := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(st, "display:none") || strings.Contains(st, "mso-hide:all") {
				return true
			}
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// textWriter accumulates text, collapsing HTML white space and turning
// block boundaries into line breaks. Breaks are requested, not written,
// so that nested blocks produce one break and a document never starts
// or ends with blank lines.
type textWriter struct {
	b        strings.Builder
	pending  int  // line breaks requested before the next content
	space    bool // a collapsed space is due before the next content
	lineOpen bool // the current line has content
	last     byte // the last byte written
	depth    int  // blockquote depth
	// breakDepth is the quote depth of the blank lines pending breaks make.
	breakDepth int
	pre        int // inside <pre>
	lists      []list
	links      []link
}

type list struct {
	ordered bool
	n       int
}

type link struct {
	href  string
	start int
}

// brk asks for at least n line breaks before the next content.
func (w *textWriter) brk(n int) {
	if w.b.Len() > 0 && w.pending < n {
		w.noteBreak()
		w.pending = n
	}
}

// noteBreak records the quote depth that blank lines between blocks
// belong to: the shallowest depth seen since the last content, so that
// the blank line before a blockquote is not quoted.
func (w *textWriter) noteBreak() {
	if w.pending == 0 || w.depth < w.breakDepth {
		w.breakDepth = w.depth
	}
}

// open prepares for content: writes due breaks with their quote
// prefixes, or the due space.
func (w *textWriter) open() {
	if w.pending > 0 && w.b.Len() > 0 {
		for i := 0; i < w.pending; i++ {
			w.b.WriteByte('\n')
			if d := min(w.breakDepth, w.depth); i < w.pending-1 && d > 0 {
				w.b.WriteString(strings.Repeat(">", d))
			}
		}
		w.lineOpen = false
		w.last = '\n'
	}
	w.pending = 0
	if !w.lineOpen {
		if w.depth > 0 {
			w.b.WriteString(strings.Repeat("> ", w.depth))
			w.last = ' '
		}
		w.lineOpen = true
		w.space = false
		return
	}
	if w.space && w.last != ' ' {
		w.b.WriteByte(' ')
		w.last = ' '
	}
	w.space = false
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	w.open()
	w.b.WriteString(s)
	w.last = s[len(s)-1]
}

func (w *textWriter) text(s string) {
	if w.pre > 0 {
		for len(s) > 0 {
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				w.write(strings.ReplaceAll(s, "\r", ""))
				return
			}
			w.write(strings.ReplaceAll(s[:i], "\r", ""))
			if w.b.Len() > 0 {
				w.noteBreak()
				w.pending++
			}
			s = s[i+1:]
		}
		return
	}
	start := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case ' ', '\t', '\n', '\r', '\f':
			if start >= 0 {
				w.write(s[start:i])
				start = -1
			}
			if w.lineOpen && w.pending == 0 {
				w.space = true
			}
		case '\u200b', '\u200c', '\u200d', '\ufeff', '\u00ad', '\u034f':
			// Invisible characters, much used to pad preheaders.
			if start >= 0 {
				w.write(s[start:i])
				start = -1
			}
		default:
			if start < 0 {
				start = i
			}
		}
		i += size
	}
	if start >= 0 {
		w.write(s[start:])
	}
}

// blockBreaks tells how many line breaks surround an element: 2 makes a
// paragraph, 1 a line.
func blockBreaks(n *html.Node) int {
	switch n.DataAtom {
	case atom.P:
		// Outlook writes every line as <p class=MsoNormal> with no margin.
		if strings.Contains(attr(n, "class"), "MsoNormal") {
			return 1
		}
		return 2
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Ul, atom.Ol,
		atom.Table, atom.Dl, atom.Hr, atom.Address, atom.Figure, atom.Fieldset, atom.Form:
		return 2
	case atom.Div, atom.Li, atom.Tr, atom.Dt, atom.Dd, atom.Section, atom.Article, atom.Header,
		atom.Footer, atom.Nav, atom.Aside, atom.Main, atom.Center, atom.Caption, atom.Details,
		atom.Summary, atom.Figcaption, atom.Body, atom.Legend:
		return 1
	}
	return 0
}

func (w *textWriter) enter(n *html.Node) {
	if k := blockBreaks(n); k > 0 {
		if len(w.lists) > 0 && (n.DataAtom == atom.Ul || n.DataAtom == atom.Ol) {
			k = 1 // a nested list continues its item
		}
		w.brk(k)
	}
	switch n.DataAtom {
	case atom.Br:
		if w.b.Len() > 0 {
			w.noteBreak()
			w.pending++
		}
	case atom.Blockquote:
		w.brk(2)
		w.depth++
	case atom.Pre:
		w.pre++
	case atom.Ul, atom.Ol:
		w.lists = append(w.lists, list{ordered: n.DataAtom == atom.Ol})
	case atom.Li:
		indent := ""
		marker := "- "
		if k := len(w.lists); k > 0 {
			indent = strings.Repeat("  ", k-1)
			if l := &w.lists[k-1]; l.ordered {
				l.n++
				marker = strconv.Itoa(l.n) + ". "
			}
		}
		w.write(indent + marker)
	case atom.Td, atom.Th:
		if w.lineOpen && w.pending == 0 {
			w.space = true
		}
	case atom.A:
		w.links = append(w.links, link{href: strings.TrimSpace(attr(n, "href")), start: w.b.Len()})
	case atom.Img:
		if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
			w.text("[image: " + alt + "]")
		}
	}
}

func (w *textWriter) leave(n *html.Node) {
	switch n.DataAtom {
	case atom.Blockquote:
		if w.depth > 0 {
			w.depth--
		}
		w.brk(2)
	case atom.Pre:
		if w.pre > 0 {
			w.pre--
		}
	case atom.Ul, atom.Ol:
		if len(w.lists) > 0 {
			w.lists = w.lists[:len(w.lists)-1]
		}
	case atom.A:
		if len(w.links) > 0 {
			l := w.links[len(w.links)-1]
			w.links = w.links[:len(w.links)-1]
			w.linkTarget(l)
		}
	}
	if k := blockBreaks(n); k > 0 {
		if len(w.lists) > 0 && (n.DataAtom == atom.Ul || n.DataAtom == atom.Ol) {
			k = 1
		}
		w.brk(k)
	}
}

// linkTarget appends " (url)" after a link's text, unless the text
// already says it or the link goes nowhere a reader can follow.
func (w *textWriter) linkTarget(l link) {
	href := l.href
	low := strings.ToLower(href)
	if href == "" || strings.HasPrefix(low, "#") || strings.HasPrefix(low, "javascript:") ||
		strings.HasPrefix(low, "cid:") || strings.HasPrefix(low, "data:") {
		return
	}
	text := ""
	if l.start <= w.b.Len() {
		text = strings.TrimSpace(w.b.String()[l.start:])
	}
	if text == "" {
		return
	}
	shown := href
	if strings.HasPrefix(low, "mailto:") {
		shown = href[len("mailto:"):]
		if i := strings.IndexByte(shown, '?'); i >= 0 {
			shown = shown[:i]
		}
	}
	bare := func(u string) string {
		u = strings.ToLower(strings.TrimSuffix(u, "/"))
		for _, p := range []string{"mailto:", "https://", "http://", "www."} {
			u = strings.TrimPrefix(u, p)
		}
		return u
	}
	if bare(text) == bare(href) || bare(text) == bare(shown) {
		return
	}
	w.space = true
	w.write("(" + shown + ")")
}

// finish trims trailing space from every line, keeps at most one blank
// line in a row and drops blank lines at both ends.
func (w *textWriter) finish() string {
	lines := strings.Split(w.b.String(), "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		l = strings.ReplaceAll(l, "\u00a0", " ")
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if len(out) > 0 && blank > 0 {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
