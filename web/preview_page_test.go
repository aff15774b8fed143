package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/modmail"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/urls"
)

// hostile is what a member may write: Markdown, raw HTML with a handler,
// a script, and an entity. Every preview must read as plainPreview.
const (
	hostile      = "We need **seeds** and <b onclick=\"alert(1)\">soil</b> &amp; `water`<script>alert(2)</script>"
	plainPreview = "We need seeds and soil &amp; water" // as the page escapes it: "&" once
)

// TestPreviewsArePlainText puts Markdown and hostile HTML in a group's
// description and a message, and reads every place that previews them:
// the Explore card, the inbox row, the group page's thread list, the
// search result, the flag confirmation and the moderation link's page.
// Each shows clean plain text: no Markdown marks, no tags escaped into
// view, entities decoded once. The moderation notice shows it as text too.
func TestPreviewsArePlainText(t *testing.T) {
	s := newTestSite(t)
	s.exec(`UPDATE groups SET description = $2 WHERE id = $1`, s.groupID, hostile)
	s.exec(`UPDATE messages SET body = $2 WHERE thread_id = $1`, s.threadID, hostile)
	var msgID int64
	if err := s.st.Pool().QueryRow(context.Background(), `SELECT id FROM messages WHERE thread_id = $1`, s.threadID).Scan(&msgID); err != nil {
		t.Fatal(err)
	}
	// A newer thread: the group page shows the newest one whole and
	// previews the others.
	s.exec(`WITH t AS (INSERT INTO threads (group_id, subject, message_count, last_message_at) VALUES ($1, 'Newer', 1, now() + interval '1 minute') RETURNING id)
		INSERT INTO messages (thread_id, group_id, message_id, subject, body, source, status, approved_at)
		SELECT t.id, $1, 'newer@lists.test', 'Newer', 'Newer', 'web', 'approved', now() FROM t`, s.groupID)
	member := s.user("reader@example.org", "Reader")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, member)
	outsider := s.user("outsider@example.org", "Outsider")

	check := func(who *testClient, path, want string) {
		t.Helper()
		code, page := who.get(path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
			return
		}
		if !strings.Contains(page, want) {
			t.Errorf("GET %s does not show %q\n%s", path, want, page)
		}
		for _, bad := range []string{"**seeds**", "&lt;b", "onclick", "&lt;script", "alert(", "&amp;amp;", "`water`"} {
			if strings.Contains(page, bad) {
				t.Errorf("GET %s shows %q", path, bad)
			}
		}
	}
	check(s.signIn(outsider), "/explore", plainPreview)
	reader := s.signIn(member)
	check(reader, "/inbox", plainPreview)
	check(reader, "/g/crawl", plainPreview)
	check(reader, "/search?q=seeds", "We need <mark>seeds</mark> and soil &amp; water")
	check(reader, fmt.Sprintf("/messages/%d/flag", msgID), plainPreview)

	// A held message, on the page its notice's link opens: rendered as
	// the group would see it, sanitised.
	var heldID int64
	if err := s.st.Pool().QueryRow(context.Background(), `INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		VALUES ($1, $2, $3, 'held-p@lists.test', 'Held', $4, 'web', 'held') RETURNING id`, s.threadID, s.groupID, member, hostile).Scan(&heldID); err != nil {
		t.Fatal(err)
	}
	links, err := urls.New(&url.URL{Scheme: "http", Host: "lists.test"}, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := url.Parse(modmail.Link(links, s.rootID, heldID, "approve"))
	check(s.signIn(0), link.Path, "<strong>seeds</strong>")

	// The notice itself is plain text: the message's text as members
	// would read it, with no tags and the entity decoded once.
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	_, text, _, err := notices.Render(modmail.Facts(links, mailflow.Group{Name: "Crawl", Slug: "crawl"},
		mailflow.Message{ID: heldID, Subject: "Held", Body: hostile}, "Reader", s.rootID))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "| We need *seeds* and soil & `water`\n") {
		t.Errorf("the moderation notice does not quote the message as text:\n%s", text)
	}
	for _, bad := range []string{"<b", "onclick", "<script", "alert(", "&amp;"} {
		if strings.Contains(text, bad) {
			t.Errorf("the moderation notice contains %q:\n%s", bad, text)
		}
	}
	s.noErrors()
}
