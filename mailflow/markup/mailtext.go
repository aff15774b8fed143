package markup

import (
	"bufio"
	"bytes"
	"fmt"
	stdhtml "html"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	gast "github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdownToText renders markdown as readable plain text for the
// text/plain part: the conventions of plain-text mail (_emphasis_,
// *strong*, "> " quotes, indented code), and links numbered in the text
// and listed at the end as "[1] https://…", so that long URLs do not break
// up sentences. Raw HTML is reduced to its text.
func markdownToText(p parser.Parser, strip *bluemonday.Policy, src []byte) string {
	t := &textRenderer{src: src, strip: strip, index: map[string]int{}}
	t.w = bufio.NewWriter(&t.esc)
	doc := p.Parse(text.NewReader(src))
	var b strings.Builder
	b.WriteString(strings.TrimRight(t.children(doc, "\n\n"), "\n "))
	if len(t.links) > 0 {
		b.WriteString("\n\n")
		for i, u := range t.links {
			fmt.Fprintf(&b, "[%d] %s\n", i+1, u)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

type textRenderer struct {
	src   []byte
	strip *bluemonday.Policy
	links []string       // URLs, in order of first use
	index map[string]int // URL → its number
	esc   bytes.Buffer   // for unescape
	w     *bufio.Writer
}

// children renders the blocks under n, separated by sep.
func (t *textRenderer) children(n gast.Node, sep string) string {
	var parts []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if s := t.block(c); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

func (t *textRenderer) block(n gast.Node) string {
	switch n := n.(type) {
	case *gast.Paragraph, *gast.TextBlock:
		return strings.TrimRight(t.inline(n), " \n")
	case *gast.Heading:
		s := strings.TrimSpace(t.inline(n))
		switch n.Level {
		case 1:
			return s + "\n" + strings.Repeat("=", max(utf8.RuneCountInString(s), 3))
		case 2:
			return s + "\n" + strings.Repeat("-", max(utf8.RuneCountInString(s), 3))
		}
		return strings.Repeat("#", n.Level) + " " + s
	case *gast.ThematicBreak:
		return "----------"
	case *gast.CodeBlock, *gast.FencedCodeBlock:
		var b strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.WriteString(strings.TrimRight(string(seg.Value(t.src)), " \t\n"))
			b.WriteByte('\n')
		}
		return prefixLines(strings.TrimRight(b.String(), "\n"), "    ", "    ")
	case *gast.Blockquote:
		return prefixLines(t.children(n, "\n\n"), "> ", "> ")
	case *gast.List:
		return t.list(n)
	case *gast.HTMLBlock:
		var b bytes.Buffer
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(t.src))
		}
		if n.HasClosure() {
			b.Write(n.ClosureLine.Value(t.src))
		}
		return strings.TrimSpace(stdhtml.UnescapeString(t.strip.Sanitize(b.String())))
	case *east.Table:
		return t.table(n)
	}
	return t.children(n, "\n\n")
}

// list numbers or bullets each item and indents its continuation lines
// under the item's text.
func (t *textRenderer) list(n *gast.List) string {
	sep := "\n\n"
	if n.IsTight {
		sep = "\n"
	}
	var items []string
	num := n.Start
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		marker := "- "
		if n.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		items = append(items, prefixLines(t.children(c, sep), marker, strings.Repeat(" ", len(marker))))
	}
	return strings.Join(items, sep)
}

// table lays out a GFM table in padded columns.
func (t *textRenderer) table(n *east.Table) string {
	var rows [][]string
	var widths []int
	header := false
	for r := n.FirstChild(); r != nil; r = r.NextSibling() {
		if _, ok := r.(*east.TableHeader); ok {
			header = true
		}
		var row []string
		for i, c := 0, r.FirstChild(); c != nil; i, c = i+1, c.NextSibling() {
			cell := strings.ReplaceAll(strings.TrimSpace(t.inline(c)), "\n", " ")
			row = append(row, cell)
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
		rows = append(rows, row)
	}
	var b strings.Builder
	for i, row := range rows {
		var line strings.Builder
		for j, cell := range row {
			if j > 0 {
				line.WriteString(" | ")
			}
			line.WriteString(cell)
			line.WriteString(strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell)))
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
		if i == 0 && header {
			for j, w := range widths {
				if j > 0 {
					b.WriteString("-|-")
				}
				b.WriteString(strings.Repeat("-", max(w, 3)))
			}
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// inline renders the inline children of n.
func (t *textRenderer) inline(n gast.Node) string {
	var b strings.Builder
	t.writeInline(&b, n)
	return b.String()
}

func (t *textRenderer) writeInline(b *strings.Builder, parent gast.Node) {
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		switch n := c.(type) {
		case *gast.Text:
			v := n.Segment.Value(t.src)
			if n.IsRaw() {
				b.Write(v)
			} else {
				b.WriteString(t.unescape(v))
			}
			if n.SoftLineBreak() || n.HardLineBreak() {
				b.WriteByte('\n')
			}
		case *gast.String:
			b.Write(n.Value)
		case *gast.CodeSpan:
			b.WriteByte('`')
			for g := n.FirstChild(); g != nil; g = g.NextSibling() {
				switch g := g.(type) {
				case *gast.Text:
					v := g.Segment.Value(t.src)
					if len(v) > 0 && v[len(v)-1] == '\n' {
						v = append(v[:len(v)-1:len(v)-1], ' ')
					}
					b.Write(v)
				case *gast.String:
					b.Write(g.Value)
				}
			}
			b.WriteByte('`')
		case *gast.Emphasis:
			mark := "_"
			if n.Level > 1 {
				mark = "*"
			}
			b.WriteString(mark)
			t.writeInline(b, n)
			b.WriteString(mark)
		case *east.Strikethrough:
			b.WriteString("~~")
			t.writeInline(b, n)
			b.WriteString("~~")
		case *gast.Link:
			label := t.inline(n)
			b.WriteString(label)
			t.writeRef(b, label, string(util.URLEscape(n.Destination, true)))
		case *gast.Image:
			alt := t.inline(n)
			if alt == "" {
				alt = "image"
			}
			b.WriteString("[" + alt + "]")
			t.writeRef(b, "", string(util.URLEscape(n.Destination, true)))
		case *gast.AutoLink:
			b.Write(n.Label(t.src))
		case *gast.RawHTML:
			tag := strings.ToLower(t.raw(n))
			if strings.HasPrefix(tag, "<br") {
				b.WriteByte('\n')
			}
			// What these elements hold is not text: skip to the closing
			// tag, as the sanitizer does for the HTML part.
			for _, name := range skippedElements {
				if !strings.HasPrefix(tag, "<"+name) {
					continue
				}
				for c.NextSibling() != nil {
					c = c.NextSibling()
					if r, ok := c.(*gast.RawHTML); ok && strings.HasPrefix(strings.ToLower(t.raw(r)), "</"+name) {
						break
					}
				}
			}
		case *east.TaskCheckBox:
			if n.IsChecked {
				b.WriteString("[x] ")
			} else {
				b.WriteString("[ ] ")
			}
		default:
			t.writeInline(b, n)
		}
	}
}

// skippedElements are the elements whose content the text part leaves out.
var skippedElements = []string{"script", "style", "iframe", "object", "textarea", "template"}

// raw returns the source of an inline HTML tag.
func (t *textRenderer) raw(n *gast.RawHTML) string {
	var b strings.Builder
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		b.Write(seg.Value(t.src))
	}
	return b.String()
}

// writeRef writes " [n]" after a link's label, numbering the URL for the
// list at the end. A label that is the URL itself needs no reference, and
// only http, https and mailto URLs are listed: the HTML part's sanitizer
// drops the others.
func (t *textRenderer) writeRef(b *strings.Builder, label, u string) {
	lower := strings.ToLower(u)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "mailto:") {
		return
	}
	if label == u || "mailto:"+label == u {
		return
	}
	n, ok := t.index[u]
	if !ok {
		t.links = append(t.links, u)
		n = len(t.links)
		t.index[u] = n
	}
	fmt.Fprintf(b, " [%d]", n)
}

// unescape resolves markdown backslash escapes and HTML entities the way
// goldmark's HTML renderer does, then turns the result back into text.
func (t *textRenderer) unescape(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 && bytes.IndexByte(v, '&') < 0 {
		return string(v)
	}
	t.esc.Reset()
	html.DefaultWriter.Write(t.w, v)
	_ = t.w.Flush() // writes to a bytes.Buffer cannot fail
	return stdhtml.UnescapeString(t.esc.String())
}

// prefixLines puts first before the first line of s and rest before the
// others; blank lines get rest without its trailing spaces.
func prefixLines(s, first, rest string) string {
	if s == "" {
		return strings.TrimRight(first, " ")
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		p := rest
		if i == 0 {
			p = first
		}
		if l == "" {
			lines[i] = strings.TrimRight(p, " ")
		} else {
			lines[i] = p + l
		}
	}
	return strings.Join(lines, "\n")
}
