package groups

import (
	"context"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// withPicture runs write, the group's transaction, with ch's new picture
// stored on g (or g's cleared), deleting the row of the picture it
// replaces in the same transaction and its bytes once that has committed.
func (s *Service) withPicture(ctx context.Context, g *mailflow.Group, ch Change, write func(tx *store.Store) error) error {
	old := g.PictureKey
	replaced := func() bool { return old != "" && old != g.PictureKey }
	err := s.gallery.Keep(ctx, ch.Picture, func(row store.PictureRow) error {
		return s.store.Tx(ctx, func(tx *store.Store) error {
			switch {
			case row.Key != "":
				if err := tx.AddPicture(ctx, row); err != nil {
					return err
				}
				g.PictureKey = row.Key
			case ch.ClearPicture:
				g.PictureKey = ""
			}
			if err := write(tx); err != nil {
				return err
			}
			if replaced() {
				return tx.DeletePicture(ctx, old)
			}
			return nil
		})
	})
	if err == nil && replaced() {
		s.gallery.Drop(ctx, old)
	}
	return err
}
