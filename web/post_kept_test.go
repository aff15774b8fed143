package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFailedPostKeepsText: a member who opened a form and lost the right
// to post before sending it (removed, or banned, from the group) gets
// the form back with 422, their subject and text in it and the reason
// beside the text, on each of the three web forms that post: a new
// thread, a reply, and a message to the owners.
func TestFailedPostKeepsText(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, ann)
	c := s.signIn(ann)
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	if code, _ := c.get(thread); code != http.StatusOK {
		t.Fatalf("GET %s: %d", thread, code)
	}
	const subject, text = "Plans for the spring", "Three paragraphs written with care, and the seventh draft"
	messages := func() int { return s.count(`SELECT count(*) FROM messages`) }
	before := messages()

	// Removed from the group while the pages were open.
	s.exec(`DELETE FROM memberships WHERE user_id = $1`, ann)
	check := func(what string, code int, page string, wantSubject bool) {
		t.Helper()
		if code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", what, code)
		}
		if !strings.Contains(page, ">"+text+"</textarea>") {
			t.Errorf("%s: the text is not in the form again", what)
		}
		if wantSubject && !strings.Contains(page, `value="`+subject+`"`) {
			t.Errorf("%s: the subject is not in the form again", what)
		}
		if !strings.Contains(page, `id="body-error"`) || !strings.Contains(page, "Your text is still here") {
			t.Errorf("%s: no reason beside the text\n%s", what, page)
		}
		if strings.Contains(page, "nothing you sent was lost") {
			t.Errorf("%s: the error page, not the form", what)
		}
	}
	code, page := c.post(thread+"/reply", url.Values{"body": {text}})
	check("a reply", code, page, false)
	code, page = c.post("/g/crawl/threads", url.Values{"subject": {subject}, "body": {text}})
	check("a new thread", code, page, true)

	// Banned: the owners cannot be written to either.
	s.exec(`INSERT INTO memberships (group_id, user_id, role, status) VALUES ($1, $2, 'member', 'banned')`, s.groupID, ann)
	code, page = c.post("/g/crawl/contact-owners", url.Values{"subject": {subject}, "body": {text}})
	check("a message to the owners", code, page, true)

	if n := messages(); n != before {
		t.Errorf("%d messages were posted by a member who may not post", n-before)
	}
	s.noErrors()
}
