package markup

import (
	"strings"
	"testing"
)

func TestHTMLIsBalanced(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`Look <a href="https://evil.example/">here`, `here</a>`},
		{"<table><tr><td>cell", `cell</td></tr></tbody></table>`},
		{"<div>\n<p>open", "open</p></div>"},
		{"text</div></div></article>", "<p>text</p>"},
		{"<blockquote><ul><li>item", "item</li></ul></blockquote>"},
	} {
		out := string(HTML(tc.src))
		if !strings.Contains(out, tc.want) {
			t.Errorf("%q rendered %q, want it to contain %q", tc.src, out, tc.want)
		}
		if strings.Count(out, "<div") != strings.Count(out, "</div>") || strings.Count(out, "<a ") != strings.Count(out, "</a>") {
			t.Errorf("%q rendered %q: unbalanced", tc.src, out)
		}
	}
}
