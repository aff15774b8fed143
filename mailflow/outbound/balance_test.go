package outbound

import (
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// unbalancedPost leaves an <a href>, a <table> and raw HTML blocks open,
// as a member's message may (by mistake or not).
const unbalancedPost = "Look <a href=\"https://evil.example/\">here\n\n" +
	"<table><tr><td>cell\n\n" +
	"<div>\n<p>raw block, never closed\n\n" +
	"<blockquote><ul><li>item\n"

// TestRenderKeepsFooterOutsideThePost renders a post that opens and
// never closes elements, parses the HTML part as a mail client would,
// and checks that the footer's text and links are in no anchor and no
// table of the post's (the template's own tables are role=presentation).
func TestRenderKeepsFooterOutsideThePost(t *testing.T) {
	r := newTestRenderer(t, nil)
	p := testPost()
	p.Message.Body = unbalancedPost
	m := parse(t, render(t, r, p, testRecipient()))
	doc, err := xhtml.Parse(strings.NewReader(m.html))
	if err != nil {
		t.Fatal(err)
	}
	rc := testRecipient()
	var footerText, links int
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		switch {
		case n.Type == xhtml.TextNode && strings.Contains(n.Data, "You receive every message"):
			footerText++
			checkOutsidePost(t, n, "the footer's text")
		case n.Type == xhtml.ElementNode && n.Data == "a":
			for _, a := range n.Attr {
				if a.Key == "href" && (a.Val == rc.UnsubscribeURL || a.Val == rc.SettingsURL || a.Val == rc.UnsubscribeAllURL) {
					links++
					checkOutsidePost(t, n.Parent, "the footer link "+a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if footerText != 1 || links != 3 {
		t.Fatalf("found the footer's text %d times and %d of its 3 links:\n%s", footerText, links, m.html)
	}
	if !strings.Contains(m.html, "cell") || !strings.Contains(m.html, "raw block, never closed") {
		t.Errorf("the post's text is lost:\n%s", m.html)
	}
}

// checkOutsidePost fails when n or an ancestor is an anchor, or a table
// the template did not write.
func checkOutsidePost(t *testing.T, n *xhtml.Node, what string) {
	t.Helper()
	for a := n; a != nil; a = a.Parent {
		if a.Type != xhtml.ElementNode {
			continue
		}
		if a.Data == "a" {
			t.Errorf("%s is inside a link (%v)", what, a.Attr)
		}
		if a.Data == "table" {
			presentation := false
			for _, at := range a.Attr {
				presentation = presentation || at.Key == "role" && at.Val == "presentation"
			}
			if !presentation {
				t.Errorf("%s is inside the post's table", what)
			}
		}
	}
}
