package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const secret = "test-secret-key-0123456789abcdef0123456789"

type env struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	origin, _ := url.Parse("http://localhost")
	h, err := web.New(web.Deps{Store: st, Posting: posting.New(st, "lists.test", log, posting.Hooks{}), Metrics: metrics.New(),
		Log: log, Site: web.Site{MailDomain: "lists.test", Origin: origin}, Guard: web.Guard{SecretKey: secret, Keys: sign.Keys{Current: strings.Repeat("e", 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, srv: srv}
}

// user creates a user with a token and returns the token.
func (e *env) user(email string, superuser bool, perms ...mailflow.Permission) string {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.st.CreateUser(ctx, store.NewUser{Email: email, Name: strings.Split(email, "@")[0], Verified: true, Superuser: superuser})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(perms) > 0 {
		if err := e.st.SetPermissions(ctx, u.ID, perms); err != nil {
			e.t.Fatal(err)
		}
	}
	tok, _ := sign.NewAPIToken()
	if err := e.st.CreateToken(ctx, u.ID, "test", sign.TokenHash(secret, tok)); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	body   map[string]any
	raw    string
}

func (e *env) do(token, method, path string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (e *env) expect(r resp, status int, field string) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 {
		if msg, _ := r.body["error"].(string); msg == "" {
			e.t.Fatalf("error response without an error message: %s", r.raw)
		}
	}
	if field != "" && r.body["field"] != field {
		e.t.Fatalf("field %v, want %q: %s", r.body["field"], field, r.raw)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	e.user("ada@example.org", false)
	e.expect(e.do("", "GET", "/api/v1/groups", nil), 401, "")
	e.expect(e.do("prl_forged", "GET", "/api/v1/groups", nil), 401, "")
	r := e.do("", "GET", "/api/v1/groups", nil)
	if !strings.Contains(r.raw, "create-token") {
		t.Errorf("a 401 should say how to get a token: %s", r.raw)
	}
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@example.org", true)
	ada := e.user("ada@example.org", false)
	manager := e.user("manager@example.org", false, mailflow.PermManageUsers)

	r := e.do(admin, "POST", "/api/v1/users", map[string]any{"email": "new@example.org", "name": "New Person"})
	e.expect(r, 201, "")
	if r.body["email"] != "new@example.org" || r.body["email_verified_at"] == nil {
		t.Fatalf("created user should be verified by default: %s", r.raw)
	}
	e.expect(e.do(admin, "POST", "/api/v1/users", map[string]any{"email": "NEW@example.org", "name": "Again"}), 409, "email")
	e.expect(e.do(admin, "POST", "/api/v1/users", map[string]any{"email": "not an address", "name": "X"}), 422, "email")
	e.expect(e.do(admin, "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "Evil\r\nBcc: y@z"}), 422, "name")
	e.expect(e.do(admin, "POST", "/api/v1/users", map[string]any{"email": "x@example.org", "name": "X", "admin": true}), 400, "admin")
	e.expect(e.do(admin, "POST", "/api/v1/users", `{"email": "x@example.org",`), 400, "")
	e.expect(e.do(admin, "POST", "/api/v1/users", map[string]any{"email": 42, "name": "X"}), 400, "email")
	e.expect(e.do(admin, "POST", "/api/v1/users", `{"email":"x@example.org","name":"`+strings.Repeat("a", 2<<20)+`"}`), 413, "")

	// Permission boundaries.
	e.expect(e.do(ada, "POST", "/api/v1/users", map[string]any{"email": "y@example.org", "name": "Y"}), 403, "")
	e.expect(e.do(manager, "POST", "/api/v1/users", map[string]any{"email": "y@example.org", "name": "Y"}), 201, "")
	e.expect(e.do(manager, "POST", "/api/v1/users", map[string]any{"email": "z@example.org", "name": "Z", "superuser": true}), 403, "")

	e.expect(e.do(ada, "GET", "/api/v1/users/ada@example.org", nil), 200, "")
	e.expect(e.do(ada, "GET", "/api/v1/users/admin@example.org", nil), 404, "")
	e.expect(e.do(admin, "GET", "/api/v1/users/ada@example.org", nil), 200, "")
	e.expect(e.do(admin, "GET", "/api/v1/users/ghost@example.org", nil), 404, "")
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@example.org", true)
	owner := e.user("owner@example.org", false, mailflow.PermCreateGroups)
	ada := e.user("ada@example.org", false)

	e.expect(e.do(ada, "POST", "/api/v1/groups", map[string]any{"slug": "nope", "name": "Nope"}), 403, "")
	r := e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "garden", "name": "Garden Club", "description": "Plants *and* trees"})
	e.expect(r, 201, "")
	if r.body["address"] != "garden@lists.test" {
		t.Fatalf("group address: %v", r.body["address"])
	}
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "garden", "name": "Again"}), 409, "slug")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "Bad Slug!", "name": "X"}), 422, "slug")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "bounces", "name": "X"}), 422, "slug")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "x1", "name": "X", "join_policy": "anyone"}), 422, "join_policy")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "x2", "name": "X", "official": true}), 403, "")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "x3", "name": "X", "category": "nonexistent"}), 422, "category")

	// A member cannot PATCH; the owner and a superuser can.
	e.expect(e.do(ada, "PUT", "/api/v1/groups/garden/members/ada@example.org", map[string]any{}), 201, "")
	e.expect(e.do(ada, "PATCH", "/api/v1/groups/garden", map[string]any{"name": "Mine now"}), 403, "")
	r = e.do(owner, "PATCH", "/api/v1/groups/garden", map[string]any{"moderated": true, "location": "Lyon"})
	e.expect(r, 200, "")
	if r.body["moderated"] != true || r.body["location"] != "Lyon" || r.body["name"] != "Garden Club" {
		t.Fatalf("PATCH should change only what it names: %s", r.raw)
	}
	e.expect(e.do(owner, "PATCH", "/api/v1/groups/garden", map[string]any{"slug": "renamed"}), 422, "slug")
	// Mail failing its domain's DMARC policy: held by default, or refused.
	if r.body["dmarc_failure"] != "hold" {
		t.Fatalf("dmarc_failure should default to hold: %s", r.raw)
	}
	r = e.do(owner, "PATCH", "/api/v1/groups/garden", map[string]any{"dmarc_failure": "refuse"})
	if e.expect(r, 200, ""); r.body["dmarc_failure"] != "refuse" {
		t.Fatalf("dmarc_failure not changed: %s", r.raw)
	}
	e.expect(e.do(owner, "PATCH", "/api/v1/groups/garden", map[string]any{"dmarc_failure": "bounce"}), 422, "dmarc_failure")
	e.expect(e.do(admin, "PATCH", "/api/v1/groups/garden", map[string]any{"official": true}), 200, "")

	// Private (unlisted, invitation-only) groups are invisible to others.
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "board", "name": "Board", "listed": false, "join_policy": "invite"}), 201, "")
	e.expect(e.do(ada, "GET", "/api/v1/groups/board", nil), 404, "")
	e.expect(e.do(ada, "PATCH", "/api/v1/groups/board", map[string]any{"name": "x"}), 404, "")
	e.expect(e.do(ada, "GET", "/api/v1/groups/board/threads", nil), 404, "")
	e.expect(e.do(ada, "GET", "/api/v1/groups/nonexistent", nil), 404, "")
	r = e.do(ada, "GET", "/api/v1/groups", nil)
	e.expect(r, 200, "")
	if strings.Contains(r.raw, `"board"`) {
		t.Fatalf("a private group is listed to a non-member: %s", r.raw)
	}
	if r = e.do(admin, "GET", "/api/v1/groups", nil); !strings.Contains(r.raw, `"board"`) {
		t.Fatalf("superusers see every group: %s", r.raw)
	}
}

func TestMembers(t *testing.T) {
	e := newEnv(t)
	owner := e.user("owner@example.org", false, mailflow.PermCreateGroups)
	ada := e.user("ada@example.org", false)
	bob := e.user("bob@example.org", false)
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "open", "name": "Open"}), 201, "")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "ask", "name": "Ask first", "join_policy": "request", "member_list_visibility": "owners"}), 201, "")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "invite", "name": "Invite only", "join_policy": "invite"}), 201, "")

	r := e.do(ada, "PUT", "/api/v1/groups/open/members/ada@example.org", map[string]any{"delivery": "digest"})
	e.expect(r, 201, "")
	if r.body["status"] != "active" || r.body["delivery"] != "digest" || r.body["role"] != "member" {
		t.Fatalf("joining an open group: %s", r.raw)
	}
	r = e.do(ada, "PUT", "/api/v1/groups/open/members/ada@example.org", map[string]any{"delivery": "none"})
	e.expect(r, 200, "")
	if r.body["delivery"] != "none" {
		t.Fatalf("changing one's delivery: %s", r.raw)
	}
	e.expect(e.do(ada, "PUT", "/api/v1/groups/open/members/ada@example.org", map[string]any{"role": "owner"}), 403, "")
	e.expect(e.do(ada, "PUT", "/api/v1/groups/open/members/bob@example.org", map[string]any{}), 403, "")
	e.expect(e.do(ada, "PUT", "/api/v1/groups/open/members/ada@example.org", map[string]any{"delivery": "weekly-ish"}), 422, "delivery")
	e.expect(e.do(owner, "PUT", "/api/v1/groups/open/members/ghost@example.org", map[string]any{}), 404, "email")

	r = e.do(ada, "PUT", "/api/v1/groups/ask/members/ada@example.org", map[string]any{})
	e.expect(r, 201, "")
	if r.body["status"] != "requested" {
		t.Fatalf("joining a by-request group makes a request: %s", r.raw)
	}
	e.expect(e.do(ada, "PUT", "/api/v1/groups/invite/members/ada@example.org", map[string]any{}), 403, "")

	// Owners add and promote; the member list follows its visibility.
	e.expect(e.do(owner, "PUT", "/api/v1/groups/ask/members/bob@example.org", map[string]any{"role": "moderator"}), 201, "")
	e.expect(e.do(bob, "GET", "/api/v1/groups/ask/members", nil), 200, "")
	e.expect(e.do(owner, "PUT", "/api/v1/groups/ask/members/bob@example.org", map[string]any{"role": "member"}), 200, "")
	e.expect(e.do(bob, "GET", "/api/v1/groups/ask/members", nil), 403, "")
	r = e.do(ada, "GET", "/api/v1/groups/open/members", nil)
	e.expect(r, 200, "")
	if n := len(r.body["members"].([]any)); n != 2 {
		t.Fatalf("open group members = %d, want 2: %s", n, r.raw)
	}

	// The last owner cannot leave; a member can; owners remove others.
	e.expect(e.do(owner, "DELETE", "/api/v1/groups/open/members/owner@example.org", nil), 409, "")
	e.expect(e.do(bob, "DELETE", "/api/v1/groups/open/members/ada@example.org", nil), 403, "")
	e.expect(e.do(ada, "DELETE", "/api/v1/groups/open/members/ada@example.org", nil), 204, "")
	e.expect(e.do(owner, "DELETE", "/api/v1/groups/ask/members/bob@example.org", nil), 204, "")
	e.expect(e.do(owner, "DELETE", "/api/v1/groups/ask/members/bob@example.org", nil), 404, "")
}

func TestThreads(t *testing.T) {
	e := newEnv(t)
	owner := e.user("owner@example.org", false, mailflow.PermCreateGroups)
	ada := e.user("ada@example.org", false)
	bob := e.user("bob@example.org", false)
	outsider := e.user("out@example.org", false)
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "open", "name": "Open"}), 201, "")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "private", "name": "Private", "join_policy": "request"}), 201, "")
	e.expect(e.do(owner, "POST", "/api/v1/groups", map[string]any{"slug": "modded", "name": "Moderated", "moderated": true}), 201, "")
	for _, g := range []string{"open", "modded"} {
		for _, tok := range []string{ada, bob} {
			e.expect(e.do(tok, "PUT", "/api/v1/groups/"+g+"/members/"+map[string]string{ada: "ada", bob: "bob"}[tok]+"@example.org", map[string]any{}), 201, "")
		}
	}

	r := e.do(ada, "POST", "/api/v1/groups/open/threads", map[string]any{"subject": "Seeds\r\nBcc: all@x", "body": "Who has **tomato** seeds?"})
	e.expect(r, 201, "")
	thread := r.body["thread"].(map[string]any)
	tid := fmt.Sprint(thread["id"])
	if thread["subject"] != "Seeds Bcc: all@x" {
		t.Fatalf("a CR/LF in a subject must not survive: %q", thread["subject"])
	}
	msg := r.body["message"].(map[string]any)
	if !strings.HasSuffix(msg["message_id"].(string), "@lists.test") {
		t.Fatalf("Message-ID should be in the mail domain: %v", msg["message_id"])
	}

	r = e.do(bob, "POST", "/api/v1/threads/"+tid+"/messages", map[string]any{"body": "I do."})
	e.expect(r, 201, "")
	reply := r.body["message"].(map[string]any)
	if reply["subject"] != "Re: Seeds Bcc: all@x" || reply["in_reply_to"] != msg["message_id"] {
		t.Fatalf("reply threading: %s", r.raw)
	}
	r = e.do(ada, "GET", "/api/v1/threads/"+tid, nil)
	e.expect(r, 200, "")
	if n := len(r.body["messages"].([]any)); n != 2 {
		t.Fatalf("thread has %d messages, want 2", n)
	}

	// Public group: an outsider reads but cannot post.
	e.expect(e.do(outsider, "GET", "/api/v1/groups/open/threads", nil), 200, "")
	e.expect(e.do(outsider, "POST", "/api/v1/threads/"+tid+"/messages", map[string]any{"body": "me too"}), 403, "")
	e.expect(e.do(outsider, "POST", "/api/v1/groups/open/threads", map[string]any{"subject": "Hi", "body": "x"}), 403, "")
	// Conversation email (issue 19): a member mutes the thread; an
	// outsider, who gets none of its mail, cannot choose.
	e.expect(e.do(bob, "PUT", "/api/v1/threads/"+tid+"/mail", map[string]any{"pref": "mute"}), 200, "")
	if r = e.do(bob, "GET", "/api/v1/threads/"+tid+"/mail", nil); r.body["pref"] != "mute" {
		t.Fatalf("bob's choice: %s", r.raw)
	}
	e.expect(e.do(bob, "PUT", "/api/v1/threads/"+tid+"/mail", map[string]any{"pref": "shout"}), 422, "pref")
	e.expect(e.do(outsider, "PUT", "/api/v1/threads/"+tid+"/mail", map[string]any{"pref": "mute"}), 403, "")
	// Private group: a non-member cannot even find its threads.
	r = e.do(owner, "POST", "/api/v1/groups/private/threads", map[string]any{"subject": "Secret", "body": "s"})
	e.expect(r, 201, "")
	ptid := fmt.Sprint(r.body["thread"].(map[string]any)["id"])
	e.expect(e.do(outsider, "GET", "/api/v1/groups/private/threads", nil), 404, "")
	e.expect(e.do(outsider, "GET", "/api/v1/threads/"+ptid, nil), 404, "")
	e.expect(e.do(outsider, "POST", "/api/v1/threads/"+ptid+"/messages", map[string]any{"body": "x"}), 404, "")
	e.expect(e.do(outsider, "POST", "/api/v1/groups/private/threads", map[string]any{"subject": "x", "body": "x"}), 403, "")
	e.expect(e.do(outsider, "GET", "/api/v1/threads/999999", nil), 404, "")
	e.expect(e.do(outsider, "GET", "/api/v1/threads/abc", nil), 404, "")

	// Validation.
	e.expect(e.do(ada, "POST", "/api/v1/groups/open/threads", map[string]any{"subject": "", "body": "x"}), 422, "subject")
	e.expect(e.do(ada, "POST", "/api/v1/groups/open/threads", map[string]any{"subject": "x", "body": "   "}), 422, "body")

	// Moderated group: held (202), seen by its author and the owner only.
	r = e.do(ada, "POST", "/api/v1/groups/modded/threads", map[string]any{"subject": "Held", "body": "wait for it"})
	e.expect(r, 202, "")
	if r.body["message"].(map[string]any)["status"] != "held" {
		t.Fatalf("moderated post should be held: %s", r.raw)
	}
	htid := fmt.Sprint(r.body["thread"].(map[string]any)["id"])
	e.expect(e.do(ada, "GET", "/api/v1/threads/"+htid, nil), 200, "")
	e.expect(e.do(owner, "GET", "/api/v1/threads/"+htid, nil), 200, "")
	e.expect(e.do(bob, "GET", "/api/v1/threads/"+htid, nil), 404, "")
	if r = e.do(bob, "GET", "/api/v1/groups/modded/threads", nil); strings.Contains(r.raw, "Held") {
		t.Fatalf("a held thread is listed to another member: %s", r.raw)
	}
	// The owner's own posts skip moderation.
	e.expect(e.do(owner, "POST", "/api/v1/groups/modded/threads", map[string]any{"subject": "Notice", "body": "from the owner"}), 201, "")
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	res, err := http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("healthz: %d %q", res.StatusCode, b)
	}
	e.do("", "GET", "/api/v1/groups", nil)
	res, err = http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `parley_http_requests_total{method="GET",route="/api/v1/groups",status="401"} 1`) {
		t.Fatalf("metrics should count the 401 by route:\n%s", b)
	}
	// With the database gone, healthz turns 503.
	e.st.Close()
	res, err = http.Get(e.srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Fatalf("healthz without a database: %d, want 503", res.StatusCode)
	}
}

func TestSuppressionsAdmin(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin@example.org", true)
	ada := e.user("ada@example.org", false)
	ctx := context.Background()
	if err := e.st.Suppress(ctx, "Gone@Example.org", "bounce_score", "dsn", "score 5.0"); err != nil {
		t.Fatal(err)
	}
	e.expect(e.do(ada, "GET", "/api/v1/suppressions", nil), 403, "")
	r := e.do(admin, "GET", "/api/v1/suppressions?search=gone", nil)
	e.expect(r, 200, "")
	if !strings.Contains(r.raw, "Gone@Example.org") {
		t.Fatalf("search: %s", r.raw)
	}
	e.expect(e.do(admin, "GET", "/api/v1/bounces/gone@example.org", nil), 200, "")
	e.expect(e.do(admin, "DELETE", "/api/v1/suppressions/gone@example.org", map[string]any{}), 422, "reason")
	e.expect(e.do(ada, "DELETE", "/api/v1/suppressions/gone@example.org", map[string]any{"reason": "x"}), 403, "")
	e.expect(e.do(admin, "DELETE", "/api/v1/suppressions/gone@example.org", map[string]any{"reason": "mailbox fixed, asked by phone"}), 204, "")
	e.expect(e.do(admin, "DELETE", "/api/v1/suppressions/gone@example.org", map[string]any{"reason": "again"}), 404, "email")
	var n int
	if err := e.st.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'suppression.remove' AND details->>'reason' = 'mailbox fixed, asked by phone'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit log: %d %v", n, err)
	}
}
