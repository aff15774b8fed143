package accounts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/password"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
)

func TestMain(m *testing.M) { storetest.Main(m) }

type fixture struct {
	svc *accounts.Service
	st  *store.Store
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := storetest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{st: st, now: time.Now()}
	origin, _ := url.Parse("https://lists.example.org/lists")
	links, err := urls.New(origin, sign.Keys{Current: "k1-0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	f.svc = &accounts.Service{Store: st, Keys: sign.Keys{Current: "k1-0123456789abcdef"}, URLs: links, Notices: notices,
		Log: log, Now: func() time.Time { return f.now }}
	return f
}

// lastMail returns the newest queued system email to addr.
func (f *fixture) lastMail(t *testing.T, addr string) (subject, text string) {
	t.Helper()
	var raw []byte
	err := f.st.Pool().QueryRow(context.Background(), `
		SELECT args FROM river_job WHERE kind = 'system_mail' AND args->>'to' = $1 ORDER BY id DESC LIMIT 1`, addr).Scan(&raw)
	if err != nil {
		t.Fatalf("no mail to %s: %v", addr, err)
	}
	var a struct{ Subject, Text string }
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	return a.Subject, a.Text
}

func tokenIn(t *testing.T, text, path string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta("https://lists.example.org/lists"+path+"?token=") + `(\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %s link under the origin in:\n%s", path, text)
	}
	tok, _ := url.QueryUnescape(m[1])
	return tok
}

func TestSignupAndVerify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Signup(ctx, accounts.SignupInput{Email: "not an address", Name: "", Password: "short", Timezone: "Mars/Olympus"})
	var fe *mailflow.FieldErrors
	if !errors.As(err, &fe) || len(fe.Fields) != 4 {
		t.Fatalf("bad sign-up: %v, want four field errors", err)
	}
	u, err := f.svc.Signup(ctx, accounts.SignupInput{Email: "Ann@Example.org", Name: "Ann", Password: "correct horse", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Verified() || u.Timezone != "Europe/Paris" {
		t.Fatalf("new account: verified %v, timezone %q", u.Verified(), u.Timezone)
	}
	if _, err := f.svc.Signup(ctx, accounts.SignupInput{Email: "ann@example.ORG", Name: "Ann 2", Password: "correct horse"}); !errors.As(err, &fe) || fe.Fields["email"] == "" {
		t.Fatalf("second account for the address: %v", err)
	}
	// Unverified members cannot post.
	if _, err := mailflow.PostDecision(&u, mailflow.Group{}, &mailflow.Membership{Status: mailflow.MemberActive}); !errors.Is(err, mailflow.ErrForbidden) {
		t.Errorf("an unverified member posting: %v, want forbidden", err)
	}
	subject, text := f.lastMail(t, u.Email)
	if !strings.Contains(subject, "Confirm your email") {
		t.Errorf("subject %q", subject)
	}
	tok := tokenIn(t, text, "/verify-email")
	if _, err := f.svc.VerifyEmail(ctx, tok+"x"); !errors.Is(err, accounts.ErrBadLink) {
		t.Errorf("tampered link: %v", err)
	}
	// The link is for that address: once the account has moved, it is void.
	f.st.ChangeEmail(ctx, u.ID, "ann2@example.org")
	f.st.Pool().Exec(ctx, `UPDATE users SET email_verified_at = NULL WHERE id = $1`, u.ID)
	if _, err := f.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrBadLink) {
		t.Errorf("a link for the old address verified the new one: %v", err)
	}
	f.st.ChangeEmail(ctx, u.ID, "Ann@Example.org")
	f.st.Pool().Exec(ctx, `UPDATE users SET email_verified_at = NULL WHERE id = $1`, u.ID)
	got, err := f.svc.VerifyEmail(ctx, tok)
	if err != nil || !got.Verified() {
		t.Fatalf("verify: %v", err)
	}
	// Links expire after 7 days.
	f.now = f.now.Add(accounts.VerifyTTL + time.Minute)
	if _, err := f.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrBadLink) {
		t.Errorf("an expired link: %v", err)
	}
}

func TestSignInThrottling(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := password.Hash("correct horse")
	u, err := f.st.CreateUser(ctx, store.NewUser{Email: "bo@example.org", Name: "Bo", Verified: true, PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Authenticate(ctx, "nobody@example.org", "x", "192.0.2.1"); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("unknown address: %v", err)
	}
	for i := 0; i < accounts.MaxAccountFailure; i++ {
		if _, err := f.svc.Authenticate(ctx, "BO@example.org", "wrong", "192.0.2.1"); !errors.Is(err, accounts.ErrWrongPassword) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Locked, even with the right password, from any address.
	_, err = f.svc.Authenticate(ctx, "bo@example.org", "correct horse", "198.51.100.7")
	var te *accounts.ThrottledError
	if !errors.As(err, &te) || !strings.Contains(te.Error(), "Try again in 15 minutes") {
		t.Fatalf("sixth attempt: %v, want locked for 15 minutes", err)
	}
	// The lock is real time in the database, so check it by moving the
	// failures back rather than waiting.
	f.st.Pool().Exec(ctx, `UPDATE login_failures SET failed_at = failed_at - interval '16 minutes' WHERE key = 'email:bo@example.org'`)
	got, err := f.svc.Authenticate(ctx, "bo@example.org", "correct horse", "198.51.100.7")
	if err != nil || got.ID != u.ID {
		t.Fatalf("after the window: %v", err)
	}
	// One client address trying many accounts is locked too.
	for i := 0; i < accounts.MaxClientFailure; i++ {
		f.svc.Authenticate(ctx, "guess"+string(rune('a'+i%26))+"@example.org", "x", "203.0.113.9")
	}
	if _, err := f.svc.Authenticate(ctx, "bo@example.org", "correct horse", "203.0.113.9"); !errors.As(err, &te) {
		t.Fatalf("a client after %d failures: %v, want locked", accounts.MaxClientFailure, err)
	}
	if _, err := f.svc.Authenticate(ctx, "bo@example.org", "correct horse", "192.0.2.55"); err != nil {
		t.Fatalf("another client: %v", err)
	}
}

func TestLegacyHashIsUpgraded(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, _ := bcrypt.GenerateFromPassword([]byte("openstax pass"), bcrypt.MinCost)
	u, _ := f.st.CreateUser(ctx, store.NewUser{Email: "os@example.org", Name: "Os", Verified: true, PasswordHash: string(old)})
	if _, err := f.svc.Authenticate(ctx, "os@example.org", "openstax pass", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	u, _ = f.st.UserByID(ctx, u.ID)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("hash after sign-in: %q, want argon2id", u.PasswordHash)
	}
	if _, err := f.svc.Authenticate(ctx, "os@example.org", "openstax pass", "192.0.2.1"); err != nil {
		t.Fatalf("sign-in with the upgraded hash: %v", err)
	}
}

func TestPasswordResetWorksOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := password.Hash("correct horse")
	u, _ := f.st.CreateUser(ctx, store.NewUser{Email: "cy@example.org", Name: "Cy", PasswordHash: hash})
	f.st.CreateSession(ctx, store.Session{IDHash: []byte("s1"), UserID: u.ID, IdleExpiresAt: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)})
	if err := f.svc.RequestReset(ctx, "nobody@example.org", "192.0.2.1"); !errors.Is(err, accounts.ErrNoAccount) {
		t.Fatalf("reset for an unknown address: %v", err)
	}
	if err := f.svc.RequestReset(ctx, "cy@example.org", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, text := f.lastMail(t, "cy@example.org")
	tok := tokenIn(t, text, "/reset-password")
	if _, err := f.svc.ResetPassword(ctx, tok, "short"); !errors.Is(err, mailflow.ErrInvalid) {
		t.Fatalf("a too short password: %v", err)
	}
	if _, err := f.svc.ResetPassword(ctx, tok, "new battery staple"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ResetPassword(ctx, tok, "another one here"); !errors.Is(err, accounts.ErrBadLink) {
		t.Fatalf("the same link twice: %v", err)
	}
	if _, _, err := f.st.SessionUser(ctx, []byte("s1")); !errors.Is(err, mailflow.ErrNotFound) {
		t.Errorf("a session survived the reset: %v", err)
	}
	u, _ = f.st.UserByID(ctx, u.ID)
	if !u.Verified() {
		t.Error("a reset by email did not count the address as verified")
	}
	if _, err := f.svc.Authenticate(ctx, "cy@example.org", "new battery staple", "192.0.2.1"); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}
	// A link expires after an hour.
	f.svc.RequestReset(ctx, "cy@example.org", "192.0.2.1")
	_, text = f.lastMail(t, "cy@example.org")
	tok = tokenIn(t, text, "/reset-password")
	f.now = f.now.Add(accounts.ResetTTL + time.Minute)
	if _, err := f.svc.CheckResetToken(ctx, tok); !errors.Is(err, accounts.ErrBadLink) {
		t.Errorf("an hour-old link: %v", err)
	}
}

func TestEmailChange(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := password.Hash("correct horse")
	u, _ := f.st.CreateUser(ctx, store.NewUser{Email: "di@example.org", Name: "Di", Verified: true, PasswordHash: hash})
	f.st.CreateUser(ctx, store.NewUser{Email: "taken@example.org", Name: "T"})
	var fe *mailflow.FieldErrors
	if _, err := f.svc.RequestEmailChange(ctx, u, "wrong", "taken@example.org"); !errors.As(err, &fe) || fe.Fields["new_email"] == "" || fe.Fields["password"] == "" {
		t.Fatalf("bad change: %v", err)
	}
	if _, err := f.svc.RequestEmailChange(ctx, u, "correct horse", "di.new@example.org"); err != nil {
		t.Fatal(err)
	}
	if subject, _ := f.lastMail(t, "di@example.org"); !strings.Contains(subject, "about to change") {
		t.Errorf("the old address was not told: %q", subject)
	}
	_, text := f.lastMail(t, "di.new@example.org")
	got, err := f.svc.ConfirmEmailChange(ctx, tokenIn(t, text, "/confirm-new-email"))
	if err != nil || got.Email != "di.new@example.org" || !got.Verified() {
		t.Fatalf("confirm: %+v %v", got, err)
	}
}

func TestMailLimits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	hash, _ := password.Hash("correct horse")
	f.st.CreateUser(ctx, store.NewUser{Email: "dee@example.org", Name: "Dee", Verified: true, PasswordHash: hash})
	for i := 0; i < accounts.MaxResetPerEmail; i++ {
		if err := f.svc.RequestReset(ctx, "dee@example.org", "192.0.2.1"); err != nil {
			t.Fatalf("reset %d: %v", i+1, err)
		}
	}
	var te *accounts.ThrottledError
	if err := f.svc.RequestReset(ctx, "dee@example.org", "198.51.100.2"); !errors.As(err, &te) || !strings.Contains(te.Error(), "Try again in 60 minutes") {
		t.Fatalf("a fourth reset email within the hour: %v", err)
	}
	var n int
	f.st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'to' = 'dee@example.org'`).Scan(&n)
	if n != accounts.MaxResetPerEmail {
		t.Errorf("%d reset emails queued, want %d", n, accounts.MaxResetPerEmail)
	}
	// One client asking for many addresses is limited too.
	for i := 0; i < accounts.MaxResetPerClient; i++ {
		f.svc.RequestReset(ctx, fmt.Sprintf("nobody%d@example.org", i), "203.0.113.5")
	}
	if err := f.svc.RequestReset(ctx, "dee@example.org", "203.0.113.5"); !errors.As(err, &te) {
		t.Errorf("a client past its limit: %v", err)
	}
	// Sign-ups per client.
	for i := 0; i < accounts.MaxSignupsPerIP; i++ {
		if _, err := f.svc.Signup(ctx, accounts.SignupInput{Email: fmt.Sprintf("s%d@example.org", i), Name: "S", Password: "correct horse", ClientIP: "192.0.2.9"}); err != nil {
			t.Fatalf("sign-up %d: %v", i+1, err)
		}
	}
	if _, err := f.svc.Signup(ctx, accounts.SignupInput{Email: "one.more@example.org", Name: "S", Password: "correct horse", ClientIP: "192.0.2.9"}); !errors.As(err, &te) {
		t.Errorf("a sign-up past the client's limit: %v", err)
	}
}
