package mailparse

import (
	"bytes"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

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
