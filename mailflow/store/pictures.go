package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
)

// Pictures (members' and groups') are re-encoded on upload (web/picture)
// and served by a random key that changes with every upload. Their bytes
// live in the blob store under "pictures/<key>", with resources and
// attachments, so that every daemon on the database serves them; the
// pictures row keeps the key, the type and the date. Rows written before
// migration 0009 still hold their bytes in data, and are served from there.
//
// The blob and the row cannot commit together. A picture is written to the
// blob store before its row, and deleted from it when the transaction that
// inserts the row rolls back; a picture's blob is deleted only after the
// deletion of its row has committed. A crash in between leaves at worst a
// blob no row names, never a row without its bytes.

// maxPictureBytes bounds a stored picture, as the column's check did
// before 0009 (web/picture re-encodes to well under it).
const maxPictureBytes = 1 << 20

func pictureBlobKey(key string) string { return "pictures/" + key }

// PutPicture stores a picture under key.
func (s *Store) PutPicture(ctx context.Context, key, contentType string, data []byte) error {
	if len(data) > maxPictureBytes {
		return &mailflow.FieldError{Field: "picture", Msg: "is too large", Err: mailflow.ErrInvalid}
	}
	if s.blobs == nil {
		_, err := s.db.Exec(ctx, `INSERT INTO pictures (key, content_type, data) VALUES ($1, $2, $3)`, key, contentType, data)
		return mapErr(err, "store picture")
	}
	bkey := pictureBlobKey(key)
	if err := blobstore.CheckKey(bkey); err != nil {
		return &mailflow.FieldError{Field: "picture", Msg: "has a bad key", Err: mailflow.ErrInvalid}
	}
	if err := s.blobs.Put(ctx, bkey, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		return fmt.Errorf("store picture: %w", err)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pictures (key, content_type) VALUES ($1, $2)`, key, contentType)
	if err != nil {
		s.dropBlob(ctx, bkey)
		return mapErr(err, "store picture")
	}
	s.afterTx(ctx, nil, func(ctx context.Context) { s.dropBlob(ctx, bkey) })
	return nil
}

// Picture returns a stored picture: from its row when the row holds the
// bytes (pictures stored before migration 0009), else from the blob store.
func (s *Store) Picture(ctx context.Context, key string) (contentType string, data []byte, err error) {
	err = s.db.QueryRow(ctx, `SELECT content_type, data FROM pictures WHERE key = $1`, key).Scan(&contentType, &data)
	if err != nil {
		return "", nil, mapErr(err, "get picture")
	}
	if data != nil {
		return contentType, data, nil
	}
	if s.blobs == nil {
		return "", nil, fmt.Errorf("get picture %q: its bytes are in the blob store, and there is none", key)
	}
	rc, _, err := s.blobs.Get(ctx, pictureBlobKey(key))
	if errors.Is(err, blobstore.ErrNotFound) {
		return "", nil, mailflow.ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("get picture: %w", err)
	}
	defer rc.Close()
	data, err = io.ReadAll(io.LimitReader(rc, maxPictureBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("get picture: %w", err)
	}
	if len(data) > maxPictureBytes {
		return "", nil, fmt.Errorf("get picture %q: larger than %d bytes", key, maxPictureBytes)
	}
	return contentType, data, nil
}

// SetUserPicture points the profile at a new picture ("" clears it) and
// deletes the old one.
func (s *Store) SetUserPicture(ctx context.Context, userID int64, key string) error {
	return s.Tx(ctx, func(tx *Store) error {
		var old string
		if err := tx.db.QueryRow(ctx, `SELECT picture_key FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&old); err != nil {
			return mapErr(err, "get picture key")
		}
		if _, err := tx.db.Exec(ctx, `UPDATE users SET picture_key = $2, updated_at = now() WHERE id = $1`, userID, key); err != nil {
			return mapErr(err, "set picture key")
		}
		if old != "" && old != key {
			if _, err := tx.db.Exec(ctx, `DELETE FROM pictures WHERE key = $1`, old); err != nil {
				return mapErr(err, "delete old picture")
			}
			tx.dropPictureBlobAfterCommit(ctx, old)
		}
		return nil
	})
}

// dropPictureBlobAfterCommit deletes a picture's bytes from the blob store
// once the deletion of its row has committed.
func (s *Store) dropPictureBlobAfterCommit(ctx context.Context, key string) {
	if s.blobs == nil || key == "" || blobstore.CheckKey(pictureBlobKey(key)) != nil {
		return
	}
	s.afterTx(ctx, func(ctx context.Context) { s.dropBlob(ctx, pictureBlobKey(key)) }, nil)
}

// dropBlob deletes a blob whose row is gone (or never came). A failure
// leaves an orphan, which is logged, not returned: the change it cleans up
// after has happened.
func (s *Store) dropBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(ctx, key); err != nil && s.blobLog != nil {
		s.blobLog.Error("deleting a blob no row names", "key", key, "err", err)
	}
}
