package groups

import (
	"context"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/store"
)

// savePicture stores ch's new picture on g, or clears g's.
func savePicture(ctx context.Context, tx *store.Store, g *mailflow.Group, ch Change) error {
	switch {
	case ch.Picture != nil:
		key := picture.NewKey(ch.Picture.ContentType)
		if err := tx.PutPicture(ctx, key, ch.Picture.ContentType, ch.Picture.Data); err != nil {
			return err
		}
		g.PictureKey = key
	case ch.ClearPicture:
		g.PictureKey = ""
	}
	return nil
}
