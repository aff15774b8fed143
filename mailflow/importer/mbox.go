package importer

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"time"
)

// MboxMessage is one message of an mbox file.
type MboxMessage struct {
	Line     int    // the line of the file it starts on (its "From " line)
	FromLine string // the "From " line without "From " and its line end; "" when the file did not start with one
	// Raw is the message as it was sent: the "From " line and the blank
	// line before the next one taken off, ">From " lines unescaped.
	Raw      []byte
	TooLarge bool // over the reader's limit: Raw holds only its start
}

// MboxReader splits an mbox file into messages as it reads, holding one
// message at a time, so archives of any size stream through.
//
// A message starts at a line beginning "From " that is the file's first
// line or follows a blank line (the mboxo and mboxrd formats; mboxcl's
// Content-Length is not needed). Lines of the message matching ^>+From
// lose one '>', as mboxrd escapes them; in mboxo only ">From " was
// escaped, and the same rule undoes it.
type MboxReader struct {
	r   *bufio.Reader
	max int // the largest message kept, in bytes

	line    int   // lines read so far
	offset  int64 // bytes read so far
	long    []byte
	next    []byte // a "From " line read ahead: it starts the next message
	nextAt  int
	started bool
	done    bool
}

// DefaultMaxMessageBytes is the largest message an MboxReader keeps whole
// unless told otherwise.
const DefaultMaxMessageBytes = 64 << 20

// NewMboxReader returns a reader of r. Messages over maxBytes (0:
// DefaultMaxMessageBytes) are read through and returned TooLarge.
func NewMboxReader(r io.Reader, maxBytes int) *MboxReader {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	return &MboxReader{r: bufio.NewReaderSize(r, 64<<10), max: maxBytes}
}

// Offset returns how many bytes of the file have been read.
func (m *MboxReader) Offset() int64 { return m.offset }

// readLine returns the next line with its line end, valid until the next
// call, or io.EOF when there is none.
func (m *MboxReader) readLine() ([]byte, error) {
	line, err := m.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		m.long = append(m.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = m.r.ReadSlice('\n')
			m.long = append(m.long, line...)
		}
		line = m.long
	}
	if len(line) > 0 {
		m.line++
		m.offset += int64(len(line))
		if errors.Is(err, io.EOF) {
			err = nil // the last line, without a line end
		}
	}
	return line, err
}

func isFromLine(line []byte) bool { return bytes.HasPrefix(line, []byte("From ")) }

func isBlank(line []byte) bool {
	return len(line) == 0 || string(line) == "\n" || string(line) == "\r\n"
}

// Next returns the next message, or io.EOF after the last.
func (m *MboxReader) Next() (*MboxMessage, error) {
	msg := &MboxMessage{}
	switch {
	case m.next != nil:
		msg.Line, msg.FromLine = m.nextAt, fromLineText(m.next)
		m.next = nil
	case m.done:
		return nil, io.EOF
	default:
		// The start of the file: skip blank lines, then expect "From ".
		for {
			line, err := m.readLine()
			if err != nil {
				m.done = true
				return nil, err
			}
			if isBlank(line) {
				continue
			}
			msg.Line = m.line
			if isFromLine(line) {
				msg.FromLine = fromLineText(line)
			} else {
				// Not an mbox, or one with a damaged start: what comes
				// before the first "From " line is read as a message.
				msg.Raw = append(msg.Raw, line...)
			}
			break
		}
	}
	var held []byte // a blank line: the message's, or the separator's before "From "
	for {
		line, err := m.readLine()
		if errors.Is(err, io.EOF) {
			m.done = true // the held blank line ended the file's last message
			return msg, nil
		}
		if err != nil {
			m.done = true
			return nil, err
		}
		if held != nil && isFromLine(line) {
			m.next, m.nextAt = append(m.next[:0], line...), m.line
			return msg, nil
		}
		if held != nil {
			m.add(msg, held)
			held = nil
		}
		if isBlank(line) {
			held = append([]byte(nil), line...)
			continue
		}
		m.add(msg, unescapeFrom(line))
	}
}

func (m *MboxReader) add(msg *MboxMessage, line []byte) {
	if msg.TooLarge {
		return
	}
	if len(msg.Raw)+len(line) > m.max {
		msg.TooLarge = true
		return
	}
	msg.Raw = append(msg.Raw, line...)
}

// unescapeFrom takes one '>' off a line matching ^>+From (mboxrd).
func unescapeFrom(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}

func fromLineText(line []byte) string {
	return strings.TrimRight(string(line[len("From "):]), "\r\n")
}

// fromLineDate reads the date of a "From " line ("sender Mon Jan  2
// 15:04:05 2006", asctime, sometimes with a zone), or the zero time.
func fromLineDate(s string) time.Time {
	f := strings.Fields(s)
	if len(f) < 2 {
		return time.Time{}
	}
	rest := strings.Join(f[1:], " ")
	for _, layout := range []string{"Mon Jan 2 15:04:05 2006", "Mon Jan 2 15:04:05 -0700 2006", "Mon Jan 2 15:04:05 MST 2006", "Mon, 2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, rest); err == nil {
			return t
		}
	}
	return time.Time{}
}
