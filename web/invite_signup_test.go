package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/sign"
)

// TestInvitedSignupNotAskedToConfirm: someone who signs up from the
// invitation link sent to their address is not asked to confirm that
// address (no verification email, no "confirm" flash); the same sign-up
// with another address still is.
func TestInvitedSignupNotAskedToConfirm(t *testing.T) {
	s := newTestSite(t)
	const addr = "invited@example.org"
	tok := s.keys.Token(sign.Link{Purpose: sign.PurposeSiteInvite, Value: addr, Expires: time.Now().Add(time.Hour)})
	verifyMails := func(to string) int {
		return s.count(`SELECT count(*) FROM river_job WHERE args->>'to' = $1 AND args->>'subject' LIKE 'Confirm your email%'`, to)
	}
	for _, tc := range []struct {
		email       string
		wantConfirm bool
	}{{addr, false}, {"someone.else@example.org", true}} {
		c := s.signIn(0)
		// The invited address has an account after the first round: the
		// link then sends to sign-in, and the second round posts the form
		// as it was.
		if code, page := c.get("/invite?token=" + url.QueryEscape(tok)); !tc.wantConfirm && (code != http.StatusOK || !strings.Contains(page, `name="invite"`)) {
			t.Fatalf("the invitation link: %d (%s), no sign-up form carrying it", code, c.last.Header.Get("Location"))
		}
		code, _ := c.post("/signup", url.Values{"name": {"Ivy"}, "email": {tc.email}, "password": {"a long and unusual passphrase 42"},
			"timezone": {"UTC"}, "invite": {tok}})
		if code != http.StatusSeeOther {
			t.Fatalf("%s: sign-up %d", tc.email, code)
		}
		_, page := c.get(c.last.Header.Get("Location"))
		asked := strings.Contains(page, "confirm your address")
		verified := s.count(`SELECT count(*) FROM users WHERE email = $1 AND email_verified_at IS NOT NULL`, tc.email) == 1
		if asked != tc.wantConfirm || (verifyMails(tc.email) > 0) != tc.wantConfirm || verified == tc.wantConfirm {
			t.Errorf("%s: asked to confirm %v, verification mails %d, verified %v; want asked %v",
				tc.email, asked, verifyMails(tc.email), verified, tc.wantConfirm)
		}
	}
	s.noErrors()
}
