package mailparse

import (
	"bytes"
	"strings"
)

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
