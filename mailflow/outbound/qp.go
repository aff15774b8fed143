package outbound

// appendQP appends src encoded as quoted-printable (RFC 2045 §6.7). LF and
// CRLF become CRLF line breaks; lines are soft-broken to stay within 76
// characters; "=", control and non-ASCII bytes, and spaces or tabs that end
// a line, are encoded.
func appendQP(dst, src []byte) []byte {
	col := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' {
			dst = append(dst, '\r', '\n')
			col = 0
			continue
		}
		if c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			continue
		}
		literal := c >= '!' && c <= '~' && c != '='
		if c == ' ' || c == '\t' {
			next := i + 1
			if next < len(src) && src[next] == '\r' && next+1 < len(src) && src[next+1] == '\n' {
				next++
			}
			literal = next < len(src) && src[next] != '\n'
		}
		w := 3
		if literal {
			w = 1
		} else if c >= 0xC0 {
			// Keep a UTF-8 sequence on one line: decoders that
			// convert the charset line by line would garble it.
			w = 3 * utf8SeqLen(c)
		}
		if col+w > 75 { // leave room for the soft break's "="
			dst = append(dst, '=', '\r', '\n')
			col = 0
		}
		if literal {
			// Copy the run of plain characters that fits on the line.
			j := i + 1
			for j < len(src) && j-i < 75-col && qpPlain(src[j]) {
				j++
			}
			lineEnd := j == len(src) || src[j] == '\n' || src[j] == '\r' && j+1 < len(src) && src[j+1] == '\n'
			if lineEnd && src[j-1] == ' ' && j-1 > i {
				j-- // the space before a line break is encoded
			}
			dst = append(dst, src[i:j]...)
			col += j - i
			i = j - 1
			continue
		} else {
			dst = append(dst, '=', upperHex[c>>4], upperHex[c&15])
		}
		if w > 3 {
			w = 3 // the sequence's other bytes add their own width
		}
		col += w
	}
	return dst
}

// qpPlain reports whether c is written as itself wherever it is in a line.
func qpPlain(c byte) bool { return c >= ' ' && c <= '~' && c != '=' }

// utf8SeqLen is the length of the UTF-8 sequence that starts with c.
func utf8SeqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	}
	return 2
}

// endLine makes sure b ends with a line break, so that parts encoded
// separately join at a hard line break.
func endLine(b []byte) []byte {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return append(b, '\n')
	}
	return b
}

// AppendQP appends src encoded as quoted-printable (RFC 2045 §6.7), with
// CRLF line breaks. Text that starts at the beginning of a line and ends
// with a line break encodes the same alone as within a larger text, so
// callers may encode shared pieces once and join them (the digest does).
func AppendQP(dst, src []byte) []byte { return appendQP(dst, src) }
