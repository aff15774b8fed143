package blobstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
)

// Staged is an upload streamed to a temporary file while it is hashed and
// measured, before it is stored: a request body is never held in memory,
// and an upload over the limit leaves nothing behind.
type Staged struct {
	Path    string
	Size    int64
	SHA256  string // hex
	Sniffed string // http.DetectContentType of the first 512 bytes
}

// Stage copies r into a new temporary file in tmpDir, hashing and
// measuring it on the way. It returns ErrTooLarge when r has more than max
// bytes; the temporary file is removed on any error.
func Stage(r io.Reader, tmpDir string, max int64) (*Staged, error) {
	f, err := os.CreateTemp(tmpDir, "stage-*")
	if err != nil {
		return nil, fmt.Errorf("staging upload: %w", err)
	}
	st, err := stageInto(f, r, max)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("staging upload: %w", cerr)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, err
	}
	return st, nil
}

func stageInto(f *os.File, r io.Reader, max int64) (*Staged, error) {
	h := sha256.New()
	sniff := &headBuffer{max: 512}
	// Read one byte past the limit: reading exactly max bytes is fine,
	// anything more is too large, and we stop there instead of draining
	// the rest of a hostile body.
	n, err := io.Copy(io.MultiWriter(f, h, sniff), io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("staging upload: %w", err)
	}
	if n > max {
		return nil, ErrTooLarge
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("staging upload: %w", err)
	}
	return &Staged{
		Path:    f.Name(),
		Size:    n,
		SHA256:  hex.EncodeToString(h.Sum(nil)),
		Sniffed: http.DetectContentType(sniff.buf),
	}, nil
}

// headBuffer keeps the first max bytes written to it.
type headBuffer struct {
	buf []byte
	max int
}

func (b *headBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Remove deletes the temporary file. Removing it twice is not an error.
func (s *Staged) Remove() error {
	if err := os.Remove(s.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing staged upload: %w", err)
	}
	return nil
}

// ContentKey is the content-addressed key of bytes whose SHA-256 is
// sum (hex).
func ContentKey(sum string) string {
	return "sha256/" + sum[:2] + "/" + sum
}

// PutStaged stores a staged file under "sha256/<first 2 hex>/<hex>"
// (content-addressed: the same bytes are stored once; if Exists, skip the
// upload) and removes the temp file. Returns the key.
func PutStaged(ctx context.Context, st Store, s *Staged, contentType string) (key string, err error) {
	defer func() {
		if rerr := s.Remove(); err == nil && rerr != nil {
			err = rerr
		}
	}()
	if len(s.SHA256) != sha256.Size*2 {
		return "", fmt.Errorf("storing staged upload: bad hash %q", s.SHA256)
	}
	key = ContentKey(s.SHA256)
	ok, err := st.Exists(ctx, key)
	if err != nil {
		return "", fmt.Errorf("storing staged upload: %w", err)
	}
	if ok {
		return key, nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return "", fmt.Errorf("storing staged upload: %w", err)
	}
	defer f.Close()
	if err := st.Put(ctx, key, f, s.Size, contentType); err != nil {
		return "", fmt.Errorf("storing staged upload: %w", err)
	}
	return key, nil
}
