package mailparse

import (
	"strings"
)

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
