package main

import (
	"bytes"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// postFormAction finds a post form's action (which carries the CSRF
// token: the route reads its multipart body as a stream).
var postFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)" enctype="multipart/form-data"`)

// postFiles sends a post form with files, as a browser does, to the
// action of the form on the page last read.
func (c *webClient) postFiles(page string, fields [][2]string, files map[string][]byte) (int, string) {
	c.t.Helper()
	m := postFormAction.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatalf("no multipart post form on the page:\n%s", page)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		_ = mw.WriteField(f[0], f[1])
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile("files", name)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	o, _ := url.Parse(c.base)
	req, _ := http.NewRequest("POST", o.Scheme+"://"+o.Host+html.UnescapeString(m[1]), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestWebPostFilesReachGroupMail: against a real `parleyd serve`, a
// member starts a thread on the web with two files; another member's
// copy of the group mail lists both with links that download them,
// logged out, with no sign-in; once that member has left the group,
// their links answer 404.
func TestWebPostFilesReachGroupMail(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "/lists")
	const pw = "correct horse battery"
	w.createUser(t, "ann@example.org", "Ann", pw, true)
	w.createUser(t, "dan@example.org", "Dan", pw, false)
	token := w.apiToken(t, "ann@example.org")
	w.api(t, token, "POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	w.api(t, token, "PUT", "/groups/garden/members/dan@example.org", map[string]any{"delivery": "immediate"})

	ann := w.client(t)
	ann.login("ann@example.org", pw)
	_, page := ann.get("/compose")
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	files := map[string][]byte{"minutes.txt": []byte("Minutes of the spring meeting.\n"), "Zoë's plan.pdf": pdf}
	code, page := ann.postFiles(page, [][2]string{{"group", "garden"}, {"subject", "Spring minutes"}, {"body", "Both files attached."}}, files)
	if code != 200 || !strings.Contains(page, "Spring minutes") || !strings.Contains(page, "minutes.txt") {
		t.Fatalf("posting with files: %d\n%s", code, page)
	}

	mail := linksWaitMail(t, w, "dan@example.org", "Spring minutes")
	if !strings.Contains(mail.text, "Files of this message") || !strings.Contains(mail.html, "Zoë&#39;s plan.pdf") {
		t.Fatalf("the group mail does not list the files:\n%s", mail.text)
	}
	links := regexp.MustCompile(`https?://\S+/files/[^\s"<]+`).FindAllString(mail.text, -1)
	if len(links) != 2 {
		t.Fatalf("%d file links in the text part, want 2:\n%s", len(links), mail.text)
	}
	got := map[string][]byte{}
	for _, l := range links {
		res, err := (&http.Client{Timeout: 30 * time.Second}).Get(l)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		_, params, _ := mime.ParseMediaType(res.Header.Get("Content-Disposition"))
		if res.StatusCode != 200 {
			t.Fatalf("following %s logged out: %d", l, res.StatusCode)
		}
		got[params["filename"]] = body
	}
	for name, data := range files {
		if !bytes.Equal(got[name], data) {
			t.Errorf("the link for %q downloads %q", name, got[name])
		}
	}

	w.sql(t, `DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = 'dan@example.org')`)
	res, err := http.Get(links[0])
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a former member's file link: %d, want 404", res.StatusCode)
	}
}

// TestGroupAttachesSmallFiles: a group whose owners attach files up to
// 1 KB to group email sends a member's small file inside each copy (a
// real attachment, bytes and name intact) and keeps a larger one as a
// link that downloads it; set through the JSON API, the setting shows
// on the owners' edit form.
func TestGroupAttachesSmallFiles(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "/lists")
	const pw = "correct horse battery"
	w.createUser(t, "ann@example.org", "Ann", pw, true)
	w.createUser(t, "dan@example.org", "Dan", pw, false)
	token := w.apiToken(t, "ann@example.org")
	w.api(t, token, "POST", "/groups", map[string]any{"slug": "orchard", "name": "Orchard", "attach_max_kb": 1})
	w.api(t, token, "PUT", "/groups/orchard/members/dan@example.org", map[string]any{"delivery": "immediate"})

	ann := w.client(t)
	ann.login("ann@example.org", pw)
	if _, form := ann.get("/g/orchard/edit"); !strings.Contains(form, `name="attach_max_kb" value="1"`) {
		t.Fatalf("the edit form does not show the setting made through the API")
	}
	_, page := ann.get("/compose")
	small := []byte("Pruning: after the last frost.\n")
	big := bytes.Repeat([]byte("Graft notes, row by row. "), 100) // 2.5 KB
	files := map[string][]byte{"Pflaumen-Schnitt.txt": small, "grafts.txt": big}
	code, page := ann.postFiles(page, [][2]string{{"group", "orchard"}, {"subject", "Pruning"}, {"body", "Notes attached."}}, files)
	if code != 200 || !strings.Contains(page, "Pruning") {
		t.Fatalf("posting with files: %d\n%s", code, page)
	}

	m := linksWaitMail(t, w, "dan@example.org", "Pruning")
	mr, err := gomail.CreateReader(bytes.NewReader(m.raw))
	if err != nil {
		t.Fatal(err)
	}
	attached := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h, ok := p.Header.(*gomail.AttachmentHeader); ok {
			name, _ := h.Filename()
			attached[name], _ = io.ReadAll(p.Body)
		}
	}
	if len(attached) != 1 || !bytes.Equal(attached["Pflaumen-Schnitt.txt"], small) {
		t.Fatalf("attachments %d (%v), want the small file only, intact", len(attached), attached)
	}
	links := regexp.MustCompile(`https?://\S+/files/[^\s"<]+`).FindAllString(m.text, -1)
	if len(links) != 1 || !strings.Contains(m.text, "grafts.txt") {
		t.Fatalf("%d file links, want one for the larger file:\n%s", len(links), m.text)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Get(links[0])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(body, big) {
		t.Errorf("the larger file's link: %d, %d bytes", res.StatusCode, len(body))
	}
}
