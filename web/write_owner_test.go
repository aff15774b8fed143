package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestWriteToOneOwner: a member clicks the envelope beside an owner in
// the members list, fills in the form it opens and sends it; the private
// thread it lands on is read by the writer and that owner, and answers
// 404 to the group's other owner and to other members. The owner's
// profile offers the same form; a member's profile does not, and the
// form for someone who is not an owner is not found.
func TestWriteToOneOwner(t *testing.T) {
	s := newTestSite(t)
	ann, olive, otto, bob := s.user("ann@example.org", "Ann"), s.user("olive@example.org", "Olive"),
		s.user("otto@example.org", "Otto"), s.user("bob@example.org", "Bob")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'owner'), ($1, $4, 'owner'), ($1, $5, 'member')`,
		s.groupID, ann, olive, otto, bob)
	c := s.signIn(ann)

	code, members := c.get("/g/crawl/members")
	if code != http.StatusOK {
		t.Fatalf("members list: %d", code)
	}
	form := fmt.Sprintf("/g/crawl/contact-owners/%d", olive)
	envelope := regexp.MustCompile(`<a class="envelope" href="([^"]+)"`)
	var found []string
	for _, m := range envelope.FindAllStringSubmatch(members, -1) {
		found = append(found, m[1])
	}
	// Beside each owner (root, Olive, Otto), never beside a member.
	if len(found) != 3 || !strings.Contains(strings.Join(found, " "), form) {
		t.Fatalf("envelopes in the members list: %v, want one per owner with %s", found, form)
	}
	if strings.Contains(members, fmt.Sprintf("/g/crawl/contact-owners/%d", bob)) {
		t.Errorf("an envelope beside a member who is not an owner")
	}
	if _, group := c.get("/g/crawl"); !strings.Contains(group, `href="`+form+`"`) {
		t.Errorf("the group page's owners list has no envelope for Olive")
	}

	code, page := c.get(form)
	if code != http.StatusOK || !strings.Contains(page, "Send a message to Olive") {
		t.Fatalf("the form: %d\n%s", code, page)
	}
	if code, page = c.post(form, url.Values{"subject": {""}, "body": {"Half written"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, "Half written</textarea>") {
		t.Fatalf("an empty subject: %d, want 422 with the text kept", code)
	}
	code, _ = c.post(form, url.Values{"subject": {"About the bylaws"}, "body": {"Only for your eyes, Olive."}})
	if code != http.StatusSeeOther {
		t.Fatalf("sending: %d, want 303", code)
	}
	thread, _, _ := strings.Cut(c.last.Header.Get("Location"), "#")
	if code, page := c.get(thread); code != http.StatusOK || !strings.Contains(page, "Only for your eyes, Olive.") ||
		!strings.Contains(page, "Your message was sent to Olive.") {
		t.Fatalf("the writer, on %s: %d", thread, code)
	}
	if n := s.count(`SELECT count(*) FROM threads WHERE private_member_id = $1 AND private_owner_id = $2`, ann, olive); n != 1 {
		t.Fatalf("%d threads from Ann to Olive alone, want 1", n)
	}

	if code, page := s.signIn(olive).get(thread); code != http.StatusOK || !strings.Contains(page, "Only for your eyes, Olive.") {
		t.Errorf("the owner written to: %d", code)
	}
	if code, _ := s.signIn(otto).get(thread); code != http.StatusNotFound {
		t.Errorf("another owner: %d, want 404", code)
	}
	if code, _ := s.signIn(bob).get(thread); code != http.StatusNotFound {
		t.Errorf("another member: %d, want 404", code)
	}

	// The profiles: Olive's offers the form, Bob's (a member) does not.
	if _, page := c.get(fmt.Sprintf("/people/%d", olive)); !strings.Contains(page, `href="`+form+`">Send a message</a>`) {
		t.Errorf("Olive's profile has no Send a message")
	}
	if _, page := c.get(fmt.Sprintf("/people/%d", bob)); strings.Contains(page, "Send a message") {
		t.Errorf("a member's profile offers to write to them as an owner")
	}
	notOwner := fmt.Sprintf("/g/crawl/contact-owners/%d", bob)
	if code, _ := c.get(notOwner); code != http.StatusNotFound {
		t.Errorf("the form for a member who is not an owner: %d, want 404", code)
	}
	if code, _ := c.post(notOwner, url.Values{"subject": {"x"}, "body": {"y"}}); code != http.StatusNotFound {
		t.Errorf("sending to a member who is not an owner: %d, want 404", code)
	}
	s.noErrors()
}
