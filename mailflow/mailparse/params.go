package mailparse

import (
	"sort"
	"strconv"
	"strings"
)

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
