// Package library owns resources' files: what a file is (Detect, from
// its content, against an allowlist), what text of it is searchable,
// its thumbnail, and keeping the blob store and the resources table in
// step. The web upload and email attachments both add files through a
// Library, so both accept and refuse the same files.
//
// Blobs are content-addressed (blobstore.ContentKey): the same bytes
// uploaded twice are stored once, and a blob is deleted only with the
// last resource that uses it. An upload stores its blob first, outside
// any transaction; then, under one advisory lock per content hash
// (store.LockContent), it checks the blob is still there (putting it back
// if the last resource using it was deleted meanwhile) and records the
// resource. A deletion removes the blob under the same lock, so the two
// cannot race.
package library

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/store"
)

// MaxText is how much of a text file is kept for search.
const MaxText = 100 << 10

var errNoBlobs = errors.New("no blob store configured")

// Thumbnailer makes a small picture of an image (picture.Normalize):
// its bytes and content type, or an error when it cannot.
type Thumbnailer func(r io.Reader) ([]byte, string, error)

// Library adds and removes resources.
type Library struct {
	Store    *store.Store
	Blobs    blobstore.Store
	TmpDir   string // where uploads are staged (on the blob store's disk when it is local)
	MaxBytes int64  // RESOURCE_MAX_BYTES
	Thumb    Thumbnailer
	Log      *slog.Logger
}

// File is a resource to add, whose content is staged.
type File struct {
	GroupID    int64
	UploaderID *int64
	MessageID  *int64
	ActorID    *int64 // who is doing it, for the audit log of tags it makes; nil for mail
	Name       string // "" takes the file name
	Filename   string
	Tags       []mailflow.Tag
}

// Stage streams r to a temporary file, refusing more than MaxBytes
// (blobstore.ErrTooLarge, with nothing left behind).
func (l *Library) Stage(r io.Reader) (*blobstore.Staged, error) {
	if l.TmpDir != "" {
		if err := os.MkdirAll(l.TmpDir, 0o750); err != nil {
			return nil, fmt.Errorf("staging upload: %w", err)
		}
	}
	return blobstore.Stage(r, l.TmpDir, l.MaxBytes)
}

// Add stores a staged file as a resource: it detects the type (an error
// wrapping ErrUnsupported when it is not allowed), keeps the start of a
// text file for search, makes an image's thumbnail, stores the blob and
// records the resource. The staged file is removed in every case.
// created is false when the file was attached to the message already.
func (l *Library) Add(ctx context.Context, st *blobstore.Staged, f File) (r mailflow.Resource, created bool, err error) {
	p, err := l.Prepare(ctx, st, f)
	if err != nil {
		return r, false, err
	}
	err = l.Store.Tx(ctx, func(tx *store.Store) error {
		r, created, err = l.Record(ctx, tx, p, 0)
		return err
	})
	if err != nil {
		l.Discard(ctx, p)
		return mailflow.Resource{}, false, err
	}
	l.Done(p)
	return r, created, nil
}

// Pending is a file whose blob is stored and whose resource is still to
// be recorded (Record), or given up (Discard). Prepare and Record are
// two steps so that the resource can be recorded in another write's
// transaction: a message posted on the web and its files commit
// together.
type Pending struct {
	st        *blobstore.Staged
	n         store.NewResource
	actorID   *int64
	thumb     []byte
	thumbType string
}

// Filename is the file's cleaned name.
func (p *Pending) Filename() string { return p.n.Filename }

// Prepare detects a staged file's type (an error wrapping ErrUnsupported
// when it is not allowed), keeps the start of a text file for search,
// makes an image's thumbnail and stores the blob. On error the staged
// file is removed; otherwise Record, then Done, or Discard, must follow.
func (l *Library) Prepare(ctx context.Context, st *blobstore.Staged, f File) (p *Pending, err error) {
	defer func() {
		if err != nil {
			l.removeStaged(st)
		}
	}()
	if l.Blobs == nil {
		return nil, errNoBlobs
	}
	f.Filename = mailflow.CleanFilename(f.Filename)
	ct, kind, err := Detect(st.Path, st.Size, st.Sniffed, f.Filename)
	if err != nil {
		return nil, err
	}
	if f.Name == "" {
		f.Name = f.Filename
	}
	name, err := mailflow.ValidateResourceName(f.Name)
	if err != nil {
		return nil, err
	}
	p = &Pending{st: st, actorID: f.ActorID, n: store.NewResource{GroupID: f.GroupID, UploaderID: f.UploaderID,
		MessageID: f.MessageID, Name: name, Filename: f.Filename, ContentType: ct, Kind: kind, Size: st.Size,
		ContentHash: st.SHA256, Tags: f.Tags}}
	if kind == mailflow.KindText {
		if p.n.ContentText, err = readText(st.Path); err != nil {
			return nil, err
		}
	}
	p.thumb, p.thumbType = l.thumbnail(st, kind)
	p.n.BlobKey = blobstore.ContentKey(st.SHA256)
	if p.thumb != nil {
		p.n.ThumbKey = thumbKey(st.SHA256)
	}
	// The file goes to the blob store first, outside any transaction: a
	// large upload to S3 must not hold a database connection meanwhile.
	if err := l.put(ctx, p); err != nil {
		l.collectOrphan(ctx, p)
		return nil, err
	}
	return p, nil
}

func (l *Library) put(ctx context.Context, p *Pending) error {
	return l.putMissing(ctx, p.st, p.n.BlobKey, p.n.ContentType, p.n.ThumbKey, p.thumb, p.thumbType)
}

// Record records a prepared file as a resource in tx, linked to
// messageID when it is not 0 (else to File.MessageID). Files recorded in one transaction should be
// recorded in the order of their content hash (SortPending), so that two
// such transactions cannot deadlock on the content locks.
func (l *Library) Record(ctx context.Context, tx *store.Store, p *Pending, messageID int64) (r mailflow.Resource, created bool, err error) {
	if messageID != 0 {
		p.n.MessageID = &messageID
	}
	if err := tx.LockContent(ctx, p.st.SHA256); err != nil {
		return r, false, err
	}
	// The last resource with this content may have been deleted, and its
	// blob with it, since Prepare: under the lock, put it back.
	if err := l.put(ctx, p); err != nil {
		return r, false, err
	}
	var newTags []mailflow.Tag
	if r, newTags, created, err = tx.CreateResource(ctx, p.n); err != nil {
		return r, false, err
	}
	for _, t := range newTags {
		if err := tx.Audit(ctx, store.AuditEntry{ActorID: p.actorID, Action: "tag.create", TargetType: "tag",
			TargetID: strconv.FormatInt(t.ID, 10),
			Details:  map[string]any{"after": map[string]any{"slug": t.Slug, "name": t.Name}, "via": "resource"}}); err != nil {
			return r, false, err
		}
	}
	return r, created, nil
}

// SortPending orders files by content hash, the order Record wants.
func SortPending(ps []*Pending) {
	slices.SortFunc(ps, func(a, b *Pending) int { return strings.Compare(a.st.SHA256, b.st.SHA256) })
}

// Done removes the staged copy of a recorded file.
func (l *Library) Done(p *Pending) { l.removeStaged(p.st) }

// Discard gives up a prepared file whose resource was not recorded (the
// transaction failed): its blob is the orphan of a failed upload, and
// goes unless another resource uses it. The staged copy goes too.
func (l *Library) Discard(ctx context.Context, p *Pending) {
	l.collectOrphan(ctx, p)
	l.removeStaged(p.st)
}

func (l *Library) collectOrphan(ctx context.Context, p *Pending) {
	if err := l.collect(context.WithoutCancel(ctx), p.st.SHA256, p.n.BlobKey, p.n.ThumbKey); err != nil {
		l.Log.Warn("removing the blob of a failed upload", "key", p.n.BlobKey, "err", err)
	}
}

func (l *Library) removeStaged(st *blobstore.Staged) {
	if err := st.Remove(); err != nil {
		l.Log.Warn("removing a staged upload", "path", st.Path, "err", err)
	}
}

// putMissing stores the staged file under key, and the thumbnail under
// thumbKey, unless they are there already (the same content uploaded
// before).
func (l *Library) putMissing(ctx context.Context, st *blobstore.Staged, key, ct, thumbKey string, thumb []byte, thumbType string) error {
	ok, err := l.Blobs.Exists(ctx, key)
	if err != nil {
		return fmt.Errorf("storing upload: %w", err)
	}
	if !ok {
		f, err := os.Open(st.Path)
		if err != nil {
			return fmt.Errorf("storing upload: %w", err)
		}
		err = l.Blobs.Put(ctx, key, f, st.Size, ct)
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("storing upload: %w", err)
		}
	}
	if thumb == nil {
		return nil
	}
	if ok, err = l.Blobs.Exists(ctx, thumbKey); err != nil || ok {
		return err
	}
	if err := l.Blobs.Put(ctx, thumbKey, bytes.NewReader(thumb), int64(len(thumb)), thumbType); err != nil {
		return fmt.Errorf("storing thumbnail: %w", err)
	}
	return nil
}

// Delete removes a resource, and its blob (and thumbnail) when no other
// resource shares the content.
func (l *Library) Delete(ctx context.Context, id int64) (mailflow.Resource, error) {
	var r mailflow.Resource
	err := l.Store.Tx(ctx, func(tx *store.Store) error {
		cur, err := tx.ResourceByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.LockContent(ctx, cur.ContentHash); err != nil {
			return err
		}
		if r, err = tx.DeleteResource(ctx, id); err != nil {
			return err
		}
		return l.collectTx(ctx, tx, r.ContentHash, r.BlobKey, r.ThumbKey)
	})
	return r, err
}

// collect deletes the blobs of content no resource uses, under its lock.
func (l *Library) collect(ctx context.Context, hash, key, thumb string) error {
	if key == "" {
		return nil
	}
	return l.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockContent(ctx, hash); err != nil {
			return err
		}
		return l.collectTx(ctx, tx, hash, key, thumb)
	})
}

// collectTx deletes the blob and thumbnail of content no resource uses;
// tx holds the content's lock. The blobs go before the transaction
// commits, while the lock still keeps uploads of the same content out.
func (l *Library) collectTx(ctx context.Context, tx *store.Store, hash, key, thumb string) error {
	n, err := tx.ContentUsers(ctx, hash)
	if err != nil || n > 0 {
		return err
	}
	if l.Blobs == nil {
		return errNoBlobs
	}
	for _, k := range []string{key, thumb} {
		if k == "" {
			continue
		}
		if err := l.Blobs.Delete(ctx, k); err != nil && !errors.Is(err, blobstore.ErrNotFound) {
			return fmt.Errorf("deleting blob %s: %w", k, err)
		}
	}
	return nil
}

// thumbKey is where the thumbnail of an image with this content lives.
func thumbKey(hash string) string { return "thumbs/" + hash[:2] + "/" + hash }

// thumbnail makes an image's thumbnail; nil when it is not an image or
// cannot be made (too large for the thumbnailer, or damaged): the page
// shows the type's icon then.
func (l *Library) thumbnail(st *blobstore.Staged, kind mailflow.ResourceKind) ([]byte, string) {
	if kind != mailflow.KindImage || l.Thumb == nil {
		return nil, ""
	}
	f, err := os.Open(st.Path)
	if err != nil {
		l.Log.Warn("opening an image for its thumbnail", "err", err)
		return nil, ""
	}
	defer f.Close()
	b, ct, err := l.Thumb(f)
	if err != nil {
		l.Log.Info("no thumbnail for an image", "err", err)
		return nil, ""
	}
	return b, ct
}

// readText returns the first MaxText bytes of a text file as valid UTF-8
// (a character cut at the end, or bytes of another encoding, dropped)
// without NUL characters, which PostgreSQL's text refuses.
func readText(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading text for search: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxText))
	if err != nil {
		return "", fmt.Errorf("reading text for search: %w", err)
	}
	s := strings.ToValidUTF8(string(b), "")
	return strings.ReplaceAll(s, "\x00", ""), nil
}
