package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow/inbound/senderauth/dnstest"
	"github.com/parleymail/parley/web/sso/oidctest"
)

// These tests drive the web UI of a real parleyd over HTTP, as a browser
// without JavaScript would: forms, cookies, redirects.

type webSite struct {
	url  string // ORIGIN, with its path prefix
	dir  string // DATA_DIR
	conn string // the embedded database
	env  []string
	srv  *server // the running parleyd serve (restarted by TestPauseMail)
}

// startWeb starts parleyd with mail written to DATA_DIR/outbox. prefix is
// ORIGIN's path ("" or "/lists"); extra adds settings.
// testZone is the DNS a daemon under test checks senders against: mail
// from example.org is authenticated by SPF when it comes from loopback,
// as the tests send it; forged.example authorises no such client, so its
// mail from loopback is a forged From.
var testZone = map[string][]string{
	"example.org":           {"v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"},
	"forged.example":        {"v=spf1 ip4:192.0.2.1 -all"},
	"_dmarc.forged.example": {"v=DMARC1; p=none"},
}

func startWeb(t *testing.T, prefix string, extra ...string) *webSite {
	t.Helper()
	dir := dataDir(t)
	addr := freeAddr(t)
	origin := "http://" + addr + prefix
	env := append([]string{"DATA_DIR=" + dir, "HTTP_ADDR=" + addr, "SMTP_ADDR=" + freeAddr(t), "ORIGIN=" + origin,
		"EMAIL_BACKEND=file", "MAIL_DOMAIN=lists.test", "MAIL_AUTH_DNS_SERVER=" + dnstest.Serve(t, testZone)}, extra...)
	s := startServe(t, env)
	waitHealthy(t, origin, 60*time.Second, s.exited)
	return &webSite{url: origin, dir: dir, conn: "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable", env: env, srv: s}
}

// createUser makes a verified member with a password who has accepted
// the terms (superuser when asked).
func (w *webSite) createUser(t *testing.T, email, name, password string, superuser bool) {
	t.Helper()
	args := []string{"create-user", "--email", email, "--name", name, "--password-stdin"}
	if superuser {
		args = append(args, "--superuser")
	}
	if _, stderr, code := runCmd(t, w.env, password+"\n", args...); code != 0 {
		t.Fatalf("create-user: %s", stderr)
	}
	w.sql(t, `UPDATE users SET terms_accepted_at = now() WHERE email = $1`, email)
}

// apiToken makes an API token for email with the CLI, as an operator
// would, and returns it.
func (w *webSite) apiToken(t *testing.T, email string) string {
	t.Helper()
	out, stderr, code := runCmd(t, w.env, "", "create-token", email, "--name", "t")
	if code != 0 {
		t.Fatalf("create-token %s: %s", email, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// api calls the JSON API with token and body (JSON-encoded) and fails
// the test on anything but a 2xx; it returns the answer's body.
func (w *webSite) api(t *testing.T, token, method, path string, body any) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, w.url+"/api/v1"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, rb)
	}
	return rb
}

func (w *webSite) sql(t *testing.T, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.conn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (w *webSite) queryInt(t *testing.T, q string, args ...any) int {
	t.Helper()
	return queryOne[int](t, w, q, args...)
}

// setCookie returns the Set-Cookie header a response gives for name.
func setCookie(res *http.Response, name string) string {
	var sc string
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, name+"=") {
			sc = h
		}
	}
	return sc
}

// waitInt polls a counting query until ok accepts its value, for 30 s at
// most, and returns the last value (the caller asserts on it).
func (w *webSite) waitInt(t *testing.T, ok func(int) bool, q string, args ...any) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := w.queryInt(t, q, args...)
		if ok(n) || time.Now().After(deadline) {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// queryOne reads the single value a query returns.
func queryOne[T any](t *testing.T, w *webSite, q string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.conn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// mailLink waits for an email to `to` whose text has a link to path, and
// returns the link.
func (w *webSite) mailLink(t *testing.T, to, path string) string {
	t.Helper()
	re := regexp.MustCompile(`https?://\S*` + regexp.QuoteMeta(path) + `\?token=[A-Za-z0-9_.\-%=]+`)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		texts := outboxTexts(t, w, to)
		for i := len(texts) - 1; i >= 0; i-- {
			if m := re.FindString(texts[i]); m != "" {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no email to %s with a %s link", to, path)
	return ""
}

// outboxTexts returns the decoded text (not the HTML) of every email to `to` in the
// development outbox, oldest first.
func outboxTexts(t *testing.T, w *webSite, to string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(w.dir, "outbox", "*.eml"))
	var out []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		mr, err := mail.CreateReader(f)
		if err != nil {
			f.Close()
			continue
		}
		rcpt, _ := mr.Header.AddressList("To")
		var text []byte
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if h, ok := p.Header.(*mail.InlineHeader); ok && !isHTML(h) {
				b, _ := io.ReadAll(p.Body)
				text = append(text, b...)
			}
		}
		f.Close()
		if len(rcpt) == 1 && strings.EqualFold(rcpt[0].Address, to) {
			out = append(out, string(text))
		}
	}
	return out
}

// isHTML tells the HTML part of an email, whose text is already in its
// text part.
func isHTML(h *mail.InlineHeader) bool {
	ct, _, _ := h.ContentType()
	return ct == "text/html"
}

// webClient is a cookie-keeping client that remembers the CSRF token of
// the last page it read, as a browser's form would.
type webClient struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
	last *http.Response
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (w *webSite) client(t *testing.T) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: w.url, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (c *webClient) do(req *http.Request) (int, string) {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	c.last = res
	if m := csrfRe.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

func (c *webClient) get(path string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form with the CSRF token of the last page read.
func (c *webClient) post(path string, form url.Values) (int, string) {
	c.t.Helper()
	if form.Get("csrf_token") == "" && c.csrf != "" {
		form.Set("csrf_token", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *webClient) login(email, password string) {
	c.t.Helper()
	c.get("/login")
	code, body := c.post("/login", url.Values{"email": {email}, "password": {password}})
	if code != 200 || strings.Contains(body, `id="password-error"`) {
		c.t.Fatalf("login as %s: %d\n%s", email, code, body)
	}
}

func TestCSRFIsRequired(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)

	c := w.client(t)
	c.get("/login")
	code, body := c.post("/login", url.Values{"email": {"ann@example.org"}, "password": {"correct horse battery"}, "csrf_token": {"forged"}})
	if code != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
		t.Fatalf("login with a forged token: %d, want 403 with an explanation", code)
	}
	req, _ := http.NewRequest("POST", w.url+"/login", strings.NewReader("email=ann%40example.org&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _ := c.do(req); code != http.StatusForbidden {
		t.Fatalf("login without a token: %d, want 403", code)
	}

	// A token from one browser is no good in another.
	other := w.client(t)
	other.get("/login")
	stolen := other.csrf
	c.get("/login")
	if code, _ := c.post("/login", url.Values{"email": {"ann@example.org"}, "password": {"correct horse battery"}, "csrf_token": {stolen}}); code != http.StatusForbidden {
		t.Fatalf("login with another browser's token: %d, want 403", code)
	}

	// With the page's own token it works; then state-changing forms of
	// the signed-in member need the new session's token.
	c.login("ann@example.org", "correct horse battery")
	oldToken := stolen
	if code, _ := c.post("/account/tokens", url.Values{"token_name": {"x"}, "csrf_token": {oldToken}}); code != http.StatusForbidden {
		t.Fatalf("creating a token with a stale CSRF token: %d, want 403", code)
	}
	c.get("/account")
	if code, body := c.post("/account/tokens", url.Values{"token_name": {"script"}}); code != http.StatusCreated || !strings.Contains(body, "copy it now") {
		t.Fatalf("creating a token: %d", code)
	}

	// A form posted from another site is refused even with a token.
	c.get("/account")
	req, _ = http.NewRequest("POST", w.url+"/account/tokens", strings.NewReader(url.Values{"token_name": {"y"}, "csrf_token": {c.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if code, _ := c.do(req); code != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d, want 403", code)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	c := w.client(t)
	c.get("/login")
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, _ := c.post("/login", url.Values{"email": {"ann@example.org"}, "password": {"correct horse battery"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", code)
	}
	sc := setCookie(c.last, "parley_session")
	if sc == "" {
		t.Fatal("no session cookie set at login")
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("session cookie %q is Secure on an http ORIGIN (browsers would drop it)", sc)
	}
	// Security headers on every page.
	c.c.CheckRedirect = nil
	c.get("/login")
	h := c.last.Header
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
		t.Errorf("X-Frame-Options %q, Referrer-Policy %q", h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
	}
}

func TestSecureCookieOnHTTPSOrigin(t *testing.T) {
	t.Parallel()
	dir := dataDir(t)
	addr := freeAddr(t)
	env := []string{"DATA_DIR=" + dir, "HTTP_ADDR=" + addr, "SMTP_ADDR=" + freeAddr(t), "ORIGIN=https://lists.example.org",
		"ALLOWED_HOSTS=lists.example.org,127.0.0.1", "EMAIL_BACKEND=file"}
	s := startServe(t, env)
	waitHealthy(t, "http://"+addr, 60*time.Second, s.exited)
	w := &webSite{url: "http://" + addr, dir: dir, conn: "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable", env: env}
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)

	// The Origin header a browser would send for https://lists.example.org.
	c := w.client(t)
	c.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.get("/login")
	csrfCookie := setCookie(c.last, "parley_csrf")
	if !strings.Contains(csrfCookie, "Secure") {
		t.Fatalf("CSRF cookie %q lacks Secure on an https ORIGIN", csrfCookie)
	}
	// The cookie jar will not send Secure cookies over http, so send them by hand.
	val := strings.TrimPrefix(strings.SplitN(csrfCookie, ";", 2)[0], "parley_csrf=")
	form := url.Values{"email": {"ann@example.org"}, "password": {"correct horse battery"}, "csrf_token": {c.csrf}}
	req, _ := http.NewRequest("POST", w.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://lists.example.org")
	req.AddCookie(&http.Cookie{Name: "parley_csrf", Value: val})
	res, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", res.StatusCode)
	}
	sc := setCookie(res, "parley_session")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Secure"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	// The site answers only for its own host.
	req, _ = http.NewRequest("GET", w.url+"/login", nil)
	req.Host = "evil.example"
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a foreign Host header: %v %v, want 400", res.StatusCode, err)
	}
	req.URL.Path = "/healthz"
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health check with a foreign Host header: %v %v, want 200", res.StatusCode, err)
	}
}

func TestAdminPagesNeedPermission(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)

	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	for _, p := range []string{"/admin/users", "/admin/users/1"} {
		if code, body := ann.get(p); code != http.StatusForbidden || !strings.Contains(body, "You cannot do that") {
			t.Errorf("GET %s as a member: %d, want the 403 page", p, code)
		}
	}
	if code, _ := ann.post("/admin/users/2/roles", url.Values{"superuser": {"1"}}); code != http.StatusForbidden {
		t.Errorf("a member granting herself superuser: %d, want 403", code)
	}
	// The API's admin endpoints, with Ann's own token.
	_, body := ann.get("/account")
	_ = body
	_, body = ann.post("/account/tokens", url.Values{"token_name": {"mine"}})
	m := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token shown after creating one")
	}
	for _, ep := range []struct{ method, path, body string }{
		{"POST", "/api/v1/users", `{"email":"x@example.org","name":"X"}`},
		{"GET", "/api/v1/suppressions", ""},
	} {
		req, _ := http.NewRequest(ep.method, w.url+ep.path, strings.NewReader(ep.body))
		req.Header.Set("Authorization", "Bearer "+m[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a member's token: %d, want 403", ep.method, ep.path, res.StatusCode)
		}
	}

	// The superuser grants Ann "manage users"; her next request moves her
	// session to a new id, and the user pages open for her.
	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	if code, body := root.get("/admin/users?q=ann"); code != 200 || !strings.Contains(body, "ann@example.org") {
		t.Fatalf("user search as superuser: %d", code)
	}
	root.get("/admin/users/2")
	if code, _ := root.post("/admin/users/2/roles", url.Values{"perm": {"manage_users"}, "staff": {"1"}}); code != 200 {
		t.Fatalf("granting manage_users: %d", code)
	}
	before := sessionCookie(ann)
	if code, _ := ann.get("/admin/users"); code != 200 {
		t.Fatalf("user list after the grant: %d, want 200", code)
	}
	if after := sessionCookie(ann); after == before || after == "" {
		t.Error("the session id did not change after a privilege change")
	}
	// She still cannot grant permissions: that is for superusers.
	ann.get("/admin/users/2")
	if code, _ := ann.post("/admin/users/2/roles", url.Values{"superuser": {"1"}}); code != http.StatusForbidden {
		t.Errorf("a user manager granting superuser: %d, want 403", code)
	}
	// And her profile shows the staff badge.
	if _, body := root.get("/people/2"); !strings.Contains(body, "Staff member") {
		t.Error("no Staff member badge on a staff member's profile")
	}
}

func sessionCookie(c *webClient) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == "parley_session" {
			return ck.Value
		}
	}
	return ""
}

func TestGDPRExportAndDelete(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "zed.quux@example.org", "Zed Quux", "correct horse battery", false)
	api := func(method, path, tok, body string) (int, string) {
		req, _ := http.NewRequest(method, w.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	out, stderr, code := runCmd(t, w.env, "", "create-token", "root@example.org")
	if code != 0 {
		t.Fatal(stderr)
	}
	tok := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if c, b := api("POST", "/api/v1/groups", tok, `{"slug":"birds","name":"Birds","listed":false}`); c != 201 {
		t.Fatalf("create group: %d %s", c, b)
	}
	if c, b := api("PUT", "/api/v1/groups/birds/members/zed.quux@example.org", tok, `{"delivery":"digest"}`); c/100 != 2 {
		t.Fatalf("add member: %d %s", c, b)
	}

	zed := w.client(t)
	zed.login("zed.quux@example.org", "correct horse battery")
	zed.get("/account")
	_, body := zed.post("/account/tokens", url.Values{"token_name": {"poster"}})
	m := regexp.MustCompile(`id="new-token">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no token shown")
	}
	if c, b := api("POST", "/api/v1/groups/birds/threads", m[1], `{"subject":"Owls at dusk","body":"Zed saw three owls."}`); c != 201 {
		t.Fatalf("post: %d %s", c, b)
	}
	zed.get("/account")
	zed.post("/account/profile", url.Values{"name": {"Zed Quux"}, "bio": {"Birder from Quuxville"}, "timezone": {"Europe/Oslo"},
		"default_delivery": {"digest"}, "website": {"https://zed.example.org"}})

	// Export.
	code, body = zed.get("/account/export")
	if code != 200 || !strings.Contains(zed.last.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %q", code, zed.last.Header.Get("Content-Disposition"))
	}
	var x struct {
		Profile struct {
			Email, Name, Bio, Timezone, Website string
		}
		EmailSettings struct {
			DefaultDelivery string            `json:"default_delivery"`
			Groups          map[string]string `json:"groups"`
		} `json:"email_settings"`
		Memberships []struct{ Group, Delivery string }
		Messages    []struct{ Subject, Body, Group string }
		APITokens   []struct{ Name string } `json:"api_tokens"`
	}
	if err := json.Unmarshal([]byte(body), &x); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, body)
	}
	if x.Profile.Email != "zed.quux@example.org" || x.Profile.Bio != "Birder from Quuxville" || x.Profile.Timezone != "Europe/Oslo" ||
		x.Profile.Website != "https://zed.example.org" {
		t.Errorf("export profile: %+v", x.Profile)
	}
	if x.EmailSettings.DefaultDelivery != "digest" || x.EmailSettings.Groups["birds"] != "digest" {
		t.Errorf("export email settings: %+v", x.EmailSettings)
	}
	if len(x.Memberships) != 1 || x.Memberships[0].Group != "birds" {
		t.Errorf("export memberships: %+v", x.Memberships)
	}
	if len(x.Messages) != 1 || x.Messages[0].Subject != "Owls at dusk" || x.Messages[0].Body != "Zed saw three owls." {
		t.Errorf("export messages: %+v", x.Messages)
	}
	if len(x.APITokens) != 1 || x.APITokens[0].Name != "poster" {
		t.Errorf("export tokens: %+v", x.APITokens)
	}
	if strings.Contains(body, "argon2") || strings.Contains(body, m[1]) {
		t.Error("the export contains a password hash or a token secret")
	}

	// Delete: a wrong password is refused and nothing changes.
	zed.get("/account/delete")
	if code, body := zed.post("/account/delete", url.Values{"password": {"wrong password"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, "not your password") {
		t.Fatalf("delete with a wrong password: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users WHERE email = 'zed.quux@example.org'`); n != 1 {
		t.Fatal("the account went with a wrong password")
	}
	if code, body := zed.post("/account/delete", url.Values{"password": {"correct horse battery"}}); code != 200 || !strings.Contains(body, "Your account is deleted") {
		t.Fatalf("delete: %d\n%s", code, body)
	}
	// No personal data left: search every text, jsonb and bytea column of
	// every table for the address, its parts, the name and the bio.
	for _, needle := range []string{"zed.quux@example.org", "zed.quux", "Zed Quux", "Quuxville", "zed.example.org"} {
		if where := findAnywhere(t, w.conn, needle); where != "" {
			t.Errorf("%q is still in the database: %s", needle, where)
		}
	}
	// The archive keeps the message, with no author.
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE subject = 'Owls at dusk' AND author_id IS NULL AND from_email = ''`); n != 1 {
		t.Error("the deleted member's message is not in the archive without an author")
	}
	// The old session is gone, and the account cannot sign in.
	if code, _ := zed.get("/account"); code != 200 || !strings.Contains(zed.last.Request.URL.Path, "/login") {
		t.Errorf("after deletion /account: %d at %s, want the login page", code, zed.last.Request.URL.Path)
	}
	code, body = zed.post("/login", url.Values{"email": {"zed.quux@example.org"}, "password": {"correct horse battery"}})
	if code != http.StatusUnauthorized || !strings.Contains(body, "No account uses this address") {
		t.Errorf("login after deletion: %d", code)
	}
}

// findAnywhere searches every text-like column of every table in the
// public schema for needle (case-insensitively) and names where it is.
func findAnywhere(t *testing.T, connString, needle string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
		  AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column, typ string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	for _, c := range cols {
		expr := fmt.Sprintf("%q::text", c.column)
		if c.typ == "bytea" {
			expr = fmt.Sprintf("convert_from(%q, 'UTF8')", c.column)
		}
		var n int
		err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q WHERE strpos(lower(%s), lower($1)) > 0`, c.table, expr), needle).Scan(&n)
		if err != nil && c.typ == "bytea" {
			// Not valid UTF-8: search the raw bytes instead.
			err = conn.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q WHERE position(convert_to($1, 'UTF8') IN %q) > 0`, c.table, c.column), needle).Scan(&n)
		}
		if err != nil {
			t.Fatalf("searching %s.%s: %v", c.table, c.column, err)
		}
		if n > 0 {
			return fmt.Sprintf("%s.%s (%d rows)", c.table, c.column, n)
		}
	}
	return ""
}

// TestPathPrefix runs Parley under /lists and walks its pages, signed out
// and signed in: no link, form, asset or redirect leaves the prefix, and
// the links in email live under it too.
func TestPathPrefix(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "/lists")
	c := w.client(t)
	// Sign up through the pages, which also sends the verification mail.
	c.get("/signup")
	code, _ := c.post("/signup", url.Values{"name": {"Pia"}, "email": {"pia@example.org"}, "password": {"correct horse battery"}, "timezone": {"UTC"}})
	if code != 200 || c.last.Request.URL.Path != "/lists/terms" {
		t.Fatalf("sign-up: %d at %s, want the terms under /lists", code, c.last.Request.URL.Path)
	}
	c.post("/terms", url.Values{})
	link := w.mailLink(t, "pia@example.org", "/verify-email")
	if !strings.HasPrefix(link, w.url+"/verify-email?") {
		t.Errorf("verification link %s is not under %s", link, w.url)
	}
	u, _ := url.Parse(w.url)
	attr := regexp.MustCompile(`(?:href|src|action)="([^"]*)"`)
	seen := map[string]bool{}
	queue := []string{"/lists/", "/lists/login", "/lists/signup", "/lists/terms", "/lists/account", "/lists/forgot-password", "/lists/account/delete"}
	anon := w.client(t)
	for _, who := range []*webClient{c, anon} {
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if seen[p] || len(seen) > 60 {
				continue
			}
			seen[p] = true
			req, _ := http.NewRequest("GET", u.Scheme+"://"+u.Host+p, nil)
			code, body := who.do(req)
			if final := who.last.Request.URL.Path; !strings.HasPrefix(final, "/lists/") {
				t.Errorf("GET %s ended at %s, outside /lists", p, final)
			}
			if code >= 500 {
				t.Errorf("GET %s: %d", p, code)
			}
			for _, m := range attr.FindAllStringSubmatch(body, -1) {
				ref := strings.ReplaceAll(m[1], "&amp;", "&")
				switch {
				case ref == "" || strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "mailto:"):
					continue
				case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
					if !strings.HasPrefix(ref, w.url+"/") {
						// Links members typed into their profiles may go anywhere;
						// Parley's own may not.
						t.Errorf("%s links outside the site: %s", p, ref)
					}
					continue
				case !strings.HasPrefix(ref, "/lists/"):
					t.Errorf("%s has a link outside /lists: %q", p, ref)
					continue
				}
				path, _, _ := strings.Cut(ref, "?")
				if !strings.Contains(path, "/static/") && !strings.Contains(path, "/login/oidc") {
					queue = append(queue, path)
				}
			}
		}
		queue = []string{"/lists/", "/lists/login", "/lists/signup", "/lists/terms", "/lists/forgot-password"}
		seen = map[string]bool{}
	}
	// Assets are served under the prefix.
	if code, _ := anon.get("/static/app.css"); code != 200 {
		t.Errorf("stylesheet under the prefix: %d", code)
	}
	// Nothing is served outside it.
	res, err := http.Get(u.Scheme + "://" + u.Host + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/login outside the prefix: %d, want 404", res.StatusCode)
	}
}

// TestSingleSignOn signs in through a real OpenID Connect provider started
// by the test: a new member is created by verified address, a second
// sign-in finds the same account, and an unverified address is refused.
func TestSingleSignOn(t *testing.T) {
	t.Parallel()
	idp := oidctest.New(t)
	w := startWeb(t, "", "OIDC_ISSUER="+idp.URL, "OIDC_CLIENT_ID="+idp.ClientID, "OIDC_CLIENT_SECRET="+idp.ClientSecret, "OIDC_NAME=Example ID")
	w.createUser(t, "old@example.org", "Old Timer", "correct horse battery", false)

	c := w.client(t)
	if _, body := c.get("/login"); !strings.Contains(body, "Sign in with Example ID") {
		t.Fatal("the login page has no single sign-on button")
	}
	idp.SetUser(oidctest.User{Subject: "s-1", Email: "new@example.org", Name: "New Comer", EmailVerified: true})
	code, body := c.get("/login/oidc")
	if code != 200 || c.last.Request.URL.Path != "/terms" || !strings.Contains(body, "I accept the terms") {
		t.Fatalf("first sign-in: %d at %s, want the terms page", code, c.last.Request.URL.Path)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users u JOIN user_identities i ON i.user_id = u.id
		WHERE u.email = 'new@example.org' AND u.name = 'New Comer' AND u.email_verified_at IS NOT NULL`); n != 1 {
		t.Fatal("no verified account linked to the identity")
	}

	// An existing account is found by its verified address and linked.
	c2 := w.client(t)
	idp.SetUser(oidctest.User{Subject: "s-2", Email: "OLD@example.org", Name: "Whatever", EmailVerified: true})
	if code, body := c2.get("/login/oidc"); code != 200 || !strings.Contains(body, "Welcome, Old Timer") {
		t.Fatalf("sign-in to an existing account: %d at %s", code, c2.last.Request.URL.Path)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users`); n != 2 {
		t.Errorf("%d accounts, want 2 (no duplicate for a known address)", n)
	}

	// An address the provider has not verified cannot sign in.
	c3 := w.client(t)
	idp.SetUser(oidctest.User{Subject: "s-3", Email: "sneaky@example.org", Name: "Sneaky", EmailVerified: false})
	if code, body := c3.get("/login/oidc"); code != http.StatusForbidden || !strings.Contains(body, "has not verified your email") {
		t.Errorf("unverified address: %d", code)
	}
	// A callback without the sign-in's state cookie is refused.
	res, err := http.Get(w.url + "/login/oidc/callback?code=x&state=y")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("forged callback: %d, want 400", res.StatusCode)
	}
}

// TestProfilePrivacy: a member's profile lists their groups only when
// they allow it, and a group that is not listed only to its members.
func TestProfilePrivacy(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	w.createUser(t, "bob@example.org", "Bob", "correct horse battery", false)
	w.createUser(t, "cat@example.org", "Cat", "correct horse battery", false)
	w.sql(t, `
		INSERT INTO groups (slug, name, listed) VALUES ('open-garden', 'Open Garden', true), ('secret-club', 'Secret Club', false);
		INSERT INTO memberships (group_id, user_id)
			SELECT g.id, u.id FROM groups g, users u WHERE u.email = 'ann@example.org'
			UNION ALL SELECT g.id, u.id FROM groups g, users u WHERE u.email = 'cat@example.org' AND g.slug = 'secret-club'`)
	annID := w.queryInt(t, `SELECT id FROM users WHERE email = 'ann@example.org'`)
	profile := fmt.Sprintf("/people/%d", annID)

	bob := w.client(t)
	bob.login("bob@example.org", "correct horse battery")
	_, body := bob.get(profile)
	if !strings.Contains(body, "Open Garden") || strings.Contains(body, "Secret Club") {
		t.Errorf("a non-member sees: open %v, secret %v; want only the listed group",
			strings.Contains(body, "Open Garden"), strings.Contains(body, "Secret Club"))
	}
	if strings.Contains(body, "ann@example.org") {
		t.Error("the profile shows the member's address to another member")
	}
	cat := w.client(t)
	cat.login("cat@example.org", "correct horse battery")
	if _, body := cat.get(profile); !strings.Contains(body, "Secret Club") {
		t.Error("a fellow member of the private group does not see it on the profile")
	}
	// Ann hides her groups.
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	ann.get("/account")
	code, _ := ann.post("/account/profile", url.Values{"name": {"Ann"}, "timezone": {"UTC"}, "default_delivery": {"immediate"}})
	if code != 200 {
		t.Fatalf("saving the profile: %d", code)
	}
	if _, body := bob.get(profile); strings.Contains(body, "Open Garden") {
		t.Error("groups still show after the member hid them")
	}
	if _, body := ann.get(profile); !strings.Contains(body, "Secret Club") {
		t.Error("the member does not see her own groups")
	}
	// Signed-out visitors see no profiles.
	anon := w.client(t)
	anon.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if code, _ := anon.get(profile); code != http.StatusSeeOther {
		t.Errorf("a signed-out visitor: %d, want a redirect to log in", code)
	}
}

// TestProfileFormErrors: bad input comes back beside its field, with
// what was typed kept, and bad pictures are refused with a clear reason.
func TestProfileFormErrors(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	ann.get("/account")
	code, body := ann.post("/account/profile", url.Values{"name": {""}, "bio": {"Kept bio"}, "timezone": {"Mars/Olympus"},
		"default_delivery": {"sometimes"}, "website": {"javascript:alert(1)"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad profile: %d, want 422", code)
	}
	for _, want := range []string{`id="name-error"`, `id="timezone-error"`, `id="default_delivery-error"`, `id="website-error"`, "Kept bio", `value="javascript:alert(1)"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the re-rendered form lacks %s", want)
		}
	}
	upload := func(name string, content []byte) (int, string) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		for k, v := range map[string]string{"csrf_token": ann.csrf, "name": "Ann", "timezone": "UTC", "default_delivery": "immediate"} {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("picture", name)
		fw.Write(content)
		mw.Close()
		req, _ := http.NewRequest("POST", w.url+"/account/profile", strings.NewReader(b.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return ann.do(req)
	}
	ann.get("/account")
	if code, body := upload("evil.png", []byte("<svg onload=alert(1)>")); code != http.StatusUnprocessableEntity || !strings.Contains(body, "Use a JPEG, PNG, GIF or WebP image") {
		t.Errorf("a non-image named .png: %d", code)
	}
	ann.get("/account")
	if code, body := upload("huge.jpg", make([]byte, 6<<20)); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "too large") {
		t.Errorf("a 6 MB upload: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM pictures`); n != 0 {
		t.Errorf("%d pictures stored after refused uploads", n)
	}
}
