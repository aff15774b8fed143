package markup

// Message bodies as mail shows them: the same dialect as the web's
// (dialect), rendered for an HTML part with inline styles and for a text
// part in the conventions of plain-text mail. Group mail, digests and
// moderation notices all show a message this way.

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"
)

// Inline CSS for the HTML part: Gmail and Outlook ignore or strip <style>
// blocks, so each element carries its own. bluemonday removes style
// attributes, so they are added after sanitizing.
const (
	monoFont     = "Menlo,Consolas,monospace"
	borderColor  = "#d0d7de"
	preCodeStyle = "font-family:" + monoFont + ";"
)

var elementStyles = map[string]string{
	"p":          "margin:0 0 1em 0;",
	"h1":         "margin:1em 0 0.5em 0;font-size:1.5em;line-height:1.25;",
	"h2":         "margin:1em 0 0.5em 0;font-size:1.3em;line-height:1.25;",
	"h3":         "margin:1em 0 0.5em 0;font-size:1.15em;line-height:1.25;",
	"h4":         "margin:1em 0 0.5em 0;font-size:1em;",
	"h5":         "margin:1em 0 0.5em 0;font-size:1em;",
	"h6":         "margin:1em 0 0.5em 0;font-size:1em;color:#59636e;",
	"a":          "color:#0969da;text-decoration:underline;",
	"blockquote": "margin:0 0 1em 0;padding:0 0 0 1em;border-left:3px solid " + borderColor + ";color:#59636e;",
	"pre":        "margin:0 0 1em 0;padding:12px;background-color:#f6f8fa;border-radius:6px;font-family:" + monoFont + ";font-size:13px;line-height:1.45;white-space:pre-wrap;word-wrap:break-word;",
	"code":       "padding:0.1em 0.3em;background-color:#eff1f3;border-radius:4px;font-family:" + monoFont + ";font-size:0.9em;",
	"ul":         "margin:0 0 1em 0;padding-left:2em;",
	"ol":         "margin:0 0 1em 0;padding-left:2em;",
	"li":         "margin:0.25em 0;",
	"table":      "margin:0 0 1em 0;border-collapse:collapse;",
	"th":         "padding:6px 12px;border:1px solid " + borderColor + ";background-color:#f6f8fa;font-weight:600;",
	"td":         "padding:6px 12px;border:1px solid " + borderColor + ";",
	"img":        "max-width:100%;height:auto;border:0;",
	"hr":         "margin:1.5em 0;border:0;border-top:1px solid " + borderColor + ";",
}

// inlineStyles adds a style attribute to the elements of sanitized HTML.
func inlineStyles(src []byte) []byte {
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	out := make([]byte, 0, len(src)*2)
	inPre := 0
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				out = append(out, z.Raw()...)
			}
			return out
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			raw := append([]byte(nil), z.Raw()...)
			tok := z.Token()
			style := elementStyles[tok.Data]
			if tok.Data == "code" && inPre > 0 {
				style = preCodeStyle
			}
			if tok.Data == "pre" && tt == xhtml.StartTagToken {
				inPre++
			}
			if style == "" {
				out = append(out, raw...)
				continue
			}
			tok.Attr = slices.DeleteFunc(tok.Attr, func(a xhtml.Attribute) bool { return a.Key == "style" })
			tok.Attr = append(tok.Attr, xhtml.Attribute{Key: "style", Val: style})
			out = append(out, tok.String()...)
		case xhtml.EndTagToken:
			if name, _ := z.TagName(); string(name) == "pre" && inPre > 0 {
				inPre--
			}
			out = append(out, z.Raw()...)
		default:
			out = append(out, z.Raw()...)
		}
	}
}

// checkboxRenderer draws task-list checkboxes as characters: sanitizers and
// most mail clients drop <input> elements.
type checkboxRenderer struct{}

func (checkboxRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(east.KindTaskCheckBox, func(w util.BufWriter, _ []byte, n gast.Node, entering bool) (gast.WalkStatus, error) {
		if entering {
			if n.(*east.TaskCheckBox).IsChecked {
				_, _ = w.WriteString("&#9745; ")
			} else {
				_, _ = w.WriteString("&#9744; ")
			}
		}
		return gast.WalkContinue, nil
	})
}

// mailBody is the Markdown of message bodies as mail shows it, built once:
// goldmark and bluemonday are safe for concurrent use once built.
var mailBody = sync.OnceValue(func() (b struct {
	md         goldmark.Markdown
	ugc, strip *bluemonday.Policy
}) {
	b.ugc = bluemonday.UGCPolicy()      // sanitizes the HTML part
	b.strip = bluemonday.StrictPolicy() // strips raw HTML blocks for the text part
	b.md = goldmark.New(
		// Mail clients keep align attributes where they drop styles.
		dialect(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		goldmark.WithRendererOptions(
			// Raw HTML passes goldmark and is cleaned by bluemonday, the
			// one sanitizer, which keeps harmless tags people type.
			html.WithUnsafe(),
			// Email bodies are written with meaningful line breaks
			// (addresses, signatures); the text part keeps them too.
			html.WithHardWraps(),
			renderer.WithNodeRenderers(util.Prioritized(checkboxRenderer{}, 100)),
		),
	)
	return b
})

// MailHTML renders a message's Markdown for an HTML mail part: sanitised,
// balanced as on the web (Balance, so an unclosed <a> or <table> in a
// post ends inside it and not around the footer's links), and styled
// inline for mail clients that drop style sheets.
func MailHTML(src string) (htmltemplate.HTML, error) {
	b := mailBody()
	var out bytes.Buffer
	if err := b.md.Convert([]byte(src), &out); err != nil {
		return "", fmt.Errorf("markup: rendering markdown for mail: %w", err)
	}
	return htmltemplate.HTML(inlineStyles(Balance(b.ugc.SanitizeBytes(out.Bytes())))), nil
}

// MailText renders a message's Markdown as readable plain text for a
// text mail part (see markdownToText).
func MailText(src string) string {
	b := mailBody()
	return markdownToText(b.md.Parser(), b.strip, []byte(src))
}
