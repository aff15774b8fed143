package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

type fileTransport struct {
	dir string
}

// NewFile returns a Transport that writes each message to its own .eml file
// in dir, for development and for deployments without a relay. Files are
// named so that sorting the names sorts them by time of sending, and they
// appear whole: each is written under a hidden temporary name, then renamed
// into place.
func NewFile(dir string) Transport {
	return &fileTransport{dir: dir}
}

func (t *fileTransport) Name() string { return "file" }

// Open creates the directory if needed, readable by Parley's user only,
// since the messages may hold private posts and signed links.
func (t *fileTransport) Open(context.Context) (Conn, error) {
	if err := os.MkdirAll(t.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create outbox %s: %w", t.dir, err)
	}
	return &fileConn{dir: t.dir}, nil
}

type fileConn struct {
	dir string
}

// Send writes one file: a Return-Path line as a final delivery MTA would add
// (RFC 5321 section 4.4), a line keeping the envelope recipient, then msg.
func (c *fileConn) Send(ctx context.Context, from, to string, msg []byte) error {
	if err := checkEnvelope(from, to); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return &SendError{Temporary: true, Err: err}
	}
	head := make([]byte, 0, len("Return-Path: <>\r\nX-Parley-Envelope-To: <>\r\n")+len(from)+len(to))
	head = append(head, "Return-Path: <"...)
	head = append(head, from...)
	head = append(head, ">\r\nX-Parley-Envelope-To: <"...)
	head = append(head, to...)
	head = append(head, ">\r\n"...)
	if err := c.write(head, msg); err != nil {
		// A full or read-only disk may be fixed; the message is not at fault.
		return &SendError{Temporary: true, Err: err}
	}
	return nil
}

func (c *fileConn) write(head, msg []byte) (err error) {
	f, err := os.CreateTemp(c.dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("create outbox file: %w", err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err == nil {
			return
		}
		if !closed {
			err = errors.Join(err, f.Close())
		}
		err = errors.Join(err, os.Remove(tmp))
	}()
	if _, err := f.Write(head); err != nil {
		return fmt.Errorf("write outbox file: %w", err)
	}
	if _, err := f.Write(msg); err != nil {
		return fmt.Errorf("write outbox file: %w", err)
	}
	// The delivery is recorded as sent once Send returns, so the bytes must
	// be on disk before the file becomes visible under its final name.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync outbox file: %w", err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("close outbox file: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, fileName(time.Now()))); err != nil {
		return fmt.Errorf("rename outbox file: %w", err)
	}
	return nil
}

// fileName is the UTC time to the nanosecond, which sorts as text, then 64
// random bits so that two workers writing in the same instant never collide.
func fileName(now time.Time) string {
	var r [8]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return now.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:]) + ".eml"
}

func (c *fileConn) Close() error { return nil }
