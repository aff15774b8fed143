package outbound

import (
	"strings"
	"testing"
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
