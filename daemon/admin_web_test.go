package main

import (
	"bytes"
	"encoding/csv"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBecomeUser: a superuser acts as a member, sees the red banner, what
// they change is in the audit log with both names, and they return to
// their own account; a user manager cannot become a superuser.
func TestBecomeUser(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	w.createUser(t, "mgr@example.org", "Manager", "correct horse battery", false)
	w.sql(t, `UPDATE users SET permissions = '{manage_users}' WHERE email = 'mgr@example.org'`)
	annID := w.queryInt(t, `SELECT id FROM users WHERE email = 'ann@example.org'`)
	rootID := w.queryInt(t, `SELECT id FROM users WHERE email = 'root@example.org'`)

	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	root.get("/admin/users/" + itoa(annID))
	code, body := root.post("/admin/users/"+itoa(annID)+"/impersonate", url.Values{})
	if code != 200 || !strings.Contains(body, "You are acting as Ann") || !strings.Contains(body, "Return to your own account (Root)") {
		t.Fatalf("become user: %d, no banner", code)
	}
	root.get("/account")
	if code, _ := root.post("/account/profile", url.Values{"name": {"Ann"}, "bio": {"edited by root"}, "timezone": {"UTC"}, "default_delivery": {"digest"}}); code != 200 {
		t.Fatalf("editing as Ann: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action = 'impersonated.request' AND actor_id = $1 AND impersonator_id = $2
		AND target_id = 'POST /account/profile'`, annID, rootID); n != 1 {
		t.Errorf("%d audit rows for the change made while impersonating, want 1", n)
	}
	// Deleting the account is the member's own decision, never an impersonator's.
	root.get("/account/delete")
	if code, _ := root.post("/account/delete", url.Values{"password": {"correct horse battery"}}); code != http.StatusForbidden {
		t.Errorf("deleting the account while impersonating: %d, want 403", code)
	}
	code, body = root.post("/admin/impersonate/stop", url.Values{})
	if code != 200 || strings.Contains(body, "You are acting as") || !strings.Contains(body, "You are back in your own account") {
		t.Fatalf("stop: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action IN ('user.impersonate', 'user.impersonate_end') AND actor_id = $1`, rootID); n != 2 {
		t.Errorf("%d audit rows for starting and ending, want 2", n)
	}

	mgr := w.client(t)
	mgr.login("mgr@example.org", "correct horse battery")
	mgr.get("/admin/users/" + itoa(rootID))
	if code, _ := mgr.post("/admin/users/"+itoa(rootID)+"/impersonate", url.Values{}); code != http.StatusForbidden {
		t.Errorf("a user manager becoming a superuser: %d, want 403", code)
	}
	mgr.get("/admin/users/" + itoa(annID))
	if code, body := mgr.post("/admin/users/"+itoa(annID)+"/impersonate", url.Values{}); code != 200 || !strings.Contains(body, "You are acting as Ann") {
		t.Errorf("a user manager becoming a member: %d", code)
	}
}

// TestBanUser: a ban needs its confirmation box, ends the member's
// sessions at once and keeps them out.
func TestBanUser(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	annID := w.queryInt(t, `SELECT id FROM users WHERE email = 'ann@example.org'`)
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")

	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	root.get("/admin/users/" + itoa(annID))
	if _, body := root.post("/admin/users/"+itoa(annID)+"/status", url.Values{"status": {"banned"}}); !strings.Contains(body, "Tick the box") {
		t.Error("a ban without confirmation was not stopped")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users WHERE id = $1 AND status = 'banned'`, annID); n != 0 {
		t.Fatal("banned without confirmation")
	}
	if _, body := root.post("/admin/users/"+itoa(annID)+"/status", url.Values{"status": {"banned"}, "confirm": {"1"}, "reason": {"spam"}}); !strings.Contains(body, "Ann is banned") {
		t.Fatal("ban with confirmation failed")
	}
	if code, _ := ann.get("/account"); code != 200 || ann.last.Request.URL.Path != "/login" {
		t.Errorf("the banned member's session still works: %d at %s", code, ann.last.Request.URL.Path)
	}
	_, body := ann.post("/login", url.Values{"email": {"ann@example.org"}, "password": {"correct horse battery"}})
	if !strings.Contains(body, "not active") {
		t.Error("a banned member can sign in")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action = 'user.ban' AND target_id = $1`, itoa(annID)); n != 1 {
		t.Error("the ban is not in the audit log")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestReports: the CSV exports parse, hold the right counts for a seeded
// site, defuse spreadsheet formulas, and are for report viewers only.
func TestReports(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root Admin", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann Lee", "correct horse battery", false)
	w.createUser(t, "eve@example.org", "=HYPERLINK(\"http://evil.example\") Eve", "correct horse battery", false)
	w.sql(t, `
		INSERT INTO groups (slug, name, listed, join_policy, location) VALUES ('owls', 'Owls', true, 'open', 'Oslo'), ('bats', 'Bats', false, 'invite', '');
		INSERT INTO memberships (group_id, user_id) SELECT g.id, u.id FROM groups g, users u WHERE u.email = 'ann@example.org';
		INSERT INTO memberships (group_id, user_id) SELECT g.id, u.id FROM groups g, users u WHERE u.email = 'eve@example.org' AND g.slug = 'owls';
		INSERT INTO threads (group_id, subject, message_count) SELECT id, 'T1', 3 FROM groups WHERE slug = 'owls';
		INSERT INTO threads (group_id, subject, message_count) SELECT id, 'T2', 1 FROM groups WHERE slug = 'owls';
		INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
			SELECT t.id, t.group_id, u.id, 'r' || n || t.id || u.id || '@x', t.subject, 'b', 'web', 'approved'
			FROM threads t, users u, generate_series(1, 2) n
			WHERE (t.subject = 'T1' AND u.email IN ('ann@example.org', 'eve@example.org') AND n = 1)
			   OR (t.subject = 'T1' AND u.email = 'ann@example.org' AND n = 2)
			   OR (t.subject = 'T2' AND u.email = 'ann@example.org' AND n = 1);
		INSERT INTO flags (message_id, flagged_by) SELECT m.id, u.id FROM messages m, users u WHERE u.email = 'eve@example.org' LIMIT 2;
		INSERT INTO suppressions (email, reason) VALUES ('eve@example.org', 'hard_bounce');`)

	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	for _, p := range []string{"/admin/dashboard", "/admin/reports/users", "/admin/reports/users.csv"} {
		if code, _ := ann.get(p); code != http.StatusForbidden {
			t.Errorf("GET %s as a member: %d, want 403", p, code)
		}
	}
	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	code, body := root.get("/admin/reports/users.csv")
	if code != 200 || !strings.HasPrefix(root.last.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("users.csv: %d %s", code, root.last.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("users.csv does not parse: %v", err)
	}
	if len(recs) != 4 || recs[0][1] != "name" {
		t.Fatalf("users.csv has %d records, want a header and 3 users:\n%s", len(recs), body)
	}
	byEmail := map[string][]string{}
	for _, r := range recs[1:] {
		byEmail[r[2]] = r
	}
	// id, name, email, joined, last_login, groups, messages_sent, flags_made, visits, status
	if a := byEmail["ann@example.org"]; a[1] != "Ann L." || a[5] != "2" || a[6] != "3" || a[7] != "0" || a[8] != "1" || a[4] == "" || a[9] != "active" {
		t.Errorf("Ann's row: %q", a)
	}
	if e := byEmail["eve@example.org"]; !strings.HasPrefix(e[1], "'=") || e[6] != "1" || e[7] != "2" || e[9] != "bouncing" || e[4] != "" {
		t.Errorf("Eve's row (formula defused, 1 message, 2 flags, bouncing, never logged in): %q", e)
	}
	code, body = root.get("/admin/reports/groups.csv?sort=messages&dir=desc")
	recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(recs) != 3 {
		t.Fatalf("groups.csv: %d %v %d records", code, err, len(recs))
	}
	// id, slug, name, messages, threads, replies, distinct_posters, category, location, members, privacy, creator, created
	if o := recs[1]; o[1] != "owls" || o[3] != "4" || o[4] != "2" || o[5] != "2" || o[6] != "2" || o[8] != "Oslo" || o[9] != "2" || o[10] != "listed, open" {
		t.Errorf("owls row: %q", o)
	}
	if b := recs[2]; b[1] != "bats" || b[3] != "0" || b[9] != "1" || b[10] != "unlisted, by invitation" {
		t.Errorf("bats row: %q", b)
	}
	if code, body := root.get("/admin/reports/users?q=ann"); code != 200 || !strings.Contains(body, "Ann L.") || strings.Contains(body, "Root A.") {
		t.Errorf("user report search: %d", code)
	}
	if code, body := root.get("/admin/dashboard"); code != 200 || strings.Count(body, `<svg class="chart"`) != 6 || !strings.Contains(body, "Messages per day") {
		t.Errorf("dashboard: %d, %d charts", code, strings.Count(body, `<svg class="chart"`))
	}
}

// TestInvitations: an admin invites addresses into a group; a new person
// signs up from the link (confirmed at once, in the group), an existing
// member joins from theirs, and a link works only for its address.
func TestInvitations(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	w.sql(t, `INSERT INTO groups (slug, name, join_policy, listed) VALUES ('owls', 'Owls', 'invite', false);
		INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM groups g, users u WHERE u.email = 'root@example.org'`)
	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	root.get("/admin/invite")
	code, body := root.post("/admin/invite", url.Values{"addresses": {"new@example.org, ann@example.org\nnot-an-address"}, "group": {"owls"}})
	if code != 200 || !strings.Contains(body, "2 sent.") || !strings.Contains(body, "1 not valid") {
		t.Fatalf("inviting: %d\n%s", code, body)
	}
	// The newcomer signs up from the link.
	link := w.mailLink(t, "new@example.org", "/invite")
	guest := w.client(t)
	code, body = guest.get(strings.TrimPrefix(link, w.url))
	if code != 200 || !strings.Contains(body, `value="new@example.org"`) || !strings.Contains(body, `name="invite"`) {
		t.Fatalf("invitation link for a newcomer: %d, want the sign-up form filled in", code)
	}
	code, _ = guest.post("/signup", url.Values{"name": {"Newt"}, "email": {"new@example.org"}, "password": {"correct horse battery"},
		"timezone": {"UTC"}, "invite": {regexp.MustCompile(`token=([^&\s]+)`).FindStringSubmatch(link)[1]}})
	if code != 200 {
		t.Fatalf("sign-up from an invitation: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id JOIN groups g ON g.id = m.group_id
		WHERE u.email = 'new@example.org' AND u.email_verified_at IS NOT NULL AND g.slug = 'owls' AND m.status = 'active'`); n != 1 {
		t.Error("the invited newcomer is not a confirmed member of the group")
	}
	// Someone else's link does not work for Ann; her own does.
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	if code, body := ann.get(strings.TrimPrefix(link, w.url)); code != http.StatusForbidden || !strings.Contains(body, "for someone else") {
		t.Errorf("another address's invitation: %d", code)
	}
	// Opening her own link changes nothing (a link scanner may open it):
	// it shows one button, and only its POST joins.
	annLink := w.mailLink(t, "ann@example.org", "/invite")
	annMember := `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id
		WHERE u.email = 'ann@example.org' AND g.slug = 'owls' AND m.status = 'active'`
	if code, body := ann.get(strings.TrimPrefix(annLink, w.url)); code != 200 || !strings.Contains(body, "Join Owls") ||
		!strings.Contains(body, `action="/invite"`) {
		t.Errorf("opening her invitation: %d, want a page with a Join button", code)
	}
	if n := w.queryInt(t, annMember); n != 0 {
		t.Error("opening an invitation link (GET) joined the group")
	}
	annToken, _ := url.QueryUnescape(regexp.MustCompile(`token=([^&\s]+)`).FindStringSubmatch(annLink)[1])
	if code, body := ann.post("/invite", url.Values{"token": {annToken}}); code != 200 || !strings.Contains(body, "You joined Owls") {
		t.Errorf("accepting her invitation: %d", code)
	}
	if n := w.queryInt(t, annMember); n != 1 {
		t.Error("the button did not join the group")
	}
	if code, _ := ann.get("/admin/invite"); code != http.StatusForbidden {
		t.Errorf("a member on the invitation page: %d, want 403", code)
	}
}

// TestAdminGallery: superusers see every group's images, members do not
// see the gallery at all.
func TestAdminGallery(t *testing.T) {
	t.Parallel()
	w := resourcesSite(t)
	olga := resLogin(t, w, "olga@example.org")
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if code, body := resUpload(t, olga, "/g/garden/resources/new", map[string]string{"name": "Heron photo", "tags": "birds", "group": "garden"}, "heron.png", buf.Bytes()); code != 200 {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	root := resLogin(t, w, "root@example.org")
	code, body := root.get("/admin/gallery")
	if code != 200 || !strings.Contains(body, "Heron photo") || !strings.Contains(body, "/thumb") || !strings.Contains(body, "Garden Club") {
		t.Fatalf("gallery: %d\n%s", code, body)
	}
	ann := resLogin(t, w, "ann@example.org")
	if code, _ := ann.get("/admin/gallery"); code != http.StatusForbidden {
		t.Errorf("a member opening the gallery: %d, want 403", code)
	}
}
