package digest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	gohtml "html"
	htmltemplate "html/template"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/templates"
)

// Limits of what one digest shows.
const (
	maxTextRunes = 1200 // per message; "read the rest" links to the thread
	maxPerThread = 10   // messages shown per thread; long threads are summarised
	// maxShownBytes bounds the message blocks of one digest, as encoded
	// in both parts. Gmail clips mail over 102 KB and hides the rest,
	// unsubscribe links included; past this budget threads are listed
	// with their counts and links only, so even a very busy day's digest
	// arrives whole.
	maxShownBytes     = 64_000
	maxDigestMessages = 500 // per digest
)

// Site is what digests need to know about the installation.
type Site struct {
	URLs         *urls.Map // every link in a digest
	BrandTitle   string
	Organization string
	MailDomain   string
	FromEmail    string // DEFAULT_FROM_EMAIL
}

// Renderer turns a member's digest items into an email. Its templates
// are parsed once.
type Renderer struct {
	site Site
	keys sign.Keys
	text *texttemplate.Template
	html *htmltemplate.Template

	mu    sync.Mutex
	frags map[fragKey]messageView
}

// NewRenderer parses the digest templates.
func NewRenderer(site Site, keys sign.Keys) (*Renderer, error) {
	if site.URLs == nil {
		return nil, errors.New("digest: site has no map of URLs")
	}
	t, err := texttemplate.ParseFS(templates.FS, "email/digest.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parsing digest text template: %w", err)
	}
	h, err := htmltemplate.ParseFS(templates.FS, "email/digest.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("parsing digest html template: %w", err)
	}
	return &Renderer{site: site, keys: keys, text: t, html: h, frags: map[fragKey]messageView{}}, nil
}

// message renders one message's block, or takes it from the cache.
func (r *Renderer) message(it store.DigestItem, loc *time.Location, threadURL string) messageView {
	k := fragKey{it.MessageID, loc.String()}
	r.mu.Lock()
	v, ok := r.frags[k]
	r.mu.Unlock()
	if ok {
		return v
	}
	src, cut := cutMarkdown(it.Body, maxTextRunes)
	// The message as group mail shows it: the text part's plain text and
	// the HTML part's sanitised, balanced rendering of its Markdown.
	body, err := markup.MailHTML(src)
	if err != nil {
		body = htmltemplate.HTML(`<p style="white-space:pre-wrap;">` + gohtml.EscapeString(src) + `</p>`)
	}
	b := blockView{Author: oneLine(it.AuthorName), When: it.CreatedAt.In(loc).Format("Mon 2 Jan 15:04"),
		Text: markup.MailText(src), HTML: body, Cut: cut, ThreadURL: threadURL}
	var tb, hb bytes.Buffer
	if err := r.text.ExecuteTemplate(&tb, "message", b); err != nil {
		tb.Reset()
		fmt.Fprintf(&tb, "%s, %s:\n%s\n", b.Author, b.When, b.Text) // the template is ours and tested; never lose the message
	}
	if err := r.html.ExecuteTemplate(&hb, "message", b); err != nil {
		hb.Reset()
		fmt.Fprintf(&hb, "<div>%s</div>\n", body)
	}
	marker := fmt.Sprintf("\x01%d\x01", it.MessageID)
	v = messageView{Text: marker, HTML: htmltemplate.HTML(marker),
		qpText: outbound.AppendQP(nil, tb.Bytes()), qpHTML: outbound.AppendQP(nil, hb.Bytes())}
	r.mu.Lock()
	if len(r.frags) > 50_000 {
		clear(r.frags) // a bound on memory; recent messages come back quickly
	}
	r.frags[k] = v
	r.mu.Unlock()
	return v
}

type view struct {
	Title, Summary, Brand, Organization, StopDigestsURL string
	Groups                                              []groupView
	PauseURL                                            string // pause all mail until a date (issue 19)
}

type groupView struct {
	Name, UnsubscribeURL, SettingsURL string
	Threads                           []threadView
}

type threadView struct {
	Subject, URL string
	// MuteURL and FollowURL: the member's conversation links (issue 19).
	MuteURL, FollowURL string
	Count, More        int               // messages shown, and not shown
	Text               string            // a marker the template writes, replaced by the thread's message blocks
	HTML               htmltemplate.HTML // the same for the HTML part
	Files              []fileView        // the files of the thread's new messages, with the member's links
	Private            []privateView     // the member's private addresses to the thread's authors (private.go)
	messages           []messageView
}

// fileView is a message's file as a digest lists it.
type fileView struct{ Name, Size, URL string }

// messageView is one message, rendered once per message and timezone
// and shared by every digest that shows it: with thousands of members on
// one group, the messages are the same and only the links differ.
type messageView struct {
	Text           string            // a marker the template writes, replaced by QPText
	HTML           htmltemplate.HTML // the same for the HTML part
	qpText, qpHTML []byte            // the block, quoted-printable encoded once
}

// blockView is what the "message" templates see: one message's block.
type blockView struct {
	Author, When string
	Text         string            // the message as plain text
	HTML         htmltemplate.HTML // the message as sanitised HTML
	Cut          bool              // shortened: "Read the rest" links to ThreadURL
	ThreadURL    string
}

type fragKey struct {
	id  int64
	loc string
}

// Render builds the digest email for a member. loc is the member's
// timezone, for the times shown. digestID names the digest in the
// signed X-Parley-Delivery header, by which a report that returns the
// digest proves whom it is about (0 for none).
func (r *Renderer) Render(m store.DigestMember, digestID int64, period Period, items []store.DigestItem, loc *time.Location, now time.Time) ([]byte, error) {
	v := view{Brand: r.site.BrandTitle, Organization: r.site.Organization,
		StopDigestsURL: r.site.URLs.UnsubscribeDigests(m.UserID), PauseURL: r.site.URLs.Pause(m.UserID)}
	threads, shown := 0, 0
	for i := 0; i < len(items); {
		it := items[i]
		g := groupView{Name: it.GroupName,
			UnsubscribeURL: r.site.URLs.Unsubscribe(m.UserID, it.GroupID),
			SettingsURL:    r.site.URLs.EmailSettings(m.UserID, it.GroupID)}
		for i < len(items) && items[i].GroupID == it.GroupID {
			tid := items[i].ThreadID
			tv := threadView{Subject: oneLine(items[i].Subject), URL: r.site.URLs.Thread(items[i].GroupSlug, tid),
				MuteURL:   r.site.URLs.ThreadMail(m.UserID, tid, mailflow.ThreadMuted),
				FollowURL: r.site.URLs.ThreadMail(m.UserID, tid, mailflow.ThreadFollowed)}
			for i < len(items) && items[i].GroupID == it.GroupID && items[i].ThreadID == tid {
				for _, f := range items[i].Files {
					tv.Files = append(tv.Files, fileView{Name: oneLine(f.Name), Size: mailflow.HumanSize(f.Size),
						URL: r.site.URLs.File(m.UserID, f.ID)})
				}
				tv.Private = r.offerPrivate(tv.Private, m.UserID, items[i])
				if len(tv.messages) < maxPerThread && shown < maxShownBytes {
					mv := r.message(items[i], loc, tv.URL)
					tv.messages = append(tv.messages, mv)
					shown += len(mv.qpText) + len(mv.qpHTML)
				} else {
					tv.More++
				}
				i++
			}
			threads++
			tv.Count = len(tv.messages)
			tv.Text = fmt.Sprintf("\x01t%d\x01", tid)
			tv.HTML = htmltemplate.HTML(tv.Text)
			g.Threads = append(g.Threads, tv)
		}
		v.Groups = append(v.Groups, g)
	}
	word := "daily"
	if period == Weekly {
		word = "weekly"
	}
	v.Title = fmt.Sprintf("Your %s digest from %s", word, r.site.BrandTitle)
	v.Summary = fmt.Sprintf("%s in %s, %s.", plural(len(items), "new message"), plural(len(v.Groups), "group"), plural(threads, "thread"))

	// Each thread's message blocks, already encoded, joined once here and
	// written where the template put the thread's marker.
	frags := map[string]messageView{}
	for _, g := range v.Groups {
		for _, t := range g.Threads {
			var f messageView
			for _, m := range t.messages {
				f.qpText = append(append(f.qpText, "\r\n"...), m.qpText...)
				f.qpHTML = append(append(f.qpHTML, "\r\n"...), m.qpHTML...)
			}
			frags[t.Text] = f
		}
	}
	var text, html bytes.Buffer
	if err := r.text.ExecuteTemplate(&text, "digest", v); err != nil {
		return nil, fmt.Errorf("rendering digest text: %w", err)
	}
	if !m.PlainText {
		if err := r.html.ExecuteTemplate(&html, "digest", v); err != nil {
			return nil, fmt.Errorf("rendering digest html: %w", err)
		}
	}

	h, boundary, err := r.header(m, digestID, word, v, now)
	if err != nil {
		return nil, err
	}
	if m.PlainText {
		// Plain-text-only email (issue 19): one text/plain part, the
		// text part of everyone else's digest.
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
	}

	// The message blocks were encoded once, for every digest that shows
	// them; only the rest of each part is encoded here.
	out := bytes.NewBuffer(make([]byte, 0, text.Len()+html.Len()+text.Len()/2+4096))
	if err := textproto.WriteHeader(out, h.Header.Header); err != nil {
		return nil, err
	}
	if m.PlainText {
		return appendPart(out.Bytes(), text.Bytes(), false, frags)
	}
	return splice(out.Bytes(), boundary, text.Bytes(), html.Bytes(), frags)
}

// header is the digest's header: from the site, to the member, with
// one-click unsubscribe from digests (RFC 2369, RFC 8058) and the marks
// of automatic mail. It returns the boundary of the parts too.
func (r *Renderer) header(m store.DigestMember, digestID int64, word string, v view, now time.Time) (mail.Header, string, error) {
	var h mail.Header
	from, err := mail.ParseAddress(r.site.FromEmail)
	if err != nil {
		return h, "", fmt.Errorf("DEFAULT_FROM_EMAIL: %w", err)
	}
	h.SetAddressList("From", []*mail.Address{from})
	h.SetAddressList("To", []*mail.Address{{Name: oneLine(m.Name), Address: m.Email}})
	h.SetSubject(fmt.Sprintf("%s: %s", strings.ToUpper(word[:1])+word[1:]+" digest", v.Summary))
	h.SetDate(now)
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	h.SetMessageID("parley.digest." + hex.EncodeToString(id) + "@" + r.site.MailDomain)
	// RFC 2369 and 8058: one-click unsubscribe from digests as a whole.
	h.Set("List-Unsubscribe", "<"+v.StopDigestsURL+">")
	h.Set("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	if digestID != 0 {
		h.Set(sign.DeliveryHeaderField, r.keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: digestID}))
	}
	h.Set("Auto-Submitted", "auto-generated")
	h.Set("Precedence", "bulk")
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set("X-Loop", "parley@"+r.site.MailDomain)
	h.Set("MIME-Version", "1.0")
	boundary := "parley-digest-" + hex.EncodeToString(id)
	h.Set("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	return h, boundary, nil
}

// splice writes the text and HTML parts after buf, quoted-printable,
// putting each thread's message blocks (encoded once, for every digest
// that shows them) where the template wrote the thread's marker.
func splice(buf []byte, boundary string, text, html []byte, frags map[string]messageView) ([]byte, error) {
	for _, part := range []struct {
		typ  string
		body []byte
		html bool
	}{{"text/plain", text, false}, {"text/html", html, true}} {
		buf = append(buf, "--"+boundary+"\r\nContent-Type: "+part.typ+"; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
		var err error
		if buf, err = appendPart(buf, part.body, part.html, frags); err != nil {
			return nil, err
		}
	}
	buf = append(buf, "--"+boundary+"--\r\n"...)
	return buf, nil
}

// appendPart writes one part's body after buf, quoted-printable, with
// each thread's message blocks (HTML ones when html) at its marker, and
// ends it with a line break.
func appendPart(buf, body []byte, html bool, frags map[string]messageView) ([]byte, error) {
	for len(body) > 0 {
		i := bytes.IndexByte(body, 1)
		if i < 0 {
			buf = outbound.AppendQP(buf, body)
			break
		}
		j := bytes.IndexByte(body[i+1:], 1)
		if j < 0 {
			return nil, fmt.Errorf("rendering digest: unterminated message marker")
		}
		buf = outbound.AppendQP(buf, body[:i])
		f, ok := frags[string(body[i:i+j+2])]
		if !ok {
			return nil, fmt.Errorf("rendering digest: unknown message marker")
		}
		if html {
			buf = append(buf, f.qpHTML...)
		} else {
			buf = append(buf, f.qpText...)
		}
		body = body[i+j+2:]
	}
	if n := len(buf); n < 2 || buf[n-2] != '\r' || buf[n-1] != '\n' {
		buf = append(buf, "\r\n"...)
	}
	return buf, nil
}

// cutMarkdown cuts a message's Markdown to about n characters, at the last
// paragraph break in the second half of them, else the last line break,
// else the last space, so that the cut rarely splits a Markdown mark
// (whatever it splits renders as text, and the HTML is balanced anyway).
func cutMarkdown(s string, n int) (string, bool) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := string([]rune(s)[:n])
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(r, sep); i > len(r)/2 {
			return strings.TrimSpace(r[:i]) + " …", true
		}
	}
	return strings.TrimSpace(r) + "…", true
}

func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
