package outbound

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

// footerRecipients are recipients whose values take each way through the
// footer: plain ones (spliced), empty fields (other shapes), and values
// the HTML escapes or the URL filter replaces (executed).
func footerRecipients() []Recipient {
	plain := testRecipient()
	plus := testRecipient()
	plus.Email = "bruno+lists@example.com"
	quote := testRecipient()
	quote.Email = "o'brien&co@example.com"
	noLinks := testRecipient()
	noLinks.UnsubscribeURL, noLinks.UnsubscribeAllURL, noLinks.SettingsURL = "", "", ""
	noEmail := testRecipient()
	noEmail.Email = ""
	script := testRecipient()
	script.SettingsURL = "javascript:alert(1)"
	spaced := testRecipient()
	spaced.UnsubscribeURL = "https://lists.example.org/community/u/a b<c>"
	accented := testRecipient()
	accented.Email = "zoë@exämple.com"
	query := testRecipient()
	query.UnsubscribeURL = "https://lists.example.org/community/u/x?token=a-b_c.d%2F"
	return []Recipient{plain, plus, plain, quote, noLinks, noEmail, script, spaced, accented, query, plain,
		conversation(1), conversation(2)}
}

// conversation is a recipient as the sender makes them today: its
// address, the thread's mute address and the private reply address all
// have a "+", which the HTML part escapes in text but not in links.
func conversation(n int) Recipient {
	rc := testRecipient()
	rc.Email = fmt.Sprintf("bruno+%d@example.com", n)
	rc.MuteURL = fmt.Sprintf("https://lists.example.org/community/thread-mail/m%d.x-y", n)
	rc.UnfollowURL = fmt.Sprintf("https://lists.example.org/community/thread-mail/u%d.x-y", n)
	rc.PauseURL = fmt.Sprintf("https://lists.example.org/community/pause/p%d.x-y", n)
	rc.MuteAddress = "gardeners+r-25-ymouxzdyn4ajlgbq@lists.example.org"
	rc.PrivateReply = fmt.Sprintf("gardeners+p-3.4.%d-abcdefghijklmnop@lists.example.org", n)
	return rc
}

// TestFooterSpliceMatchesTemplates renders the same recipients with the
// footers spliced and with them executed for each recipient: every copy
// must be the same bytes, with and without files listed.
func TestFooterSpliceMatchesTemplates(t *testing.T) {
	withFiles := testPost()
	withFiles.Files = []File{{ID: 7, Name: "Minutes <spring>.pdf", Size: 14 << 10}, {ID: 8, Name: "list.csv", Size: 820}}
	for name, post := range map[string]Post{"plain": testPost(), "files": withFiles, "non-ascii": testReply()} {
		t.Run(name, func(t *testing.T) {
			fast, slow := newTestRenderer(t, nil), newTestRenderer(t, nil)
			slow.noSplice = true
			pf, err := fast.Prepare(post)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := slow.Prepare(post)
			if err != nil {
				t.Fatal(err)
			}
			for i, rc := range footerRecipients() {
				if len(post.Files) > 0 {
					rc.FileURLs = []string{"https://lists.example.org/community/files/r" + rc.Email + "-7"}
				}
				got, err := pf.Render(nil, rc)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ps.Render(nil, rc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("recipient %d (%s): spliced copy differs from the templates':\n%s\n---- want ----\n%s", i, rc.Email, got, want)
				}
			}
		})
	}
}

// TestFooterSpliceIsUsed: ordinary recipients are spliced, not executed,
// and a copy then allocates a handful of times, not a hundred.
func TestFooterSpliceIsUsed(t *testing.T) {
	pr, err := newTestRenderer(t, nil).Prepare(testPost())
	if err != nil {
		t.Fatal(err)
	}
	rc := testRecipient()
	buf, err := pr.Render(nil, rc)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.footers.plans) != 1 {
		t.Fatalf("%d footer plans, want 1", len(pr.footers.plans))
	}
	for _, pl := range pr.footers.plans {
		if !pl.verified.Load() || pl.broken.Load() {
			t.Fatalf("the footer plan is not in use: verified %v, broken %v", pl.verified.Load(), pl.broken.Load())
		}
		if !strings.Contains(string(pl.html[len(pl.html)-1].lit), "</html>") {
			t.Error("the HTML plan does not end with the document's end")
		}
	}
	if raceBuild {
		return
	}
	allocs := testing.AllocsPerRun(50, func() {
		if buf, err = pr.Render(buf[:0], rc); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 5 {
		t.Errorf("a spliced copy allocates %.0f times, want at most 5", allocs)
	}
}

// TestFooterSplicesPlusAddresses: copies whose values have a "+" (every
// copy, since each carries the thread's reply address) are spliced too,
// "&#43;" in the HTML's text and "+" in its links and in the text part,
// the same bytes as the templates print.
func TestFooterSplicesPlusAddresses(t *testing.T) {
	fast, slow := newTestRenderer(t, nil), newTestRenderer(t, nil)
	slow.noSplice = true
	pf, err := fast.Prepare(testPost())
	if err != nil {
		t.Fatal(err)
	}
	ps, err := slow.Prepare(testPost())
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 3; n++ {
		got, err := pf.Render(nil, conversation(n))
		if err != nil {
			t.Fatal(err)
		}
		want, err := ps.Render(nil, conversation(n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("copy %d: spliced copy differs from the templates':\n%s\n---- want ----\n%s", n, got, want)
		}
		if n == 1 && (!bytes.Contains(want, []byte("gardeners&#43;r-")) || !bytes.Contains(want, []byte("mailto:gardeners+p-"))) {
			t.Fatalf("the copy does not show the addresses as this test expects:\n%s", want)
		}
	}
	for _, pl := range pf.footers.plans {
		if !pl.verified.Load() || pl.broken.Load() {
			t.Fatalf("the plan for addresses with + is not in use: verified %v, broken %v", pl.verified.Load(), pl.broken.Load())
		}
	}
	if raceBuild {
		return
	}
	rc := conversation(4)
	var buf []byte
	if allocs := testing.AllocsPerRun(50, func() {
		if buf, err = pf.Render(buf[:0], rc); err != nil {
			t.Fatal(err)
		}
	}); allocs > 8 {
		t.Errorf("a spliced copy with + addresses allocates %.0f times, want a handful (at most 8)", allocs)
	}
}

// TestFooterPlaceholderMangled: a placeholder that does not come out of
// the templates whole (here, cut short) makes a plan that is never used.
func TestFooterPlaceholderMangled(t *testing.T) {
	r := newTestRenderer(t, nil)
	var used uint64
	ph := r.placeholder(3)
	if _, ok := r.cut([]byte("a "+ph+" b"), &used); !ok || used != 1<<3 {
		t.Fatalf("a whole placeholder: ok %v, used %b", ok, used)
	}
	if _, ok := r.cut([]byte("a "+ph[:len(ph)-2]+" b"), &used); ok {
		t.Error("a placeholder cut short was taken for a slot")
	}
	if _, ok := r.cut([]byte("a "+strings.ReplaceAll(ph, "&", "&amp;")+strings.ReplaceAll(ph, "/", "%2f")), &used); ok {
		t.Error("an escaped placeholder was taken for a slot")
	}
}

// BenchmarkRenderSigned is a recipient's copy as the sender makes it:
// the recipient's signed links and tokens, then the copy.
func BenchmarkRenderSigned(b *testing.B) {
	r := newTestRenderer(b, nil)
	pr, err := r.Prepare(testPost())
	if err != nil {
		b.Fatal(err)
	}
	keys := sign.Keys{Current: "render-test-key-0123456789"}
	u := r.site.URLs
	var buf []byte
	b.ReportAllocs()
	for i := int64(1); b.Loop(); i++ {
		rc := Recipient{
			Email:             "member" + strconv.FormatInt(i%1000, 10) + "@example.com",
			ReturnPath:        "bounces+" + keys.VERPToken(i) + "@lists.example.org",
			UnsubscribeURL:    u.Unsubscribe(i, 7),
			UnsubscribeAllURL: u.Unsubscribe(i, 0),
			SettingsURL:       u.EmailSettings(i, 7),
			Delivery:          keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: i}),
		}
		if buf, err = pr.Render(buf[:0], rc); err != nil {
			b.Fatal(err)
		}
	}
}
