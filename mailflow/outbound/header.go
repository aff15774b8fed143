package outbound

import (
	"strings"
	"unicode/utf8"
)

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
