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

func TestLinks(t *testing.T) {
	got := Links("See https://a.example/x, and (https://b.example/y). Again https://a.example/x.")
	if len(got) != 2 || got[0] != "https://a.example/x" || got[1] != "https://b.example/y" {
		t.Errorf("Links: %q", got)
	}
}

func TestPlain(t *testing.T) {
	for _, c := range []struct {
		src  string
		n    int
		want string
	}{
		{"> quoted\n\n# Title\nHello **world**, this is long", 12, "Title Hello…"},
		{"We need **seeds** and _soil_ &amp; `water`", 100, "We need seeds and soil & water"},
		{`<b onclick="alert(1)">bold</b> and <script>alert(2)</script>after`, 100, "bold and after"},
		{"a &lt;b&gt; tag, 5 &gt; 3, &amp;amp;", 100, "a <b> tag, 5 > 3, &amp;"},
		{"- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |", 100, "one two a b 1 2"},
		{"[a link](https://example.org/x) ~~old~~\nnext line", 100, "a link old next line"},
		{"word word word word", 12, "word word…"},
		{"supercalifragilistic", 5, "super…"},
	} {
		if got := Plain(c.src, c.n); got != c.want {
			t.Errorf("Plain(%q, %d) = %q, want %q", c.src, c.n, got, c.want)
		}
	}
}
