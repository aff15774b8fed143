package outbound

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
)

// TestRenderPlainTextOnly: a member who takes plain-text-only email gets
// one text/plain part, the same text and footer as the alternative's
// text part, and no HTML; with a file attached, a multipart/mixed of the
// text and the file. Other recipients of the same Prepared are unchanged.
func TestRenderPlainTextOnly(t *testing.T) {
	r := newTestRenderer(t, nil)
	pr, err := r.Prepare(testPost())
	if err != nil {
		t.Fatal(err)
	}
	rc := testRecipient()
	both, err := pr.Render(nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	rc.PlainText = true
	raw, err := pr.Render(nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, raw)
	m, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := m.Header.ContentType(); ct != "text/plain" {
		t.Fatalf("plain-text copy is %s, want text/plain", ct)
	}
	p, err := m.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(p.Body)
	if _, err := m.NextPart(); err != io.EOF {
		t.Errorf("plain-text copy has a second part (%v)", err)
	}
	want := parse(t, both).text
	// The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1).
	if got := strings.ReplaceAll(string(text), "\r\n", "\n"); got != want+"\n" {
		t.Errorf("plain text differs from the alternative text part:\n%q\n---\n%q", got, want)
	}
	if bytes.Contains(raw, []byte("text/html")) || bytes.Contains(raw, []byte("multipart")) {
		t.Error("plain-text copy names HTML or multipart")
	}
	if again := parse(t, render(t, r, testPost(), testRecipient())); again.html == "" {
		t.Error("the next recipient lost the HTML part")
	}

	fp := testPost()
	fp.Files = []File{{ID: 7, Name: "notes.txt", Size: 5, Data: []byte("hello"), ContentType: "text/plain"}}
	rc.FileURLs = []string{"https://lists.example.org/community/files/bruno-7"}
	raw = render(t, r, fp, rc)
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
	}
	if ct, _, _ := mr.Header.ContentType(); ct != "multipart/mixed" || strings.Join(types, ",") != "text/plain,text/plain" {
		t.Errorf("plain-text copy with a file: %s of %v, want multipart/mixed of the text and the file", ct, types)
	}
}

// BenchmarkRenderPlainText is BenchmarkRender for members who take plain
// text only: the HTML footer is neither executed nor encoded.
func BenchmarkRenderPlainText(b *testing.B) {
	r := newTestRenderer(b, nil)
	p := testPost()
	p.Message.Body = strings.Repeat(testBody+"\n", 3)
	pr, err := r.Prepare(p)
	if err != nil {
		b.Fatal(err)
	}
	rcs := make([]Recipient, 64)
	for i := range rcs {
		rcs[i] = benchRecipient(i)
		rcs[i].PlainText = true
	}
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if buf, err = pr.Render(buf[:0], rcs[i%len(rcs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
