package mailparse

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, stays fast, and keeps its
// promises (UTF-8 text, consistent attachment sizes) on any input.
//
//	go test -run XXX -fuzz FuzzParse -fuzztime 10s ./mailflow/inbound/parse/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	more, _ := filepath.Glob(filepath.Join("..", "quote", "testdata", "replies", "*.eml"))
	for _, name := range append(seeds, more...) {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"From: a@example.org\nSubject: =?UTF-8?B?w6k=?=\n\nbody",
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/html\n\n<p>x</p>\n--b",
		"Content-Type: multipart/alternative\n\nno boundary",
		"Content-Type: text/plain; charset=utf-7\nContent-Transfer-Encoding: base64\n\nK2FLTS0=",
		"Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC\nContent-Type: application/x\n\nx",
		"Content-Type: text/plain; format=flowed; delsp=yes\n\n> a \n> b\nc \n",
		"// not a message",
		"From: a\x00b <a@example.org>\nSubject: x\x00y\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\na=00b=FF\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		m, err := Parse(raw, Limits{MaxAttachmentBytes: 1 << 16})
		if d := time.Since(start); d > 2*time.Second && len(raw) < 1<<20 {
			t.Fatalf("Parse took %v on %d bytes", d, len(raw))
		}
		if err != nil {
			if m != nil {
				t.Fatal("Parse returned a message and an error")
			}
			return
		}
		texts := map[string]string{"Text": m.Text, "HTML": m.HTML, "Subject": m.Subject, "FromName": m.FromName,
			"FromAddress": m.FromAddress, "MessageID": m.MessageID, "ListID": m.ListID}
		for i, v := range append(append(append(slices.Clone(m.To), m.Cc...), m.References...), m.InReplyTo...) {
			texts[fmt.Sprintf("address or id %d", i)] = v
		}
		for i, a := range m.Attachments {
			texts[fmt.Sprintf("attachment %d name", i)] = a.Filename
		}
		for name, s := range texts {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("%s is not valid UTF-8 without NUL: %q", name, s)
			}
		}
		for _, a := range m.Attachments {
			if a.Data != nil && len(a.Data) != a.Size {
				t.Fatalf("attachment %q: Size %d, %d bytes of data", a.Filename, a.Size, len(a.Data))
			}
		}
		if len(m.Warnings) > maxWarnings {
			t.Fatalf("%d warnings", len(m.Warnings))
		}
		_ = HTMLToText(string(raw))
	})
}
