package outbound

import (
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadReplyAsReadResponse: for every kind of reply, readReply returns
// the error ReadResponse returns and leaves the stream at the same place.
func TestReadReplyAsReadResponse(t *testing.T) {
	replies := []string{
		"250 2.1.0 Ok\r\n", "250 Ok\n", "354 End data with <CR><LF>.<CR><LF>\r\n",
		"250-first\r\n250 second\r\n", "550 5.1.1 user unknown\r\n", "550-5.7.1 no\r\n550 5.7.1 really\r\n",
		"451 try later\r\n", "251 forwarded\r\n", "099 low\r\n", "25O bad\r\n", "250\r\n", "250x\r\n",
		"250 " + strings.Repeat("x", 5000) + "\r\n", "250 cut short", "",
	}
	for _, reply := range replies {
		for _, expect := range []int{250, 25, 354, 2, 0} {
			stream := reply + "221 next\r\n"
			want := textproto.NewConn(rwc{iotest.OneByteReader(strings.NewReader(stream))})
			_, _, wantErr := want.ReadResponse(expect)
			got := textproto.NewConn(rwc{iotest.OneByteReader(strings.NewReader(stream))})
			gotErr := readReply(got, expect)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%.20q expecting %d: error %v, want %v", reply, expect, gotErr, wantErr)
			}
			wantNext, _ := want.ReadLine()
			gotNext, _ := got.ReadLine()
			if gotNext != wantNext {
				t.Errorf("%.20q expecting %d: next line %q, want %q", reply, expect, gotNext, wantNext)
			}
		}
	}
}

// rwc is a read-only io.ReadWriteCloser for textproto.NewConn.
type rwc struct{ io.Reader }

func (rwc) Write(p []byte) (int, error) { return len(p), nil }
func (rwc) Close() error                { return nil }
