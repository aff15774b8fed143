package digest_test

import (
	"bytes"
	"html"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// TestDigestOffersPrivateReplies: under each thread a digest offers the
// member's own private address to each author who takes private
// messages, once per author, in both parts; never to the member
// themselves, nor to an author who turned private messages off.
func TestDigestOffersPrivateReplies(t *testing.T) {
	origin, _ := url.Parse("https://lists.example.org")
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", MailDomain: "lists.example.org",
		FromEmail: "Parley <no-reply@lists.example.org>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	item := func(msg int64, author string, privateTo int64) store.DigestItem {
		return store.DigestItem{GroupID: 1, GroupSlug: "g", GroupName: "Garden", ThreadID: 5, Subject: "Plans", MessageID: msg,
			AuthorName: author, CreatedAt: time.Now(), Body: "Words of " + author + ".", PrivateTo: privateTo}
	}
	items := []store.DigestItem{item(1, "Ann", 3), item(2, "Ann", 3), item(3, "Cid", 0), item(4, "Me", 7)}
	msg, err := r.Render(store.DigestMember{UserID: 7, Email: "x@example.org", Name: "X", Timezone: "UTC"}, 0, digest.Daily, items, time.UTC, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := digestParts(t, msg)
	want := "g+p-" + keys.PrivateToken(sign.PrivateAddress{ToID: 3, ThreadID: 5, GivenTo: 7}) + "@lists.example.org"
	for i, part := range parts {
		part = html.UnescapeString(part)
		if n := strings.Count(part, "mailto:"+want); n != 1 {
			t.Errorf("part %d offers the member's private address to Ann %d times, want once:\n%s", i, n, part)
		}
		if strings.Contains(part, "privately to Cid") || strings.Contains(part, "privately to Me") {
			t.Errorf("part %d offers a private reply to an author who takes none, or to the member:\n%s", i, part)
		}
	}
}

// digestParts returns a digest's text and HTML parts, decoded.
func digestParts(t *testing.T, msg []byte) []string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for p, err := mr.NextPart(); err == nil; p, err = mr.NextPart() {
		b, _ := io.ReadAll(p.Body)
		parts = append(parts, string(b))
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want a text and an HTML part", len(parts))
	}
	return parts
}
