package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrNotFound is returned by Get when there is no object under the key.
var ErrNotFound = errors.New("blobstore: not found")

// ErrTooLarge is returned by Stage when the upload has more bytes than
// allowed.
var ErrTooLarge = errors.New("blobstore: too large")

// ErrBadKey is returned for a key that is not slash-separated segments of
// [a-z0-9._-].
var ErrBadKey = errors.New("blobstore: bad key")

// Info describes a stored object.
type Info struct {
	Size        int64
	ContentType string
}

// Store holds objects under keys. Implementations are safe for concurrent
// use.
type Store interface {
	// Put stores r (exactly size bytes) under key. Keys are slash-separated, [a-z0-9/._-] only.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	Delete(ctx context.Context, key string) error // deleting a missing key is not an error
	Exists(ctx context.Context, key string) (bool, error)
}

// maxKeyLen keeps keys well inside both file-name and S3 limits.
const maxKeyLen = 512

// CheckKey reports whether key is acceptable to every Store: non-empty
// segments of [a-z0-9._-] separated by single slashes, no "." or ".."
// segment (which would climb out of a directory on disk), and no segment
// ending in ".type" or starting with ".tmp-" (names Local keeps for
// itself).
func CheckKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("%w: %q", ErrBadKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." ||
			strings.HasSuffix(seg, typeSuffix) || strings.HasPrefix(seg, tmpPrefix) {
			return fmt.Errorf("%w: %q", ErrBadKey, key)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return fmt.Errorf("%w: %q", ErrBadKey, key)
			}
		}
	}
	return nil
}
