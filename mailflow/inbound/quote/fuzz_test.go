package quote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzSplit checks that Split and SplitHTML never panic, stay fast, and
// never invent text: what Split shows comes from its input.
//
//	go test -run XXX -fuzz FuzzSplit -fuzztime 10s ./mailflow/inbound/quote/
func FuzzSplit(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "replies", "*"))
	for _, name := range files {
		switch filepath.Ext(name) {
		case ".txt", ".html", ".want":
			if b, err := os.ReadFile(name); err == nil {
				f.Add(string(b))
			}
		}
	}
	for _, s := range []string{
		"Hi\n\nOn Mon, Mar 4, 2024 at 9:00 AM Ann <\nann@example.org> wrote:\n\n> q\n",
		"a\n> b\nc\n> d\n-- \nsig",
		"Ok\n\n________________________________\nFrom: a\nSent: b\nTo: c\nSubject: d\n\nold",
		"tir. 18. apr. 2017 kl. 13:09 skrev Test <t@example.com\n>:\n\n> x",
		"Sent from my iPhone",
		`<div>a</div><div class="gmail_quote">q</div><div id="divRplyFwdMsg">x</div>`,
		"\r\n\r\n>\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		start := time.Now()
		r := Split(in)
		h := SplitHTML(in)
		if d := time.Since(start); d > 2*time.Second && len(in) < 1<<20 {
			t.Fatalf("took %v on %d bytes", d, len(in))
		}
		if utf8.ValidString(in) && (!utf8.ValidString(r.Text) || !utf8.ValidString(r.Signature) || !utf8.ValidString(h.Text)) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", r.Text)
		}
		// Split only drops lines and trailing blanks: every line it shows
		// is a line of the input.
		norm := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\r", "\n")
		for _, l := range strings.Split(r.Text, "\n") {
			if l != "" && !strings.Contains(norm, l) {
				t.Fatalf("Text line %q is not in the input", l)
			}
		}
		// Trimmed: no blank lines first, no white space last (a first
		// line keeps its indentation).
		if first, _, _ := strings.Cut(r.Text, "\n"); r.Text != "" && (strings.TrimSpace(first) == "" || r.Text != strings.TrimRightFunc(r.Text, unicode.IsSpace)) {
			t.Fatalf("Text not trimmed: %q", r.Text)
		}
	})
}
