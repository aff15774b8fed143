package outbound

import (
	"strings"
	"unicode"

	"github.com/parleymail/parley/mailflow"
)

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
