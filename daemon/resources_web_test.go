package main

import (
	"bytes"
	"fmt"
	"html"
	"image"
	_ "image/jpeg" // thumbnails of opaque pictures are JPEG
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wneessen/go-mail/smtp"
)

// These tests drive the Resources pages of a real parleyd as a browser
// without JavaScript would: uploads (streamed past the CSRF guard's body
// limit), search and filters, downloads and their headers, editing and
// deleting, email attachments, and Admin › Tags.

const resPassword = "correct horse battery"

// resourcesSite starts parleyd with a superuser (root), the owner of the
// group garden (olga, no permissions), a member who may add resources
// (ann), a member who may not (bob) and someone in no group (nina).
func resourcesSite(t *testing.T, extra ...string) *webSite {
	t.Helper()
	w := startWeb(t, "", extra...)
	for _, u := range []struct{ email, name string }{{"root@example.org", "Root"}, {"olga@example.org", "Olga Owner"},
		{"ann@example.org", "Ann"}, {"bob@example.org", "Bob"}, {"nina@example.org", "Nina"}} {
		w.createUser(t, u.email, u.name, resPassword, u.email == "root@example.org")
	}
	w.sql(t, `UPDATE users SET permissions = '{add_resources}' WHERE email IN ('ann@example.org', 'nina@example.org')`)
	w.sql(t, `INSERT INTO groups (slug, name, listed, join_policy) VALUES ('garden', 'Garden Club', true, 'open')`)
	w.sql(t, `INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM groups g, users u
		WHERE g.slug = 'garden' AND u.email = 'olga@example.org'`)
	w.sql(t, `INSERT INTO memberships (group_id, user_id) SELECT g.id, u.id FROM groups g, users u
		WHERE g.slug = 'garden' AND u.email IN ('ann@example.org', 'bob@example.org')`)
	return w
}

func resLogin(t *testing.T, w *webSite, email string) *webClient {
	t.Helper()
	c := w.client(t)
	c.login(email, resPassword)
	return c
}

// resPDF is a small, valid one-page PDF showing text.
func resPDF(text string) []byte {
	stream := fmt.Sprintf("BT /F1 12 Tf 20 50 Td (%s) Tj ET", text)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

var resUploadAction = regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data"`)

// resUpload opens the upload form at formPath and sends it, as a browser
// would: to the form's action (which carries the CSRF token), with the
// fields and the file.
func resUpload(t *testing.T, c *webClient, formPath string, fields map[string]string, filename string, content []byte) (int, string) {
	t.Helper()
	code, body := c.get(formPath)
	m := resUploadAction.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("GET %s: %d, no upload form", formPath, code)
	}
	action := html.UnescapeString(m[1])
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	u, _ := url.Parse(c.base)
	req, _ := http.NewRequest("POST", u.Scheme+"://"+u.Host+action, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// resGet fetches a path with c's cookies and returns the response with
// its whole body.
func resGet(t *testing.T, c *webClient, path string) (*http.Response, []byte) {
	t.Helper()
	res, err := c.c.Get(c.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// resFiles lists the regular files under dir (none when it is missing).
func resFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func resID(t *testing.T, c *webClient) int {
	t.Helper()
	var id int
	if _, err := fmt.Sscanf(c.last.Request.URL.Path, "/resources/%d", &id); err != nil {
		t.Fatalf("ended at %s, want a resource's page", c.last.Request.URL.Path)
	}
	return id
}

// TestResourceUploadFindDownloadEditDelete walks a file's life: uploaded
// with tags, found by tag and by type, seen only by members, downloaded
// byte for byte with safe headers, renamed, and deleted with its blob
// once no other resource shares it.
func TestResourceUploadFindDownloadEditDelete(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t)
	ann := resLogin(t, w, "ann@example.org")
	pdf := resPDF("Spring budget")

	code, body := resUpload(t, ann, "/resources/new", map[string]string{"name": "Spring budget", "group": "garden",
		"tags": "Budget, Minutes 2024"}, "budget.pdf", pdf)
	if code != 200 || !strings.Contains(body, "is shared with Garden Club") {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	id := resID(t, ann)
	if !strings.Contains(body, "budget.pdf") || !strings.Contains(body, ">PDF ·") {
		t.Errorf("the resource's page does not show the file and its type")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources WHERE id = $1 AND kind = 'pdf' AND content_type = 'application/pdf'
		AND size_bytes = $2 AND filename = 'budget.pdf'`, id, len(pdf)); n != 1 {
		t.Fatal("the resource row does not say what was uploaded")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM tags WHERE slug IN ('budget', 'minutes-2024')`); n != 2 {
		t.Errorf("%d of the two tags were made", n)
	}

	// Found by tag (as a word and as a filter) and by type; not by
	// another type.
	for _, q := range []string{"/resources", "/resources?q=budget", "/resources?q=minutes", "/resources?tag=budget",
		"/resources?type=pdf", "/resources?group=garden&type=pdf"} {
		if code, body := ann.get(q); code != 200 || !strings.Contains(body, "Spring budget") {
			t.Errorf("GET %s: %d, the PDF is not listed", q, code)
		}
	}
	for _, q := range []string{"/resources?type=image", "/resources?q=heron", "/resources?tag=minutes"} {
		if _, body := ann.get(q); strings.Contains(body, "Spring budget") {
			t.Errorf("GET %s lists the PDF", q)
		}
	}
	// The list view is remembered in a cookie.
	if _, body := ann.get("/resources?view=list"); !strings.Contains(body, "resource-list") {
		t.Error("?view=list does not show the list")
	}
	if _, body := ann.get("/resources"); !strings.Contains(body, "resource-list") || strings.Contains(body, `class="resource-grid"`) {
		t.Error("the list view is not remembered")
	}
	if _, body := ann.get("/resources?view=grid"); !strings.Contains(body, `class="resource-grid"`) {
		t.Error("?view=grid does not show the grid")
	}

	// Downloaded byte for byte, shown in the browser, with nosniff and a
	// sandbox; saved when asked.
	res, got := resGet(t, ann, fmt.Sprintf("/resources/%d/download", id))
	if res.StatusCode != 200 || !bytes.Equal(got, pdf) {
		t.Fatalf("download: %d, %d bytes (want %d, identical)", res.StatusCode, len(got), len(pdf))
	}
	h := res.Header
	if h.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(h.Get("Content-Disposition"), "inline") ||
		!strings.Contains(h.Get("Content-Disposition"), `filename=budget.pdf`) || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
		t.Errorf("download headers: %v", h)
	}
	res, _ = resGet(t, ann, fmt.Sprintf("/resources/%d/download?download=1", id))
	if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("?download=1: Content-Disposition %q", res.Header.Get("Content-Disposition"))
	}

	// A file named photo.png that is a PDF is a PDF (the same bytes: one
	// blob for both).
	code, body = resUpload(t, ann, "/g/garden/resources/new", map[string]string{"group": "garden"}, "photo.png", pdf)
	if code != 200 {
		t.Fatalf("upload photo.png: %d\n%s", code, body)
	}
	photo := resID(t, ann)
	if n := w.queryInt(t, `SELECT count(*) FROM resources WHERE id = $1 AND kind = 'pdf' AND content_type = 'application/pdf' AND name = 'photo.png'`, photo); n != 1 {
		t.Error("photo.png holding a PDF is not classified as a PDF")
	}
	res, got = resGet(t, ann, fmt.Sprintf("/resources/%d/download", photo))
	if !bytes.Equal(got, pdf) || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "photo.png.pdf") {
		t.Errorf("photo.png download: %q %q", res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if _, body := ann.get("/resources?type=image"); strings.Contains(body, "photo.png") {
		t.Error("photo.png is listed as an image")
	}

	// Non-members see nothing: the list, the page, the download and
	// the thumbnail are not there for them.
	nina := resLogin(t, w, "nina@example.org")
	if _, body := nina.get("/resources"); strings.Contains(body, "Spring budget") {
		t.Error("a non-member's resources page lists the group's file")
	}
	for _, p := range []string{"/resources?group=garden", fmt.Sprintf("/resources/%d", id), fmt.Sprintf("/resources/%d/download", id),
		fmt.Sprintf("/resources/%d/edit", id), fmt.Sprintf("/resources/%d/thumb", id)} {
		if code, body := nina.get(p); code != http.StatusNotFound || strings.Contains(body, "Spring budget") {
			t.Errorf("GET %s as a non-member: %d, want 404", p, code)
		}
	}
	if code, _ := nina.get("/g/garden/resources/new"); code != http.StatusForbidden {
		t.Errorf("upload form of a group she is not in, with add_resources: %d, want 403", code)
	}
	// A member without add_resources reads but cannot upload or edit.
	bob := resLogin(t, w, "bob@example.org")
	if res, got := resGet(t, bob, fmt.Sprintf("/resources/%d/download", id)); res.StatusCode != 200 || !bytes.Equal(got, pdf) {
		t.Errorf("a member's download: %d", res.StatusCode)
	}
	if code, _ := bob.get("/resources/new"); code != http.StatusForbidden {
		t.Errorf("upload form for a member without add_resources: %d, want 403", code)
	}
	if code, _ := bob.get(fmt.Sprintf("/resources/%d/edit", id)); code != http.StatusForbidden {
		t.Errorf("edit form for another member: %d, want 403", code)
	}

	// The group's page shows the latest files and links to all of them.
	if _, body := bob.get("/g/garden"); !strings.Contains(body, "Spring budget") || !strings.Contains(body, `href="/resources?group=garden">See all resources`) {
		t.Error("the group page lacks its latest resources or the link to all")
	}

	// The uploader renames and retags it.
	ann.get(fmt.Sprintf("/resources/%d/edit", id))
	code, body = ann.post(fmt.Sprintf("/resources/%d/edit", id), url.Values{"name": {"Spring budget, final"}, "tags": {"budget, approved"}, "group": {"garden"}})
	if code != 200 || !strings.Contains(body, "Spring budget, final") {
		t.Fatalf("edit: %d", code)
	}
	if _, body := ann.get("/resources?q=approved"); !strings.Contains(body, "Spring budget, final") {
		t.Error("the new tag does not find the file")
	}
	// And the owner may edit too.
	olga := resLogin(t, w, "olga@example.org")
	if code, _ := olga.get(fmt.Sprintf("/resources/%d/edit", id)); code != 200 {
		t.Errorf("the group owner's edit form: %d", code)
	}

	// Deleting asks first; the blob stays while photo.png shares it.
	blobs := resFiles(t, filepath.Join(w.dir, "blobs"))
	if len(blobs) == 0 {
		t.Fatal("no blob stored")
	}
	if code, body := ann.get(fmt.Sprintf("/resources/%d/delete", id)); code != 200 || !strings.Contains(body, "Delete the file") {
		t.Fatalf("delete confirmation: %d", code)
	}
	if code, _ := ann.post(fmt.Sprintf("/resources/%d/delete", id), url.Values{}); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources WHERE id = $1`, id); n != 0 {
		t.Fatal("the resource is still there")
	}
	if got := resFiles(t, filepath.Join(w.dir, "blobs")); len(got) != len(blobs) {
		t.Errorf("blob files %v after deleting one of two resources sharing them, want %v", got, blobs)
	}
	ann.get(fmt.Sprintf("/resources/%d/delete", photo))
	if code, _ := ann.post(fmt.Sprintf("/resources/%d/delete", photo), url.Values{}); code != 200 {
		t.Fatalf("delete photo.png: %d", code)
	}
	if got := resFiles(t, filepath.Join(w.dir, "blobs")); len(got) != 0 {
		t.Errorf("blob files left after the last resource went: %v", got)
	}
	if code, _ := ann.get(fmt.Sprintf("/resources/%d/download", photo)); code != http.StatusNotFound {
		t.Errorf("download of a deleted resource: %d", code)
	}
}

// TestResourceUploadChecks: web pages, SVG with script, and unknown
// binaries are refused with 415 and a reason; a form without its token
// is refused; nothing is left behind. A file larger than the guard's
// 6 MiB form limit goes through, streamed. An image gets a thumbnail.
func TestResourceUploadChecks(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t)
	ann := resLogin(t, w, "ann@example.org")
	for _, f := range []struct{ name, content string }{
		{"page.html", "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"},
		{"logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
		{"notes.txt", `<svg onload="alert(1)"/>`},
		{"setup.pdf", "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"},
	} {
		code, body := resUpload(t, ann, "/resources/new", map[string]string{"group": "garden"}, f.name, []byte(f.content))
		if code != http.StatusUnsupportedMediaType || !strings.Contains(body, "Parley cannot take this file") {
			t.Errorf("%s: %d, want 415 with a reason", f.name, code)
		}
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources`); n != 0 {
		t.Errorf("%d resources after refused uploads", n)
	}

	// Without the token in the action, the guard refuses the form.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile("file", "a.txt")
	fw.Write([]byte("hello"))
	mw.WriteField("group", "garden")
	mw.Close()
	req, _ := http.NewRequest("POST", w.url+"/resources/new", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if code, _ := ann.do(req); code != http.StatusForbidden {
		t.Errorf("upload without a CSRF token: %d, want 403", code)
	}

	// 7 MiB of text: more than any other form takes, streamed to disk.
	big := bytes.Repeat([]byte("herons wade in the shallows at dawn\n"), 7<<20/36+1)
	code, body := resUpload(t, ann, "/resources/new", map[string]string{"group": "garden", "name": "Heron log"}, "log.txt", big)
	if code != 200 {
		t.Fatalf("7 MiB upload: %d\n%s", code, body)
	}
	id := resID(t, ann)
	res, got := resGet(t, ann, fmt.Sprintf("/resources/%d/download", id))
	if !bytes.Equal(got, big) || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") {
		t.Errorf("the 7 MiB download: %d bytes, %q, %q", len(got), res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	if _, body := ann.get("/resources?q=shallows"); !strings.Contains(body, "Heron log") {
		t.Error("the text of a text file is not searchable")
	}

	// An image: a thumbnail made on upload, shown in the grid, served as
	// an image with the download headers.
	code, body = resUpload(t, ann, "/resources/new", map[string]string{"group": "garden", "name": "Leaf", "tags": "photos"}, "leaf.jpg", groupsPNG(t))
	if code != 200 {
		t.Fatalf("image upload: %d", code)
	}
	leaf := resID(t, ann)
	if n := w.queryInt(t, `SELECT count(*) FROM resources WHERE id = $1 AND content_type = 'image/png' AND thumb_key <> ''`, leaf); n != 1 {
		t.Fatal("the PNG (named .jpg) is not an image/png with a thumbnail")
	}
	if _, body := ann.get("/resources?type=image&view=grid"); !strings.Contains(body, fmt.Sprintf(`src="/resources/%d/thumb"`, leaf)) {
		t.Error("the grid does not show the image's thumbnail")
	}
	res, got = resGet(t, ann, fmt.Sprintf("/resources/%d/thumb", leaf))
	img, _, err := image.Decode(bytes.NewReader(got))
	if res.StatusCode != 200 || err != nil || img.Bounds().Dx() != 256 || res.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
		t.Errorf("thumbnail: %d %q %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	if files := resFiles(t, filepath.Join(w.dir, "tmp")); len(files) != 0 {
		t.Errorf("files left in DATA_DIR/tmp: %v", files)
	}
}

// TestResourceTooLarge: over RESOURCE_MAX_BYTES an upload is refused
// with 413 and a clear page, and no byte of it stays on disk.
func TestResourceTooLarge(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t, "RESOURCE_MAX_BYTES=1048576")
	ann := resLogin(t, w, "ann@example.org")
	big := bytes.Repeat([]byte("x"), 1<<20+100<<10)
	code, body := resUpload(t, ann, "/resources/new", map[string]string{"group": "garden", "name": "Too big"}, "big.txt", big)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "This file is too large") {
		t.Fatalf("upload over the limit: %d, want 413 with an explanation\n%s", code, body)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources`); n != 0 {
		t.Error("a resource was recorded")
	}
	for _, d := range []string{"tmp", "blobs"} {
		if files := resFiles(t, filepath.Join(w.dir, d)); len(files) != 0 {
			t.Errorf("files left in DATA_DIR/%s: %v", d, files)
		}
	}
	// Exactly at the limit is fine.
	code, _ = resUpload(t, ann, "/resources/new", map[string]string{"group": "garden"}, "fits.txt", big[:1<<20])
	if code != 200 {
		t.Errorf("upload of exactly RESOURCE_MAX_BYTES: %d", code)
	}
}

// TestResourceFromEmailAttachment: a message posted by email with a file
// attached puts the file among the group's resources, tagged "email",
// linked from its message and linking back.
func TestResourceFromEmailAttachment(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t)
	var smtpAddr string
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "SMTP_ADDR="); ok {
			smtpAddr = v
		}
	}
	const notes = "Seed swap on Saturday.\nBring labelled envelopes.\n"
	msg := "From: Bob <bob@example.org>\r\nTo: garden@lists.test\r\nSubject: Seed swap notes\r\n" +
		"Message-ID: <seed-swap@example.org>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNotes attached.\r\n" +
		// The name (RFC 2231) holds a right-to-left override and an
		// isolate, which Parley drops: it is stored as swap-notes.txt.
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename*=utf-8''swap%E2%80%AE-notes%E2%81%A6.txt\r\n\r\n" +
		strings.ReplaceAll(notes, "\n", "\r\n") +
		"--b1\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename=\"evil.html\"\r\n\r\n<script>alert(1)</script>\r\n" +
		"--b1--\r\n"
	c, err := smtp.Dial(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("garden@lists.test"); err != nil {
		t.Fatal(err)
	}
	wc, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wc.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := wc.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	_ = c.Quit()

	if w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT count(*) FROM resources WHERE message_id IS NOT NULL`) == 0 {
		t.Fatal("the attachment did not become a resource")
	}
	id := w.queryInt(t, `SELECT r.id FROM resources r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = r.uploader_id
		WHERE m.subject = 'Seed swap notes' AND r.filename = 'swap-notes.txt' AND r.kind = 'text' AND u.email = 'bob@example.org'`)
	if n := w.queryInt(t, `SELECT count(*) FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resource_id = $1 AND t.slug = 'email'`, id); n != 1 {
		t.Error("the attachment is not tagged email")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources`); n != 1 {
		t.Errorf("%d resources, want 1 (the HTML attachment refused)", n)
	}

	ann := resLogin(t, w, "ann@example.org")
	_, body := ann.get(fmt.Sprintf("/resources/%d", id))
	m := regexp.MustCompile(`href="(/g/garden/t/\d+)#m(\d+)">the message it was attached to`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the resource's page does not link to its message:\n%s", body)
	}
	_, body = ann.get(m[1])
	if !strings.Contains(body, fmt.Sprintf(`href="/resources/%d">swap-notes.txt</a>`, id)) {
		t.Error("the thread page does not link the message's attachment")
	}
	res, got := resGet(t, ann, fmt.Sprintf("/resources/%d/download", id))
	if res.StatusCode != 200 || strings.ReplaceAll(strings.TrimSpace(string(got)), "\r\n", "\n") != strings.TrimSpace(notes) {
		t.Errorf("the attachment's download: %d %q", res.StatusCode, got)
	}
	if _, body := ann.get("/resources?tag=email"); !strings.Contains(body, "swap-notes.txt") {
		t.Error("the attachment is not found by its tag")
	}
}

// TestTagAdmin: tags are listed with their use, added, edited (slug and
// name) with a history from the audit log, and deleted from the list
// after a confirmation, leaving their resources.
func TestTagAdmin(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t)
	ann := resLogin(t, w, "ann@example.org")
	if code, _ := resUpload(t, ann, "/resources/new", map[string]string{"group": "garden", "tags": "compost"}, "c.txt", []byte("compost notes")); code != 200 {
		t.Fatalf("upload: %d", code)
	}
	if code, _ := ann.get("/admin/tags"); code != http.StatusForbidden {
		t.Errorf("tag admin for a member: %d, want 403", code)
	}

	root := resLogin(t, w, "root@example.org")
	code, body := root.get("/admin/tags")
	if code != 200 || !regexp.MustCompile(`compost</a></td>\s*<td><code>compost</code></td>\s*<td>1</td>`).MatchString(body) {
		t.Fatalf("tag list: %d, compost with 1 resource not shown\n%s", code, body)
	}
	root.get("/admin/tags/new")
	if code, body := root.post("/admin/tags/new", url.Values{"slug": {"Bad Slug"}, "name": {""}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, `id="slug-error"`) || !strings.Contains(body, `id="name-error"`) {
		t.Errorf("a bad tag: %d", code)
	}
	if code, body := root.post("/admin/tags/new", url.Values{"slug": {"compost"}, "name": {"Other"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Another tag has this slug") {
		t.Errorf("a taken slug: %d", code)
	}
	if code, _ := root.post("/admin/tags/new", url.Values{"slug": {"seeds"}, "name": {"Seeds"}, "then": {"edit"}}); code != 200 {
		t.Fatalf("add tag: %d", code)
	}
	var seeds int
	if _, err := fmt.Sscanf(root.last.Request.URL.Path, "/admin/tags/%d", &seeds); err != nil {
		t.Fatalf("after 'Save and continue editing' at %s", root.last.Request.URL.Path)
	}
	compost := w.queryInt(t, `SELECT id FROM tags WHERE slug = 'compost'`)
	root.get(fmt.Sprintf("/admin/tags/%d", compost))
	if code, _ := root.post(fmt.Sprintf("/admin/tags/%d", compost), url.Values{"slug": {"soil"}, "name": {"Soil and compost"}}); code != 200 {
		t.Fatalf("edit tag: %d", code)
	}
	if _, body := ann.get("/resources?q=soil"); !strings.Contains(body, "c.txt") {
		t.Error("the renamed tag does not find its resource")
	}
	_, body = root.get(fmt.Sprintf("/admin/tags/%d", compost))
	for _, want := range []string{"History", "Changed name from “compost” to “Soil and compost” and slug from “compost” to “soil”.",
		"while tagging a resource", "Root", "Ann"} {
		if !strings.Contains(body, want) {
			t.Errorf("the tag's history lacks %q", want)
		}
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE target_type = 'tag' AND target_id = $1 AND action = 'tag.update'
		AND details->'before'->>'slug' = 'compost' AND details->'after'->>'slug' = 'soil'`, fmt.Sprint(compost)); n != 1 {
		t.Error("the edit is not in the audit log with before and after")
	}

	// Delete selected: a confirmation first, then both go; the resource
	// stays without its tag.
	root.get("/admin/tags")
	code, body = root.post("/admin/tags/delete", url.Values{"action": {"delete"}, "id": {fmt.Sprint(compost), fmt.Sprint(seeds)}})
	if code != 200 || !strings.Contains(body, "Delete these 2 tags?") || !strings.Contains(body, "removed from 1 resource") {
		t.Fatalf("delete confirmation: %d\n%s", code, body)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM tags WHERE slug IN ('soil', 'seeds')`); n != 2 {
		t.Fatal("tags were deleted before the confirmation")
	}
	if code, body := root.post("/admin/tags/delete", url.Values{"action": {"delete"}, "confirm": {"1"}, "id": {fmt.Sprint(compost), fmt.Sprint(seeds)}}); code != 200 ||
		!strings.Contains(body, "2 tags are deleted") {
		t.Fatalf("delete: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM tags WHERE slug IN ('soil', 'seeds')`); n != 0 {
		t.Error("the tags are still there")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM resources r WHERE r.filename = 'c.txt' AND NOT EXISTS (SELECT 1 FROM resource_tags rt WHERE rt.resource_id = r.id)`); n != 1 {
		t.Error("the resource did not stay, untagged")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE target_type = 'tag' AND action = 'tag.delete'`); n != 2 {
		t.Errorf("%d deletions in the audit log, want 2", n)
	}
	if _, body := ann.get("/resources?q=soil"); strings.Contains(body, "c.txt") {
		t.Error("a deleted tag still finds its resource")
	}
}
