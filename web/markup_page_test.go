package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// TestThreadPageKeepsPostsClosed posts, through the reply form, a
// message that opens an <a href>, a <table> and raw HTML blocks and never
// closes them; the thread page, parsed as a browser would, must still
// have the Flag link inside the message's own footer and the reply form
// after the messages, neither inside the post or its link.
func TestThreadPageKeepsPostsClosed(t *testing.T) {
	s := newTestSite(t)
	mallory := s.user("mallory@example.org", "Mallory")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, mallory)
	body := "Look <a href=\"https://evil.example/\">here\n\n" +
		"<table><tr><td>cell\n\n" +
		"<div>\n<p>raw block, never closed\n\n" +
		"<blockquote><ul><li>item\n"
	path := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	m := s.signIn(mallory)
	m.get(path)
	if code, page := m.post(path+"/reply", url.Values{"body": {body}}); code != http.StatusSeeOther {
		t.Fatalf("posting the reply: %d\n%s", code, page)
	}

	root := s.signIn(s.rootID)
	code, page := root.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var flags, forms, posts int
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode {
			switch {
			case n.Data == "a" && hasClass(n, "flag-link"):
				flags++
				notInPost(t, n, "the Flag link")
				if !insideElement(n, "footer", "message-actions") || !insideElement(n, "article", "") {
					t.Error("the Flag link is not in its message's footer")
				}
			case n.Data == "form" && strings.Contains(attr(n, "action"), "/reply?"):
				forms++
				notInPost(t, n, "the reply form")
			case n.Data == "div" && hasClass(n, "message-body") && strings.Contains(textOf(n), "raw block, never closed"):
				posts++
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if posts != 1 || flags != 1 || forms != 1 {
		t.Fatalf("found %d hostile posts, %d Flag links, %d reply forms; want 1 of each\n%s", posts, flags, forms, page)
	}
	s.noErrors()
}

// notInPost fails when n is inside a message's body, a link or a table.
func notInPost(t *testing.T, n *xhtml.Node, what string) {
	t.Helper()
	for a := n.Parent; a != nil; a = a.Parent {
		if a.Type != xhtml.ElementNode {
			continue
		}
		switch {
		case a.Data == "a":
			t.Errorf("%s is inside a link to %s", what, attr(a, "href"))
		case a.Data == "table", a.Data == "blockquote", a.Data == "li" && !hasClass(a, "message"):
			t.Errorf("%s is inside the post's <%s>", what, a.Data)
		case hasClass(a, "message-body"):
			t.Errorf("%s is inside a message's body", what)
		}
	}
}

func insideElement(n *xhtml.Node, tag, class string) bool {
	for a := n.Parent; a != nil; a = a.Parent {
		if a.Type == xhtml.ElementNode && a.Data == tag && (class == "" || hasClass(a, class)) {
			return true
		}
	}
	return false
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *xhtml.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func textOf(n *xhtml.Node) string {
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
