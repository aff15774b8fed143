package web

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"
)

// TestUploadNameLosesBidiControls uploads, through the web form, a file
// whose name holds bidirectional controls (an override that would show
// "notes\u202Etxt.exe" reversed, and isolates): the stored file name, the
// listed name and the download's file name keep none of them.
func TestUploadNameLosesBidiControls(t *testing.T) {
	s := newTestSite(t)
	c := s.signIn(s.rootID)
	if code, _ := c.get("/g/crawl/resources/new"); code != http.StatusOK {
		t.Fatalf("the upload form: %d", code)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("group", "crawl")
	fw, _ := mw.CreateFormFile("file", "\u2066minutes\u2069 \u202Bspring\u202C\u202E.txt")
	_, _ = fw.Write([]byte("Minutes of the spring meeting.\n"))
	_ = mw.Close()
	path := "/g/crawl/resources/new?" + url.Values{"csrf_token": {c.csrf}}.Encode()
	if code, page := c.do("POST", path, mw.FormDataContentType(), body.Bytes()); code != http.StatusSeeOther {
		t.Fatalf("uploading: %d\n%s", code, page)
	}
	var id int64
	var filename, name string
	if err := s.st.Pool().QueryRow(context.Background(), `SELECT id, filename, name FROM resources`).Scan(&id, &filename, &name); err != nil {
		t.Fatal(err)
	}
	if filename != "minutes spring.txt" || name != "minutes spring.txt" {
		t.Errorf("stored as %q named %q, want %q", filename, name, "minutes spring.txt")
	}
	code, _ := c.get(fmt.Sprintf("/resources/%d/download", id))
	_, params, err := mime.ParseMediaType(c.last.Header.Get("Content-Disposition"))
	if code != http.StatusOK || err != nil || params["filename"] != "minutes spring.txt" {
		t.Errorf("download: %d, Content-Disposition %q (%v)", code, c.last.Header.Get("Content-Disposition"), err)
	}
	for _, r := range filename + name + params["filename"] {
		if r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 {
			t.Errorf("a bidirectional control U+%04X is left", r)
		}
	}
	s.noErrors()
}
