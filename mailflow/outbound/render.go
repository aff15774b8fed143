package outbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
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
	// Private: a conversation between two members. Its copies carry no
	// shared Reply-To (neither the group's nor the sender's address) but
	// each its recipient's own, Recipient.ReplyTo.
	Private bool
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
	// PlainText: the member takes plain-text-only email (issue 19), one
	// text/plain part and no HTML; PauseURL pauses all their mail.
	PlainText bool
	PauseURL  string
	// Private replies (issue 19; PrivateAddress): PrivateReply is the
	// recipient's own address for "Reply to the author privately" in the
	// footer, ReplyTo the Reply-To of a copy of a Post.Private message.
	PrivateReply, ReplyTo string
	// Conversation links (issue 19), signed for the recipient: MuteURL
	// is in every copy; UnfollowURL only in the copies of members who
	// get the thread because they follow it.
	MuteURL, UnfollowURL string
	// MuteAddress is the thread's signed reply address
	// (SLUG+r-TOKEN@MAIL_DOMAIN): "mute" alone, sent to it, mutes too.
	MuteAddress string
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
	// slotPrefix starts the placeholders of footer plans (footer.go).
	slotPrefix string
	// noSplice renders every footer by executing its templates; tests
	// compare the two ways with it.
	noSplice bool
}

// Prepared is a post with its per-message work done: markdown rendered and
// sanitized, headers encoded, message parts quoted-printable encoded.
// Render adds what differs per recipient. A Prepared is safe for
// concurrent use: it changes only to remember the footer plans it made.
type Prepared struct {
	r      *Renderer
	view   messageView
	mailto string // the List-Unsubscribe mailto: address, without brackets
	head   []byte // header fields before List-Unsubscribe
	mid    []byte // header fields after it, the text part's header and its encoded message
	html   []byte // the HTML part's header and its encoded message
	tail   []byte // the closing boundary
	files  []File // listed in the footer, with the recipient's links

	footers footers // the footer plans, per shape
	// Plain-text-only copies (issue 19): mid and tail for a message
	// whose one part (or first part, with files) is the text.
	plainMid, plainTail []byte
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
	PauseURL          string // issue 19
	Files             []fileLink
	PrivateReply      string // an address: "Reply to the author privately"
	MuteURL           string // mute this conversation (issue 19)
	UnfollowURL       string // stop following it; set only for its followers
	MuteAddress       string // where "mute" by email mutes it
}

// scratch holds Render's buffers between calls.
type scratch struct {
	view footerView
	vals []string // the recipient's values, in slot order
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
	if r.slotPrefix, err = newSlotPrefix(); err != nil {
		return nil, err
	}
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
	subject := taggedSubject(p)

	sanitized, err := markup.MailHTML(p.Message.Body)
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
			Text:         markup.MailText(p.Message.Body),
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

	pr.head = r.headFields(p, msgID, groupName, author, subject)

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
	pre := len(m)
	m = appendField(m, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	m = append(m, "\r\n--"...)
	m = append(m, boundary...)
	m = append(m, "\r\n"...)
	textAt := len(m)
	m = append(m, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	var part bytes.Buffer
	if err := r.txtMsg.Execute(&part, &pr.view); err != nil {
		return nil, fmt.Errorf("outbound: executing text template: %w", err)
	}
	m = appendQP(m, endLine(part.Bytes()))
	pr.mid = m
	// The plain-text copy: the same fields, and the text part's header
	// and body as the message's own (or the mixed one's first part).
	pr.plainMid = append(m[:pre:pre], m[textAt:]...)

	part.Reset()
	if err := r.htmMsg.Execute(&part, &pr.view); err != nil {
		return nil, fmt.Errorf("outbound: executing html template: %w", err)
	}
	hp := append([]byte("--"), boundary...)
	hp = append(hp, "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"...)
	pr.html = appendQP(hp, endLine(part.Bytes()))
	pr.tail = []byte("--" + boundary + "--\r\n")
	if attached(p.Files) {
		pr.plainTail = append(attachments(p.Files, mixed), "--"+mixed+"--\r\n"...)
		pr.tail = append(pr.tail, pr.plainTail...)
	}
	return pr, nil
}

// taggedSubject is the post's subject (the thread's when it has none)
// with the group's tag in brackets in front, as list mail has it.
func taggedSubject(p Post) string {
	subject := cleanLine(p.Message.Subject)
	if subject == "" {
		subject = cleanLine(p.Thread.Subject)
	}
	if subject == "" {
		subject = "(no subject)"
	}
	if tag := cleanLine(p.Group.Tag()); tag != "" && !strings.Contains(subject, "["+tag+"]") {
		subject = "[" + tag + "] " + subject
	}
	return subject
}

// headFields are the header fields every copy of p shares, in the order
// of RFC 5322 §3.6's table, then the list fields of RFC 2369 and RFC 2919.
func (r *Renderer) headFields(p Post, msgID, groupName, author, subject string) []byte {
	slug, domain := p.Group.Slug, r.site.MailDomain
	groupAddr := slug + "@" + domain
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
	if !p.Private { // a private conversation's copies each have their own
		h = appendField(h, "Reply-To", replyTo)
	}
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
	return h
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
		// Keep no recipient's links in the pool.
		s.view = footerView{}
		clear(s.vals)
		r.pool.Put(s)
	}()
	s.view = p.newFooterView(rc)
	if err := p.renderFooters(s); err != nil {
		return dst, err
	}
	// Plain-text-only members (issue 19) get the text part alone.
	mid, htm, tail := p.mid, p.html, p.tail
	if rc.PlainText {
		mid, htm, tail = p.plainMid, nil, p.plainTail
	}

	start := len(dst)
	// Quoted-printable grows text by a few percent; 3/2 is ample.
	dst = slices.Grow(dst, len(p.head)+len(mid)+len(htm)+len(tail)+
		(s.text.Len()+s.html.Len())*3/2+len(s.view.UnsubscribeURL)+256)
	dst = append(dst, p.head...)
	if addr, ok := cleanAddress(rc.ReplyTo); ok {
		dst = appendField(dst, "Reply-To", "<"+addr+">")
	}
	dst = p.appendListUnsubscribe(dst, s.view.UnsubscribeURL)
	if d := cleanToken(rc.Delivery); d != "" {
		dst = append(dst, sign.DeliveryHeaderField+": "...)
		dst = append(dst, d...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, mid...)
	dst = appendQP(dst, endLine(s.text.Bytes()))
	if htm != nil {
		dst = append(dst, htm...)
		dst = appendQP(dst, endLine(s.html.Bytes()))
	}
	dst = append(dst, tail...)

	if r.dkim != nil {
		signed, err := r.dkim.sign(dst, start)
		if err != nil {
			return dst[:start], err
		}
		dst = signed
	}
	return dst, nil
}

// newFooterView is what the footer templates see for rc.
func (p *Prepared) newFooterView(rc Recipient) footerView {
	v := &p.view
	return footerView{
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
		PauseURL:          cleanURL(rc.PauseURL),
		Files:             p.fileLinks(rc.FileURLs),
		PrivateReply:      cleanAddressOrEmpty(rc.PrivateReply),
		MuteURL:           cleanURL(rc.MuteURL),
		UnfollowURL:       cleanURL(rc.UnfollowURL),
		MuteAddress:       cleanLine(rc.MuteAddress),
	}
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
