package outbound

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"mime/quotedprintable"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/urls"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

func renderTestSite(t testing.TB, origin string) Site {
	t.Helper()
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	m, err := urls.New(u, sign.Keys{Current: "render-test-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	return Site{URLs: m, BrandTitle: "Example Lists", Organization: "Example Org", MailDomain: "lists.example.org"}
}

func newTestRenderer(t testing.TB, dk *DKIM) *Renderer {
	t.Helper()
	r, err := NewRenderer(renderTestSite(t, "https://lists.example.org/community"), dk)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

const testBody = `Hello everyone,

The **garden day** is on _Saturday_. Bring ~~shovels~~ gloves and see
[the plan](https://example.org/plan?a=1&b=2) or https://example.org/map.

1. Meet at the gate
2. Split into teams
   - weeding
   - planting

> Last year we planted 40 trees.

| Task     | Who   |
|----------|-------|
| Weeding  | Ana   |
| Planting | Bruno |

` + "```" + `
tools = ["rake", "hoe"]
` + "```" + `

Thanks,
Ana
`

func testPost() Post {
	return Post{
		Group: mailflow.Group{ID: 7, Slug: "gardeners", Name: "Gardeners", ReplyTo: mailflow.ReplyToGroup},
		Thread: mailflow.Thread{
			ID: 42, GroupID: 7, Subject: "Garden day",
		},
		Message: mailflow.Message{
			ID: 100, ThreadID: 42, GroupID: 7,
			MessageID: "msg-100@lists.example.org",
			Subject:   "Garden day",
			Body:      testBody,
			CreatedAt: time.Date(2025, 3, 14, 9, 26, 53, 0, time.FixedZone("", 3600)),
		},
		AuthorName:  "Ana Silva",
		AuthorEmail: "ana@example.net",
	}
}

func testReply() Post {
	p := testPost()
	p.Group.ReplyTo = mailflow.ReplyToSender
	p.Group.Name = "Café Ñandú"
	p.Group.Slug = "cafe"
	p.Message.MessageID = "msg-101@lists.example.org"
	p.Message.InReplyTo = "msg-100@lists.example.org"
	p.Message.Subject = "Re: Réunion demain à 10h — ordre du jour ✓"
	p.Message.Body = "Zoë here.  \nI agree with *everything*.\n\n- [x] chairs\n- [ ] coffee\n"
	p.AuthorName = "Zoë Ødegård"
	p.AuthorEmail = "zoe@example.net"
	p.References = []string{"root@example.net", "msg-99@lists.example.org", "<root@example.net>"}
	return p
}

func testRecipient() Recipient {
	return Recipient{
		Email:             "bruno@example.com",
		Name:              "Bruno",
		ReturnPath:        "bounces+AbC123@lists.example.org",
		UnsubscribeURL:    "https://lists.example.org/community/u/unsub-gardeners-bruno",
		UnsubscribeAllURL: "https://lists.example.org/community/u/unsub-all-bruno",
		SettingsURL:       "https://lists.example.org/community/email-settings/bruno",
		Delivery:          "p.1-abcdefghijklmnop",
	}
}

func render(t testing.TB, r *Renderer, p Post, rc Recipient) []byte {
	t.Helper()
	pr, err := r.Prepare(p)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	msg, err := pr.Render(nil, rc)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return msg
}

// parsed is a rendered message read back with go-message.
type parsed struct {
	h    mail.Header
	text string
	html string
}

func parse(t *testing.T, msg []byte) parsed {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("reading message: %v", err)
	}
	out := parsed{h: mr.Header}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			t.Fatalf("part is not inline: %T", p.Header)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("decoding part: %v", err)
		}
		ct, params, _ := h.ContentType()
		if params["charset"] != "utf-8" {
			t.Errorf("part %s: charset %q", ct, params["charset"])
		}
		switch ct {
		case "text/plain":
			out.text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			out.html = strings.ReplaceAll(string(b), "\r\n", "\n")
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	if err := mr.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderGolden(t *testing.T) {
	r := newTestRenderer(t, nil)
	tests := []struct {
		name string
		post Post
	}{
		{"post", testPost()},
		{"reply", testReply()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := render(t, r, tt.post, testRecipient())
			checkLines(t, msg)
			path := filepath.Join("testdata", tt.name+".eml")
			if *updateGolden {
				if err := os.WriteFile(path, msg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			// Compare lines, not line endings: checkLines checks CRLF,
			// and a checkout may have changed the golden file's.
			got := strings.ReplaceAll(string(msg), "\r\n", "\n")
			if w := strings.ReplaceAll(string(want), "\r\n", "\n"); got != w {
				t.Errorf("rendered message differs from %s (run go test -update to refresh):\n%s", path, got)
			}
		})
	}
}

// checkLines checks that every line ends with CRLF and that lines stay
// within RFC 5322's 998 characters, and RFC 2045's 76 in the body.
func checkLines(t *testing.T, msg []byte) {
	t.Helper()
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		t.Error("message does not end with CRLF")
	}
	inBody := false
	for i, l := range strings.Split(string(msg), "\r\n") {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, l)
		}
		if l == "" {
			inBody = true
		}
		if len(l) > 998 || inBody && len(l) > 76 {
			t.Errorf("line %d is %d characters long", i+1, len(l))
		}
	}
}

func TestRenderHeaders(t *testing.T) {
	r := newTestRenderer(t, nil)
	rc := testRecipient()
	tests := []struct {
		name          string
		post          Post
		wantReplyTo   string
		wantInReplyTo string
		wantRefs      []string
		wantSubject   string
		wantFrom      string
		wantListID    string
	}{
		{
			name:        "new thread",
			post:        testPost(),
			wantReplyTo: "gardeners@lists.example.org",
			wantSubject: "[Gardeners] Garden day",
			wantFrom:    "Ana Silva via Gardeners",
			wantListID:  `"Gardeners" <gardeners.lists.example.org>`,
		},
		{
			name:          "reply to sender",
			post:          testReply(),
			wantReplyTo:   "zoe@example.net",
			wantInReplyTo: "msg-100@lists.example.org",
			wantRefs:      []string{"root@example.net", "msg-99@lists.example.org", "msg-100@lists.example.org"},
			wantSubject:   "[Café Ñandú] Re: Réunion demain à 10h — ordre du jour ✓",
			wantFrom:      "Zoë Ødegård via Café Ñandú",
			wantListID:    `Café Ñandú <cafe.lists.example.org>`,
		},
		{
			name: "tag already in subject",
			post: func() Post {
				p := testPost()
				p.Message.Subject = "Re: [Gardeners] Garden day"
				return p
			}(),
			wantReplyTo: "gardeners@lists.example.org",
			wantSubject: "Re: [Gardeners] Garden day",
			wantFrom:    "Ana Silva via Gardeners",
			wantListID:  `"Gardeners" <gardeners.lists.example.org>`,
		},
		{
			name: "reply to sender without an address",
			post: func() Post {
				p := testPost()
				p.Group.ReplyTo = mailflow.ReplyToSender
				p.AuthorEmail = ""
				return p
			}(),
			wantReplyTo: "gardeners@lists.example.org",
			wantSubject: "[Gardeners] Garden day",
			wantFrom:    "Ana Silva via Gardeners",
			wantListID:  `"Gardeners" <gardeners.lists.example.org>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := render(t, r, tt.post, rc)
			m := parse(t, msg)
			h := m.h
			slug := tt.post.Group.Slug
			group := slug + "@lists.example.org"

			addr := func(key string) *mail.Address {
				t.Helper()
				l, err := h.AddressList(key)
				if err != nil || len(l) != 1 {
					t.Fatalf("%s: %v %v", key, l, err)
				}
				return l[0]
			}
			if a := addr("From"); a.Address != group || a.Name != tt.wantFrom {
				t.Errorf("From = %q <%s>, want %q <%s>", a.Name, a.Address, tt.wantFrom, group)
			}
			if a := addr("Reply-To"); a.Address != tt.wantReplyTo {
				t.Errorf("Reply-To = %s, want %s", a.Address, tt.wantReplyTo)
			}
			if a := addr("Sender"); a.Address != slug+"+owner@lists.example.org" {
				t.Errorf("Sender = %s", a.Address)
			}
			if a := addr("To"); a.Address != group {
				t.Errorf("To = %s", a.Address)
			}
			if s, err := h.Subject(); err != nil || s != tt.wantSubject {
				t.Errorf("Subject = %q, %v; want %q", s, err, tt.wantSubject)
			}
			if d, err := h.Date(); err != nil || !d.Equal(tt.post.Message.CreatedAt) {
				t.Errorf("Date = %v, %v", d, err)
			}
			if id, err := h.MessageID(); err != nil || id != tt.post.Message.MessageID {
				t.Errorf("Message-ID = %q, %v", id, err)
			}
			if l, err := h.MsgIDList("In-Reply-To"); err != nil || strings.Join(l, " ") != tt.wantInReplyTo {
				t.Errorf("In-Reply-To = %q, %v; want %q", l, err, tt.wantInReplyTo)
			}
			if l, err := h.MsgIDList("References"); err != nil || !slices.Equal(l, tt.wantRefs) {
				t.Errorf("References = %q, %v; want %q", l, err, tt.wantRefs)
			}
			if v, err := h.Text("List-Id"); err != nil || v != tt.wantListID {
				t.Errorf("List-Id = %q, %v; want %q", v, err, tt.wantListID)
			}
			want := map[string]string{
				"List-Post":                "<mailto:" + group + ">",
				"List-Help":                "<mailto:" + slug + "+help@lists.example.org>",
				"List-Archive":             "<https://lists.example.org/community/g/" + slug + "/archive>",
				"List-Unsubscribe":         "<" + rc.UnsubscribeURL + ">, <mailto:" + slug + "+unsubscribe@lists.example.org>",
				"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
				"Precedence":               "list",
				"MIME-Version":             "1.0",
				"X-Auto-Response-Suppress": "OOF",
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if ct, _, _ := h.ContentType(); ct != "multipart/alternative" {
				t.Errorf("Content-Type = %q", ct)
			}
			if strings.Contains(string(msg), rc.ReturnPath) || strings.Contains(string(msg), "Return-Path") {
				t.Error("the envelope sender is written into the message")
			}
			for _, part := range []string{m.text, m.html} {
				for _, s := range []string{rc.UnsubscribeURL, rc.UnsubscribeAllURL, rc.SettingsURL, "https://lists.example.org/community/g/" + slug + "/t/42", "Example Lists · Example Org"} {
					if !strings.Contains(part, s) && !strings.Contains(part, strings.ReplaceAll(s, "·", "&middot;")) {
						t.Errorf("part lacks %q:\n%s", s, part)
					}
				}
			}
		})
	}
}

func TestRenderBody(t *testing.T) {
	r := newTestRenderer(t, nil)
	m := parse(t, render(t, r, testPost(), testRecipient()))
	for _, s := range []string{
		"The *garden day* is on _Saturday_. Bring ~~shovels~~ gloves and see\nthe plan [1] or https://example.org/map.",
		"1. Meet at the gate\n2. Split into teams\n   - weeding\n   - planting",
		"> Last year we planted 40 trees.",
		"Task     | Who\n---------|------\nWeeding  | Ana\nPlanting | Bruno",
		"    tools = [\"rake\", \"hoe\"]",
		"[1] https://example.org/plan?a=1&b=2\n",
		"\n-- \nYou receive every message of Gardeners (gardeners@lists.example.org)\nbecause you are a member of this group, as bruno@example.com.",
	} {
		if !strings.Contains(m.text, s) {
			t.Errorf("text part lacks %q:\n%s", s, m.text)
		}
	}
	for _, s := range []string{
		`<strong>garden day</strong>`,
		`<em>Saturday</em>`,
		`<del>shovels</del>`,
		`<a href="https://example.org/plan?a=1&amp;b=2" rel="nofollow" style="color:#0969da;text-decoration:underline;">the plan</a>`,
		`<table style="margin:0 0 1em 0;border-collapse:collapse;">`,
		`<blockquote style=`,
		`<pre style=`,
		`Ana Silva</strong> posted in <a href="https://lists.example.org/community/g/gardeners"`,
		`because you are a member of this group, as bruno@example.com.`,
	} {
		if !strings.Contains(m.html, s) {
			t.Errorf("html part lacks %q:\n%s", s, m.html)
		}
	}
	if strings.Contains(m.html, "<style") {
		t.Error("html part relies on a <style> element")
	}
}

func TestRenderNonASCII(t *testing.T) {
	r := newTestRenderer(t, nil)
	p := testReply()
	p.AuthorName = `Zoë "Z" Ødegård-Ñúñez, <zoe@evil.example> =?utf-8?q?x?= 日本語の名前`
	p.Message.Subject = strings.Repeat("Très long sujet accentué ", 6)
	rc := testRecipient()
	rc.Name, rc.Email = "Åsa", "åsa@example.com"
	msg := render(t, r, p, rc)
	m := parse(t, msg)
	from, err := m.h.AddressList("From")
	if err != nil || len(from) != 1 {
		t.Fatalf("From: %v %v", from, err)
	}
	if want := strings.TrimSpace(p.AuthorName) + " via Café Ñandú"; from[0].Name != want || from[0].Address != "cafe@lists.example.org" {
		t.Errorf("From = %q <%s>, want %q", from[0].Name, from[0].Address, want)
	}
	if s, _ := m.h.Subject(); s != "[Café Ñandú] "+strings.TrimSpace(p.Message.Subject) {
		t.Errorf("Subject = %q", s)
	}
	if rt, err := m.h.AddressList("Reply-To"); err != nil || rt[0].Name != p.AuthorName {
		t.Errorf("Reply-To = %v, %v", rt, err)
	}
	// RFC 2047 §2: lines with encoded-words stay within 76 characters.
	header, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	for _, l := range strings.Split(header, "\r\n") {
		if strings.Contains(l, "=?") && len(l) > 76 {
			t.Errorf("encoded line is %d long: %q", len(l), l)
		}
		for _, c := range []byte(l) {
			if c >= 0x80 {
				t.Fatalf("non-ASCII in header line %q", l)
			}
		}
	}
	if !strings.Contains(m.text, "as åsa@example.com.") {
		t.Errorf("text footer lacks the recipient's address:\n%s", m.text)
	}
}

// allowedFields are the header fields a rendered message may have.
var allowedFields = map[string]bool{
	"DKIM-Signature": true, "Date": true, "From": true, "Sender": true, "Reply-To": true, "To": true,
	"Subject": true, "Message-ID": true, "In-Reply-To": true, "References": true, "List-Id": true,
	"List-Post": true, "List-Help": true, "List-Archive": true, "List-Unsubscribe": true,
	"List-Unsubscribe-Post": true, "Precedence": true, "X-Auto-Response-Suppress": true,
	"MIME-Version": true, "Content-Type": true, "X-Parley-Delivery": true,
}

func TestRenderHostileInput(t *testing.T) {
	r := newTestRenderer(t, nil)
	inject := "\r\nBcc: victim@example.com\r\nX-Injected: 1\n\nbody"
	p := testReply()
	p.Group.Name += inject
	p.AuthorName += inject
	p.AuthorEmail += inject
	p.Message.Subject += inject
	p.Message.InReplyTo += inject
	p.References = append(p.References, "ref@x"+inject, "\u2028X-Sep: 1")
	rc := testRecipient()
	rc.Name += inject
	rc.Email += inject
	rc.UnsubscribeURL += inject
	rc.UnsubscribeAllURL += inject
	rc.SettingsURL += "\x00\x1b\x7f\u0085" + inject
	rc.Delivery += inject // dropped whole: no partial token is written

	msg := render(t, r, p, rc)
	checkLines(t, msg)
	header, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	for _, l := range strings.Split(header, "\r\n") {
		if l[0] == ' ' || l[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(l, ":")
		if !ok || !allowedFields[name] {
			t.Errorf("unexpected header line %q", l)
		}
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h["X-Parley-Delivery"]; ok {
		t.Error("a delivery token with a line break was written")
	}
	for _, k := range []string{"Bcc", "X-Injected", "X-Sep"} {
		if _, ok := h[k]; ok {
			t.Errorf("injected %s header", k)
		}
	}
	for k, v := range h {
		if len(v) != 1 {
			t.Errorf("%s appears %d times", k, len(v))
		}
	}
	if got := h.Get("In-Reply-To"); got != "" {
		t.Errorf("In-Reply-To = %q, want none for an invalid id", got)
	}
	if got := h.Get("Reply-To"); strings.Contains(got, "zoe@") {
		t.Errorf("Reply-To uses an invalid author address: %q", got)
	}
	if got := h.Get("List-Unsubscribe"); !strings.HasPrefix(got, "<"+testRecipient().UnsubscribeURL+"Bcc:%20victim@example.com") {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	m := parse(t, msg)
	if !strings.Contains(m.text, "Café Ñandú Bcc: victim@example.com X-Injected: 1 body") {
		t.Errorf("text part lacks the flattened group name:\n%s", m.text)
	}
}

func TestRenderSanitizesHTML(t *testing.T) {
	r := newTestRenderer(t, nil)
	p := testPost()
	p.Message.Body = "Hi <script>alert('x')</script> there\n\n" +
		"[click](javascript:alert(1)) and <a href=\"javascript:alert(2)\">this</a>\n\n" +
		"<img src=\"https://example.org/a.png\" onerror=\"alert(3)\">\n\n" +
		"<div onclick=\"alert(4)\" style=\"position:fixed\">boxed</div>\n\n" +
		"<iframe src=\"https://evil.example\"></iframe>\n"
	m := parse(t, render(t, r, p, testRecipient()))
	body, _, _ := strings.Cut(m.html, "You receive every message")
	for _, bad := range []string{"<script", "alert(", "javascript:", "onerror", "onclick", "position:fixed", "<iframe"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("html part contains %q:\n%s", bad, body)
		}
	}
	for _, good := range []string{"click", "this", "boxed", `<img src="https://example.org/a.png" style="max-width:100%;height:auto;border:0;"/>`} {
		if !strings.Contains(body, good) {
			t.Errorf("html part lacks %q:\n%s", good, body)
		}
	}
	if strings.Contains(m.text, "javascript:") || strings.Contains(m.text, "alert(") {
		t.Errorf("text part lists a script:\n%s", m.text)
	}
}

func TestRenderOriginPrefix(t *testing.T) {
	for _, origin := range []string{"https://example.org/lists", "https://example.org/lists/", "https://example.org/lists?x=1#top"} {
		t.Run(origin, func(t *testing.T) {
			r, err := NewRenderer(renderTestSite(t, origin), nil)
			if err != nil {
				t.Fatal(err)
			}
			msg := render(t, r, testPost(), testRecipient())
			m := parse(t, msg)
			if got := m.h.Get("List-Archive"); got != "<https://example.org/lists/g/gardeners/archive>" {
				t.Errorf("List-Archive = %q", got)
			}
			for _, part := range []string{m.text, m.html} {
				if !strings.Contains(part, "https://example.org/lists/g/gardeners/t/42\n") && !strings.Contains(part, `href="https://example.org/lists/g/gardeners/t/42"`) {
					t.Errorf("part lacks the thread URL with its prefix:\n%s", part)
				}
			}
		})
	}
}

func TestNewRendererErrors(t *testing.T) {
	site := renderTestSite(t, "https://example.org")
	for _, s := range []Site{
		{MailDomain: "example.org"},
		{URLs: site.URLs, MailDomain: ""},
		{URLs: site.URLs, MailDomain: "example.org\r\nBcc: x"},
	} {
		if _, err := NewRenderer(s, nil); err == nil {
			t.Errorf("NewRenderer(%+v) = nil error", s)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	r := newTestRenderer(t, nil)
	tests := map[string]func(*Post){
		"no message id":        func(p *Post) { p.Message.MessageID = "" },
		"message id with crlf": func(p *Post) { p.Message.MessageID = "a@b\r\nBcc: x" },
		"bad slug":             func(p *Post) { p.Group.Slug = "a b" },
		"no date":              func(p *Post) { p.Message.CreatedAt = time.Time{} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			p := testPost()
			mutate(&p)
			if _, err := r.Prepare(p); err == nil {
				t.Error("Prepare succeeded")
			}
		})
	}
}

func TestRenderAppendsAndIsStable(t *testing.T) {
	r := newTestRenderer(t, nil)
	pr, err := r.Prepare(testPost())
	if err != nil {
		t.Fatal(err)
	}
	want, err := pr.Render(nil, testRecipient())
	if err != nil {
		t.Fatal(err)
	}
	got, err := pr.Render([]byte("prefix"), testRecipient())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Error("Render with a non-empty dst did not append")
	}
	// Concurrent renders for different recipients share the Prepared.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			rc := testRecipient()
			rc.UnsubscribeURL = fmt.Sprintf("https://lists.example.org/community/u/r%d", i)
			var buf []byte
			for range 20 {
				msg, err := pr.Render(buf[:0], rc)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Contains(msg, []byte("<"+rc.UnsubscribeURL+">")) {
					t.Error("message lacks its recipient's link")
					return
				}
				buf = msg
			}
		})
	}
	wg.Wait()
}

func TestRenderWithoutUnsubscribeURL(t *testing.T) {
	r := newTestRenderer(t, nil)
	rc := testRecipient()
	rc.UnsubscribeURL = "javascript:alert(1)"
	m := parse(t, render(t, r, testPost(), rc))
	if got := m.h.Get("List-Unsubscribe"); got != "<mailto:gardeners+unsubscribe@lists.example.org>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if m.h.Has("List-Unsubscribe-Post") {
		t.Error("one-click offered without an https URL")
	}
	if strings.Contains(m.html, "javascript:") {
		t.Error("html footer has a javascript: link")
	}
}

func TestAppendQP(t *testing.T) {
	cases := []string{
		"", "a", "a = b\n", "trailing space \nand tab\t\n", "ends with space ",
		strings.Repeat("x", 200) + "\n", strings.Repeat("é", 100), strings.Repeat("=", 80),
		"crlf\r\nline\rlone cr\n", "\x00\x1b\x7f\xff", "--=_parley_boundary\n",
		strings.Repeat("a ", 60) + "\n",
	}
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	alphabet := []byte("ab =\t\r\n.é\x00~")
	for range 500 {
		b := make([]byte, rng.IntN(300))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, in := range cases {
		enc := appendQP(nil, []byte(in))
		for _, l := range strings.Split(string(enc), "\r\n") {
			if len(l) > 76 || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("appendQP(%q): bad line %q", in, l)
			}
			if strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
				t.Fatalf("appendQP(%q): trailing whitespace in %q", in, l)
			}
			if strings.HasPrefix(l, "--=_") {
				t.Fatalf("appendQP(%q): line looks like a boundary: %q", in, l)
			}
		}
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("decoding appendQP(%q) = %q: %v", in, enc, err)
		}
		// Line breaks come back as CRLF; a lone CR is kept as data.
		want := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n")
		if string(dec) != want {
			t.Fatalf("round trip of %q: got %q via %q", in, dec, enc)
		}
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDKIM(t *testing.T) {
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPKCS8, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	edRecord := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edKey.Public().(ed25519.PublicKey))
	rsaRecord := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub)

	tests := []struct {
		name, pemType string
		der           []byte
		record        string
	}{
		{"ed25519 pkcs8", "PRIVATE KEY", edDER, edRecord},
		{"rsa pkcs1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), rsaRecord},
		{"rsa pkcs8", "PRIVATE KEY", rsaPKCS8, rsaRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dk, err := LoadDKIM("lists.example.org", "parley", writePEM(t, tt.pemType, tt.der))
			if err != nil {
				t.Fatal(err)
			}
			if dk.TXTRecord() != tt.record {
				t.Errorf("TXTRecord = %q, want %q", dk.TXTRecord(), tt.record)
			}
			if dk.RecordName() != "parley._domainkey.lists.example.org" {
				t.Errorf("RecordName = %q", dk.RecordName())
			}
			r := newTestRenderer(t, dk)
			// A new thread has no In-Reply-To or References: signing
			// names them anyway, and that must still verify.
			pr, err := r.Prepare(testPost())
			if err != nil {
				t.Fatal(err)
			}
			msg, err := pr.Render(nil, testRecipient())
			if err != nil {
				t.Fatal(err)
			}
			verifyDKIM(t, msg, tt.record)

			pr, err = r.Prepare(testReply())
			if err != nil {
				t.Fatal(err)
			}
			msg, err = pr.Render([]byte("junk before"), testRecipient())
			if err != nil {
				t.Fatal(err)
			}
			msg, ok := bytes.CutPrefix(msg, []byte("junk before"))
			if !ok || !bytes.HasPrefix(msg, []byte("DKIM-Signature: ")) {
				t.Fatalf("signature not at the start of the message:\n%.200s", msg)
			}
			checkLines(t, msg)
			verifyDKIM(t, msg, tt.record)
			tampered := bytes.Replace(msg, []byte("unsub-gardeners-bruno"), []byte("unsub-gardeners-mallory"), 1)
			vs, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), dkimLookup(tt.record))
			if err != nil || len(vs) != 1 || vs[0].Err == nil {
				t.Errorf("a changed List-Unsubscribe still verifies: %v, %v", vs, err)
			}
		})
	}
}

func dkimLookup(record string) *dkim.VerifyOptions {
	return &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		if domain != "parley._domainkey.lists.example.org" {
			return nil, fmt.Errorf("unexpected lookup %q", domain)
		}
		return []string{record}, nil
	}}
}

func verifyDKIM(t *testing.T, msg []byte, record string) {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), dkimLookup(record))
	if err != nil || len(vs) != 1 {
		t.Fatalf("Verify: %v, %v", vs, err)
	}
	v := vs[0]
	if v.Err != nil {
		t.Fatalf("signature does not verify: %v", v.Err)
	}
	if v.Domain != "lists.example.org" {
		t.Errorf("signed domain %q", v.Domain)
	}
	for _, k := range []string{"from", "list-unsubscribe", "list-unsubscribe-post", "references", "content-type"} {
		if !slices.ContainsFunc(v.HeaderKeys, func(h string) bool { return strings.EqualFold(h, k) }) {
			t.Errorf("%s is not signed: %v", k, v.HeaderKeys)
		}
	}
}

func TestLoadDKIMErrors(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(edKey)
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(notPEM, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct{ domain, file string }{
		"missing file": {"example.org", filepath.Join(t.TempDir(), "absent.pem")},
		"not PEM":      {"example.org", notPEM},
		"wrong type":   {"example.org", writePEM(t, "CERTIFICATE", der)},
		"garbage":      {"example.org", writePEM(t, "PRIVATE KEY", []byte("garbage"))},
		"bad domain":   {"example.org\r\nX: y", writePEM(t, "PRIVATE KEY", der)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadDKIM(tt.domain, "sel", tt.file); err == nil {
				t.Error("LoadDKIM succeeded")
			}
		})
	}
	var pathErr *os.PathError
	if _, err := LoadDKIM("example.org", "sel", tests["missing file"].file); !errors.As(err, &pathErr) {
		t.Errorf("missing file: %v does not wrap the *os.PathError", err)
	}
}

func benchRecipient(i int) Recipient {
	token := strings.Repeat("Zm9vYmFy", 12)
	return Recipient{
		Email:             fmt.Sprintf("member%d@example.com", i),
		Name:              "Member",
		ReturnPath:        "bounces+" + token[:24] + "@lists.example.org",
		UnsubscribeURL:    "https://lists.example.org/community/u/" + token,
		UnsubscribeAllURL: "https://lists.example.org/community/u/" + token + "x",
		SettingsURL:       "https://lists.example.org/community/email-settings/" + token,
	}
}

func BenchmarkRender(b *testing.B) {
	r := newTestRenderer(b, nil)
	p := testPost()
	p.Message.Body = strings.Repeat(testBody+"\n", 3) // about 1.5 KB of markdown
	pr, err := r.Prepare(p)
	if err != nil {
		b.Fatal(err)
	}
	rcs := make([]Recipient, 64)
	for i := range rcs {
		rcs[i] = benchRecipient(i)
	}
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		buf, err = pr.Render(buf[:0], rcs[i%len(rcs)])
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkRenderDKIMEd25519(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	dk, err := NewDKIM("lists.example.org", "parley", key)
	if err != nil {
		b.Fatal(err)
	}
	pr, err := newTestRenderer(b, dk).Prepare(testPost())
	if err != nil {
		b.Fatal(err)
	}
	rc := benchRecipient(1)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = pr.Render(buf[:0], rc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrepare(b *testing.B) {
	r := newTestRenderer(b, nil)
	p := testPost()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Prepare(p); err != nil {
			b.Fatal(err)
		}
	}
}
