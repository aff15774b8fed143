package quote

import (
	"strings"

	"golang.org/x/net/html"

	"github.com/parleymail/parley/mailflow/mailparse"
)

// SplitHTML splits an HTML body: the quote and signature elements that
// clients mark are removed, the rest is converted with mailparse.HTMLToText
// and split as text.
func SplitHTML(body string) Reply {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return Split(mailparse.HTMLToText(body))
	}
	sigs, removed := prune(doc)
	var b strings.Builder
	if err := html.Render(&b, doc); err != nil {
		return Split(mailparse.HTMLToText(body))
	}
	r := Split(mailparse.HTMLToText(b.String()))
	var parts []string
	if r.Signature != "" {
		parts = append(parts, r.Signature)
	}
	for _, s := range sigs {
		if s != "" {
			parts = append(parts, s)
		}
	}
	r.Signature = strings.Join(parts, "\n\n")
	r.Quoted = r.Quoted || removed || r.Signature != ""
	return r
}

type mark int

const (
	markNone      mark = iota
	markQuote          // remove the element
	markSignature      // remove the element, keep its text as signature
	markRest           // remove the element and everything after it
)

// markOf tells what a client's markup says an element is.
func markOf(n *html.Node) mark {
	var class, id, typ, smart string
	for _, a := range n.Attr {
		switch a.Key {
		case "class":
			class = strings.ToLower(a.Val)
		case "id":
			id = strings.ToLower(a.Val)
		case "type":
			typ = strings.ToLower(a.Val)
		case "data-smartmail":
			smart = strings.ToLower(a.Val)
		}
	}
	switch {
	// Outlook on the web and desktop put the quoted message after a
	// header block in divRplyFwdMsg (x_ when the message was re-quoted);
	// appendonsend marks where the quote starts; Outlook for Mac uses
	// OLK_SRC_BODY_SECTION; Zimbra an <hr id=zwchr>.
	case strings.HasSuffix(id, "divrplyfwdmsg"), id == "appendonsend", strings.HasSuffix(id, "olk_src_body_section"),
		id == "zwchr", id == "stopspelling", id == "mail-editor-reference-message-container":
		return markRest
	case n.Data == "blockquote" && typ == "cite":
		return markQuote
	// iOS Mail marks its "Sent from my iPhone" AppleMailSignature.
	case id == "signature", strings.HasSuffix(id, "ms-outlook-mobile-signature"), id == "applemailsignature",
		smart == "gmail_signature":
		return markSignature
	}
	for _, c := range strings.Fields(class) {
		switch {
		// Outlook prefixes the classes of a message it re-quotes with
		// "x_"; Zoho marks its quote zmail_extra.
		case strings.HasSuffix(c, "gmail_quote"), c == "gmail_quote_container", c == "gmail_attr", c == "moz-cite-prefix",
			c == "zmail_extra", c == "zmail_extra_hr",
			c == "protonmail_quote", strings.HasSuffix(c, "yahoo_quoted"),
			c == "gmail_signature_prefix": // the "-- " Gmail writes before the signature
			return markQuote
		case c == "gmail_signature", c == "moz-signature", c == "ms-outlook-mobile-signature":
			return markSignature
		}
	}
	return markNone
}

// prune removes the marked elements of doc, returning the text of the
// signatures among them and whether anything was removed.
func prune(doc *html.Node) (sigs []string, removed bool) {
	var drop []*html.Node
	var cut *html.Node
	stack := []*html.Node{doc}
walk:
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode {
			switch markOf(n) {
			case markRest:
				cut = n
				break walk
			case markQuote:
				drop = append(drop, n)
				continue
			case markSignature:
				var b strings.Builder
				if err := html.Render(&b, n); err == nil {
					sigs = append(sigs, mailparse.HTMLToText(b.String()))
				}
				drop = append(drop, n)
				continue
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	for _, n := range drop {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
	if cut != nil {
		for x := cut; x.Parent != nil; x = x.Parent {
			for s := x.NextSibling; s != nil; {
				next := s.NextSibling
				x.Parent.RemoveChild(s)
				s = next
			}
		}
		cut.Parent.RemoveChild(cut)
	}
	return sigs, len(drop) > 0 || cut != nil
}
