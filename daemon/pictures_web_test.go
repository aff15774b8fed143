package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/parleymail/parley/mailflow/blobstore"
)

// TestProfilePictureBlobs: a profile picture's bytes go to the blob store
// (local disk, or S3 through an in-process fake), its row keeps only the
// key and type, pictures stored in the row before migration 0009 are still
// served, and a replaced or deleted account's picture leaves the store.
func TestProfilePictureBlobs(t *testing.T) {
	for _, storage := range []string{"local", "s3"} {
		t.Run(storage, func(t *testing.T) {
			var extra []string
			var blobs blobstore.Store
			if storage == "s3" {
				backend := s3mem.New()
				if err := backend.CreateBucket("parley"); err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(gofakes3.New(backend).Server())
				t.Cleanup(srv.Close)
				host := strings.TrimPrefix(srv.URL, "http://")
				extra = []string{"RESOURCE_STORAGE=s3", "S3_ENDPOINT=" + host, "S3_BUCKET=parley",
					"S3_ACCESS_KEY_ID=parley", "S3_SECRET_ACCESS_KEY=parley-secret", "S3_USE_SSL=false"}
				s3, err := blobstore.NewS3(t.Context(), blobstore.S3Config{Endpoint: host, Bucket: "parley", Region: "us-east-1",
					AccessKeyID: "parley", SecretAccessKey: "parley-secret"})
				if err != nil {
					t.Fatal(err)
				}
				blobs = s3
			}
			w := startWeb(t, "", extra...)
			if blobs == nil {
				local, err := blobstore.NewLocal(filepath.Join(w.dir, "blobs"))
				if err != nil {
					t.Fatal(err)
				}
				blobs = local
			}
			testPictureBlobs(t, w, blobs)
		})
	}
}

func testPictureBlobs(t *testing.T, w *webSite, blobs blobstore.Store) {
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	upload := func(content []byte) {
		t.Helper()
		ann.get("/account")
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"csrf_token": ann.csrf, "name": "Ann", "timezone": "UTC", "default_delivery": "immediate"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("picture", "me.png")
		fw.Write(content)
		mw.Close()
		req, _ := http.NewRequest("POST", w.url+"/account/profile", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if code, body := ann.do(req); code != http.StatusOK || strings.Contains(body, `id="picture-error"`) {
			t.Fatalf("picture upload: %d\n%s", code, body)
		}
	}
	blobExists := func(key string) bool {
		t.Helper()
		ok, err := blobs.Exists(t.Context(), "pictures/"+key)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	fetch := func(key string) (int, []byte) {
		t.Helper()
		res, err := http.Get(w.url + "/pictures/" + key)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, b
	}

	upload(testPNG(t, color.RGBA{200, 30, 30, 255}))
	first := queryString(t, w, `SELECT picture_key FROM users WHERE email = 'ann@example.org'`)
	if first == "" {
		t.Fatal("no picture on the profile after an upload")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM pictures WHERE key = $1 AND data IS NULL`, first); n != 1 {
		t.Errorf("the picture's row holds its bytes (or is missing): %d rows without data", n)
	}
	if !blobExists(first) {
		t.Fatal("the picture is not in the blob store")
	}
	rc, info, err := blobs.Get(t.Context(), "pictures/"+first)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if code, served := fetch(first); code != http.StatusOK || !bytes.Equal(served, stored) || !strings.HasPrefix(info.ContentType, "image/") {
		t.Errorf("GET /pictures/%s: %d, %d bytes (the store has %d, %s)", first, code, len(served), len(stored), info.ContentType)
	}

	// A row from before 0009, bytes and all, is served from the row.
	legacy := testPNG(t, color.RGBA{0, 0, 255, 255})
	w.sql(t, `INSERT INTO pictures (key, content_type, data) VALUES ('00112233445566778899aabbccddeeff.png', 'image/png', $1)`, legacy)
	if code, served := fetch("00112233445566778899aabbccddeeff.png"); code != http.StatusOK || !bytes.Equal(served, legacy) {
		t.Errorf("a picture stored in its row: %d, %d bytes, want %d", code, len(served), len(legacy))
	}
	if code, _ := fetch("ffffffffffffffffffffffffffffffff.png"); code != http.StatusNotFound {
		t.Errorf("an unknown picture: %d, want 404", code)
	}

	// A new picture replaces the old one, row and bytes.
	upload(testPNG(t, color.RGBA{30, 200, 30, 255}))
	second := queryString(t, w, `SELECT picture_key FROM users WHERE email = 'ann@example.org'`)
	if second == first || !blobExists(second) {
		t.Fatalf("the second picture: key %q (first %q), in the store: %v", second, first, blobExists(second))
	}
	if blobExists(first) || w.queryInt(t, `SELECT count(*) FROM pictures WHERE key = $1`, first) != 0 {
		t.Error("the replaced picture is still stored")
	}

	// Deleting the account deletes its picture.
	ann.get("/account/delete")
	if code, body := ann.post("/account/delete", url.Values{"password": {"correct horse battery"}}); code != http.StatusOK || !strings.Contains(body, "Your account is deleted") {
		t.Fatalf("delete: %d", code)
	}
	if blobExists(second) || w.queryInt(t, `SELECT count(*) FROM pictures WHERE key = $1`, second) != 0 {
		t.Error("the deleted account's picture is still stored")
	}
}

// testPNG is a small, valid picture of one colour.
func testPNG(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := range 48 {
		for x := range 48 {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func queryString(t *testing.T, w *webSite, q string, args ...any) string {
	t.Helper()
	return queryOne[string](t, w, q, args...)
}
