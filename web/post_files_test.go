package web

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// postFile is one file of a post form.
type postFile struct {
	name string
	data []byte
}

// postWithFiles sends a post form as a browser does: multipart, the text
// fields first, the files last, the CSRF token in the action's query.
func (c *testClient) postWithFiles(path string, fields map[string]string, files ...postFile) (int, string) {
	c.s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile("files", f.name)
		if err != nil {
			c.s.t.Fatal(err)
		}
		_, _ = fw.Write(f.data)
	}
	_ = mw.Close()
	return c.do("POST", path+"?"+url.Values{"csrf_token": {c.csrf}}.Encode(), mw.FormDataContentType(), body.Bytes())
}

// blobCount counts the files in the blob store.
func (s *testSite) blobCount() int {
	s.t.Helper()
	n := 0
	err := filepath.WalkDir(s.blobDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

var testPDF = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

// TestPostFormsTakeFiles replies and starts a thread on the web with
// files: each becomes a resource of the group linked from its message,
// listed on the thread page with a link that downloads it.
func TestPostFormsTakeFiles(t *testing.T) {
	s := newTestSite(t)
	c := s.signIn(s.rootID)
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	code, page := c.get(thread)
	if code != http.StatusOK || !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `name="files"`) {
		t.Fatalf("the reply form takes no files: %d", code)
	}
	code, page = c.postWithFiles(thread+"/reply", map[string]string{"body": "The minutes and the agenda."},
		postFile{"minutes.txt", []byte("Minutes of the spring meeting.\n")}, postFile{"agenda.pdf", testPDF})
	if code != http.StatusSeeOther {
		t.Fatalf("reply with files: %d\n%s", code, page)
	}
	var msgID int64
	if err := s.st.Pool().QueryRow(context.Background(), `SELECT id FROM messages WHERE body = 'The minutes and the agenda.'`).Scan(&msgID); err != nil {
		t.Fatal(err)
	}
	if n := s.count(`SELECT count(*) FROM resources WHERE message_id = $1 AND group_id = $2`, msgID, s.groupID); n != 2 {
		t.Fatalf("%d resources linked from the reply, want 2", n)
	}
	_, page = c.get(thread)
	var rid int64
	if err := s.st.Pool().QueryRow(context.Background(), `SELECT id FROM resources WHERE filename = 'agenda.pdf'`).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, fmt.Sprintf(`href="/resources/%d"`, rid)) || !strings.Contains(page, "minutes.txt") {
		t.Fatalf("the thread page does not link the files")
	}
	if code, body := c.get(fmt.Sprintf("/resources/%d/download", rid)); code != http.StatusOK || body != string(testPDF) {
		t.Fatalf("downloading the attached PDF: %d", code)
	}

	c.get("/compose")
	code, page = c.postWithFiles("/compose", map[string]string{"group": "crawl", "subject": "Photos", "body": "See the file."},
		postFile{"list.csv", []byte("name,count\nowl,3\n")})
	if code != http.StatusSeeOther {
		t.Fatalf("compose with a file: %d\n%s", code, page)
	}
	if n := s.count(`SELECT count(*) FROM resources r JOIN messages m ON m.id = r.message_id WHERE m.subject = 'Photos'`); n != 1 {
		t.Fatalf("%d resources linked from the new thread, want 1", n)
	}
	// A form without files, url-encoded as before, still posts.
	if code, _ := c.post(thread+"/reply", url.Values{"body": {"No files."}}); code != http.StatusSeeOther {
		t.Fatalf("a reply without files: %d", code)
	}
	s.noErrors()
}

// TestPostFormsRefuseBadFiles sends bad files with a reply and a new
// thread: the form comes back 422 (413 for a request over the bound) with
// the text kept and the reason, and nothing is saved: no message, no
// resource, no blob, not even of the good file sent beside a bad one.
func TestPostFormsRefuseBadFiles(t *testing.T) {
	s := newTestSite(t)
	c := s.signIn(s.rootID)
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	c.get(thread)
	good := postFile{"minutes.txt", []byte("Minutes.\n")}
	big := bytes.Repeat([]byte("a"), 1<<20+1) // ResourceMaxBytes is 1 MB
	cases := []struct {
		name   string
		files  []postFile
		status int
		says   string
	}{
		{"html", []postFile{good, {"page.html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")}}, 422, "Parley cannot take “page.html”"},
		{"too big", []postFile{good, {"big.txt", big}}, 422, "“big.txt” is too large: files may be at most 1.0 MB"},
		{"empty", []postFile{{"empty.txt", nil}}, 422, "the file is empty"},
		{"no name", []postFile{{" ", []byte("text")}}, 422, "A file has no name"},
		{"NUL in name", []postFile{{"a\x00b.txt", []byte("text")}}, 422, "holds a NUL byte or another control character"},
		{"too many", func() []postFile {
			var fs []postFile
			for i := 0; i < 11; i++ {
				fs = append(fs, postFile{fmt.Sprintf("f%d.txt", i), []byte("x")})
			}
			return fs
		}(), 422, "at most 10 files"},
		{"request too large", []postFile{{"a.txt", big[:900<<10]}, {"b.txt", big[:900<<10]}, {"c.txt", big[:900<<10]}}, 413, "larger than this form takes"},
	}
	messages := s.count(`SELECT count(*) FROM messages`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, form := range []struct{ path, field string }{{thread + "/reply", "body"}, {"/compose", "body"}} {
				fields := map[string]string{"body": "Kept text " + tc.name}
				if form.path == "/compose" {
					fields["group"], fields["subject"] = "crawl", "Subject "+tc.name
				}
				code, page := c.postWithFiles(form.path, fields, tc.files...)
				if code != tc.status {
					t.Fatalf("%s: %d, want %d\n%s", form.path, code, tc.status, page)
				}
				if !strings.Contains(page, "Kept text "+tc.name) || !strings.Contains(page, tc.says) {
					t.Errorf("%s: the form does not keep the text or say %q", form.path, tc.says)
				}
			}
			if n := s.count(`SELECT count(*) FROM messages`); n != messages {
				t.Errorf("%d messages, want %d", n, messages)
			}
			if n := s.count(`SELECT count(*) FROM resources`); n != 0 {
				t.Errorf("%d resources left", n)
			}
			if n := s.blobCount(); n != 0 {
				t.Errorf("%d blobs left", n)
			}
		})
	}
	s.noErrors()
}
