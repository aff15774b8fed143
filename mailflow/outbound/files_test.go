package outbound

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
)

// TestRenderListsFiles renders a post with two files: both parts list
// each file with its size and the recipient's own link, above the
// signature separator; a file whose link is missing points at the thread.
func TestRenderListsFiles(t *testing.T) {
	r := newTestRenderer(t, nil)
	p := testPost()
	p.Files = []File{{ID: 7, Name: "Minutes <spring>.pdf", Size: 14 << 10}, {ID: 8, Name: "list.csv", Size: 820}}
	rc := testRecipient()
	rc.FileURLs = []string{"https://lists.example.org/community/files/bruno-7"}
	m := parse(t, render(t, r, p, rc))
	body, footer, ok := strings.Cut(m.text, "\n-- \n")
	if !ok {
		t.Fatalf("no signature separator:\n%s", m.text)
	}
	for _, want := range []string{"Files of this message:\nMinutes <spring>.pdf (14 KB):\nhttps://lists.example.org/community/files/bruno-7\n",
		"list.csv (820 bytes):\nhttps://lists.example.org/community/g/gardeners/t/"} {
		if !strings.Contains(body, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.text)
		}
	}
	if strings.Contains(footer, "Files of this message") {
		t.Error("the files are listed under the signature separator, which mail clients cut")
	}
	for _, want := range []string{`<a href="https://lists.example.org/community/files/bruno-7"`, "Minutes &lt;spring&gt;.pdf</a>", "(14 KB)"} {
		if !strings.Contains(m.html, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	if plain := parse(t, render(t, r, testPost(), testRecipient())); strings.Contains(plain.text+plain.html, "Files of this message") {
		t.Error("a post without files lists files")
	}
}

// TestRenderAttachesFiles: a group that attaches small files sends them
// as attachments after the text and HTML alternatives (multipart/mixed),
// with their names (RFC 2231 when not ASCII) and bytes intact; a file too
// big to attach stays a link, and the attached one is not listed again.
func TestRenderAttachesFiles(t *testing.T) {
	r := newTestRenderer(t, nil)
	p := testPost()
	data := bytes.Repeat([]byte("Gemüse, Ähren; "), 300) // several base64 lines
	p.Files = []File{
		{ID: 7, Name: "Protokoll Frühjahr.txt", Size: int64(len(data)), Data: data, ContentType: "text/plain; charset=utf-8"},
		{ID: 8, Name: "big.pdf", Size: 30 << 20},
	}
	rc := testRecipient()
	rc.FileURLs = []string{"https://lists.example.org/community/files/bruno-7", "https://lists.example.org/community/files/bruno-8"}
	raw := render(t, r, p, rc)
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := mr.Header.ContentType(); ct != "multipart/mixed" {
		t.Fatalf("Content-Type %s, want multipart/mixed", ct)
	}
	var text, html string
	var files []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading part: %v", err)
		}
		b, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			if ct == "text/plain" {
				text = string(b)
			} else {
				html = string(b)
			}
		case *mail.AttachmentHeader:
			name, err := h.Filename()
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
			if !bytes.Equal(b, data) {
				t.Errorf("attachment %q: %d bytes differ from the file's %d", name, len(b), len(data))
			}
		}
	}
	if text == "" || html == "" {
		t.Fatalf("the alternatives are missing: text %d bytes, html %d bytes", len(text), len(html))
	}
	if len(files) != 1 || files[0] != "Protokoll Frühjahr.txt" {
		t.Fatalf("attachments %q, want the one small file by its name", files)
	}
	if !strings.Contains(text, "big.pdf") || !strings.Contains(text, "files/bruno-8") {
		t.Errorf("the big file is not linked:\n%s", text)
	}
	if strings.Contains(text, "Protokoll") || strings.Contains(text, "bruno-7") {
		t.Errorf("the attached file is listed as a link too:\n%s", text)
	}
}
