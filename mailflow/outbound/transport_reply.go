package outbound

import (
	"bytes"
	"net/textproto"
)

// readReply reads one SMTP reply (RFC 5321 §4.2) and returns what
// textproto.Reader.ReadResponse(expect) would return as its error. The
// usual reply, one line with the expected code, is read from the buffer
// without copying it; anything else (a multiline reply, another code, a
// malformed or long line, a read error) is left to ReadResponse, so that
// errors keep its exact form.
func readReply(tc *textproto.Conn, expect int) error {
	r := tc.R
	for {
		b, _ := r.Peek(r.Buffered())
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			if plainReply(b[:i], expect) {
				_, err := r.Discard(i + 1)
				return err
			}
			break
		}
		if r.Buffered() == r.Size() {
			break // a line longer than the buffer
		}
		// Wait for more of the line. On an error nothing is consumed:
		// ReadResponse reads the socket again and reports it.
		if _, err := r.Peek(r.Buffered() + 1); err != nil {
			break
		}
	}
	_, _, err := tc.ReadResponse(expect)
	return err
}

// plainReply reports whether line (without its "\n") is a last reply
// line, "ddd text", whose code ReadResponse would accept for expect: a
// code of 100 or more whose leading digits match expect's.
func plainReply(line []byte, expect int) bool {
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) < 4 || line[3] != ' ' {
		return false
	}
	code := 0
	for _, c := range line[:3] {
		if c < '0' || c > '9' {
			return false
		}
		code = code*10 + int(c-'0')
	}
	switch {
	case code < 100:
		return false
	case 1 <= expect && expect < 10:
		return code/100 == expect
	case 10 <= expect && expect < 100:
		return code/10 == expect
	case 100 <= expect && expect < 1000:
		return code == expect
	}
	return true
}
