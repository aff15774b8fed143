package inbound

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/parleymail/parley/mailflow/store"
)

// headBytes is how much of a message's start the spool keeps in memory:
// enough for the header fields the listener reads (the Message-ID).
const headBytes = 64 << 10

// spool holds a message's DATA on disk while it arrives: hashed and
// counted on the way, so that storing it needs one pass over the file and
// memory holds only a buffer, never the message. The file is unlinked as
// soon as it is made: it lives while it is open, and a daemon that dies
// mid-message leaves nothing behind.
type spool struct {
	f    *os.File
	sum  hash.Hash
	n    int64
	head []byte
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "inbound-*.eml")
	if err != nil {
		return nil, fmt.Errorf("creating the spool file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("unlinking the spool file: %w", err)
	}
	return &spool{f: f, sum: sha256.New()}, nil
}

func (s *spool) Write(p []byte) (int, error) {
	if room := headBytes - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	n, err := s.f.Write(p)
	s.sum.Write(p[:n])
	s.n += int64(n)
	return n, err
}

// body rewinds the file and returns it to be stored.
func (s *spool) body() (store.RawBody, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return store.RawBody{}, fmt.Errorf("rewinding the spool file: %w", err)
	}
	b := store.RawBody{R: s.f, Size: s.n}
	s.sum.Sum(b.SHA256[:0])
	return b, nil
}

// messageID is the Message-ID of the spooled header, for the record.
func (s *spool) messageID() string { return headerMessageID(s.head) }

func (s *spool) Close() error { return s.f.Close() }
