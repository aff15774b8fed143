package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"

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

// field is one header field, unfolded (RFC 5322 §2.2.3), its value still
// raw bytes: decoding depends on whether the field is structured.
type field struct {
	name  string // lowercased
	value string
}

type header struct {
	fields  []field
	problem string // what was wrong with the header's shape, if anything
}

func (h header) get(name string) string {
	for _, f := range h.fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

func (h header) has(name string) bool {
	for _, f := range h.fields {
		if f.name == name {
			return true
		}
	}
	return false
}

func (h header) all(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// readHeader splits b into its header and body. ok is false when b does
// not start with a header field at all. A header that runs into the body
// without the blank line of RFC 5322 §2.1 ends at the first line that is
// not a field, and says so in problem.
func readHeader(b []byte) (h header, body []byte, ok bool) {
	// The value of the field being read grows in cur: appending to a
	// string would make a long folded field quadratic.
	var cur []byte
	finish := func() {
		if n := len(h.fields); n > 0 {
			h.fields[n-1].value = string(cur)
		}
	}
	pos := 0
	first := true
	for pos < len(b) {
		line, next := nextLine(b, pos)
		switch {
		case len(line) == 0:
			finish()
			return h, b[next:], true
		case line[0] == ' ' || line[0] == '\t':
			if len(h.fields) == 0 {
				if first {
					return h, b, false
				}
				// Folded text before any field (after an mbox line): skip it.
			} else {
				cur = append(cur, line...)
			}
		default:
			name, value, isField := splitField(line)
			switch {
			case isField:
				finish()
				h.fields = append(h.fields, field{name: name})
				cur = append(cur[:0], value...)
			case first && bytes.HasPrefix(line, []byte("From ")):
				// The mbox separator (RFC 4155) is not part of the message.
			case len(h.fields) == 0:
				return h, b, false
			default:
				// Not a field. If a field follows, this is a broken line
				// inside the header; otherwise the body starts here.
				if next < len(b) {
					if nl, _ := nextLine(b, next); len(nl) > 0 && nl[0] != ' ' && nl[0] != '\t' {
						if _, _, f := splitField(nl); f {
							h.problem = "header: malformed header line skipped"
							first, pos = false, next
							continue
						}
					}
				}
				finish()
				h.problem = "header: no blank line between header and body"
				return h, b[pos:], true
			}
		}
		first = false
		pos = next
	}
	finish()
	return h, nil, len(h.fields) > 0
}

// nextLine returns the line starting at pos without its line end, and the
// position after the line end.
func nextLine(b []byte, pos int) (line []byte, next int) {
	nl := bytes.IndexByte(b[pos:], '\n')
	if nl < 0 {
		line, next = b[pos:], len(b)
	} else {
		line, next = b[pos:pos+nl], pos+nl+1
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, next
}

// splitField splits "Name: value". Field names are printable ASCII
// without colon (RFC 5322 §3.6.8); whitespace before the colon is the
// obsolete syntax of §4.5 and accepted.
func splitField(line []byte) (name, value string, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	n := bytes.TrimRight(line[:i], " \t")
	if len(n) == 0 {
		return "", "", false
	}
	for _, c := range n {
		if c < 33 || c > 126 {
			return "", "", false
		}
	}
	return strings.ToLower(string(n)), string(line[i+1:]), true
}

// singleFields are the fields RFC 5322 §3.6 and RFC 2045 allow once.
var singleFields = []struct{ key, name string }{
	{"from", "From"}, {"sender", "Sender"}, {"reply-to", "Reply-To"},
	{"to", "To"}, {"cc", "Cc"}, {"date", "Date"}, {"subject", "Subject"},
	{"message-id", "Message-ID"}, {"in-reply-to", "In-Reply-To"},
	{"references", "References"}, {"mime-version", "MIME-Version"},
	{"content-type", "Content-Type"}, {"content-transfer-encoding", "Content-Transfer-Encoding"},
}

func (p *parser) envelope(h header) {
	m := p.m
	for _, f := range singleFields {
		if len(h.all(f.key)) > 1 {
			p.warn("header: duplicate %s header; the first one was used", f.name)
		}
	}
	subject, bad := decodeWords(decode8(h.get("subject")))
	if bad {
		p.warn("charset: unknown charset in Subject; read as UTF-8 or windows-1252")
	}
	m.Subject = strings.TrimSpace(subject)
	if from := h.get("from"); strings.TrimSpace(from) != "" {
		if as := parseAddressList(from); len(as) > 0 {
			m.FromName, m.FromAddress = as[0].name, as[0].address
		} else {
			m.FromName = decodeText(from)
			p.warn("header: no address in From")
		}
	}
	for _, v := range h.all("to") {
		for _, a := range parseAddressList(v) {
			m.To = append(m.To, a.address)
		}
	}
	for _, v := range h.all("cc") {
		for _, a := range parseAddressList(v) {
			m.Cc = append(m.Cc, a.address)
		}
	}
	if d := h.get("date"); strings.TrimSpace(d) != "" {
		m.Date = parseDate(d)
		if m.Date.IsZero() {
			p.warn("header: unparsable Date %q", strings.TrimSpace(decode8(d)))
		}
	}
	if ids := msgIDs(h.get("message-id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = msgIDs(h.get("in-reply-to"))
	m.References = msgIDs(h.get("references"))
	m.AutoSubmitted = strings.ToLower(strings.TrimSpace(decode8(h.get("auto-submitted"))))
	m.Precedence = strings.ToLower(strings.TrimSpace(decode8(h.get("precedence"))))
	for _, v := range h.all("x-loop") {
		m.XLoop = append(m.XLoop, strings.TrimSpace(decode8(v)))
	}
	m.ListID = listID(h.get("list-id"))
	m.IsAutoReply = isAutoReply(h, m)
}

// decodeText decodes an unstructured field value: raw 8-bit bytes, then
// RFC 2047 encoded-words.
func decodeText(v string) string {
	s, _ := decodeWords(decode8(v))
	return strings.TrimSpace(s)
}

// decode8 turns raw header bytes into UTF-8. RFC 6532 allows UTF-8 in
// headers; anything else 8-bit is, in practice, windows-1252.
func decode8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// msgIDs returns the msg-ids of a Message-ID, In-Reply-To or References
// field (RFC 5322 §3.6.4) without <>. Fields without brackets, which some
// mailers send, fall back to their words that hold an @.
func msgIDs(v string) []string {
	v = decode8(v)
	var ids []string
	for i := 0; i < len(v); {
		a := strings.IndexByte(v[i:], '<')
		if a < 0 {
			break
		}
		b := strings.IndexByte(v[i+a:], '>')
		if b < 0 {
			break
		}
		if id := strings.TrimSpace(v[i+a+1 : i+a+b]); id != "" && !strings.ContainsAny(id, " \t<") {
			ids = append(ids, id)
		}
		i += a + b + 1
	}
	if len(ids) > 0 || strings.Contains(v, "<") {
		return ids
	}
	for _, w := range strings.Fields(v) {
		if strings.Contains(w, "@") {
			ids = append(ids, strings.Trim(w, ",;"))
		}
	}
	return ids
}

func listID(v string) string {
	v = strings.TrimSpace(decode8(v))
	if a := strings.LastIndexByte(v, '<'); a >= 0 {
		if b := strings.IndexByte(v[a:], '>'); b > 0 {
			return strings.TrimSpace(v[a+1 : a+b])
		}
	}
	return v
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon, Jan 2 2006 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
}

// parseDate reads a Date field (RFC 5322 §3.3), falling back to the
// shapes broken mailers use. It returns the zero time when nothing fits.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(decode8(v))
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	// Drop comments such as "(PDT)" and extra spaces, then try the layouts.
	var b strings.Builder
	depth := 0
	for _, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	c := strings.Join(strings.Fields(b.String()), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, c); err == nil {
			return t
		}
	}
	return time.Time{}
}

// isAutoReply applies RFC 3834 §5 and the markers of the mailers that do
// not follow it.
func isAutoReply(h header, m *Message) bool {
	if m.AutoSubmitted != "" {
		tok, _, _ := strings.Cut(m.AutoSubmitted, ";")
		if strings.TrimSpace(tok) != "no" {
			return true
		}
	}
	if m.Precedence == "auto_reply" || strings.EqualFold(strings.TrimSpace(h.get("x-precedence")), "auto_reply") {
		return true
	}
	for _, name := range []string{"x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated", "x-mail-autoreply", "x-autoreply-from"} {
		if !h.has(name) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(h.get(name))) {
		case "no", "false", "0":
		default:
			return true
		}
	}
	// Exchange marks messages its inbox rules generate, out-of-office
	// replies among them; Apple's iCloud marks vacation replies.
	if h.has("x-ms-exchange-inbox-rules-loop") || strings.EqualFold(strings.TrimSpace(h.get("x-apple-action")), "vacation") {
		return true
	}
	s := strings.ToLower(m.Subject)
	for _, p := range autoReplySubjects {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// autoReplySubjects are subject prefixes of vacation and out-of-office
// replies, lowercased.
var autoReplySubjects = []string{
	"auto reply", "auto-reply", "autoreply", "automatic reply", "auto response",
	"auto-response", "autoresponse", "out of office", "out of the office",
	"abwesenheitsnotiz", "automatische antwort", "réponse automatique",
	"reponse automatique", "respuesta automática", "respuesta automatica",
	"risposta automatica", "resposta automática", "automatisch antwoord",
	"autosvar", "automatisk svar", "automaattinen vastaus",
	"автоматический ответ", "odpowiedź automatyczna", "自動応答", "自动回复", "自動回覆",
}

// ---- addresses --------------------------------------------------------------

type address struct{ name, address string }

// parseAddressList reads an address list (RFC 5322 §3.4) as mailers
// really write it: a comma splits addresses only once the text before it
// holds an address, so an unquoted comma in a display name ("Norton I.,
// Emperor <n@example.com>") stays in the name; with nested brackets
// ("Name <Name <a@example.com>>") the innermost address wins.
func parseAddressList(raw string) []address {
	s := decode8(raw)
	var segs []string
	inQuote, comment, angle := false, 0, 0
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQuote || comment > 0):
			i++
		case c == '"' && comment == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			comment++
		case c == ')' && comment > 0:
			comment--
		case comment > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case (c == ',' || c == ';') && angle == 0:
			segs = append(segs, s[start:i])
			start = i + 1
		}
	}
	segs = append(segs, s[start:])

	var out []address
	pending := ""
	for _, seg := range segs {
		if pending != "" {
			seg = pending + "," + seg
		}
		if !strings.Contains(seg, "@") {
			if strings.TrimSpace(seg) != "" {
				pending = seg
			}
			continue
		}
		pending = ""
		if a, ok := parseAddress(seg); ok {
			out = append(out, a)
		}
	}
	return out
}

func parseAddress(seg string) (address, bool) {
	seg = strings.TrimSpace(seg)
	// A group ("Friends: a@example.com") loses its name (RFC 5322 §3.4).
	if i := topLevelIndex(seg, ':'); i >= 0 && i < topLevelIndex(seg, '@') && (topLevelIndex(seg, '<') < 0 || i < topLevelIndex(seg, '<')) {
		seg = strings.TrimSpace(seg[i+1:])
	}
	var a address
	if lt := topLevelIndex(seg, '<'); lt >= 0 {
		inner := seg[lt+1:]
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		if k := strings.LastIndexByte(inner, '<'); k >= 0 {
			inner = inner[k+1:]
		}
		a.address = cleanAddr(inner)
		a.name = displayName(seg[:lt])
	} else {
		// addr-spec, perhaps with the old "a@example.com (Name)" comment.
		var rest []string
		for _, w := range strings.Fields(stripCommentsKeep(seg, &rest)) {
			if a.address == "" && strings.Contains(w, "@") {
				a.address = cleanAddr(w)
			}
		}
		a.name = displayName(strings.Join(rest, " "))
	}
	if a.address == "" {
		return a, false
	}
	if strings.EqualFold(a.name, a.address) {
		a.name = ""
	}
	return a, true
}

// topLevelIndex finds c outside quoted strings and comments, or -1.
func topLevelIndex(s string, c byte) int {
	inQuote, comment := false, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && (inQuote || comment > 0):
			i++
		case ch == '"' && comment == 0:
			inQuote = !inQuote
		case inQuote:
		case ch == '(':
			comment++
		case ch == ')' && comment > 0:
			comment--
		case comment > 0:
		case ch == c:
			return i
		}
	}
	return -1
}

// stripCommentsKeep removes comments from s, appending their text to kept.
func stripCommentsKeep(s string, kept *[]string) string {
	var b, cb strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			if depth > 0 {
				cb.WriteRune(r)
			}
			depth++
		case r == ')' && depth > 0:
			depth--
			if depth == 0 {
				*kept = append(*kept, cb.String())
				cb.Reset()
			} else {
				cb.WriteRune(r)
			}
		case depth > 0:
			cb.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cleanAddr(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>\"' \t")
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	return strings.TrimSpace(s)
}

// displayName unquotes a display name and decodes its encoded-words.
// RFC 2047 §5 forbids encoded-words inside quoted strings, but mailers
// send them and every reader decodes them, so this does too.
func displayName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(s)-1; i++ {
			if s[i] == '\\' && i+1 < len(s)-1 {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	} else {
		s = strings.ReplaceAll(s, "\"", "")
	}
	s, _ = decodeWords(s)
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return strings.Join(strings.Fields(s), " ")
}

// ---- RFC 2047 ---------------------------------------------------------------

// maxWordLen bounds the search for the end of an encoded-word. RFC 2047
// §2 allows 75 characters; broken mailers write longer ones, but a bound
// keeps the scan linear on hostile input.
const maxWordLen = 2048

// decodeWords decodes the RFC 2047 encoded-words in s. The bytes of
// adjacent words in the same charset are joined before decoding, so a
// character split across two words (§5 forbids it; mailers do it) comes
// out whole. bad reports an unknown charset.
func decodeWords(s string) (string, bool) {
	if !strings.Contains(s, "=?") {
		return s, false
	}
	var out strings.Builder
	var pend []byte
	pendCS := ""
	bad := false
	flush := func() {
		if pendCS == "" {
			return
		}
		str, warn := decodeCharset(pendCS, pend)
		if strings.HasPrefix(warn, "unknown") {
			bad = true
		}
		out.WriteString(str)
		pend, pendCS = pend[:0], ""
	}
	lastWasWord := false
	i := 0
	for {
		j := strings.Index(s[i:], "=?")
		if j < 0 {
			flush()
			out.WriteString(s[i:])
			break
		}
		between := s[i : i+j]
		cs, data, n, ok := parseWord(s[i+j:])
		if !ok {
			flush()
			out.WriteString(between)
			out.WriteString("=?")
			i += j + 2
			lastWasWord = false
			continue
		}
		// RFC 2047 §6.2: whitespace between adjacent encoded-words is not shown.
		if lastWasWord && strings.Trim(between, " \t\r\n") == "" {
			if !strings.EqualFold(cs, pendCS) {
				flush()
			}
		} else {
			flush()
			out.WriteString(between)
		}
		pendCS = cs
		pend = append(pend, data...)
		i += j + n
		lastWasWord = true
	}
	return out.String(), bad
}

// parseWord parses the encoded-word "=?charset?enc?text?=" at the start
// of s, returning its charset, decoded bytes and length.
func parseWord(s string) (cs string, data []byte, n int, ok bool) {
	rest := s[2:]
	q := strings.IndexByte(rest, '?')
	if q <= 0 || q > 64 || len(rest) < q+3 || rest[q+2] != '?' {
		return "", nil, 0, false
	}
	cs = rest[:q]
	if strings.ContainsAny(cs, " \t\r\n=") {
		return "", nil, 0, false
	}
	if k := strings.IndexByte(cs, '*'); k >= 0 { // RFC 2231 §5 language suffix
		cs = cs[:k]
	}
	enc := rest[q+1]
	text := rest[q+3:]
	end := strings.Index(text[:min(len(text), maxWordLen)], "?=")
	if end < 0 {
		return "", nil, 0, false
	}
	text = text[:end]
	if strings.ContainsAny(text, " \t\r\n") {
		return "", nil, 0, false
	}
	switch enc {
	case 'B', 'b':
		data, _ = decodeBase64([]byte(text))
	case 'Q', 'q':
		data = make([]byte, 0, len(text))
		for k := 0; k < len(text); k++ {
			switch c := text[k]; {
			case c == '_':
				data = append(data, ' ')
			case c == '=' && k+2 < len(text) && isHex(text[k+1]) && isHex(text[k+2]):
				data = append(data, unhex(text[k+1])<<4|unhex(text[k+2]))
				k += 2
			default:
				data = append(data, c)
			}
		}
	default:
		return "", nil, 0, false
	}
	return cs, data, 2 + q + 3 + end + 2, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// ---- charsets -----------------------------------------------------------------

// charsetAliases maps labels to the encoding mail really means by them.
// Like browsers (WHATWG Encoding Standard), ISO-8859-1 is read as its
// superset windows-1252, and GB2312 as GBK.
var charsetAliases = map[string]string{
	"iso-8859-1": "windows-1252", "iso8859-1": "windows-1252", "iso_8859-1": "windows-1252",
	"latin1": "windows-1252", "l1": "windows-1252", "cp819": "windows-1252", "iso-ir-100": "windows-1252",
	"gb2312": "gbk", "x-gbk": "gbk", "cp936": "gbk", "euc-cn": "gbk",
	"cp932": "shift_jis", "ms932": "shift_jis", "windows-31j": "shift_jis", "x-sjis": "shift_jis", "sjis": "shift_jis",
	"ks_c_5601-1987": "euc-kr", "cp949": "euc-kr",
}

func isASCIIOrUTF8Label(l string) bool {
	switch l {
	case "", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us", "utf-8", "utf8", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit", "unknown", "default", "x-user-defined":
		return true
	}
	return false
}

// decodeCharset decodes b from the named charset into UTF-8. It never
// fails: an unknown or wrong label falls back to UTF-8 when b is valid
// UTF-8 and to windows-1252 otherwise. warn says what was worked around;
// it starts with "declared" when the label was merely wrong about
// 8-bit content.
func decodeCharset(label string, b []byte) (s string, warn string) {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), "\"'"))
	if a, ok := charsetAliases[l]; ok {
		l = a
	}
	if isASCIIOrUTF8Label(l) {
		switch {
		case isASCII(b):
			return string(b), ""
		case utf8.Valid(b) && (l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8"):
			return string(b), ""
		case utf8.Valid(b) && l == "":
			return string(b), ""
		case utf8.Valid(b):
			return string(b), fmt.Sprintf("declared charset %q but holds 8-bit UTF-8; read as UTF-8", label)
		case l == "utf-8" || l == "utf8" || l == "unicode-1-1-utf-8":
			return mixedUTF8(b), "invalid UTF-8; bad bytes read as windows-1252"
		case l == "":
			return fallback(b), "no charset declared for 8-bit bytes; read as windows-1252"
		default:
			return fallback(b), fmt.Sprintf("declared charset %q but holds 8-bit bytes; read as windows-1252", label)
		}
	}
	if utf7Labels[l] {
		return decodeUTF7(b), ""
	}
	r, err := charset.Reader(l, bytes.NewReader(b))
	if err != nil {
		return fallback(b), fmt.Sprintf("unknown charset %q; read as %s", label, fallbackName(b))
	}
	if isASCII(b) && !strings.HasPrefix(l, "utf-16") && !strings.HasPrefix(l, "utf-32") && l != "utf-7" && l != "hz-gb-2312" {
		// Every other charset mail uses is an ASCII superset; ISO-2022
		// switches with ESC, which is ASCII too, so it must be decoded.
		if !strings.HasPrefix(l, "iso-2022") || bytes.IndexByte(b, 0x1b) < 0 {
			return string(b), ""
		}
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return fallback(b), fmt.Sprintf("cannot decode charset %q; read as %s", label, fallbackName(b))
	}
	// A decoder that meets bytes its charset does not have yields U+FFFD.
	// If the bytes are valid UTF-8, the label was wrong.
	if bytes.ContainsRune(out, utf8.RuneError) && !bytes.ContainsRune(b, utf8.RuneError) && utf8.Valid(b) {
		return string(b), fmt.Sprintf("content is not in declared charset %q; read as UTF-8", label)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), ""
}

// utf7Labels name UTF-7 (RFC 2152), which golang.org/x/text lacks and
// Exchange still writes in delivery reports.
var utf7Labels = map[string]bool{"utf-7": true, "unicode-1-1-utf-7": true, "x-unicode-2-0-utf-7": true, "csunicode11utf7": true}

// decodeUTF7 decodes UTF-7: "+" starts modified base64 of UTF-16 that
// runs to "-" or the first character outside the alphabet; "+-" is "+".
func decodeUTF7(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); {
		if b[i] != '+' {
			sb.WriteByte(b[i])
			i++
			continue
		}
		i++
		if i < len(b) && b[i] == '-' {
			sb.WriteByte('+')
			i++
			continue
		}
		var acc uint32
		bits := 0
		var units []uint16
		for ; i < len(b); i++ {
			v, ok := base64Value(b[i])
			if !ok {
				break
			}
			acc = acc<<6 | uint32(v)
			bits += 6
			if bits >= 16 {
				bits -= 16
				units = append(units, uint16(acc>>bits))
				acc &= 1<<bits - 1
			}
		}
		if i < len(b) && b[i] == '-' {
			i++
		}
		sb.WriteString(string(utf16.Decode(units)))
	}
	return strings.ToValidUTF8(sb.String(), "\uFFFD")
}

func base64Value(c byte) (byte, bool) {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A', true
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26, true
	case '0' <= c && c <= '9':
		return c - '0' + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func fallback(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

func fallbackName(b []byte) string {
	if utf8.Valid(b) {
		return "UTF-8"
	}
	return "windows-1252"
}

// mixedUTF8 keeps the valid UTF-8 sequences of b and reads the other
// bytes as windows-1252: the usual shape of a UTF-8 text with a pasted
// Latin-1 fragment.
func mixedUTF8(b []byte) string {
	var sb strings.Builder
	dec := charmap.Windows1252.NewDecoder()
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if s, err := dec.Bytes(b[:1]); err == nil {
				sb.Write(s)
			}
			b = b[1:]
			continue
		}
		sb.Write(b[:n])
		b = b[n:]
	}
	return sb.String()
}

// ---- MIME -----------------------------------------------------------------------

// entity handles one MIME entity (RFC 2045 §2.4): a multipart container
// or a leaf. defType is the default content type of RFC 2046 §5.1
// (message/rfc822 inside multipart/digest, text/plain elsewhere).
func (p *parser) entity(h header, body []byte, depth int, defType string, c *collector) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		p.warn("mime: more than %d parts; the rest was skipped", p.lim.MaxParts)
		return
	}
	mt, params := defType, map[string]string{}
	if ct := decode8(h.get("content-type")); strings.TrimSpace(ct) != "" {
		v, ps := parseParams(ct)
		params = ps
		if isMediaType(v) {
			mt = v
		} else {
			p.warn("mime: invalid content type %q; read as %s", v, defType)
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if p.multipart(mt, params, body, depth, c) {
			return
		}
		mt = "text/plain"
	}
	p.leaf(h, mt, params, body, c)
}

func isMediaType(v string) bool {
	t, s, ok := strings.Cut(v, "/")
	if !ok || t == "" || s == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 127 || strings.IndexByte("()<>@,;:\\\"[]?=", c) >= 0 {
			return false
		}
	}
	return true
}

// multipart walks a multipart entity (RFC 2046 §5.1). It reports false
// when the entity cannot be split and should be read as text instead.
func (p *parser) multipart(mt string, params map[string]string, body []byte, depth int, c *collector) bool {
	boundary := params["boundary"]
	if boundary == "" {
		p.warn("mime: %s without boundary; read as text", mt)
		return false
	}
	if depth >= maxDepth {
		p.warn("mime: multiparts nested deeper than %d; inner parts skipped", maxDepth)
		return true
	}
	parts, closed, found := splitMultipart(body, boundary)
	if !found {
		p.warn("mime: boundary %q of %s not found; read as text", boundary, mt)
		return false
	}
	if !closed {
		p.warn("mime: missing final boundary %q; read to the end", boundary)
	}
	childType := "text/plain"
	if mt == "multipart/digest" {
		childType = "message/rfc822"
	}
	if mt != "multipart/alternative" {
		for _, part := range parts {
			p.part(part, depth, childType, c)
		}
		return true
	}
	// RFC 2046 §5.1.4: alternatives come in increasing order of
	// faithfulness. Text comes from the first that has text, HTML from
	// the last that has HTML; attachments come from all.
	var text, html []string
	for _, part := range parts {
		var sub collector
		p.part(part, depth, childType, &sub)
		if text == nil && len(sub.texts) > 0 {
			text = sub.texts
		}
		if len(sub.htmls) > 0 {
			html = sub.htmls
		}
	}
	c.texts = append(c.texts, text...)
	c.htmls = append(c.htmls, html...)
	return true
}

func (p *parser) part(raw []byte, depth int, defType string, c *collector) {
	h, body, ok := readHeader(raw)
	if !ok {
		h, body = header{}, raw
	}
	p.entity(h, body, depth+1, defType, c)
}

// splitMultipart cuts body at its delimiter lines (RFC 2046 §5.1.1): "--"
// boundary at the start of a line, then only transport padding, or "--"
// for the close delimiter. The line break before a delimiter belongs to
// the delimiter. closed reports the close delimiter; found, any delimiter.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed, found bool) {
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body); {
		line, next := nextLine(body, pos)
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.Trim(rest, " \t")) == 0 || isClose {
				found = true
				if start >= 0 {
					end := pos
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
				}
				if isClose {
					return parts, true, true
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 && start <= len(body) {
		// Unterminated: keep the last part unless it is only padding.
		if last := body[start:]; len(bytes.TrimSpace(last)) > 0 {
			parts = append(parts, last)
		}
	}
	return parts, false, found
}

// alternativeOnly are renderings that only make sense as an alternative
// to the text and HTML bodies; they are neither body nor attachment.
var alternativeOnly = map[string]bool{
	"text/watch-html": true, "text/x-amp-html": true, "text/enriched": true, "text/richtext": true,
}

func (p *parser) leaf(h header, mt string, params map[string]string, body []byte, c *collector) {
	disp, dparams := "", map[string]string{}
	if d := decode8(h.get("content-disposition")); strings.TrimSpace(d) != "" {
		disp, dparams = parseParams(d)
	}
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = cleanFilename(decodeText(name))
	data, fresh := p.transfer(h, body)
	attach := disp == "attachment"
	switch {
	case mt == "text/plain" && !attach && (name == "" || len(c.texts) == 0):
		c.texts = append(c.texts, p.text(data, params))
	case mt == "text/html" && !attach && (name == "" || len(c.htmls) == 0):
		c.htmls = append(c.htmls, p.html(data, params))
	case alternativeOnly[mt] && !attach:
	default:
		a := Attachment{
			Filename:    name,
			ContentType: mt,
			Size:        len(data),
			ContentID:   strings.Trim(strings.TrimSpace(decode8(h.get("content-id"))), "<>"),
		}
		a.Inline = disp == "inline" || disp == "" && a.ContentID != ""
		if a.Filename == "" && (mt == "message/rfc822" || mt == "message/global") {
			a.Filename = messageFilename(data)
		}
		if int64(len(data)) > p.lim.MaxAttachmentBytes {
			p.warn("attachment: %q is %d bytes, over the limit of %d; its data was dropped", a.Filename, len(data), p.lim.MaxAttachmentBytes)
		} else if fresh {
			a.Data = data // decoded into its own buffer: a copy would double a large file
		} else {
			a.Data = bytes.Clone(data) // not a slice of the whole message, which would keep it alive
		}
		p.m.Attachments = append(p.m.Attachments, a)
	}
}

// messageFilename names an attached message after its subject.
func messageFilename(raw []byte) string {
	h, _, ok := readHeader(raw)
	if ok {
		if s := cleanFilename(decodeText(h.get("subject"))); s != "" {
			return s + ".eml"
		}
	}
	return "message.eml"
}

// cleanFilename drops directories (which some mailers send, and which
// must never reach a file system) and control characters.
func cleanFilename(s string) string {
	if i := strings.LastIndexAny(s, "/\\"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// transfer undoes the Content-Transfer-Encoding (RFC 2045 §6). fresh
// reports that out is a new buffer, not a slice of body.
func (p *parser) transfer(h header, body []byte) (out []byte, fresh bool) {
	cte := strings.ToLower(strings.TrimSpace(decode8(h.get("content-transfer-encoding"))))
	if i := strings.IndexAny(cte, " \t;("); i >= 0 {
		cte = cte[:i]
	}
	switch cte {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body, false
	case "quoted-printable":
		out, bad := decodeQP(body)
		if bad {
			p.warn("quoted-printable: malformed escape kept as is")
		}
		return out, true
	case "base64":
		out, bad := decodeBase64(body)
		if bad {
			p.warn("base64: malformed data; invalid characters skipped")
		}
		return out, true
	default:
		p.warn("mime: unknown transfer encoding %q; read as is", cte)
		return body, false
	}
}

func (p *parser) text(data []byte, params map[string]string) string {
	s, warn := decodeCharset(params["charset"], data)
	if warn != "" {
		p.warn("charset: text/plain part: %s", warn)
	}
	s = normalizeNewlines(s)
	if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return s
}

func (p *parser) html(data []byte, params map[string]string) string {
	cs := params["charset"]
	if cs == "" {
		cs = metaCharset(data)
	}
	s, warn := decodeCharset(cs, data)
	if warn != "" {
		p.warn("charset: text/html part: %s", warn)
	}
	return normalizeNewlines(s)
}

// metaCharset finds the charset an HTML document declares in a <meta>
// element, for HTML parts whose Content-Type does not say.
func metaCharset(b []byte) string {
	head := bytes.ToLower(b[:min(len(b), 4096)])
	i := bytes.Index(head, []byte("charset="))
	if i < 0 || !bytes.Contains(head[:i], []byte("<meta")) {
		return ""
	}
	rest := bytes.TrimLeft(head[i+len("charset="):], "\"' ")
	end := 0
	for end < len(rest) && end < 40 {
		c := rest[end]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			break
		}
		end++
	}
	return string(rest[:end])
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow undoes format=flowed (RFC 3676 §4): a line that ends in a space
// continues on the next line of the same quote depth; a leading space is
// stuffing (§4.4); "-- " is never flowed (§4.3).
func unflow(s string, delsp bool) string {
	var out strings.Builder
	var cur strings.Builder
	curDepth, open := 0, false
	emit := func() {
		if curDepth > 0 {
			out.WriteString(strings.Repeat(">", curDepth))
			if cur.Len() > 0 {
				out.WriteByte(' ')
			}
		}
		out.WriteString(cur.String())
		out.WriteByte('\n')
		cur.Reset()
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		d := 0
		for d < len(l) && l[d] == '>' {
			d++
		}
		content := l[d:]
		if strings.HasPrefix(content, " ") {
			content = content[1:]
		}
		flowed := strings.HasSuffix(content, " ") && content != "-- "
		if flowed && delsp {
			content = content[:len(content)-1]
		}
		if open && d != curDepth {
			emit()
		}
		curDepth = d
		cur.WriteString(content)
		if !flowed {
			emit()
		}
		open = flowed
	}
	if open {
		emit()
	}
	return out.String()
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: trailing
// whitespace is dropped (rule 3), "=" at the end of a line is a soft
// break, and a malformed escape is kept as is and reported.
func decodeQP(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	bad := false
	for pos := 0; pos < len(b); {
		nl := bytes.IndexByte(b[pos:], '\n')
		var line []byte
		hasNL, crlf := nl >= 0, false
		if hasNL {
			line = b[pos : pos+nl]
			pos += nl + 1
		} else {
			line = b[pos:]
			pos = len(b)
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line, crlf = line[:n-1], true
		}
		line = bytes.TrimRight(line, " \t")
		soft := false
		if n := len(line); n > 0 && line[n-1] == '=' {
			soft, line = true, line[:n-1]
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '=' {
				if i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
					out = append(out, unhex(line[i+1])<<4|unhex(line[i+2]))
					i += 2
					continue
				}
				bad = true
			}
			out = append(out, c)
		}
		if hasNL && !soft {
			if crlf {
				out = append(out, '\r')
			}
			out = append(out, '\n')
		}
	}
	return out, bad
}

// decodeBase64 decodes base64 (RFC 2045 §6.8) leniently: whitespace is
// ignored, other characters outside the alphabet are skipped and
// reported, padding may be missing, and data after padding (two encoded
// blobs glued together) is decoded too.
func decodeBase64(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b)*3/4+3)
	var acc uint32
	n := 0
	bad := false
	flush := func() {
		switch n {
		case 1:
			bad = true
		case 2:
			out = append(out, byte(acc>>4))
		case 3:
			out = append(out, byte(acc>>10), byte(acc>>2))
		}
		acc, n = 0, 0
	}
	for _, c := range b {
		v, ok := base64Value(c)
		switch {
		case ok:
		case c == '=':
			flush()
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		default:
			bad = true
			continue
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	flush()
	return out, bad
}

// ---- parameters -------------------------------------------------------------------

// parseParams parses a Content-Type or Content-Disposition value: the
// lowercased value before the first ";", and the parameters (RFC 2045
// §5.1, RFC 2183), lowercased names to values. RFC 2231 continuations
// and charsets are applied. It never fails: a broken parameter is
// skipped, an unquoted value may hold spaces, an unterminated quoted
// string runs to the end.
func parseParams(v string) (string, map[string]string) {
	value, rest, _ := strings.Cut(v, ";")
	value = strings.ToLower(strings.TrimSpace(value))
	if i := strings.IndexAny(value, " \t("); i >= 0 {
		value = value[:i]
	}
	params := map[string]string{}
	type segment struct {
		idx int
		enc bool
		val string
	}
	ext := map[string][]segment{}
	s := rest
	for {
		s = strings.TrimLeft(s, " \t\r\n;")
		if s == "" {
			break
		}
		eq := strings.IndexAny(s, "=;")
		if eq < 0 {
			break
		}
		if s[eq] == ';' {
			s = s[eq+1:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t\r\n")
		var val string
		if strings.HasPrefix(s, "\"") {
			val, s = readQuoted(s)
		} else {
			end := strings.IndexByte(s, ';')
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		if name == "" {
			continue
		}
		star := strings.IndexByte(name, '*')
		if star < 0 {
			if _, dup := params[name]; !dup {
				params[name] = val
			}
			continue
		}
		// RFC 2231 §3-4: name*=charset'lang'pct, name*0=, name*1*=…
		base, suffix := name[:star], name[star+1:]
		enc := suffix == "" || strings.HasSuffix(suffix, "*")
		idx := 0
		if num := strings.TrimSuffix(suffix, "*"); num != "" {
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			idx = n
		}
		if base != "" && len(ext[base]) < 1000 {
			ext[base] = append(ext[base], segment{idx, enc, val})
		}
	}
	for base, segs := range ext {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].idx < segs[j].idx })
		var buf []byte
		cs := ""
		for i, sg := range segs {
			if i > 0 && sg.idx == segs[i-1].idx {
				continue
			}
			val := sg.val
			if !sg.enc {
				buf = append(buf, val...)
				continue
			}
			if i == 0 {
				if a := strings.IndexByte(val, '\''); a >= 0 {
					if b := strings.IndexByte(val[a+1:], '\''); b >= 0 {
						cs, val = val[:a], val[a+1+b+1:]
					}
				}
			}
			buf = append(buf, percentDecode(val)...)
		}
		if cs == "" {
			params[base] = decode8(string(buf))
		} else {
			params[base], _ = decodeCharset(cs, buf)
		}
	}
	return value, params
}

// readQuoted reads the quoted-string at the start of s (RFC 5322 §3.2.4).
func readQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}
