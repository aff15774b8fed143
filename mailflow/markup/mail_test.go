package markup_test

import (
	"testing"

	"github.com/parleymail/parley/mailflow/markup"
)

func TestMarkdownToText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain *em* **strong** `code` ~~gone~~", "plain _em_ *strong* `code` ~~gone~~"},
		{"# Title\n\n## Sub\n\n### Small", "Title\n=====\n\nSub\n---\n\n### Small"},
		{"a\\*b &amp; c &copy;", "a*b & c ©"},
		{"[x](https://a.example/1) [y](https://a.example/1) [z](https://b.example)", "x [1] y [1] z [2]\n\n[1] https://a.example/1\n[2] https://b.example"},
		{"<https://a.example> <me@a.example> www.a.example", "https://a.example me@a.example www.a.example"},
		{"[https://a.example](https://a.example) [mail](mailto:me@a.example)", "https://a.example mail [1]\n\n[1] mailto:me@a.example"},
		{"![a cat](https://a.example/cat.png)", "[a cat] [1]\n\n[1] https://a.example/cat.png"},
		{"[bad](javascript:alert(1))", "bad"},
		{"- one\n- two\n\n  more\n- three", "- one\n\n- two\n\n  more\n\n- three"},
		{"3. c\n4. d", "3. c\n4. d"},
		{"- [x] done\n- [ ] todo", "- [x] done\n- [ ] todo"},
		{"> quote\n>\n> > nested", "> quote\n>\n> > nested"},
		{"line one\nline two  \nline three", "line one\nline two\nline three"},
		{"a<br>b <b>bold</b>", "a\nb bold"},
		{"<div>\n<script>alert(1)</script><p>kept &amp; text</p>\n</div>", "kept & text"},
		{"    code  \n    more", "    code\n    more"},
		{"---\n\nafter", "----------\n\nafter"},
		{"| a | bb |\n|---|---|\n| ccc | d |", "a   | bb\n----|----\nccc | d"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := markup.MailText(tt.in)
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
