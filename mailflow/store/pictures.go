package store

import (
	"context"

	"github.com/parleymail/parley/mailflow"
)

// Pictures (members' and groups') are served by a random key that changes
// with every upload. Their rows keep the key, the type and the date; their
// bytes live in the blob store (mailflow/picture.Gallery keeps the two in
// step). Rows written before migration 0009 still hold their bytes in
// data, and are served from there.

// MaxPictureBytes bounds a stored picture, as the column's check did
// before 0009 (mailflow/picture re-encodes to well under it).
const MaxPictureBytes = 1 << 20

// PictureRow is a picture's row. Data is nil when the bytes are in the
// blob store.
type PictureRow struct {
	Key, ContentType string
	Data             []byte
}

// AddPicture inserts a picture's row.
func (s *Store) AddPicture(ctx context.Context, p PictureRow) error {
	if len(p.Data) > MaxPictureBytes {
		return &mailflow.FieldError{Field: "picture", Msg: "is too large", Err: mailflow.ErrInvalid}
	}
	_, err := s.db.Exec(ctx, `INSERT INTO pictures (key, content_type, data) VALUES ($1, $2, $3)`, p.Key, p.ContentType, p.Data)
	return mapErr(err, "store picture")
}

// Picture returns a picture's row; its Data is nil when the bytes are in
// the blob store.
func (s *Store) Picture(ctx context.Context, key string) (PictureRow, error) {
	p := PictureRow{Key: key}
	err := s.db.QueryRow(ctx, `SELECT content_type, data FROM pictures WHERE key = $1`, key).Scan(&p.ContentType, &p.Data)
	return p, mapErr(err, "get picture")
}

// DeletePicture deletes a picture's row (its bytes are the caller's to
// delete once this has committed).
func (s *Store) DeletePicture(ctx context.Context, key string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM pictures WHERE key = $1`, key)
	return mapErr(err, "delete picture")
}

// SetUserPicture points the profile at a new picture ("" clears it) and
// deletes the old one's row, returning its key ("" if there was none or it
// is unchanged) so that its bytes can go once this has committed.
func (s *Store) SetUserPicture(ctx context.Context, userID int64, key string) (old string, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		if err := tx.db.QueryRow(ctx, `SELECT picture_key FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&old); err != nil {
			return mapErr(err, "get picture key")
		}
		if _, err := tx.db.Exec(ctx, `UPDATE users SET picture_key = $2, updated_at = now() WHERE id = $1`, userID, key); err != nil {
			return mapErr(err, "set picture key")
		}
		if old == "" || old == key {
			old = ""
			return nil
		}
		return tx.DeletePicture(ctx, old)
	})
	return old, err
}
