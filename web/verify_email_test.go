package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/urls"
)

// TestVerifyEmailAsksFirst: the verification link only opens a page with
// one button (a link scanner's GET confirms nothing); the button's POST
// confirms the address. A tampered or expired link answers 400, by GET
// and by POST, and confirms nothing.
func TestVerifyEmailAsksFirst(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`UPDATE users SET email_verified_at = NULL WHERE id = $1`, ann)
	origin, _ := url.Parse("http://lists.test")
	links, err := urls.New(origin, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	path := func(link string) (string, string) {
		u, _ := url.Parse(link)
		return u.Path + "?" + u.RawQuery, u.Query().Get("token")
	}
	verified := func() int {
		return s.count(`SELECT count(*) FROM users WHERE id = $1 AND email_verified_at IS NOT NULL`, ann)
	}

	good, token := path(links.Verify(ann, "ann@example.org", time.Now().Add(time.Hour)))
	expired, old := path(links.Verify(ann, "ann@example.org", time.Now().Add(-time.Hour)))
	c := s.signIn(0)
	for _, bad := range []string{expired, good + "x", "/verify-email"} {
		if code, page := c.get(bad); code != http.StatusBadRequest || !strings.Contains(page, "This link does not work any more") {
			t.Errorf("GET %s: %d, want 400 with the invalid link page", bad, code)
		}
	}
	code, page := c.get(good)
	if code != http.StatusOK || !strings.Contains(page, "Confirm that ann@example.org is your address.") ||
		!strings.Contains(page, `<button type="submit">Confirm my address</button>`) {
		t.Fatalf("GET the link: %d\n%s", code, page)
	}
	if verified() != 0 {
		t.Fatal("opening the link confirmed the address")
	}
	if code, _ := c.post("/verify-email", url.Values{"token": {old}}); code != http.StatusBadRequest || verified() != 0 {
		t.Errorf("POST an expired token: %d, verified %d; want 400 and nothing confirmed", code, verified())
	}
	if code, _ := c.post("/verify-email", url.Values{"token": {token}}); code != http.StatusSeeOther || verified() != 1 {
		t.Fatalf("pressing the button: %d, verified %d; want 303 and the address confirmed", code, verified())
	}
	if loc := c.last.Header.Get("Location"); loc != "/login" {
		t.Errorf("after confirming, signed out: sent to %q, want /login", loc)
	}
	if _, page := c.get("/login"); !strings.Contains(page, "ann@example.org is confirmed") {
		t.Errorf("no flash on the login page")
	}
	s.noErrors()
}

// TestNewAddressAsksFirst: the link that confirms a member's new address
// opens a page with one button and moves nothing (mail scanners follow
// links); a tampered link is a 400; the button moves the account.
func TestNewAddressAsksFirst(t *testing.T) {
	s := newTestSite(t)
	bea := s.user("bea@example.org", "Bea")
	origin, _ := url.Parse("http://lists.test")
	links, err := urls.New(origin, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(links.ConfirmNewEmail(bea, "bea.new@example.org", time.Now().Add(time.Hour)))
	good, token := u.Path+"?"+u.RawQuery, u.Query().Get("token")
	moved := func() int {
		return s.count(`SELECT count(*) FROM users WHERE id = $1 AND email = 'bea.new@example.org'`, bea)
	}
	c := s.signIn(0)
	if code, _ := c.get(good + "x"); code != http.StatusBadRequest {
		t.Errorf("GET a tampered link: %d, want 400", code)
	}
	code, page := c.get(good)
	if code != http.StatusOK || !strings.Contains(page, "Move your account to bea.new@example.org?") ||
		!strings.Contains(page, `<button type="submit">Use this address</button>`) {
		t.Fatalf("GET the link: %d\n%s", code, page)
	}
	if moved() != 0 {
		t.Fatal("opening the link moved the account")
	}
	if code, page := c.post("/confirm-new-email", url.Values{"token": {token}}); code != http.StatusOK || moved() != 1 ||
		!strings.Contains(page, "Your account now uses bea.new@example.org") {
		t.Fatalf("pressing the button: %d, moved %d\n%s", code, moved(), page)
	}
	s.noErrors()
}
