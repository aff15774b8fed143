package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/webhooks"
)

// testSite is the whole web server (pages, API, email links) on a real
// listener over a real PostgreSQL, with a superuser who owns a group
// "crawl" holding one thread.
type testSite struct {
	t        *testing.T
	st       *store.Store
	srv      *httptest.Server
	engine   *gin.Engine
	keys     sign.Keys
	secret   string
	logs     *mailtest.Buffer
	rootID   int64
	groupID  int64
	threadID int64
	blobDir  string // the blob store's directory
}

func newTestSite(t *testing.T) *testSite {
	t.Helper()
	st := storetest.New(t)
	ctx := context.Background()
	s := &testSite{t: t, st: st, logs: &mailtest.Buffer{}, keys: sign.Keys{Current: "test-email-key-0123456789abcdef"},
		secret: "test-secret-key-0123456789abcdef"}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := st.Pool().QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email, name, email_verified_at, terms_accepted_at, is_superuser)
		           VALUES ('root@example.org', 'Root', now(), now(), true) RETURNING id),
		     g AS (INSERT INTO groups (slug, name, listed) VALUES ('crawl', 'Crawl', true) RETURNING id),
		     m AS (INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM g, u),
		     t AS (INSERT INTO threads (group_id, subject, message_count) SELECT id, 'Hello', 1 FROM g RETURNING id, group_id),
		     msg AS (INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, approved_at)
		             SELECT t.id, t.group_id, u.id, 'crawl-1@lists.test', 'Hello', 'Hi', 'web', 'approved', now() FROM t, u)
		SELECT u.id, g.id, t.id FROM u, g, t`).Scan(&s.rootID, &s.groupID, &s.threadID)
	if err != nil {
		t.Fatal(err)
	}
	s.blobDir = t.TempDir()
	blobs, err := blobstore.NewLocal(s.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := url.Parse("http://lists.test")
	links, err := urls.New(origin, s.keys)
	if err != nil {
		t.Fatal(err)
	}
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{
		Store: st, Posting: posting.New(st, "lists.test", log, posting.Hooks{}), Metrics: metrics.New(), Log: log,
		Site:     Site{MailDomain: "lists.test", Origin: origin, BrandTitle: "Parley", OutboxDir: t.TempDir()},
		Guard:    Guard{SecretKey: s.secret, Keys: s.keys, SessionIdle: time.Hour, SessionMax: time.Hour},
		Accounts: &accounts.Service{Store: st, Keys: s.keys, URLs: links, Notices: notices, Log: log}, Notices: notices,
		Files: &library.Library{Store: st, Blobs: blobs, TmpDir: t.TempDir(), MaxBytes: 1 << 20, Thumb: picture.Normalize, Log: log},
		// The providers' webhooks are mounted (so that a crawl of the
		// routes reaches them); no request here carries valid credentials.
		Webhooks: &webhooks.Deps{Settings: map[string]string{"POSTMARK_WEBHOOK_USER": "postmark", "POSTMARK_WEBHOOK_PASSWORD": "test-password", "MAILGUN_SIGNING_KEY": "test-mailgun-key"},
			Bounces: &bounce.Service{Store: st, Keys: s.keys, URLs: links, Notices: notices, Log: log}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.engine = h.(*gin.Engine)
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// exec runs SQL that sets up a test's data.
func (s *testSite) exec(q string, args ...any) {
	s.t.Helper()
	if _, err := s.st.Pool().Exec(context.Background(), q, args...); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
}

// count reads one number.
func (s *testSite) count(q string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// user makes a verified member who accepted the terms.
func (s *testSite) user(email, name string) int64 {
	s.t.Helper()
	var id int64
	if err := s.st.Pool().QueryRow(context.Background(), `INSERT INTO users (email, name, email_verified_at, terms_accepted_at)
		VALUES ($1, $2, now(), now()) RETURNING id`, email, name).Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	return id
}

// testClient is a browser signed in as one user: its session cookie and
// the CSRF token its pages carry. It does not follow redirects.
type testClient struct {
	s       *testSite
	c       *http.Client
	cookies []*http.Cookie
	csrf    string
	last    *http.Response
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn starts a session for userID (0: signed out).
func (s *testSite) signIn(userID int64) *testClient {
	s.t.Helper()
	c := &testClient{s: s, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if userID != 0 {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		sid := hex.EncodeToString(b)
		sum := sha256.Sum256([]byte(sid))
		if err := s.st.CreateSession(context.Background(), store.Session{IDHash: sum[:], UserID: userID,
			IdleExpiresAt: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			s.t.Fatal(err)
		}
		c.cookies = append(c.cookies, &http.Cookie{Name: "parley_session", Value: sid})
	}
	c.get("/login")
	if c.csrf == "" {
		c.get("/account")
	}
	return c
}

func (c *testClient) do(method, path, ctype string, body []byte, header ...string) (int, string) {
	c.s.t.Helper()
	req, err := http.NewRequest(method, c.s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		c.s.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.s.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	c.last = res
	for _, nc := range res.Cookies() {
		kept := c.cookies[:0]
		for _, old := range c.cookies {
			if old.Name != nc.Name {
				kept = append(kept, old)
			}
		}
		c.cookies = kept
		if nc.MaxAge >= 0 && nc.Value != "" {
			c.cookies = append(kept, &http.Cookie{Name: nc.Name, Value: nc.Value})
		}
	}
	if m := csrfRE.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

func (c *testClient) get(path string) (int, string) {
	c.s.t.Helper()
	return c.do("GET", path, "", nil)
}

// post sends a form with the CSRF token of the pages read.
func (c *testClient) post(path string, form url.Values) (int, string) {
	c.s.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.csrf)
	}
	return c.do("POST", path, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// noErrors fails the test if the server logged at ERROR.
func (s *testSite) noErrors() {
	s.t.Helper()
	if l := s.logs.String(); strings.Contains(l, "level=ERROR") {
		s.t.Errorf("the server logged errors:\n%s", l)
	}
}
