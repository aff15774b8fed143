package digest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// TestDigestListsFiles: a digest lists a message's files under its
// thread in both parts, each with the member's own signed link (the one
// the /files/ page verifies for that member and that file).
func TestDigestListsFiles(t *testing.T) {
	origin, _ := url.Parse("https://lists.example.org")
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", MailDomain: "lists.example.org",
		FromEmail: "Parley <no-reply@lists.example.org>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	items := []store.DigestItem{{GroupID: 1, GroupSlug: "g", GroupName: "Garden", ThreadID: 5, Subject: "Plans", MessageID: 9,
		AuthorName: "Ann", CreatedAt: time.Now(), Body: "See the plan.",
		Files: []store.ListedResource{{Resource: mailflow.Resource{ID: 42, Name: "plan <v2>.pdf", Size: 3 << 20}}}}}
	msg, err := r.Render(store.DigestMember{UserID: 7, Email: "x@example.org", Name: "X", Timezone: "UTC"}, 0, digest.Daily, items, time.UTC, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := digestParts(t, msg)
	text, html := parts[0], parts[1]
	i := strings.Index(text, "File: plan <v2>.pdf (3.0 MB): https://lists.example.org/files/")
	if i < 0 {
		t.Fatalf("the text part does not list the file:\n%s", text)
	}
	token := strings.Fields(text[i+len("File: plan <v2>.pdf (3.0 MB): https://lists.example.org/files/"):])[0]
	l, err := keys.Verify(token, time.Now())
	if err != nil || l.Purpose != sign.PurposeFile || l.UserID != 7 || l.Value != "42" {
		t.Fatalf("the file link says %+v (%v), want member 7's link to resource 42", l, err)
	}
	if !strings.Contains(html, `<a href="https://lists.example.org/files/`+token+`"`) || !strings.Contains(html, "plan &lt;v2&gt;.pdf</a> (3.0 MB)") {
		t.Fatalf("the HTML part does not list the file:\n%s", html)
	}
}
