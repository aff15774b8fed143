package mailparse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
)

// Attachment is a part that is not the message's text: a non-text part,
// or any part sent with Content-Disposition: attachment (RFC 2183).
type Attachment struct {
	Filename    string // decoded (RFC 2047, RFC 2231), without any directory
	ContentType string // lowercased media type, without parameters
	Size        int    // decoded size in bytes, even when Data was dropped
	Inline      bool   // Content-Disposition: inline, or a Content-ID without disposition
	ContentID   string // without <>
	Data        []byte // decoded content; nil when over Limits.MaxAttachmentBytes
}

// Message is a parsed message. Every field is best effort; Warnings says
// what had to be worked around.
type Message struct {
	FromName    string // display name of the first From address, decoded
	FromAddress string
	To, Cc      []string // addresses only
	Subject     string   // decoded
	Date        time.Time
	MessageID   string // without <>
	InReplyTo   []string
	References  []string
	// AutoSubmitted is the RFC 3834 §5 Auto-Submitted value, lowercased.
	AutoSubmitted string
	Precedence    string // lowercased
	XLoop         []string
	ListID        string // RFC 2919 list identifier, without <>
	// IsAutoReply reports an automatic message: RFC 3834 auto-replied or
	// auto-generated, or one of the vacation and out-of-office markers
	// that mailers use instead.
	IsAutoReply bool

	// Text is the body as plain UTF-8 text with \n line ends: the
	// text/plain part(s), or, for HTML-only mail, text converted from the
	// HTML (then TextFromHTML is set).
	Text         string
	TextFromHTML bool
	// HTML is the text/html body decoded to UTF-8. It is NOT sanitized.
	HTML        string
	Attachments []Attachment
	Warnings    []string
}

// Limits bounds what Parse keeps. The zero value means the defaults.
type Limits struct {
	MaxAttachmentBytes int64 // larger attachments keep name, type and size, not data; default 25 MB
	MaxParts           int   // MIME entities looked at, containers included; default 100
}

const (
	defaultMaxAttachmentBytes = 25 << 20
	defaultMaxParts           = 100
	// maxDepth bounds multipart nesting. Each level rescans its body for
	// its boundary, so this bound is what keeps parsing linear.
	maxDepth = 20
	// maxWarnings keeps a hostile message from growing Warnings without end.
	maxWarnings = 50
)

// ErrNoMessage is returned when the input holds nothing to keep: it is
// empty, or has no header and is not text.
var ErrNoMessage = errors.New("not a message")

// Parse parses raw, a message as received. It returns an error only when
// nothing useful can be had; everything else becomes a warning.
func Parse(raw []byte, limits Limits) (*Message, error) {
	if limits.MaxAttachmentBytes <= 0 {
		limits.MaxAttachmentBytes = defaultMaxAttachmentBytes
	}
	if limits.MaxParts <= 0 {
		limits.MaxParts = defaultMaxParts
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, fmt.Errorf("parse message: empty input: %w", ErrNoMessage)
	}
	p := &parser{lim: limits, m: &Message{}, seen: map[string]bool{}}
	h, body, ok := readHeader(raw)
	if !ok {
		head := raw[:min(len(raw), 1024)]
		if bytes.IndexByte(head, 0) >= 0 {
			return nil, fmt.Errorf("parse message: no header and binary content: %w", ErrNoMessage)
		}
		p.warn("header: no header found; the whole input was read as a plain-text body")
		h, body = header{}, raw
	} else if len(h.fields) == 0 {
		p.warn("header: empty header")
	} else if h.problem != "" {
		p.warn("%s", h.problem)
	}
	p.envelope(h)

	var c collector
	p.entity(h, body, 0, "text/plain", &c)
	m := p.m
	m.Text = strings.Join(c.texts, "\n\n")
	m.HTML = strings.Join(c.htmls, "\n")
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.HTML) != "" {
		m.Text = HTMLToText(m.HTML)
		m.TextFromHTML = true
		p.warn("html: no text/plain part; plain text derived from HTML")
	}
	m.clean()
	return m, nil
}

// clean makes every text of m valid UTF-8 without NUL bytes. Charsets are
// decoded by then, so what is left invalid is garbage and becomes U+FFFD;
// NUL (raw, or written =00 or in base64) is dropped: no text Parley
// stores or shows can hold it, and PostgreSQL's text type refuses it.
// Attachments' data stays as sent.
func (m *Message) clean() {
	for _, s := range []*string{&m.FromName, &m.FromAddress, &m.Subject, &m.MessageID, &m.AutoSubmitted,
		&m.Precedence, &m.ListID, &m.Text, &m.HTML} {
		*s = mailflow.CleanText(*s)
	}
	for _, list := range [][]string{m.To, m.Cc, m.InReplyTo, m.References, m.XLoop, m.Warnings} {
		for i := range list {
			list[i] = mailflow.CleanText(list[i])
		}
	}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		a.Filename, a.ContentType, a.ContentID = mailflow.CleanText(a.Filename), mailflow.CleanText(a.ContentType), mailflow.CleanText(a.ContentID)
	}
}

// parser holds the state of one Parse call.
type parser struct {
	lim   Limits
	m     *Message
	parts int
	seen  map[string]bool // warnings already given
}

// collector gathers the body texts of a MIME subtree.
type collector struct {
	texts, htmls []string
}

func (p *parser) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if p.seen[w] || len(p.m.Warnings) >= maxWarnings {
		return
	}
	p.seen[w] = true
	p.m.Warnings = append(p.m.Warnings, w)
}

// ---- header ---------------------------------------------------------------
