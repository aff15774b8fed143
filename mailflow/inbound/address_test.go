package inbound

import (
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

var testKeys = sign.Keys{Current: strings.Repeat("k", 40)}

func TestParseRecipient(t *testing.T) {
	reply := "garden+r-" + testKeys.ReplyToken(42) + "@lists.test"
	pa := sign.PrivateAddress{ToID: 3, ThreadID: 42, GivenTo: 7}
	private := "garden+p-" + testKeys.PrivateToken(pa) + "@lists.test"
	cases := []struct {
		addr string
		ok   bool
		want Route
	}{
		{"garden@lists.test", true, Route{Kind: KindPost, Slug: "garden"}},
		{"<Garden@Lists.Test>", true, Route{Kind: KindPost, Slug: "garden"}},
		{"garden+subscribe@lists.test", true, Route{Kind: KindCommand, Slug: "garden", Command: CmdSubscribe}},
		{"garden+owner@lists.test", true, Route{Kind: KindCommand, Slug: "garden", Command: CmdOwner}},
		{reply, true, Route{Kind: KindReply, Slug: "garden", ThreadID: 42}},
		{strings.ToUpper(reply), true, Route{Kind: KindReply, Slug: "garden", ThreadID: 42}},
		{"bounces+abc-def@lists.test", true, Route{Kind: KindBounce, Token: "abc-def"}},
		{private, true, Route{Kind: KindPrivate, Slug: "garden", Private: pa}},
		{strings.ToUpper(private), true, Route{Kind: KindPrivate, Slug: "garden", Private: pa}},
		{strings.Replace(private, "p-3.", "p-4.", 1), false, Route{}},
		{strings.Replace(private, "+p-", "+r-", 1), false, Route{}},
		{"garden@other.test", false, Route{}},
		{"garden+r-1-aaaaaaaaaaaaaaaa@lists.test", false, Route{}},
		{"garden+whatever@lists.test", false, Route{}},
		{"bounces@lists.test", false, Route{}},
		{"no-reply@lists.test", true, Route{Kind: KindBounce}},
		{"no-reply+x@lists.test", false, Route{}},
		{"Bad Slug@lists.test", false, Route{}},
		{"@lists.test", false, Route{}},
		{"", false, Route{}},
	}
	for _, c := range cases {
		got, ok := ParseRecipient(c.addr, "lists.test", testKeys)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseRecipient(%q) = %+v, %v; want %+v, %v", c.addr, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseRecipient(f *testing.F) {
	for _, s := range []string{"garden@lists.test", "garden+subscribe@lists.test", "bounces+x-y@lists.test",
		"garden+r-" + testKeys.ReplyToken(7) + "@lists.test", "<a@b>", "+@", "a+r-@lists.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		r, ok := ParseRecipient(addr, "lists.test", testKeys)
		if !ok {
			return
		}
		// Whatever is accepted names a valid group or a bounce token.
		switch r.Kind {
		case KindBounce:
			if r.Slug != "" || strings.ContainsAny(r.Token, "@<> ") {
				t.Fatalf("bad bounce route %+v for %q", r, addr)
			}
		case KindPost, KindCommand, KindReply, KindPrivate:
			if r.Slug == "" || strings.ContainsAny(r.Slug, "+@<> ") {
				t.Fatalf("bad slug %q for %q", r.Slug, addr)
			}
		default:
			t.Fatalf("unknown kind for %q", addr)
		}
	})
}
