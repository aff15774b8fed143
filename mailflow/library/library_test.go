package library_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func files(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestResourceLibrary: the same content is stored once and its blob goes
// with the last resource using it; a refused or failed upload leaves no
// file anywhere.
func TestResourceLibrary(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	dir := t.TempDir()
	blobs, err := blobstore.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	lib := &library.Library{Store: st, Blobs: blobs, TmpDir: tmp, MaxBytes: 1 << 20, Log: slog.New(slog.DiscardHandler)}
	u, err := st.CreateUser(ctx, store.NewUser{Email: "lib@example.org", Name: "Lib", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "lib", Name: "Lib", JoinPolicy: mailflow.JoinOpen,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string, content []byte, groupID int64) (mailflow.Resource, error) {
		t.Helper()
		staged, err := lib.Stage(bytes.NewReader(content))
		if err != nil {
			return mailflow.Resource{}, err
		}
		r, _, err := lib.Add(ctx, staged, library.File{GroupID: groupID, UploaderID: &u.ID, ActorID: &u.ID, Filename: name,
			Tags: []mailflow.Tag{{Slug: "notes", Name: "Notes"}}})
		return r, err
	}
	text := []byte("Minutes of the spring meeting.\n")
	a, err := add("a.txt", text, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := add("b.md", text, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.BlobKey != b.BlobKey || files(t, filepath.Join(dir, "blobs")) != 2 { // the object and its type
		t.Fatalf("the same content twice: keys %q %q, %d files", a.BlobKey, b.BlobKey, files(t, filepath.Join(dir, "blobs")))
	}
	if b.ContentType != "text/markdown" || a.Name != "a.txt" {
		t.Errorf("b is %q, a is named %q", b.ContentType, a.Name)
	}

	if _, err := add("page.html", []byte("<html><script>x</script></html>"), g.ID); !errors.Is(err, library.ErrUnsupported) {
		t.Errorf("HTML: %v, want ErrUnsupported", err)
	}
	if _, err := add("big.txt", bytes.Repeat([]byte("x"), 1<<20+1), g.ID); !errors.Is(err, blobstore.ErrTooLarge) {
		t.Errorf("over the limit: %v, want ErrTooLarge", err)
	}
	// A resource the database refuses (no such group): its new blob goes.
	if _, err := add("c.txt", []byte("orphan to be"), g.ID+1000); err == nil {
		t.Error("a resource of a missing group was recorded")
	}
	if n := files(t, filepath.Join(dir, "blobs")); n != 2 {
		t.Errorf("%d blob files after refused uploads, want 2", n)
	}
	if n := files(t, tmp); n != 0 {
		t.Errorf("%d staged files left", n)
	}

	if _, err := lib.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := files(t, filepath.Join(dir, "blobs")); n != 2 {
		t.Errorf("the blob went while b still uses it (%d files)", n)
	}
	if _, err := lib.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if n := files(t, filepath.Join(dir, "blobs")); n != 0 {
		t.Errorf("%d blob files after the last resource went", n)
	}
	if _, err := lib.Delete(ctx, b.ID); !errors.Is(err, mailflow.ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	if !strings.HasPrefix(a.BlobKey, "sha256/") {
		t.Errorf("blob key %q", a.BlobKey)
	}
}
