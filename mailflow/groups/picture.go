package groups

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// savePicture stores ch's new picture on g, or clears g's.
func savePicture(ctx context.Context, tx *store.Store, g *mailflow.Group, ch Change) error {
	switch {
	case ch.Picture != nil:
		key := newPictureKey(ch.Picture.ContentType)
		if err := tx.PutPicture(ctx, key, ch.Picture.ContentType, ch.Picture.Data); err != nil {
			return err
		}
		g.PictureKey = key
	case ch.ClearPicture:
		g.PictureKey = ""
	}
	return nil
}

// newPictureKey is a random key: pictures are served by key, cached for
// good, and a new upload gets a new key.
func newPictureKey(contentType string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	ext := ".jpg"
	if contentType == "image/png" {
		ext = ".png"
	}
	return hex.EncodeToString(b) + ext
}
