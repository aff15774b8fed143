package markup

import (
	"strings"
	"testing"
)

func TestHTMLIsInert(t *testing.T) {
	for _, src := range []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror="alert(1)">`,
		`[click](javascript:alert(1))`,
		`<a href="javascript:alert(1)">x</a>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<svg onload=alert(1)>`,
		"```\n</code><script>alert(1)</script>\n```",
		`<div style="background:url(javascript:alert(1))">x</div>`,
		`[x](JaVaScRiPt:alert(1))`,
		`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	} {
		out := strings.ToLower(string(HTML(src)))
		for _, bad := range []string{"<script", "onerror", "onload", "javascript:", "<iframe", "style=", "data:text"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q rendered %q, which contains %s", src, out, bad)
			}
		}
	}
}

func TestHTMLRendersGFM(t *testing.T) {
	out := string(HTML("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ see https://example.org/x and **bold**"))
	for _, want := range []string{"<table>", "<del>old</del>", `href="https://example.org/x"`, `rel="nofollow`, "<strong>bold</strong>"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestLinksAndExcerpt(t *testing.T) {
	got := Links("See https://a.example/x, and (https://b.example/y). Again https://a.example/x.")
	if len(got) != 2 || got[0] != "https://a.example/x" || got[1] != "https://b.example/y" {
		t.Errorf("Links: %q", got)
	}
	if e := Excerpt("> quoted\n# Title\nHello **world**, this is long", 12); e != "Title Hello…" {
		t.Errorf("Excerpt: %q", e)
	}
}
