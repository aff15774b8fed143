package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/queue"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// lockedBuffer collects log lines from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCrawlRejectsNonText walks every route the server registers (gin's
// Routes, so a route added later is crawled too) as a signed-in
// superuser with a valid CSRF token, over real HTTP against a real
// PostgreSQL, and sends each a NUL byte or invalid UTF-8: in each path
// parameter, in the query string, in an urlencoded and a multipart form,
// and (for the API) in a JSON body. No answer may be a 5xx, nothing may
// be logged at ERROR, and the pages, the API and the email-link pages
// must refuse the input with 400 or 422.
func TestCrawlRejectsNonText(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	var rootID, threadID int64
	err := st.Pool().QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email, name, email_verified_at, terms_accepted_at, is_superuser)
		           VALUES ('root@example.org', 'Root', now(), now(), true) RETURNING id),
		     g AS (INSERT INTO groups (slug, name, listed) VALUES ('crawl', 'Crawl', true) RETURNING id),
		     m AS (INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM g, u),
		     t AS (INSERT INTO threads (group_id, subject, message_count) SELECT id, 'Hello', 1 FROM g RETURNING id, group_id),
		     msg AS (INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, approved_at)
		             SELECT t.id, t.group_id, u.id, 'crawl-1@lists.test', 'Hello', 'Hi', 'web', 'approved', now() FROM t, u)
		SELECT u.id, t.id FROM u, t`).Scan(&rootID, &threadID)
	if err != nil {
		t.Fatal(err)
	}

	q, err := queue.New(st.Pool(), queue.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := url.Parse("http://lists.test")
	keys := sign.Keys{Current: "crawl-email-key-0123456789abcdef"}
	const secret = "crawl-secret-key-0123456789abcdef"
	h, err := New(Deps{
		Store: st, Posting: posting.New(st, "lists.test", log), Metrics: metrics.New(), Log: log,
		SecretKey: secret, MailDomain: "lists.test", Keys: keys, Origin: origin,
		BrandTitle: "Parley", Mailer: q, SessionIdle: time.Hour, SessionMax: time.Hour, OutboxDir: t.TempDir(),
		Accounts: &accounts.Service{Store: st, Mailer: q, Keys: keys, Origin: origin, Brand: "Parley", Log: log},
		Blobs:    blobs, BlobTmpDir: t.TempDir(), ResourceMaxBytes: 1 << 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	engine := h.(*gin.Engine)
	srv := httptest.NewServer(h)
	defer srv.Close()

	const sid = "crawl-session-id-0123456789012345678901234"
	sum := sha256.Sum256([]byte(sid))
	if err := st.CreateSession(ctx, store.Session{IDHash: sum[:], UserID: rootID,
		IdleExpiresAt: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const apiToken = "crawl-api-token-0123456789"
	if err := st.CreateToken(ctx, rootID, "crawl", sign.TokenHash(secret, apiToken)); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cookies := []*http.Cookie{{Name: "parley_session", Value: sid}}

	// The CSRF token of the session, as a page's form carries it (its
	// cookie, if the page sets one, goes with every request).
	req, _ := http.NewRequest("GET", srv.URL+"/account", nil)
	req.AddCookie(cookies[0])
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(page)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /account as the superuser: %d, no CSRF token", res.StatusCode)
	}
	csrf := string(m[1])
	cookies = append(cookies, res.Cookies()...)

	// Path parameters get values that exist, so that handlers past the
	// guards would find something; then, one at a time, a bad one.
	good := func(route, param string) string {
		switch param {
		case "slug":
			return "crawl"
		case "email":
			return "root@example.org"
		case "filepath":
			return "/app.css"
		case "token", "name":
			return "x"
		}
		if strings.Contains(route, "/t/") || strings.Contains(route, "/threads/") {
			return fmt.Sprint(threadID)
		}
		return fmt.Sprint(rootID)
	}
	paramRE := regexp.MustCompile(`[:*][A-Za-z_]+`)
	fill := func(route, bad string) string {
		return paramRE.ReplaceAllStringFunc(route, func(p string) string {
			if p[1:] == bad {
				return "x%00y%FF"
			}
			v := good(route, p[1:])
			if p[0] == '*' {
				return strings.TrimPrefix(v, "/")
			}
			return url.PathEscape(v)
		})
	}

	type attempt struct {
		what, method, path, ctype string
		body                      []byte
		strict                    bool // must be 400 or 422, not merely below 500
	}
	var tries []attempt
	for _, r := range engine.Routes() {
		api := strings.HasPrefix(r.Path, "/api/")
		// healthz, metrics and static files read no input a database sees.
		strict := r.Path != "/healthz" && r.Path != "/metrics" && !strings.HasPrefix(r.Path, "/static/")
		base := fill(r.Path, "")
		for _, p := range paramRE.FindAllString(r.Path, -1) {
			tries = append(tries, attempt{what: "path parameter " + p, method: r.Method, path: fill(r.Path, p[1:]), strict: strict})
		}
		tries = append(tries,
			attempt{what: "query NUL", method: r.Method, path: base + "?q=a%00b&page=1", strict: strict},
			attempt{what: "query bad UTF-8", method: r.Method, path: base + "?q=%FF%FE&next=%2F", strict: strict})
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		if api {
			// Whether a route reads a body at all is its own business:
			// these need only not fail.
			tries = append(tries,
				attempt{what: "JSON \\u0000", method: r.Method, path: base, ctype: "application/json",
					body: []byte(`{"name":"a\u0000b","email":"x\u0000@example.org","subject":"s\u0000","body":"b\u0000"}`)},
				attempt{what: "JSON bad UTF-8", method: r.Method, path: base, ctype: "application/json",
					body: []byte("{\"name\":\"a\xffb\",\"body\":\"\xc3\"}")})
			continue
		}
		form := url.Values{"body": {"text\x00more"}, "subject": {"\xff\xfe"}, "name": {"a\x00"}, "email": {"x\x00@example.org"},
			"q": {"\x00"}, "reason": {"\xff"}, "addresses": {"a\x00@example.org"}, "group": {"crawl"}}
		tries = append(tries, attempt{what: "urlencoded form", method: r.Method, path: base,
			ctype: "application/x-www-form-urlencoded", body: []byte(form.Encode()), strict: strict})
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		for _, f := range []string{"name", "tags", "body", "subject"} {
			_ = mw.WriteField(f, "a\x00b")
		}
		_ = mw.WriteField("group", "crawl")
		fw, _ := mw.CreateFormFile("file", "a\x00b\xff.txt")
		_, _ = fw.Write([]byte("file contents may hold \x00 and \xff"))
		_ = mw.Close()
		tries = append(tries, attempt{what: "multipart form", method: r.Method, path: base, ctype: mw.FormDataContentType(),
			body: mp.Bytes(), strict: strict})
	}

	// API requests that change things with a valid body (a DELETE reads
	// none) go last, so they cannot hide a route from the others.
	var first, last []attempt
	for _, a := range tries {
		if a.body != nil && strings.HasPrefix(a.path, "/api/") {
			last = append(last, a)
		} else {
			first = append(first, a)
		}
	}
	for _, a := range append(first, last...) {
		u := srv.URL + a.path
		req, err := http.NewRequest(a.method, u, bytes.NewReader(a.body))
		if err != nil {
			t.Errorf("%s %s: %v", a.method, a.path, err)
			continue
		}
		if a.ctype != "" {
			req.Header.Set("Content-Type", a.ctype)
		}
		req.Header.Set("X-CSRF-Token", csrf)
		if strings.HasPrefix(a.path, "/api/") {
			req.Header.Set("Authorization", "Bearer "+apiToken)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s (%s): %v", a.method, a.path, a.what, err)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode >= 500:
			t.Errorf("%s %s (%s): %d\n%.300s", a.method, a.path, a.what, res.StatusCode, b)
		case a.strict && res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnprocessableEntity:
			t.Errorf("%s %s (%s): %d, want 400 or 422", a.method, a.path, a.what, res.StatusCode)
		}
	}
	t.Logf("%d routes, %d requests", len(engine.Routes()), len(tries))
	if l := logs.String(); strings.Contains(l, "level=ERROR") {
		t.Errorf("the crawl logged errors:\n%s", l)
	}
}
