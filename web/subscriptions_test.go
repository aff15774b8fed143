package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSubscriptionsChangeDeliveryAndLeave walks "My subscriptions" on the
// start page and the profile: each group is a link to its page; changing
// its email setting there comes back to the same page with a flash and
// shows on the group's page; Leave asks first (the GET changes nothing),
// leaves on the POST and comes back; the only owner of a group is told
// they cannot leave it, and cannot.
func TestSubscriptionsChangeDeliveryAndLeave(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`INSERT INTO memberships (group_id, user_id, role, delivery) VALUES ($1, $2, 'member', 'immediate')`, s.groupID, ann)
	c := s.signIn(ann)
	profile := fmt.Sprintf("/people/%d", ann)

	for _, p := range []string{"/", profile} {
		_, page := c.get(p)
		// No ORGANIZATION set: the footer names the brand alone.
		if !strings.Contains(page, `<footer>Parley · <a href="/terms">`) {
			t.Errorf("%s: the footer is not the brand alone", p)
		}
		if !strings.Contains(page, `<a href="/g/crawl">Crawl</a>`) {
			t.Errorf("%s: the group is not a link to its page", p)
		}
		if !strings.Contains(page, `action="/g/crawl/delivery"`) || !strings.Contains(page, `href="/g/crawl/leave?back=`) {
			t.Errorf("%s: no email setting form or Leave link for the group", p)
		}
	}

	code, _ := c.post("/g/crawl/delivery", url.Values{"delivery": {"weekly"}, "back": {"/"}})
	if loc := c.last.Header.Get("Location"); code != http.StatusSeeOther || loc != "/" {
		t.Fatalf("changing the email setting: %d to %q, want 303 to /", code, loc)
	}
	if _, page := c.get("/"); !strings.Contains(page, "Your email setting for Crawl is now: A weekly digest.") ||
		!strings.Contains(page, `<option value="weekly" selected>`) {
		t.Errorf("the start page shows neither the flash nor the new setting")
	}
	if _, page := c.get("/g/crawl"); !strings.Contains(page, `<option value="weekly" selected>`) {
		t.Errorf("the group page does not show the setting chosen from the subscriptions")
	}
	// A foreign place to come back to is ignored.
	c.post("/g/crawl/delivery", url.Values{"delivery": {"digest"}, "back": {"//evil.example/"}})
	if loc := c.last.Header.Get("Location"); loc != "/g/crawl" {
		t.Errorf("back to another site: redirected to %q, want /g/crawl", loc)
	}

	member := func(uid int64) int {
		return s.count(`SELECT count(*) FROM memberships WHERE group_id = $1 AND user_id = $2`, s.groupID, uid)
	}
	code, page := c.get("/g/crawl/leave?back=" + url.QueryEscape(profile))
	if code != http.StatusOK || !strings.Contains(page, "Leave the group</button>") || member(ann) != 1 {
		t.Fatalf("the Leave confirmation: %d, member %d", code, member(ann))
	}
	if !strings.Contains(page, `name="back" value="`+profile+`"`) {
		t.Errorf("the confirmation does not come back to the profile")
	}
	code, _ = c.post("/g/crawl/leave", url.Values{"back": {profile}})
	if loc := c.last.Header.Get("Location"); code != http.StatusSeeOther || loc != profile {
		t.Errorf("leaving: %d to %q, want 303 to %s", code, loc, profile)
	}
	if member(ann) != 0 {
		t.Errorf("still a member after leaving")
	}
	if _, page := c.get(profile); !strings.Contains(page, "You left Crawl.") || strings.Contains(page, `action="/g/crawl/delivery"`) {
		t.Errorf("the profile shows no flash, or still lists the group")
	}

	// Root is the only owner of Crawl.
	r := s.signIn(s.rootID)
	code, page = r.get("/g/crawl/leave?back=/")
	if code != http.StatusOK || !strings.Contains(page, "You are the only owner of Crawl") || strings.Contains(page, "Leave the group</button>") {
		t.Errorf("the last owner's Leave page: %d, does not say so or offers to leave", code)
	}
	if code, page = r.post("/g/crawl/leave", url.Values{"back": {"/"}}); code != http.StatusConflict || !strings.Contains(page, "You are the only owner of Crawl") {
		t.Errorf("the last owner leaving: %d, want 409 saying why", code)
	}
	if member(s.rootID) != 1 {
		t.Errorf("the last owner left the group")
	}
	s.noErrors()
}
