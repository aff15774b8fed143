package web

import (
	"bytes"
	"mime/multipart"
	"testing"
)

// TestUploadedFilesWithNUL: the forms that read an uploaded file's text
// (Admin › Import of members and of an mbox archive, Admin › Invite from
// a CSV) take files holding NUL bytes and invalid UTF-8 with the result page, never a 5xx:
// the contents of files are not checked at the door, so each reader must
// cope.
func TestUploadedFilesWithNUL(t *testing.T) {
	s := newTestSite(t)
	c := s.signIn(s.rootID)
	send := func(path string, fields map[string]string, name string, content []byte) {
		t.Helper()
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("csrf_token", c.csrf)
		for k, v := range fields {
			_ = mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(content)
		_ = mw.Close()
		code, page := c.do("POST", path, mw.FormDataContentType(), b.Bytes())
		if code != 200 {
			t.Errorf("POST %s with %s: %d, want 200 (the result page)\n%.400s", path, name, code, page)
		}
	}
	csv := []byte("email,name\nnul\x00@example.org,Nul\x00Name\nok@example.org,Bad \xff\xfe name\n")
	mbox := []byte("From sender@example.org Mon Jan  1 00:00:00 2024\nFrom: Sender\x00 <sender@example.org>\nSubject: Hi\x00 \xff\n" +
		"Message-ID: <nul-1@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nBody with \x00 NUL and \xff bytes.\n")
	c.get("/admin/import")
	send("/admin/import", map[string]string{"group": "crawl", "kind": "members"}, "members.csv", csv)
	send("/admin/import", map[string]string{"group": "crawl", "kind": "mbox"}, "archive.mbox", mbox)
	c.get("/admin/invite")
	send("/admin/invite", map[string]string{"group": "crawl"}, "people.csv", csv)
	s.noErrors()
}
