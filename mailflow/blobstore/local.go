package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const (
	// typeSuffix names the sidecar file that holds an object's content
	// type: the object "a/b" is the file dir/a/b and its type is in
	// dir/a/b.type. Keys may not end in it, so a sidecar is never an
	// object.
	typeSuffix = ".type"
	// tmpPrefix starts the names of files being written; keys may not
	// start with it either.
	tmpPrefix = ".tmp-"
	// defaultType is what Get reports when no sidecar is found.
	defaultType = "application/octet-stream"
)

// Local is a Store on local disk: the object under key "a/b" is the file
// dir/a/b, and its content type is in the sidecar file dir/a/b.type.
// Writes go to a temporary file in the object's directory, are fsynced and
// then renamed over the object, so a reader sees the whole old object or
// the whole new one, never part of either. The sidecar is written first,
// so an object that exists always has its type.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal returns a Local that keeps its files under dir, creating it if
// needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("local blob store: no directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local blob store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("local blob store: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Dir returns the directory the objects live in.
func (l *Local) Dir() string { return l.dir }

func (l *Local) path(key string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put stores r (exactly size bytes) under key.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if contentType == "" {
		contentType = defaultType
	}
	if err := writeAtomic(p+typeSuffix, strings.NewReader(contentType), int64(len(contentType))); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	if err := writeAtomic(p, r, size); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// writeAtomic writes exactly size bytes of r to a temporary file next to
// p, fsyncs it, renames it to p and fsyncs the directory.
func writeAtomic(p string, r io.Reader, size int64) (err error) {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, io.LimitReader(r, size+1))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o640); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return err
	}
	return d.Close()
}

// Get opens the object under key.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("get %q: %w", key, err)
	}
	if fi.IsDir() {
		_ = f.Close()
		return nil, Info{}, ErrNotFound
	}
	info := Info{Size: fi.Size(), ContentType: defaultType}
	if t, err := os.ReadFile(p + typeSuffix); err == nil && len(t) > 0 {
		info.ContentType = string(t)
	}
	return f, info, nil
}

// Delete removes the object under key; a missing key is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// The object goes first: while its sidecar remains, Get still has a type.
	for _, f := range []string{p, p + typeSuffix} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete %q: %w", key, err)
		}
	}
	return nil
}

// Exists reports whether there is an object under key.
func (l *Local) Exists(ctx context.Context, key string) (bool, error) {
	p, err := l.path(key)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("exists %q: %w", key, err)
	}
	return !fi.IsDir(), nil
}
