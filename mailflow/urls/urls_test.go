package urls

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
)

var keys = sign.Keys{Current: "urls-test-key-0123456789abcdef"}

func mustMap(t *testing.T, origin string) *Map {
	t.Helper()
	u, err := url.Parse(origin)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(u, keys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPrefixKept: a path prefix in ORIGIN is in every link, once, and
// the user, query and fragment of ORIGIN are in none.
func TestPrefixKept(t *testing.T) {
	for _, origin := range []string{"https://example.org/lists", "https://example.org/lists/", "https://u:p@example.org/lists?x=1#top"} {
		m := mustMap(t, origin)
		for _, got := range []string{m.Group("garden"), m.Thread("garden", 42), m.Archive("garden"), m.Moderation("garden"), m.Unsubscribe(1, 2)} {
			if !strings.HasPrefix(got, "https://example.org/lists/") || strings.Contains(got, "//g") || strings.ContainsAny(got, "@#") || strings.Contains(got, "x=1") {
				t.Errorf("%s: %s", origin, got)
			}
		}
	}
	m := mustMap(t, "https://example.org")
	if got := m.Thread("garden", 42); got != "https://example.org/g/garden/t/42" {
		t.Errorf("Thread = %s", got)
	}
	if got := m.Message("garden", 42, 7); got != "https://example.org/g/garden/t/42#m7" {
		t.Errorf("Message = %s", got)
	}
}

func TestNewRefusesRelative(t *testing.T) {
	for _, o := range []*url.URL{nil, {Path: "/x"}, {Scheme: "ftp", Host: "example.org"}} {
		if _, err := New(o, keys); err == nil {
			t.Errorf("New(%v) = nil error", o)
		}
	}
}

// TestSignedLinksVerify: each signed link carries a token that verifies
// for its own purpose and says what the link promises.
func TestSignedLinksVerify(t *testing.T) {
	m := mustMap(t, "https://example.org/p")
	exp := time.Now().Add(time.Hour)
	tests := []struct {
		link, prefix string
		want         sign.Link
	}{
		{m.Unsubscribe(3, 4), "/p/u/", sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: 3, GroupID: 4}},
		{m.UnsubscribeDigests(3), "/p/u/", sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: 3, Value: "digest"}},
		{m.EmailSettings(3, 4), "/p/email-settings/", sign.Link{Purpose: sign.PurposeSettings, UserID: 3, GroupID: 4}},
		{m.Join(4, "a@example.org", exp), "/p/join/", sign.Link{Purpose: sign.PurposeJoin, GroupID: 4, Value: "a@example.org"}},
		{m.Reenable("a@example.org"), "/p/mail/reenable/", sign.Link{Purpose: sign.PurposeReenable, Value: "a@example.org"}},
		{m.ModerationDecision(3, 9, "veto", exp), "/p/moderate/", sign.Link{Purpose: sign.PurposeModerate, UserID: 3, GroupID: 9, Value: "veto"}},
		{m.Verify(3, "a@example.org", exp), "/p/verify-email", sign.Link{Purpose: sign.PurposeVerify, UserID: 3, Value: "a@example.org"}},
		{m.ConfirmNewEmail(3, "b@example.org", exp), "/p/confirm-new-email", sign.Link{Purpose: sign.PurposeNewEmail, UserID: 3, Value: "b@example.org"}},
		{m.ResetPassword(3, "fp", exp), "/p/reset-password", sign.Link{Purpose: sign.PurposeReset, UserID: 3, Value: "fp"}},
		{m.SiteInvitation(4, "k", exp), "/p/invite", sign.Link{Purpose: sign.PurposeSiteInvite, GroupID: 4, Value: "k"}},
		{m.GroupInvitation("garden", 4, "a@example.org", exp), "/p/g/garden/accept-invite", sign.Link{Purpose: sign.PurposeInvite, GroupID: 4, Value: "a@example.org"}},
		{m.ThreadMail(3, 42, mailflow.ThreadMuted), "/p/thread-mail/", sign.Link{Purpose: sign.PurposeThreadMail, UserID: 3, GroupID: 42, Value: "mute"}},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.link)
		if err != nil {
			t.Fatal(err)
		}
		tok := u.Query().Get("token")
		if tok == "" {
			if !strings.HasPrefix(u.Path, tt.prefix) {
				t.Errorf("%s: path not under %s", tt.link, tt.prefix)
				continue
			}
			tok = strings.TrimPrefix(u.Path, tt.prefix)
		} else if u.Path != tt.prefix {
			t.Errorf("%s: path %s, want %s", tt.link, u.Path, tt.prefix)
		}
		l, err := keys.Verify(tok, time.Now())
		if err != nil {
			t.Errorf("%s: %v", tt.link, err)
			continue
		}
		l.Expires = time.Time{}
		if l != tt.want {
			t.Errorf("%s says %+v, want %+v", tt.link, l, tt.want)
		}
	}
}

func TestPathFillsAndEscapes(t *testing.T) {
	if got := Path(ThreadPath, "a b", "7"); got != "/g/a%20b/t/7" {
		t.Errorf("Path = %s", got)
	}
}

// TestSignedLinksUnchanged: the links in mail are the pattern filled with
// the token, as Path fills it, in one allocation.
func TestSignedLinksUnchanged(t *testing.T) {
	m := mustMap(t, "https://example.org/lists")
	tok := keys.Token(sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: 5, GroupID: 9})
	if got, want := m.Unsubscribe(5, 9), "https://example.org/lists"+Path(UnsubscribePath, tok); got != want {
		t.Errorf("Unsubscribe = %s, want %s", got, want)
	}
	if got, want := m.signed("/a/:x/b", sign.Link{Purpose: sign.PurposeFile, UserID: 5}), "https://example.org/lists/a/"+keys.Token(sign.Link{Purpose: sign.PurposeFile, UserID: 5})+"/b"; got != want {
		t.Errorf("a segment in the middle: %s, want %s", got, want)
	}
	if got := Path("/g/:slug/t/:id", "a b", "7"); got != "/g/a%20b/t/7" {
		t.Errorf("Path = %s", got)
	}
	if raceBuild {
		return
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Unsubscribe(5, 9) }); allocs > 1 {
		t.Errorf("a signed link allocates %.0f times, want 1", allocs)
	}
}
