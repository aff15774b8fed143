package blobstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleymail/parley/mailflow/blobstore"
)

const testBucket = "parley-test"

// stores returns one fresh store of each kind, so that every behaviour
// below is checked against local disk and S3 alike.
func stores(t *testing.T) map[string]blobstore.Store {
	t.Helper()
	local, err := blobstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]blobstore.Store{"local": local, "s3": newS3(t)}
}

// newS3 starts an in-process S3 server and returns a store on a fresh
// bucket in it.
func newS3(t *testing.T) *blobstore.S3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	s, err := blobstore.NewS3(t.Context(), s3Config(t, srv.URL, testBucket))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func s3Config(t *testing.T, rawURL, bucket string) blobstore.S3Config {
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	// 127.0.0.1 makes minio-go address the bucket path-style.
	return blobstore.S3Config{
		Endpoint: u.Host, Bucket: bucket, Region: "us-east-1",
		AccessKeyID: "test", SecretAccessKey: "test-secret", UseSSL: false,
	}
}

func put(t *testing.T, s blobstore.Store, key string, data []byte, ct string) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), ct); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blobstore.Store, key string) ([]byte, blobstore.Info) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("closing %q: %v", key, err)
	}
	return data, info
}

func exists(t *testing.T, s blobstore.Store, key string) bool {
	t.Helper()
	ok, err := s.Exists(t.Context(), key)
	if err != nil {
		t.Fatalf("Exists(%q): %v", key, err)
	}
	return ok
}

func TestStore(t *testing.T) {
	binary := make([]byte, 300_000) // larger than one read, with every byte value
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s blobstore.Store)
	}{
		{"round trip", func(t *testing.T, s blobstore.Store) {
			for _, tc := range []struct {
				key, ct string
				data    []byte
			}{
				{"pictures/a.png", "image/png", binary},
				{"x", "text/plain; charset=utf-8", []byte("hello")},
				{"deep/er/key_with-all.chars0-9", "application/pdf", []byte("%PDF-1.4")},
				{"empty", "application/octet-stream", nil},
			} {
				put(t, s, tc.key, tc.data, tc.ct)
				got, info := get(t, s, tc.key)
				if !bytes.Equal(got, tc.data) {
					t.Errorf("%s: got %d bytes, want %d identical bytes", tc.key, len(got), len(tc.data))
				}
				if info.Size != int64(len(tc.data)) || info.ContentType != tc.ct {
					t.Errorf("%s: info = %+v, want size %d type %q", tc.key, info, len(tc.data), tc.ct)
				}
			}
		}},
		{"overwrite", func(t *testing.T, s blobstore.Store) {
			put(t, s, "k", []byte("first"), "text/plain")
			put(t, s, "k", []byte("second!"), "text/html")
			got, info := get(t, s, "k")
			if string(got) != "second!" || info.ContentType != "text/html" || info.Size != 7 {
				t.Errorf("got %q %+v", got, info)
			}
		}},
		{"missing key", func(t *testing.T, s blobstore.Store) {
			if _, _, err := s.Get(t.Context(), "no/such/key"); !errors.Is(err, blobstore.ErrNotFound) {
				t.Errorf("Get missing: err = %v, want ErrNotFound", err)
			}
			if exists(t, s, "no/such/key") {
				t.Error("Exists missing = true")
			}
		}},
		{"exists and delete", func(t *testing.T, s blobstore.Store) {
			put(t, s, "a/b", []byte("data"), "text/plain")
			if !exists(t, s, "a/b") {
				t.Fatal("Exists after Put = false")
			}
			for i := range 2 { // the second delete finds nothing, and that is fine
				if err := s.Delete(t.Context(), "a/b"); err != nil {
					t.Fatalf("Delete #%d: %v", i+1, err)
				}
			}
			if exists(t, s, "a/b") {
				t.Error("Exists after Delete = true")
			}
			if _, _, err := s.Get(t.Context(), "a/b"); !errors.Is(err, blobstore.ErrNotFound) {
				t.Errorf("Get after Delete: err = %v, want ErrNotFound", err)
			}
			if err := s.Delete(t.Context(), "never/stored"); err != nil {
				t.Errorf("Delete never stored: %v", err)
			}
		}},
		{"bad keys", func(t *testing.T, s blobstore.Store) {
			for _, key := range []string{
				"", "Upper", "a b", "../escape", "a/../../b", "/abs", "trail/", "a//b", ".", "a/./b",
				"ünï", "semi;colon", `back\slash`, "q?x", "x.type", ".tmp-x", "a%2fb", strings.Repeat("k", 600),
			} {
				if err := s.Put(t.Context(), key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, blobstore.ErrBadKey) {
					t.Errorf("Put(%q): err = %v, want ErrBadKey", key, err)
				}
				if _, _, err := s.Get(t.Context(), key); !errors.Is(err, blobstore.ErrBadKey) {
					t.Errorf("Get(%q): err = %v, want ErrBadKey", key, err)
				}
				if _, err := s.Exists(t.Context(), key); !errors.Is(err, blobstore.ErrBadKey) {
					t.Errorf("Exists(%q): err = %v, want ErrBadKey", key, err)
				}
				if err := s.Delete(t.Context(), key); !errors.Is(err, blobstore.ErrBadKey) {
					t.Errorf("Delete(%q): err = %v, want ErrBadKey", key, err)
				}
			}
		}},
		{"short body refused", func(t *testing.T, s blobstore.Store) {
			if err := s.Put(t.Context(), "short", strings.NewReader("abc"), 10, "text/plain"); err == nil {
				t.Error("Put with fewer bytes than size: no error")
			}
			if exists(t, s, "short") {
				t.Error("a short Put left an object behind")
			}
		}},
		{"put staged stores once", func(t *testing.T, s blobstore.Store) {
			counting := &countingStore{Store: s}
			content := []byte("the same bytes, twice")
			var keys []string
			for range 2 {
				st, err := blobstore.Stage(bytes.NewReader(content), t.TempDir(), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				key, err := blobstore.PutStaged(t.Context(), counting, st, "text/plain")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := os.Stat(st.Path); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("staged file still there after PutStaged: %v", err)
				}
				keys = append(keys, key)
			}
			sum := sha256.Sum256(content)
			want := "sha256/" + hex.EncodeToString(sum[:1]) + "/" + hex.EncodeToString(sum[:])
			if keys[0] != want || keys[1] != want {
				t.Errorf("keys = %q, want both %q", keys, want)
			}
			if n := counting.puts.Load(); n != 1 {
				t.Errorf("Put called %d times, want 1", n)
			}
			got, info := get(t, s, want)
			if !bytes.Equal(got, content) || info.ContentType != "text/plain" {
				t.Errorf("stored %q %+v", got, info)
			}
		}},
	}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
			}
		})
	}
}

// countingStore counts the uploads that reach the store.
type countingStore struct {
	blobstore.Store
	puts atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, key, r, size, ct)
}

func TestNewS3MissingBucket(t *testing.T) {
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	_, err := blobstore.NewS3(t.Context(), s3Config(t, srv.URL, "no-such-bucket"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("NewS3 on a missing bucket: err = %v, want a clear error", err)
	}
}

func TestNewS3EndpointWithScheme(t *testing.T) {
	cfg := blobstore.S3Config{Endpoint: "https://s3.example.com", Bucket: "b"}
	if _, err := blobstore.NewS3(t.Context(), cfg); err == nil {
		t.Error("NewS3 accepted an endpoint with a scheme")
	}
}

func TestLocalLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	l, err := blobstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	put(t, l, "a/b/c", []byte("data"), "text/plain")
	_ = l.Put(t.Context(), "a/b/short", strings.NewReader("x"), 5, "text/plain")
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStage(t *testing.T) {
	pngHead := []byte("\x89PNG\r\n\x1a\n")
	tests := []struct {
		name    string
		data    []byte
		max     int64
		wantErr error
		sniffed string
	}{
		{"under the limit", append(pngHead, bytes.Repeat([]byte{1}, 5000)...), 10_000, nil, "image/png"},
		{"exactly the limit", []byte("hello world"), 11, nil, "text/plain; charset=utf-8"},
		{"empty", nil, 10, nil, "text/plain; charset=utf-8"},
		{"one byte over", []byte("hello world!"), 11, blobstore.ErrTooLarge, ""},
		{"far over", bytes.Repeat([]byte("x"), 1<<20), 1000, blobstore.ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			st, err := blobstore.Stage(bytes.NewReader(tt.data), tmp, tt.max)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				assertEmpty(t, tmp)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tt.data)
			if st.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("SHA256 = %s, want %x", st.SHA256, sum)
			}
			if st.Size != int64(len(tt.data)) {
				t.Errorf("Size = %d, want %d", st.Size, len(tt.data))
			}
			if st.Sniffed != tt.sniffed {
				t.Errorf("Sniffed = %q, want %q", st.Sniffed, tt.sniffed)
			}
			got, err := os.ReadFile(st.Path)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Errorf("staged file differs from the input (err %v)", err)
			}
			if filepath.Dir(st.Path) != tmp {
				t.Errorf("staged in %s, want %s", filepath.Dir(st.Path), tmp)
			}
			if err := st.Remove(); err != nil {
				t.Fatal(err)
			}
			if err := st.Remove(); err != nil {
				t.Errorf("second Remove: %v", err)
			}
			assertEmpty(t, tmp)
		})
	}
}

// failingReader fails after yielding some bytes, like a dropped upload.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(r.n, len(p))
	r.n -= n
	return n, nil
}

func TestStageReadErrorLeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	if _, err := blobstore.Stage(&failingReader{n: 2000}, tmp, 1<<20); err == nil {
		t.Fatal("no error from a failing reader")
	}
	assertEmpty(t, tmp)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}
