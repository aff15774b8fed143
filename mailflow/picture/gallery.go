package picture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/store"
)

// Gallery keeps members' and groups' pictures: their rows in the store,
// their bytes in the blob store under "pictures/<key>" (with resources and
// attachments, so that every daemon on the database serves them).
//
// The blob and the row cannot commit together, so the order makes a crash
// harmless: a picture's bytes are written before its row and deleted
// again if the transaction that inserts the row fails; they are deleted
// only after the deletion of their row has committed. A crash in between
// leaves at worst bytes no row names, never a row without its bytes.
type Gallery struct {
	store *store.Store
	blobs blobstore.Store // nil keeps the bytes in the rows, as before migration 0009
	log   *slog.Logger
}

// NewGallery keeps pictures' rows in st and their bytes in blobs (nil
// keeps the bytes in the rows). Keep and Drop work on a nil *Gallery too,
// as one without a blob store does, so that services built without one
// (tests of the API alone) need no stand-in.
func NewGallery(st *store.Store, blobs blobstore.Store, log *slog.Logger) *Gallery {
	return &Gallery{store: st, blobs: blobs, log: log}
}

// Upload is a normalized picture (Normalize) to keep.
type Upload struct {
	Data        []byte
	ContentType string
}

func blobKey(key string) string { return "pictures/" + key }

// Keep stores up's bytes under a new key and calls fn with the row to
// insert: fn runs the transaction that inserts it (store.AddPicture) with
// whatever points at it. If fn fails, the bytes are deleted again. A nil
// up calls fn with the zero row.
func (g *Gallery) Keep(ctx context.Context, up *Upload, fn func(row store.PictureRow) error) error {
	if up == nil {
		return fn(store.PictureRow{})
	}
	if len(up.Data) > store.MaxPictureBytes {
		return mailflow.Invalid("picture", "is too large")
	}
	row := store.PictureRow{Key: NewKey(up.ContentType), ContentType: up.ContentType}
	if g == nil || g.blobs == nil {
		row.Data = up.Data
		return fn(row)
	}
	if err := g.blobs.Put(ctx, blobKey(row.Key), bytes.NewReader(up.Data), int64(len(up.Data)), up.ContentType); err != nil {
		return fmt.Errorf("store picture: %w", err)
	}
	if err := fn(row); err != nil {
		g.Drop(ctx, row.Key)
		return err
	}
	return nil
}

// Open returns a picture's type and bytes: from its row when the row
// holds them (pictures stored before migration 0009), else from the blob
// store. An unknown key is mailflow.ErrNotFound.
func (g *Gallery) Open(ctx context.Context, key string) (contentType string, data []byte, err error) {
	row, err := g.store.Picture(ctx, key)
	if err != nil {
		return "", nil, err
	}
	if row.Data != nil {
		return row.ContentType, row.Data, nil
	}
	if g.blobs == nil {
		return "", nil, fmt.Errorf("get picture %q: its bytes are in the blob store, and there is none", key)
	}
	rc, _, err := g.blobs.Get(ctx, blobKey(key))
	if errors.Is(err, blobstore.ErrNotFound) {
		return "", nil, mailflow.ErrNotFound
	}
	if err != nil {
		return "", nil, fmt.Errorf("get picture: %w", err)
	}
	defer rc.Close()
	data, err = io.ReadAll(io.LimitReader(rc, store.MaxPictureBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("get picture: %w", err)
	}
	if len(data) > store.MaxPictureBytes {
		return "", nil, fmt.Errorf("get picture %q: larger than %d bytes", key, store.MaxPictureBytes)
	}
	return row.ContentType, data, nil
}

// Drop deletes the bytes of pictures whose rows are gone (or never came);
// call it once the deletion has committed. A failure leaves an orphan,
// which is logged, not returned: the change it cleans up after has
// happened.
func (g *Gallery) Drop(ctx context.Context, keys ...string) {
	if g == nil || g.blobs == nil {
		return
	}
	// The request may be over by now; the clean-up must still happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for _, key := range keys {
		if key == "" || blobstore.CheckKey(blobKey(key)) != nil {
			continue
		}
		if err := g.blobs.Delete(ctx, blobKey(key)); err != nil && !errors.Is(err, blobstore.ErrNotFound) {
			g.log.Error("deleting a picture no row names", "key", key, "err", err)
		}
	}
}
