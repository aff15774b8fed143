package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConversationControls: the thread page offers a digest member
// Follow and Mute; pressing one says so and the page then offers its
// undo; the account page lists the conversation with its undo and keeps
// "follow conversations I start or reply to"; a non-member gets 403 and
// a made-up choice 422, changing nothing.
func TestConversationControls(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`INSERT INTO memberships (group_id, user_id, delivery) VALUES ($1, $2, 'digest')`, s.groupID, ann)
	c := s.signIn(ann)
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	_, page := c.get(thread)
	for _, b := range []string{`name="pref" value="follow"`, `name="pref" value="mute"`} {
		if !strings.Contains(page, b) {
			t.Fatalf("the thread page lacks %s for a digest member:\n%s", b, page)
		}
	}
	if code, _ := c.post(thread+"/mail", url.Values{"pref": {"follow"}}); code != http.StatusSeeOther {
		t.Fatalf("follow: %d", code)
	}
	_, page = c.get(thread)
	if !strings.Contains(page, "You follow this conversation") || !strings.Contains(page, "Stop following") {
		t.Fatalf("after following, no flash or no undo:\n%s", page)
	}
	if n := s.count(`SELECT count(*) FROM thread_prefs WHERE user_id = $1 AND pref = 'follow'`, ann); n != 1 {
		t.Fatalf("%d follows recorded", n)
	}
	if code, _ := c.post(thread+"/mail", url.Values{"pref": {"shout"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("a made-up choice: %d", code)
	}

	_, acct := c.get("/account")
	if !strings.Contains(acct, ">Hello</a>") || !strings.Contains(acct, "Stop following") || !strings.Contains(acct, `name="follow_own" checked`) {
		t.Fatalf("the account page does not list the conversation or the setting:\n%s", acct)
	}
	if code, _ := c.post(fmt.Sprintf("/account/conversations/%d", s.threadID), url.Values{"pref": {""}}); code != http.StatusSeeOther {
		t.Fatalf("undo from the account page: %d", code)
	}
	if code, _ := c.post("/account/conversations/follow-own", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("turning follow-own off: %d", code)
	}
	if n := s.count(`SELECT count(*) FROM thread_prefs WHERE user_id = $1`, ann); n != 0 {
		t.Fatalf("%d choices left after the undo", n)
	}
	if n := s.count(`SELECT count(*) FROM users WHERE id = $1 AND NOT follow_own_threads`, ann); n != 1 {
		t.Fatal("follow-own is still on")
	}

	bob := s.user("bob@example.org", "Bob")
	b := s.signIn(bob)
	b.get(thread)
	if code, _ := b.post(thread+"/mail", url.Values{"pref": {"mute"}}); code != http.StatusForbidden {
		t.Fatalf("a non-member muting: %d", code)
	}
	if n := s.count(`SELECT count(*) FROM thread_prefs WHERE user_id = $1`, bob); n != 0 {
		t.Fatal("a non-member's choice was recorded")
	}
	s.noErrors()
}
