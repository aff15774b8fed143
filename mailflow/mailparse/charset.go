package mailparse

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

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
