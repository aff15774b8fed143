package inbound

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/parleymail/parley/mailflow/store"
)

// headBytes is how much of a message's start the spool keeps in memory:
// enough for the header fields the listener reads (the Message-ID), and
// the whole of most list mail, which then never touches the disk.
const headBytes = 64 << 10

// spool holds a message's DATA while it arrives: hashed and counted on
// the way, so that storing it needs one pass. A message of up to
// headBytes stays in memory; a larger one goes to a file as soon as it
// outgrows that, so memory holds a buffer per connection, never a large
// message. The file is unlinked as soon as it is made: it lives while it
// is open, and a daemon that dies mid-message leaves nothing behind.
// Creating and unlinking a file for every message cost half a
// millisecond of CPU per post in a burst.
type spool struct {
	dir  string
	f    *os.File // nil while the message fits in head
	sum  hash.Hash
	n    int64
	head []byte // the message's first headBytes
}

func newSpool(dir string) *spool {
	return &spool{dir: dir, sum: sha256.New()}
}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && len(s.head)+len(p) > headBytes {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	if room := headBytes - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	n := len(p)
	if s.f != nil {
		var err error
		if n, err = s.f.Write(p); err != nil {
			s.sum.Write(p[:n])
			s.n += int64(n)
			return n, err
		}
	}
	s.sum.Write(p)
	s.n += int64(n)
	return n, nil
}

// spill moves the message so far to a new, unlinked file.
func (s *spool) spill() error {
	f, err := os.CreateTemp(s.dir, "inbound-*.eml")
	if err != nil {
		return fmt.Errorf("creating the spool file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		return fmt.Errorf("unlinking the spool file: %w", err)
	}
	if _, err := f.Write(s.head); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing the spool file: %w", err)
	}
	s.f = f
	return nil
}

// body returns the message to be stored, rewound.
func (s *spool) body() (store.RawBody, error) {
	b := store.RawBody{R: bytes.NewReader(s.head), Size: s.n}
	if s.f != nil {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return store.RawBody{}, fmt.Errorf("rewinding the spool file: %w", err)
		}
		b.R = s.f
	}
	s.sum.Sum(b.SHA256[:0])
	return b, nil
}

// messageID is the Message-ID of the spooled header, for the record.
func (s *spool) messageID() string { return headerMessageID(s.head) }

func (s *spool) Close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}
