package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/modmail"
	"github.com/parleymail/parley/mailflow/urls"
)

// TestModerationLinkNeedsTheRole: the Approve link of a moderation
// notice shows the held message to its moderator; once they no longer
// moderate the group (demoted, or their account banned), the same link
// neither shows the message nor decides, on GET and on POST, with a
// friendly 403 page. Given back the role, the link works again.
func TestModerationLinkNeedsTheRole(t *testing.T) {
	s := newTestSite(t)
	mod := s.user("mod@example.org", "Moe")
	poster := s.user("poster@example.org", "Pat")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'moderator'), ($1, $3, 'member')`, s.groupID, mod, poster)
	const secret = "A held message only moderators may read"
	var msgID int64
	if err := s.st.Pool().QueryRow(context.Background(), `INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		VALUES ($1, $2, $3, 'held-1@lists.test', 'Held', $4, 'web', 'held') RETURNING id`, s.threadID, s.groupID, poster, secret).Scan(&msgID); err != nil {
		t.Fatal(err)
	}
	origin, _ := url.Parse("http://lists.test")
	links, err := urls.New(origin, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	link, _ := url.Parse(modmail.Link(links, mod, msgID, "approve"))
	c := s.signIn(0) // the links work without signing in
	held := func() int { return s.count(`SELECT count(*) FROM messages WHERE id = $1 AND status = 'held'`, msgID) }

	if code, page := c.get(link.Path); code != http.StatusOK || !strings.Contains(page, secret) {
		t.Fatalf("the moderator opening the link: %d, want the held message", code)
	}
	for _, lost := range []struct{ what, setup, undo string }{
		{"demoted", `UPDATE memberships SET role = 'member' WHERE user_id = $1`, `UPDATE memberships SET role = 'moderator' WHERE user_id = $1`},
		{"banned from the group", `UPDATE memberships SET status = 'banned' WHERE user_id = $1`, `UPDATE memberships SET status = 'active' WHERE user_id = $1`},
		{"account banned", `UPDATE users SET status = 'banned' WHERE id = $1`, `UPDATE users SET status = 'active' WHERE id = $1`},
	} {
		s.exec(lost.setup, mod)
		code, page := c.get(link.Path)
		if code != http.StatusForbidden || strings.Contains(page, secret) || !strings.Contains(page, "no longer moderates") {
			t.Errorf("%s: GET the link: %d, want the 403 page without the message\n%s", lost.what, code, page)
		}
		code, page = c.do("POST", link.Path, "application/x-www-form-urlencoded", nil)
		if code != http.StatusForbidden || strings.Contains(page, secret) || held() != 1 {
			t.Errorf("%s: POST the link: %d, held %d, want 403 and the message still held", lost.what, code, held())
		}
		s.exec(lost.undo, mod)
	}
	if code, _ := c.do("POST", link.Path, "application/x-www-form-urlencoded", nil); code != http.StatusOK || held() != 0 {
		t.Fatalf("the moderator again: POST %d, held %d; want it approved", code, held())
	}
	s.noErrors()
}
