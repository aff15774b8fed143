package outbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"

	"github.com/parleymail/parley/mailflow/markup"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/templates"
)

// Site is what every email needs to know about the installation.
type Site struct {
	URLs         *urls.Map // every link in the message (ORIGIN, its path prefix kept)
	BrandTitle   string
	Organization string
	MailDomain   string // a group's address is slug@MailDomain
}

// Post is one accepted message with its context.
type Post struct {
	Group       mailflow.Group
	Thread      mailflow.Thread
	Message     mailflow.Message // Body is markdown; MessageID and InReplyTo have no angle brackets
	AuthorName  string
	AuthorEmail string   // used only for Reply-To when Group.ReplyTo is "sender"
	References  []string // Message-IDs (no brackets) of earlier messages of the thread, oldest first
	Files       []File   // the message's files (resources), listed with each recipient's links
}

// Recipient is one person the message goes to, with their personal links,
// already signed by the caller.
type Recipient struct {
	Email, Name       string
	ReturnPath        string // VERP envelope sender (MAIL FROM); not written into the message
	UnsubscribeURL    string // one-click https URL for this group (List-Unsubscribe and footer)
	UnsubscribeAllURL string // stops all email from this site
	SettingsURL       string // changes the recipient's email setting for this group
	// Delivery is the signed X-Parley-Delivery value naming this one
	// delivery (sign.Keys.DeliveryHeader): a report that returns the copy
	// proves with it whom it is about, wherever the report is sent.
	Delivery string
	// FileURLs are the recipient's links to the post's files, in the
	// order of Prepared.Files (urls.Map.File).
	FileURLs []string
}

// Renderer turns posts into email. It is safe for concurrent use; build one
// per process with NewRenderer, which compiles the templates once.
type Renderer struct {
	site   Site
	dkim   *DKIM
	txtMsg *texttemplate.Template
	txtFtr *texttemplate.Template
	htmMsg *htmltemplate.Template
	htmFtr *htmltemplate.Template
	pool   sync.Pool // of *scratch, reused by Render
}

// Prepared is a post with its per-message work done: markdown rendered and
// sanitized, headers encoded, message parts quoted-printable encoded.
// Render adds what differs per recipient. A Prepared is immutable and safe
// for concurrent use.
type Prepared struct {
	r      *Renderer
	view   messageView
	mailto string // the List-Unsubscribe mailto: address, without brackets
	head   []byte // header fields before List-Unsubscribe
	mid    []byte // header fields after it, the text part's header and its encoded message
	html   []byte // the HTML part's header and its encoded message
	tail   []byte // the closing boundary
	files  []File // listed in the footer, with the recipient's links
}

// messageView is what the "message" templates see, and through
// footerView, the "footer" templates.
type messageView struct {
	GroupName    string
	GroupAddress string
	GroupURL     string
	Subject      string
	AuthorName   string
	ThreadURL    string
	BrandTitle   string
	Organization string
	Text         string            // the message as plain text
	HTML         htmltemplate.HTML // the message as sanitized HTML
}

// footerView is what the per-recipient "footer" templates see: the
// recipient's values and a copy of the message's. It has no embedded
// struct, which would make each field lookup of text/template allocate.
type footerView struct {
	GroupName         string
	GroupAddress      string
	GroupURL          string
	Subject           string
	AuthorName        string
	ThreadURL         string
	BrandTitle        string
	Organization      string
	Email             string
	Name              string
	UnsubscribeURL    string
	UnsubscribeAllURL string
	SettingsURL       string
	Files             []fileLink
}

// scratch holds Render's buffers between calls.
type scratch struct {
	view footerView
	text bytes.Buffer
	html bytes.Buffer
}

// dateLayout is RFC 5322 §3.3 date-time.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// maxReferences caps the References field: long threads would otherwise
// grow headers without bound. The first message and the latest ones are
// kept, as RFC 5322 §3.6.4 suggests trimming keeps the thread's root.
const maxReferences = 20

// NewRenderer checks the site and compiles the email templates. dkim may
// be nil: messages are then not signed.
func NewRenderer(site Site, dkim *DKIM) (*Renderer, error) {
	if site.URLs == nil {
		return nil, errors.New("outbound: site has no map of URLs")
	}
	if !validDomain(site.MailDomain) {
		return nil, fmt.Errorf("outbound: invalid mail domain %q", site.MailDomain)
	}
	r := &Renderer{
		site: site,
		dkim: dkim,
	}
	r.site.BrandTitle = cleanLine(site.BrandTitle)
	r.site.Organization = cleanLine(site.Organization)
	r.pool.New = func() any { return new(scratch) }

	var err error
	if r.txtMsg, r.txtFtr, err = parseText(); err != nil {
		return nil, err
	}
	if r.htmMsg, r.htmFtr, err = parseHTML(); err != nil {
		return nil, err
	}
	return r, nil
}

func parseText() (msg, ftr *texttemplate.Template, err error) {
	t, err := texttemplate.ParseFS(templates.FS, "email/message.txt.tmpl")
	if err != nil {
		return nil, nil, fmt.Errorf("outbound: parsing text template: %w", err)
	}
	msg, ftr = t.Lookup("message"), t.Lookup("footer")
	if msg == nil || ftr == nil {
		return nil, nil, errors.New(`outbound: message.txt.tmpl must define "message" and "footer"`)
	}
	return msg, ftr, nil
}

func parseHTML() (msg, ftr *htmltemplate.Template, err error) {
	t, err := htmltemplate.ParseFS(templates.FS, "email/message.html.tmpl")
	if err != nil {
		return nil, nil, fmt.Errorf("outbound: parsing html template: %w", err)
	}
	msg, ftr = t.Lookup("message"), t.Lookup("footer")
	if msg == nil || ftr == nil {
		return nil, nil, errors.New(`outbound: message.html.tmpl must define "message" and "footer"`)
	}
	return msg, ftr, nil
}

// Prepare does the per-message work once: markdown to sanitized HTML and to
// plain text, the header fields every recipient shares, and the
// quoted-printable encoding of both message bodies.
func (r *Renderer) Prepare(p Post) (*Prepared, error) {
	slug := p.Group.Slug
	if !validSlug(slug) {
		return nil, fmt.Errorf("outbound: invalid group slug %q", slug)
	}
	msgID, ok := cleanMsgID(p.Message.MessageID)
	if !ok {
		return nil, fmt.Errorf("outbound: invalid message id %q", p.Message.MessageID)
	}
	if p.Message.CreatedAt.IsZero() {
		return nil, errors.New("outbound: message has no creation time")
	}
	domain := r.site.MailDomain
	groupAddr := slug + "@" + domain
	groupName := cleanLine(p.Group.Name)
	if groupName == "" {
		groupName = slug
	}
	author := cleanLine(p.AuthorName)
	if author == "" {
		author = cleanLine(p.Message.AuthorName)
	}
	subject := cleanLine(p.Message.Subject)
	if subject == "" {
		subject = cleanLine(p.Thread.Subject)
	}
	if subject == "" {
		subject = "(no subject)"
	}
	if tag := "[" + groupName + "]"; !strings.Contains(subject, tag) {
		subject = tag + " " + subject
	}

	sanitized, err := BodyHTML(p.Message.Body)
	if err != nil {
		return nil, err
	}

	pr := &Prepared{
		r: r,
		view: messageView{
			GroupName:    groupName,
			GroupAddress: groupAddr,
			GroupURL:     r.site.URLs.Group(slug),
			Subject:      subject,
			AuthorName:   author,
			ThreadURL:    r.site.URLs.Thread(slug, p.Thread.ID),
			BrandTitle:   r.site.BrandTitle,
			Organization: r.site.Organization,
			Text:         BodyText(p.Message.Body),
			HTML:         sanitized,
		},
		mailto: "mailto:" + slug + "+unsubscribe@" + domain,
		files:  p.Files,
	}

	// RFC 2046 §5.1.1: the boundary must not occur in any part. Both
	// parts are quoted-printable, which writes every "=" as "=3D", so a
	// boundary starting with "=_" cannot; deriving it from the Message-ID
	// keeps output stable for a message.
	sum := sha256.Sum256([]byte(msgID))
	boundary := "=_parley_" + hex.EncodeToString(sum[:12])

	// Header fields in the order of RFC 5322 §3.6's table, then the list
	// fields of RFC 2369 and RFC 2919.
	var h []byte
	h = appendField(h, "Date", p.Message.CreatedAt.Format(dateLayout))
	from := groupName
	if author != "" {
		from = author + " via " + groupName
	}
	h = appendField(h, "From", string(appendPhrase(nil, from))+" <"+groupAddr+">")
	h = appendField(h, "Sender", "<"+slug+"+owner@"+domain+">")
	replyTo := string(appendPhrase(nil, groupName)) + " <" + groupAddr + ">"
	if p.Group.ReplyTo == mailflow.ReplyToSender {
		if addr, ok := cleanAddress(p.AuthorEmail); ok {
			replyTo = "<" + addr + ">"
			if author != "" {
				replyTo = string(appendPhrase(nil, author)) + " " + replyTo
			}
		}
	}
	h = appendField(h, "Reply-To", replyTo)
	h = appendField(h, "To", string(appendPhrase(nil, groupName))+" <"+groupAddr+">")
	h = appendField(h, "Subject", encodeUnstructured(subject))
	h = appendField(h, "Message-ID", "<"+msgID+">")
	inReplyTo, hasParent := cleanMsgID(p.Message.InReplyTo)
	if hasParent {
		h = appendField(h, "In-Reply-To", "<"+inReplyTo+">")
	}
	if refs := references(p.References, inReplyTo, msgID); len(refs) > 0 {
		h = appendField(h, "References", "<"+strings.Join(refs, "> <")+">")
	}
	h = appendField(h, "List-Id", string(appendPhrase(nil, groupName))+" <"+slug+"."+domain+">")
	h = appendField(h, "List-Post", "<mailto:"+groupAddr+">")
	h = appendField(h, "List-Help", "<mailto:"+slug+"+help@"+domain+">")
	h = appendField(h, "List-Archive", "<"+r.site.URLs.Archive(slug)+">")
	pr.head = h

	var m []byte
	m = appendField(m, "Precedence", "list")
	// Keeps Exchange and Outlook from sending out-of-office replies to list mail.
	m = appendField(m, "X-Auto-Response-Suppress", "OOF")
	m = appendField(m, "MIME-Version", "1.0")
	// With files attached, the text and HTML alternatives are the first
	// part of a multipart/mixed (RFC 2046 §5.1.3) and the files follow.
	mixed := "=_parley_m" + hex.EncodeToString(sum[12:24])
	if attached(p.Files) {
		m = appendField(m, "Content-Type", `multipart/mixed; boundary="`+mixed+`"`)
		m = append(m, "\r\n--"+mixed+"\r\n"...)
	}
	m = appendField(m, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	m = append(m, "\r\n--"...)
	m = append(m, boundary...)
	m = append(m, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	var part bytes.Buffer
	if err := r.txtMsg.Execute(&part, &pr.view); err != nil {
		return nil, fmt.Errorf("outbound: executing text template: %w", err)
	}
	m = appendQP(m, endLine(part.Bytes()))
	pr.mid = m

	part.Reset()
	if err := r.htmMsg.Execute(&part, &pr.view); err != nil {
		return nil, fmt.Errorf("outbound: executing html template: %w", err)
	}
	hp := append([]byte("--"), boundary...)
	hp = append(hp, "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	pr.html = appendQP(hp, endLine(part.Bytes()))
	pr.tail = []byte("--" + boundary + "--\r\n")
	if attached(p.Files) {
		pr.tail = append(pr.tail, attachments(p.Files, mixed)...)
		pr.tail = append(pr.tail, "--"+mixed+"--\r\n"...)
	}
	return pr, nil
}

// Render appends the complete message for one recipient to dst, with CRLF
// line endings, signed when the Renderer has a DKIM key, and returns the
// extended slice. On error dst is returned unchanged. The recipient is not
// named in the header: like every list, the message is addressed To the
// group and the recipient is in the envelope only.
func (p *Prepared) Render(dst []byte, rc Recipient) ([]byte, error) {
	r := p.r
	s := r.pool.Get().(*scratch)
	defer func() {
		s.view = footerView{} // keep no recipient's links in the pool
		r.pool.Put(s)
	}()
	v := &p.view
	s.view = footerView{
		GroupName:         v.GroupName,
		GroupAddress:      v.GroupAddress,
		GroupURL:          v.GroupURL,
		Subject:           v.Subject,
		AuthorName:        v.AuthorName,
		ThreadURL:         v.ThreadURL,
		BrandTitle:        v.BrandTitle,
		Organization:      v.Organization,
		Email:             cleanLine(rc.Email),
		Name:              cleanLine(rc.Name),
		UnsubscribeURL:    cleanURL(rc.UnsubscribeURL),
		UnsubscribeAllURL: cleanURL(rc.UnsubscribeAllURL),
		SettingsURL:       cleanURL(rc.SettingsURL),
		Files:             p.fileLinks(rc.FileURLs),
	}
	s.text.Reset()
	s.html.Reset()
	if err := r.txtFtr.Execute(&s.text, &s.view); err != nil {
		return dst, fmt.Errorf("outbound: executing text footer: %w", err)
	}
	if err := r.htmFtr.Execute(&s.html, &s.view); err != nil {
		return dst, fmt.Errorf("outbound: executing html footer: %w", err)
	}

	start := len(dst)
	// Quoted-printable grows text by a few percent; 3/2 is ample.
	dst = slices.Grow(dst, len(p.head)+len(p.mid)+len(p.html)+len(p.tail)+
		(s.text.Len()+s.html.Len())*3/2+len(s.view.UnsubscribeURL)+256)
	dst = append(dst, p.head...)
	dst = p.appendListUnsubscribe(dst, s.view.UnsubscribeURL)
	if d := cleanToken(rc.Delivery); d != "" {
		dst = append(dst, sign.DeliveryHeaderField+": "...)
		dst = append(dst, d...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, p.mid...)
	dst = appendQP(dst, endLine(s.text.Bytes()))
	dst = append(dst, p.html...)
	dst = appendQP(dst, endLine(s.html.Bytes()))
	dst = append(dst, p.tail...)

	if r.dkim != nil {
		signed, err := r.dkim.sign(dst, start)
		if err != nil {
			return dst[:start], err
		}
		dst = signed
	}
	return dst, nil
}

// appendListUnsubscribe writes List-Unsubscribe (RFC 2369 §3.2), https URL
// first, and List-Unsubscribe-Post (RFC 8058 §3.1) when there is a URL to
// POST to.
func (p *Prepared) appendListUnsubscribe(dst []byte, u string) []byte {
	dst = append(dst, "List-Unsubscribe: "...)
	if !isHTTPURL(u) {
		dst = append(dst, '<')
		dst = append(dst, p.mailto...)
		return append(dst, ">\r\n"...)
	}
	dst = append(dst, '<')
	dst = append(dst, u...)
	dst = append(dst, ">,"...)
	if len("List-Unsubscribe: <")+len(u)+len(">, <")+len(p.mailto)+1 > 78 {
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, " <"...)
	dst = append(dst, p.mailto...)
	dst = append(dst, ">\r\n"...)
	return append(dst, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"...)
}

// cleanToken keeps a header token only if it is the characters
// sign.Keys.DeliveryHeader writes, so no value can break the header.
func cleanToken(s string) string {
	if len(s) > 60 {
		return ""
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return ""
		}
	}
	return s
}

// references builds the References field (RFC 5322 §3.6.4): the thread's
// earlier messages, then the parent, without duplicates or the message
// itself, trimmed to the root and the latest maxReferences-1.
func references(refs []string, parent, self string) []string {
	out := make([]string, 0, len(refs)+1)
	seen := make(map[string]bool, len(refs)+1)
	seen[self] = true
	add := func(id string) {
		if id, ok := cleanMsgID(id); ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range refs {
		add(id)
	}
	add(parent)
	if len(out) > maxReferences {
		out = append(out[:1], out[len(out)-maxReferences+1:]...)
	}
	return out
}

// appendField writes one header field, folded at spaces so that lines stay
// within 78 characters where the value allows (RFC 5322 §2.2.3). Values
// must be clean: no CR, LF or other control characters.
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	col := len(name) + 2
	first := true
	for value != "" {
		i := 0
		for i < len(value) && value[i] == ' ' {
			i++
		}
		j := i
		for j < len(value) && value[j] != ' ' {
			j++
		}
		if !first && i > 0 && col+j > 78 {
			dst = append(dst, '\r', '\n')
			col = 0
		}
		dst = append(dst, value[:j]...)
		col += j
		value = value[j:]
		first = false
	}
	return append(dst, '\r', '\n')
}

// appendPhrase writes a display name (RFC 5322 §3.2.5): a quoted-string
// when it is printable ASCII, otherwise RFC 2047 encoded-words.
func appendPhrase(dst []byte, s string) []byte {
	if needsEncoding(s) {
		return appendQWords(dst, s)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// encodeUnstructured encodes an unstructured field such as Subject.
func encodeUnstructured(s string) string {
	if needsEncoding(s) {
		return string(appendQWords(nil, s))
	}
	return s
}

// needsEncoding reports whether s has non-ASCII text, or text a decoder
// would mistake for an encoded-word.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// maxWord keeps each encoded-word short enough that a folded line holding
// one stays under the 76 characters of RFC 2047 §2.
const maxWord = 64

// appendQWords writes s as "Q" encoded-words (RFC 2047 §4.2), restricted to
// the characters RFC 2047 §5(3) allows in a phrase so that the result is
// valid in display names as well as in Subject. Words split between
// characters, never inside a UTF-8 sequence, and are separated by spaces,
// which decoders drop (RFC 2047 §6.2).
func appendQWords(dst []byte, s string) []byte {
	const open, close = "=?utf-8?q?", "?="
	dst = append(dst, open...)
	n := len(open)
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		w := 0
		for k := i; k < i+size; k++ {
			w += qWidth(s[k])
		}
		if n+w+len(close) > maxWord {
			dst = append(dst, close+" "+open...)
			n = len(open)
		}
		for k := i; k < i+size; k++ {
			c := s[k]
			switch {
			case c == ' ':
				dst = append(dst, '_')
			case qWidth(c) == 1:
				dst = append(dst, c)
			default:
				dst = append(dst, '=', upperHex[c>>4], upperHex[c&15])
			}
		}
		n += w
		i += size
	}
	return append(dst, close...)
}

func qWidth(c byte) int {
	switch {
	case c == ' ', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return 1
	case c == '!', c == '*', c == '+', c == '-', c == '/':
		return 1
	}
	return 3
}

const upperHex = "0123456789ABCDEF"

// appendQP appends src encoded as quoted-printable (RFC 2045 §6.7). LF and
// CRLF become CRLF line breaks; lines are soft-broken to stay within 76
// characters; "=", control and non-ASCII bytes, and spaces or tabs that end
// a line, are encoded.
func appendQP(dst, src []byte) []byte {
	col := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			dst = append(dst, '\r', '\n')
			col = 0
			continue
		}
		if c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			continue
		}
		literal := c >= '!' && c <= '~' && c != '='
		if c == ' ' || c == '\t' {
			next := i + 1
			if next < len(src) && src[next] == '\r' && next+1 < len(src) && src[next+1] == '\n' {
				next++
			}
			literal = next < len(src) && src[next] != '\n'
		}
		w := 3
		if literal {
			w = 1
		} else if c >= 0xC0 {
			// Keep a UTF-8 sequence on one line: decoders that
			// convert the charset line by line would garble it.
			w = 3 * utf8SeqLen(c)
		}
		if col+w > 75 { // leave room for the soft break's "="
			dst = append(dst, '=', '\r', '\n')
			col = 0
		}
		if literal {
			// Copy the run of plain characters that fits on the line.
			j := i + 1
			for j < len(src) && j-i < 75-col && qpPlain(src[j]) {
				j++
			}
			lineEnd := j == len(src) || src[j] == '\n' || src[j] == '\r' && j+1 < len(src) && src[j+1] == '\n'
			if lineEnd && src[j-1] == ' ' && j-1 > i {
				j-- // the space before a line break is encoded
			}
			dst = append(dst, src[i:j]...)
			col += j - i
			i = j - 1
			continue
		} else {
			dst = append(dst, '=', upperHex[c>>4], upperHex[c&15])
		}
		if w > 3 {
			w = 3 // the sequence's other bytes add their own width
		}
		col += w
	}
	return dst
}

// qpPlain reports whether c is written as itself wherever it is in a line.
func qpPlain(c byte) bool { return c >= ' ' && c <= '~' && c != '=' }

// utf8SeqLen is the length of the UTF-8 sequence that starts with c.
func utf8SeqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	}
	return 2
}

// endLine makes sure b ends with a line break, so that parts encoded
// separately join at a hard line break.
func endLine(b []byte) []byte {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

// cleanLine makes a user-given value safe for one header line: control
// characters and every kind of line or space separator become a single
// space, and invalid UTF-8 is replaced. Clean ASCII is returned as is,
// without allocating, which keeps Render cheap.
func cleanLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= 0x7f || c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// cleanURL makes a caller-given URL safe for a header field: control
// characters are dropped, and spaces, angle brackets, quotes and non-ASCII
// bytes are percent-encoded.
func cleanURL(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c == 0x7f:
		case c == ' ' || c > 0x7f || c == '<' || c == '>' || c == '"':
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHTTPURL(u string) bool {
	return len(u) > len("https://") && (strings.EqualFold(u[:8], "https://") || strings.EqualFold(u[:7], "http://"))
}

// cleanMsgID returns a Message-ID without its angle brackets, and whether
// it can be written as a msg-id (RFC 5322 §3.6.4): printable ASCII with no
// brackets or spaces, of a sane length.
func cleanMsgID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	if s == "" || len(s) > 500 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return "", false
		}
	}
	return s, true
}

// cleanAddress returns a bare addr-spec fit for Reply-To, or false.
func cleanAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, err := mailflow.NormalizeEmail(s); err != nil {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return s, true
}

func validSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validDomain(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '.' || s[0] == '-' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

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

// AppendQP appends src encoded as quoted-printable (RFC 2045 §6.7), with
// CRLF line breaks. Text that starts at the beginning of a line and ends
// with a line break encodes the same alone as within a larger text, so
// callers may encode shared pieces once and join them (the digest does).
func AppendQP(dst, src []byte) []byte { return appendQP(dst, src) }

// The Markdown of message bodies, as mail shows it: one instance for
// group mail, digests and moderation notices, so that each shows a
// message the same way. goldmark and bluemonday are safe for concurrent
// use once built.
var body = sync.OnceValue(func() (b struct {
	md         goldmark.Markdown
	ugc, strip *bluemonday.Policy
}) {
	b.ugc = bluemonday.UGCPolicy()      // sanitizes the HTML part
	b.strip = bluemonday.StrictPolicy() // strips raw HTML blocks for the text part
	b.md = goldmark.New(
		goldmark.WithExtensions(
			extension.Linkify,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough,
			extension.TaskList,
		),
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

// BodyHTML renders a message's Markdown for an HTML mail part: sanitised,
// balanced as on the web (markup.Balance, so an unclosed <a> or <table>
// in a post ends inside it and not around the footer's links), and styled
// inline for mail clients that drop style sheets.
func BodyHTML(src string) (htmltemplate.HTML, error) {
	b := body()
	var out bytes.Buffer
	if err := b.md.Convert([]byte(src), &out); err != nil {
		return "", fmt.Errorf("outbound: rendering markdown: %w", err)
	}
	return htmltemplate.HTML(inlineStyles(markup.Balance(b.ugc.SanitizeBytes(out.Bytes())))), nil
}

// BodyText renders a message's Markdown as readable plain text for a
// text mail part (see markdownToText).
func BodyText(src string) string {
	b := body()
	return markdownToText(b.md.Parser(), b.strip, []byte(src))
}
