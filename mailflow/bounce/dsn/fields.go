package dsn

import (
	"strings"
	"unicode/utf8"
)

// cleanAddr returns s as a lowercased mailbox address, or "" when it is
// none: a local part and a domain with at least one dot (or an address
// literal), without spaces. Angle brackets, quotes and trailing
// punctuation are dropped first.
func cleanAddr(s string) string {
	s = strings.TrimSpace(s)
	if q := quotedAddr(s); q != "" {
		return q
	}
	s = strings.TrimLeft(s, "<\"'(")
	s = strings.TrimRight(s, ">\"'):;,.")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "mailto:"), "MAILTO:")
	if len(s) < 5 || len(s) > 254 {
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("<>()[],;:\\\"@", c) >= 0 {
			return ""
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' {
		return ""
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return strings.ToLower(local) + "@" + domain
	}
	if !strings.Contains(domain, ".") || strings.Contains(domain, "..") ||
		domain[0] == '.' || domain[0] == '-' || domain[len(domain)-1] == '-' {
		return ""
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c == '-' || c == '.' || c >= 0x80) {
			return ""
		}
	}
	return strings.ToLower(local) + "@" + domain
}

// quotedAddr reads an address whose local part is a quoted string
// (RFC 5321 §4.1.2: "a..b"@example.org, a local part a dot-atom cannot
// spell), keeping the quotes, which are part of the address.
func quotedAddr(s string) string {
	s = strings.TrimRight(strings.TrimLeft(s, "<("), ">):;,.")
	if len(s) < 6 || s[0] != '"' {
		return ""
	}
	end := strings.Index(s[1:], "\"@")
	if end < 1 {
		return ""
	}
	local := s[1 : 1+end]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c < ' ' || c == 0x7f || c == '"' || c == '\\' {
			return ""
		}
	}
	rest := cleanAddr("x@" + s[end+3:])
	if rest == "" {
		return ""
	}
	return `"` + strings.ToLower(local) + `"` + rest[1:]
}

// addressList reads the addresses of an address-list field (RFC 5322
// §3.4) well enough for reports: each comma-separated element's address
// in angle brackets, or the element itself.
func addressList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if i := strings.IndexByte(part, '<'); i >= 0 {
			if j := strings.IndexByte(part[i:], '>'); j > 0 {
				part = part[i+1 : i+j]
			}
		}
		if a := cleanAddr(part); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// ---- header fields --------------------------------------------------------------------

type field struct {
	name  string // lowercased
	value string
}

type header []field

func (h header) first(name string) (string, bool) {
	for _, f := range h {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

func (h header) all(name string) []string {
	var vs []string
	for _, f := range h {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// readHeader reads the header fields at the start of b (RFC 5322 §2.2),
// unfolded, up to the blank line or the first line that is not a field.
// An mbox "From " line before them is skipped.
func readHeader(b []byte) header {
	if len(b) > 1<<20 {
		b = b[:1<<20]
	}
	s := string(b)
	if strings.HasPrefix(s, "From ") {
		_, s, _ = strings.Cut(s, "\n")
	}
	var h header
	// The value being unfolded grows in cur: appending to a string would
	// make a field folded over many lines quadratic.
	var cur strings.Builder
	finish := func() {
		if len(h) > 0 {
			h[len(h)-1].value = strings.TrimSpace(cur.String())
		}
		cur.Reset()
	}
	for s != "" {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) == 0 {
				break
			}
			cur.WriteByte(' ')
			cur.WriteString(strings.TrimSpace(line))
			continue
		}
		name, value, ok := splitField(line)
		if !ok {
			break
		}
		finish()
		h = append(h, field{name: name})
		cur.WriteString(value)
	}
	finish()
	return h
}

func splitField(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	n := strings.TrimRight(line[:i], " \t")
	if n == "" {
		return "", "", false
	}
	for j := 0; j < len(n); j++ {
		if c := n[j]; c < 33 || c > 126 {
			return "", "", false
		}
	}
	return strings.ToLower(n), line[i+1:], true
}

// fieldGroups splits a body of report fields (RFC 3464 §2.1, RFC 5965
// §3.1) into its groups: blank lines separate groups, and a line that is
// not a field ends the current one (a stray boundary, a copy of the
// returned message).
func fieldGroups(body string) [][]field {
	var groups [][]field
	var cur []field
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
			cur = nil
		}
	}
	for n := 0; body != "" && n < 10000; n++ {
		var line string
		line, body, _ = strings.Cut(body, "\n")
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) > 0 && len(cur[len(cur)-1].value) < 4096 {
				cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := splitField(line)
			if !ok {
				flush()
				continue
			}
			cur = append(cur, field{name: name, value: strings.TrimSpace(value)})
		}
	}
	flush()
	return groups
}

// mediaType reads a Content-Type value: the lowercased type and its
// parameters (names lowercased, quotes removed).
func mediaType(v string) (string, map[string]string) {
	parts := strings.Split(v, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), "\"")
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), params
}

// validPrefix cuts s to at most n bytes without splitting a character.
func validPrefix(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
