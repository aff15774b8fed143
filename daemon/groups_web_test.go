package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/blobstore"
)

// These tests drive the group pages (Explore, a group's page, the group
// form, members, joining, requests, invitations, categories) of a real
// parleyd, as a browser without JavaScript would, and check what people
// see.

const groupsPassword = "correct horse battery"

// groupsSite starts parleyd with a superuser (root), an owner who may
// create groups (olga) and two members (ann, bob).
func groupsSite(t *testing.T) *webSite {
	t.Helper()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", groupsPassword, true)
	w.createUser(t, "olga@example.org", "Olga Owner", groupsPassword, false)
	w.createUser(t, "ann@example.org", "Ann", groupsPassword, false)
	w.createUser(t, "bob@example.org", "Bob", groupsPassword, false)
	w.sql(t, `UPDATE users SET permissions = '{create_groups}' WHERE email = 'olga@example.org'`)
	return w
}

// groupsLogin returns a client signed in as email.
func groupsLogin(t *testing.T, w *webSite, email string) *webClient {
	t.Helper()
	c := w.client(t)
	c.login(email, groupsPassword)
	return c
}

// groupsUserID returns the id of the user with the address.
func groupsUserID(t *testing.T, w *webSite, email string) int {
	t.Helper()
	return w.queryInt(t, `SELECT id FROM users WHERE email = $1`, email)
}

// groupsAt reports the path the client ended at, after redirects.
func groupsAt(c *webClient) string { return c.last.Request.URL.Path }

// groupsMake adds a group owned by olga with SQL; settings is a list of
// assignments for the groups row ("listed = false, join_policy = 'invite'").
func groupsMake(t *testing.T, w *webSite, slug, name, settings string) {
	t.Helper()
	w.sql(t, `INSERT INTO groups (slug, name) VALUES ($1, $2)`, slug, name)
	if settings != "" {
		w.sql(t, `UPDATE groups SET `+settings+` WHERE slug = $1`, slug)
	}
	w.sql(t, `INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM groups g, users u
		WHERE g.slug = $1 AND u.email = 'olga@example.org'`, slug)
}

// groupsAddMember makes email an active member of the group.
func groupsAddMember(t *testing.T, w *webSite, slug, email, status string) {
	t.Helper()
	w.sql(t, `INSERT INTO memberships (group_id, user_id, status) SELECT g.id, u.id, $3 FROM groups g, users u
		WHERE g.slug = $1 AND u.email = $2`, slug, email, status)
}

// groupsMail waits for an email to `to` whose text contains want, and
// returns its text.
func groupsMail(t *testing.T, w *webSite, to, want string) string {
	t.Helper()
	return waitOutbox(t, w, to, want)
}

// groupsForm is a valid group form; change fields as a test needs.
func groupsForm(name, slug string) url.Values {
	return url.Values{"name": {name}, "slug": {slug}, "description": {"A group about " + name}, "join_policy": {"open"},
		"listed": {"1"}, "member_list_visibility": {"members"}, "archive": {"members"}, "reply_to": {"group"}}
}

// groupsPNG is a small PNG picture.
func groupsPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := 0; x < 40; x++ {
		for y := 0; y < 30; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), 90, uint8(y * 8), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// groupsUpload posts form as multipart/form-data with a picture.
func groupsUpload(t *testing.T, c *webClient, path string, form url.Values, pic []byte) (int, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	form.Set("csrf_token", c.csrf)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile("picture", "bird.png")
	fw.Write(pic)
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// TestGroupsCreateAndEdit: only holders of create_groups create groups;
// mistakes come back beside their fields with the input kept; a slug is
// taken once; owners edit, members cannot.
func TestGroupsCreateAndEdit(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	w.sql(t, `INSERT INTO categories (slug, name, color) VALUES ('nature', 'Nature', '#1e6b34')`)

	ann := groupsLogin(t, w, "ann@example.org")
	if code, body := ann.get("/groups/new"); code != http.StatusForbidden || !strings.Contains(body, "You cannot do that") {
		t.Fatalf("GET /groups/new without create_groups: %d, want the 403 page", code)
	}
	if code, _ := ann.post("/groups/new", groupsForm("Sneaky", "sneaky")); code != http.StatusForbidden {
		t.Fatalf("POST /groups/new without create_groups: %d, want 403", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM groups`); n != 0 {
		t.Fatalf("%d groups after refused creations", n)
	}

	olga := groupsLogin(t, w, "olga@example.org")
	code, body := olga.get("/groups/new")
	if code != 200 || !strings.Contains(body, "@lists.test") || strings.Contains(body, `name="official"`) {
		t.Fatalf("the create form: %d; want the address domain shown and no official box for a non-superuser", code)
	}

	t.Run("errors beside fields", func(t *testing.T) {
		f := groupsForm("", "Bad Slug!")
		f.Set("description", "Kept words")
		f.Set("owners", "nobody@example.org, not-an-address")
		f.Set("join_policy", "whenever")
		f.Set("official", "1")
		code, body := olga.post("/groups/new", f)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("a bad form: %d, want 422", code)
		}
		for _, want := range []string{`id="name-error"`, `id="slug-error"`, `id="owners-error"`, `id="join_policy-error"`, `id="official-error"`,
			"Kept words", `value="bad slug!"`, "not-an-address", "Name is required.", "Only superusers"} {
			if !strings.Contains(body, want) {
				t.Errorf("the re-rendered form lacks %q", want)
			}
		}
		f = groupsForm("Birders", "birders")
		f.Set("owners", "nobody@example.org")
		if _, body := olga.post("/groups/new", f); !strings.Contains(body, "No account uses nobody@example.org") {
			t.Error("an unknown owner address is not named beside the field")
		}
	})

	t.Run("create", func(t *testing.T) {
		olga.get("/groups/new")
		f := groupsForm("Bird Watchers", "birds")
		f.Set("category", "nature")
		f.Set("description", "We **watch** birds.")
		f.Set("owners", "bob@example.org")
		f.Set("whitelist", "Ann@Example.org")
		f.Set("archive", "public")
		f.Set("location", "Boston, MA")
		f.Set("display_location", "Greater Boston")
		f.Set("moderated", "1")
		code, body := groupsUpload(t, olga, "/groups/new", f, groupsPNG(t))
		if code != 200 || groupsAt(olga) != "/g/birds" {
			t.Fatalf("creating a group: %d at %s\n%s", code, groupsAt(olga), body)
		}
		for _, want := range []string{"Your group Bird Watchers is created", "birds@lists.test", "<strong>watch</strong>", "Greater Boston",
			"Nature", `src="/pictures/`, "Olga Owner", "Bob"} {
			if !strings.Contains(body, want) {
				t.Errorf("the new group's page lacks %q", want)
			}
		}
		checks := map[string]string{
			"bob is an owner":        `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id WHERE g.slug = 'birds' AND u.email = 'bob@example.org' AND m.role = 'owner' AND m.status = 'active'`,
			"ann is whitelisted":     `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id JOIN groups g ON g.id = m.group_id WHERE g.slug = 'birds' AND u.email = 'ann@example.org' AND m.whitelisted AND m.status = 'active'`,
			"settings are saved":     `SELECT count(*) FROM groups g JOIN categories c ON c.id = g.category_id WHERE g.slug = 'birds' AND c.slug = 'nature' AND g.archive_public AND g.moderated AND g.location = 'Boston, MA' AND g.picture_key <> ''`,
			"the creation is logged": `SELECT count(*) FROM audit_log WHERE action = 'group.create' AND target_id = 'birds'`,
		}
		for what, q := range checks {
			if w.queryInt(t, q) != 1 {
				t.Errorf("after creating: not true that %s", what)
			}
		}
	})

	t.Run("duplicate slug", func(t *testing.T) {
		olga.get("/groups/new")
		code, body := olga.post("/groups/new", groupsForm("More Birds", "birds"))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="slug-error"`) || !strings.Contains(body, "Another group already uses this address") {
			t.Fatalf("a taken slug: %d, want 422 with the reason beside the slug", code)
		}
	})

	t.Run("edit", func(t *testing.T) {
		if code, _ := ann.get("/g/birds/edit"); code != http.StatusForbidden {
			t.Errorf("a member opening the edit form: %d, want 403", code)
		}
		ann.get("/g/birds")
		if code, _ := ann.post("/g/birds/edit", groupsForm("Ann's Birds", "birds")); code != http.StatusForbidden {
			t.Errorf("a member saving the edit form: %d, want 403", code)
		}
		code, body := olga.get("/g/birds/edit")
		if code != 200 || !strings.Contains(body, "bob@example.org") || !strings.Contains(body, "Bird Watchers") {
			t.Fatalf("the edit form: %d, want it filled with the group's settings and owners", code)
		}
		f := groupsForm("Bird Watchers of Boston", "ignored")
		f.Set("owners", "olga@example.org")
		code, body = olga.post("/g/birds/edit", f)
		if code != 200 || !strings.Contains(body, "Bird Watchers of Boston") {
			t.Fatalf("saving the edit form: %d", code)
		}
		if w.queryInt(t, `SELECT count(*) FROM groups WHERE slug = 'birds' AND name = 'Bird Watchers of Boston'`) != 1 {
			t.Error("the edit did not change the name (or changed the slug)")
		}
		if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'bob@example.org' AND m.role = 'member'`) != 1 {
			t.Error("an owner left out of the owners field is still an owner")
		}
		if w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action = 'group.update' AND target_id = 'birds'`) != 1 {
			t.Error("the edit is not in the audit log")
		}
		f.Set("owners", "")
		if code, body := olga.post("/g/birds/edit", f); code != http.StatusUnprocessableEntity || !strings.Contains(body, "at least one owner") {
			t.Errorf("removing every owner: %d, want 422 with a reason", code)
		}
	})

	t.Run("new picture", func(t *testing.T) {
		// A new picture replaces the old one, row and bytes; the new one
		// is served.
		blobs, err := blobstore.NewLocal(filepath.Join(w.dir, "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		stored := func(key string) bool {
			t.Helper()
			ok, err := blobs.Exists(t.Context(), "pictures/"+key)
			if err != nil {
				t.Fatal(err)
			}
			return ok && w.queryInt(t, `SELECT count(*) FROM pictures WHERE key = $1`, key) == 1
		}
		old := queryString(t, w, `SELECT picture_key FROM groups WHERE slug = 'birds'`)
		if !stored(old) {
			t.Fatalf("the group's first picture %q is not stored", old)
		}
		olga.get("/g/birds/edit")
		f := groupsForm("Bird Watchers of Boston", "birds")
		f.Set("owners", "olga@example.org")
		if code, body := groupsUpload(t, olga, "/g/birds/edit", f, testPNG(t, color.RGBA{10, 120, 200, 255})); code != 200 {
			t.Fatalf("saving a new picture: %d\n%s", code, body)
		}
		now := queryString(t, w, `SELECT picture_key FROM groups WHERE slug = 'birds'`)
		if now == old || !stored(now) {
			t.Fatalf("after a new picture the group shows %q (was %q), stored: %v", now, old, stored(now))
		}
		if stored(old) || w.queryInt(t, `SELECT count(*) FROM pictures WHERE key = $1`, old) != 0 {
			t.Error("the replaced group picture is still stored")
		}
		if code, _ := olga.get("/pictures/" + now); code != http.StatusOK {
			t.Errorf("GET /pictures/%s: %d", now, code)
		}
	})
}

// TestExploreSearchFilterAndPages: Explore finds groups by words (the
// start of a word, and stemmed), by place and by category, hides
// unlisted groups but from superusers, pages by 24, and shows where the
// member stands with each group.
func TestExploreSearchFilterAndPages(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	w.sql(t, `INSERT INTO categories (slug, name, color) VALUES ('science', 'Science', '#1f5fbf'), ('crafts', 'Crafts', '#b3261e')`)
	groupsMake(t, w, "astro", "Astronomy Club", `description = 'Telescopes and dark skies', location = 'Tucson', category_id = (SELECT id FROM categories WHERE slug = 'science')`)
	groupsMake(t, w, "knit", "Knitting Circle", `description = 'Wool, needles and patience', location = 'London', category_id = (SELECT id FROM categories WHERE slug = 'crafts'), join_policy = 'request'`)
	groupsMake(t, w, "garden", "Green Thumbs", `description = 'We love gardening', display_location = 'North London'`)
	groupsMake(t, w, "secret", "Secret Society", `listed = false, join_policy = 'invite', description = 'Telescopes too'`)
	groupsMake(t, w, "club", "Invitation Club", `join_policy = 'invite'`)

	ann := groupsLogin(t, w, "ann@example.org")
	names := []string{"Astronomy Club", "Knitting Circle", "Green Thumbs", "Secret Society"}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"Astronomy Club", "Knitting Circle", "Green Thumbs"}},
		{"?q=astro", []string{"Astronomy Club"}},     // the start of a word
		{"?q=telescope", []string{"Astronomy Club"}}, // stemmed, and the unlisted group stays hidden
		{"?q=gardens", []string{"Green Thumbs"}},     // "gardens" finds "gardening"
		{"?location=lond", []string{"Knitting Circle", "Green Thumbs"}},
		{"?category=crafts", []string{"Knitting Circle"}},
		{"?q=wool&location=london&category=crafts", []string{"Knitting Circle"}},
		{"?q=%27%29%3B+drop+table+groups%3B--", nil}, // nothing breaks the query
	} {
		code, body := ann.get("/explore" + tc.query)
		if code != 200 {
			t.Fatalf("GET /explore%s: %d", tc.query, code)
		}
		for _, n := range names {
			if got, want := strings.Contains(body, n), contains(tc.want, n); got != want {
				t.Errorf("/explore%s shows %s: %v, want %v", tc.query, n, got, want)
			}
		}
	}
	if _, body := ann.get("/explore?category=crafts"); !strings.Contains(body, `<option value="crafts" selected>`) {
		t.Error("the category filter is not kept in the form")
	}
	root := groupsLogin(t, w, "root@example.org")
	if _, body := root.get("/explore?q=telescopes"); !strings.Contains(body, "Secret Society") {
		t.Error("a superuser does not find the unlisted group")
	}

	// Join buttons and marks.
	_, body := ann.get("/explore")
	for _, want := range []string{`action="/g/astro/join"`, "Ask to join", "By invitation", "Science", "cat-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("Explore lacks %q", want)
		}
	}
	ann.post("/g/astro/join", url.Values{})
	ann.post("/g/knit/join", url.Values{})
	_, body = ann.get("/explore")
	if strings.Contains(body, `action="/g/astro/join"`) || !strings.Contains(body, "✓ Member") || !strings.Contains(body, "Requested") {
		t.Error("after joining one group and asking to join another, Explore does not show the member mark and the requested mark")
	}
	if !strings.Contains(body, "1 member") {
		t.Error("member counts are not shown")
	}

	// Pages of 24.
	w.sql(t, `INSERT INTO groups (slug, name) SELECT 'zz-' || i, 'Zebra ' || lpad(i::text, 2, '0') FROM generate_series(1, 30) i`)
	_, body = ann.get("/explore")
	if !strings.Contains(body, `rel="next"`) || strings.Contains(body, `rel="prev"`) || strings.Contains(body, "Zebra 30") {
		t.Fatal("page 1 of 34 groups: want a Next link, no Previous link, and not the last group")
	}
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
	_, body = ann.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if !strings.Contains(body, "Zebra 30") || !strings.Contains(body, `rel="prev"`) || strings.Contains(body, `rel="next"`) {
		t.Error("page 2: want the last groups, a Previous link and no Next link")
	}
	_, body = ann.get("/explore?q=zebra&page=2")
	if !strings.Contains(body, `href="/explore?q=zebra" rel="prev"`) || !strings.Contains(body, "Zebra 30") {
		t.Error("the search is not kept across pages")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestJoinOpenGroupAndLeave: joining an open group is instant, with the
// member's default email setting; leaving asks first; the last owner
// cannot leave.
func TestJoinOpenGroupAndLeave(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	groupsMake(t, w, "walkers", "City Walkers", "")
	w.sql(t, `UPDATE users SET default_delivery = 'digest' WHERE email = 'ann@example.org'`)

	ann := groupsLogin(t, w, "ann@example.org")
	ann.get("/g/walkers")
	code, body := ann.post("/g/walkers/join", url.Values{})
	if code != 200 || groupsAt(ann) != "/g/walkers" || !strings.Contains(body, "You joined City Walkers") {
		t.Fatalf("joining an open group: %d at %s", code, groupsAt(ann))
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ann@example.org' AND m.status = 'active' AND m.delivery = 'digest'`) != 1 {
		t.Error("the new membership is not active with the member's default delivery")
	}
	if !strings.Contains(body, "You are a member") || !strings.Contains(body, `<option value="digest" selected>`) {
		t.Error("the group page does not show the membership and its email setting")
	}

	// Leaving asks first; a GET changes nothing.
	code, body = ann.get("/g/walkers/leave")
	if code != 200 || !strings.Contains(body, "Leave City Walkers?") || !strings.Contains(body, "Leave the group") {
		t.Fatalf("the leave page: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ann@example.org'`) != 1 {
		t.Fatal("opening the leave page removed the membership")
	}
	code, body = ann.post("/g/walkers/leave", url.Values{})
	if code != 200 || !strings.Contains(body, "You left City Walkers") {
		t.Fatalf("leaving: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ann@example.org'`) != 0 {
		t.Error("the membership is still there after leaving")
	}

	// The only owner stays.
	olga := groupsLogin(t, w, "olga@example.org")
	olga.get("/g/walkers/leave")
	code, body = olga.post("/g/walkers/leave", url.Values{})
	if code != http.StatusConflict || !strings.Contains(body, "You are the only owner of City Walkers") {
		t.Fatalf("the last owner leaving: %d, want 409 with a clear message", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'olga@example.org' AND m.role = 'owner'`) != 1 {
		t.Error("the last owner is gone")
	}

	// A ban is not lifted by "leaving".
	groupsAddMember(t, w, "walkers", "bob@example.org", "banned")
	bob := groupsLogin(t, w, "bob@example.org")
	bob.get("/g/walkers")
	if code, _ := bob.post("/g/walkers/leave", url.Values{}); code != http.StatusForbidden {
		t.Errorf("a banned member leaving: %d, want 403", code)
	}
	if code, _ := bob.post("/g/walkers/join", url.Values{}); code != http.StatusForbidden {
		t.Errorf("a banned member joining: %d, want 403", code)
	}
}

// TestJoinByRequest: a request waits for the owners, who see it on the
// members page and approve or deny it; the decision is recorded and
// mailed. An invitation-only group refuses the uninvited.
func TestJoinByRequest(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	groupsMake(t, w, "choir", "Village Choir", "join_policy = 'request'")
	groupsMake(t, w, "inner", "Inner Circle", "join_policy = 'invite'")

	ann := groupsLogin(t, w, "ann@example.org")
	ann.get("/g/choir")
	code, body := ann.post("/g/choir/join", url.Values{})
	if code != 200 || !strings.Contains(body, "Your request to join Village Choir is sent") || !strings.Contains(body, "You asked to join") {
		t.Fatalf("asking to join: %d", code)
	}
	if !strings.Contains(body, "Only members read this group") {
		t.Error("a requester reads the threads of a group that is not public")
	}

	olga := groupsLogin(t, w, "olga@example.org")
	if _, body := olga.get("/g/choir"); !strings.Contains(body, "1 pending") {
		t.Error("the owner does not see the pending request on the group page")
	}
	code, body = olga.get("/g/choir/members")
	annID := groupsUserID(t, w, "ann@example.org")
	if code != 200 || !strings.Contains(body, "Requests to join") || !strings.Contains(body, fmt.Sprintf(`action="/g/choir/requests/%d/approve"`, annID)) {
		t.Fatalf("the members page for the owner: %d, want the request with an Approve button", code)
	}
	code, body = olga.post(fmt.Sprintf("/g/choir/requests/%d/approve", annID), url.Values{})
	if code != 200 || !strings.Contains(body, "Ann is now a member of Village Choir") {
		t.Fatalf("approving: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1 AND status = 'active'`, annID) != 1 {
		t.Error("the approved requester is not a member")
	}
	if w.queryInt(t, `SELECT count(*) FROM moderation_actions WHERE target_user = $1 AND action = 'approve_member'`, annID) != 1 {
		t.Error("the approval is not in the moderation record")
	}
	groupsMail(t, w, "ann@example.org", "Your request to join Village Choir is approved")
	if _, body := ann.get("/g/choir"); !strings.Contains(body, "You are a member") {
		t.Error("the approved member's group page does not say so")
	}
	// Deciding twice does nothing.
	if code, body := olga.post(fmt.Sprintf("/g/choir/requests/%d/deny", annID), url.Values{}); code != 200 || !strings.Contains(body, "no pending request") {
		t.Errorf("denying a decided request: %d", code)
	}

	// Denied.
	bob := groupsLogin(t, w, "bob@example.org")
	bob.get("/g/choir")
	bob.post("/g/choir/join", url.Values{})
	bobID := groupsUserID(t, w, "bob@example.org")
	olga.get("/g/choir/members")
	if code, body := olga.post(fmt.Sprintf("/g/choir/requests/%d/deny", bobID), url.Values{}); code != 200 || !strings.Contains(body, "You declined the request of Bob") {
		t.Fatalf("denying: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1`, bobID) != 0 ||
		w.queryInt(t, `SELECT count(*) FROM moderation_actions WHERE target_user = $1 AND action = 'reject_member'`, bobID) != 1 {
		t.Error("a denied request is not removed and recorded")
	}
	groupsMail(t, w, "bob@example.org", "did not accept your request")

	// Only owners decide.
	bob.post("/g/choir/join", url.Values{})
	ann.get("/g/choir/members")
	if code, _ := ann.post(fmt.Sprintf("/g/choir/requests/%d/approve", bobID), url.Values{}); code != http.StatusForbidden {
		t.Errorf("a member approving a request: %d, want 403", code)
	}

	// Invitation only.
	ann.get("/explore")
	if code, body := ann.post("/g/inner/join", url.Values{}); code != http.StatusForbidden || !strings.Contains(body, "invitation only") {
		t.Errorf("joining an invitation-only group uninvited: %d, want 403", code)
	}
}

// TestInviteByEmail: owners invite by address; the emailed link joins
// the member it was sent to, tells anyone else it is not theirs, and
// sends a visitor to sign in first.
func TestInviteByEmail(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	groupsMake(t, w, "inner", "Inner Circle", "join_policy = 'invite', listed = false")

	olga := groupsLogin(t, w, "olga@example.org")
	if code, _ := olga.get("/g/inner/invite"); code != 200 {
		t.Fatalf("the invite form: %d", code)
	}
	code, body := olga.post("/g/inner/invite", url.Values{"addresses": {"ann@example.org, nonsense"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="addresses-error"`) || !strings.Contains(body, "nonsense") {
		t.Fatalf("inviting a bad address: %d, want 422 naming it", code)
	}
	code, body = olga.post("/g/inner/invite", url.Values{"addresses": {"ANN@example.org\nnewbie@example.org"}})
	if code != 200 || !strings.Contains(body, "Invitations sent: 2 addresses") {
		t.Fatalf("inviting: %d", code)
	}
	annID := groupsUserID(t, w, "ann@example.org")
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1 AND status = 'invited'`, annID) != 1 {
		t.Error("an invited member with an account has no invited membership")
	}
	link := w.mailLink(t, "ann@example.org", "/g/inner/accept-invite")
	groupsMail(t, w, "newbie@example.org", "sign up with this address (newbie@example.org)")
	path := strings.TrimPrefix(link, w.url)

	// Someone else's account.
	bob := groupsLogin(t, w, "bob@example.org")
	if code, body := bob.get(path); code != http.StatusForbidden || !strings.Contains(body, "This invitation is for someone else") {
		t.Errorf("another member opening the link: %d", code)
	}
	// A tampered link.
	if code, _ := bob.get(path + "x"); code != http.StatusBadRequest {
		t.Errorf("a tampered link: %d, want 400", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1`, groupsUserID(t, w, "bob@example.org")) != 0 {
		t.Error("the wrong member joined")
	}

	// Signed out: sign in first, then back to the link.
	anon := w.client(t)
	code, body = anon.get(path)
	if code != 200 || groupsAt(anon) != "/login" || !strings.Contains(body, "Log in as ann@example.org") || !strings.Contains(body, "Sign up with that address") {
		t.Fatalf("a visitor opening the link: %d at %s, want the login page explaining", code, groupsAt(anon))
	}
	next := anon.last.Request.URL.Query().Get("next")
	code, body = anon.post("/login", url.Values{"email": {"ann@example.org"}, "password": {groupsPassword}, "next": {next}})
	if code != 200 || groupsAt(anon) != "/g/inner/accept-invite" || !strings.Contains(body, "Join Inner Circle") {
		t.Fatalf("after signing in: %d at %s, want the invitation's confirmation page", code, groupsAt(anon))
	}
	// Opening the link changed nothing (a link scanner may open it); the
	// page's one button joins.
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1 AND status = 'active'`, annID) != 0 {
		t.Error("opening the invitation link (GET) joined the group")
	}
	tok, _ := url.QueryUnescape(regexp.MustCompile(`token=([^&\s]+)`).FindStringSubmatch(link)[1])
	code, body = anon.post("/g/inner/accept-invite", url.Values{"token": {tok}})
	if code != 200 || groupsAt(anon) != "/g/inner" || !strings.Contains(body, "You joined Inner Circle") {
		t.Fatalf("accepting: %d at %s, want the group page", code, groupsAt(anon))
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships WHERE user_id = $1 AND status = 'active'`, annID) != 1 {
		t.Error("the invited member did not join")
	}
	// Members cannot invite.
	anon.get("/g/inner")
	if code, _ := anon.post("/g/inner/invite", url.Values{"addresses": {"x@example.org"}}); code != http.StatusForbidden {
		t.Errorf("a member inviting: %d, want 403", code)
	}
}

// TestGroupsPrivacy: a group that is not listed is a 404 (not a 403) to
// those outside it, members list visibility is honoured, and members do
// not edit.
func TestGroupsPrivacy(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	groupsMake(t, w, "hidden", "Hidden Garden", "listed = false, join_policy = 'request'")
	groupsMake(t, w, "quiet", "Quiet Readers", "member_list_visibility = 'owners'")
	groupsAddMember(t, w, "quiet", "ann@example.org", "active")

	bob := groupsLogin(t, w, "bob@example.org")
	for _, p := range []string{"/g/hidden", "/g/hidden/members", "/g/hidden/edit", "/g/hidden/invite", "/g/hidden/leave", "/g/no-such-group"} {
		if code, body := bob.get(p); code != http.StatusNotFound || strings.Contains(body, "Hidden Garden") {
			t.Errorf("GET %s as a non-member: %d, want 404 that names nothing", p, code)
		}
	}
	if code, _ := bob.post("/g/hidden/join", url.Values{}); code != http.StatusNotFound {
		t.Errorf("POST join to a hidden group: %d, want 404", code)
	}
	if _, body := bob.get("/explore?q=garden"); strings.Contains(body, "Hidden Garden") {
		t.Error("Explore lists an unlisted group")
	}

	ann := groupsLogin(t, w, "ann@example.org")
	code, body := ann.get("/g/quiet")
	if code != 200 || strings.Contains(body, "See all members") {
		t.Errorf("a member's page of an owners-only member list: %d, want no members link", code)
	}
	if code, body := ann.get("/g/quiet/members"); code != http.StatusForbidden || strings.Contains(body, "Ann</a>") {
		t.Errorf("a member opening an owners-only member list: %d, want 403", code)
	}
	olga := groupsLogin(t, w, "olga@example.org")
	if code, body := olga.get("/g/quiet/members"); code != 200 || !strings.Contains(body, "Ann") || !strings.Contains(body, "ann@example.org") {
		t.Errorf("the owner's member list: %d", code)
	}
	if code, _ := ann.get("/g/quiet/edit"); code != http.StatusForbidden {
		t.Errorf("a member editing: %d, want 403", code)
	}
	ann.get("/g/quiet")
	if code, _ := ann.post("/g/quiet/edit", groupsForm("Mine Now", "quiet")); code != http.StatusForbidden {
		t.Errorf("a member saving the edit form: %d, want 403", code)
	}
	annID := groupsUserID(t, w, "ann@example.org")
	if code, _ := ann.post(fmt.Sprintf("/g/quiet/members/%d/role", annID), url.Values{"role": {"owner"}}); code != http.StatusForbidden {
		t.Errorf("a member making herself owner: %d, want 403", code)
	}

	// Owners change roles and remove members.
	olga.get("/g/quiet/members")
	if code, body := olga.post(fmt.Sprintf("/g/quiet/members/%d/role", annID), url.Values{"role": {"moderator"}}); code != 200 || !strings.Contains(body, "Ann is now a moderator") {
		t.Errorf("making a moderator: %d", code)
	}
	olgaID := groupsUserID(t, w, "olga@example.org")
	if code, body := olga.post(fmt.Sprintf("/g/quiet/members/%d/role", olgaID), url.Values{"role": {"member"}}); code != 200 || !strings.Contains(body, "at least one owner") {
		t.Errorf("demoting the last owner: %d, want a clear refusal", code)
	}
	if code, body := olga.post(fmt.Sprintf("/g/quiet/members/%d/remove", annID), url.Values{}); code != 200 || !strings.Contains(body, "Ann is no longer in Quiet Readers") {
		t.Errorf("removing a member: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action IN ('membership.set', 'membership.remove') AND target_id = 'quiet'`) != 2 {
		t.Error("role changes and removals are not audited")
	}
}

// TestGroupsXSSInert: names, descriptions, locations, category names
// and messages with markup render as text or sanitised HTML on Explore
// and the group page.
func TestGroupsXSSInert(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	root := groupsLogin(t, w, "root@example.org")
	root.get("/admin/categories")
	evil := `<script>alert(1)</script>`
	if code, _ := root.post("/admin/categories", url.Values{"slug": {"evil"}, "name": {evil + " Cat"}, "color": {"#ff0000"}}); code != 200 {
		t.Fatalf("creating a category: %d", code)
	}
	root.get("/groups/new")
	f := groupsForm(evil+` "onerror=alert(1)`, "evil")
	f.Set("category", "evil")
	f.Set("description", evil+"\n\n<img src=x onerror=alert(1)> [click](javascript:alert(1)) <a href=\"javascript:alert(2)\">x</a> <a href=\"JaVaScRiPt:alert(3)\">y</a>")
	f.Set("location", `"><script>alert(1)</script>`)
	f.Set("display_location", `" onmouseover="alert(1)`)
	if code, body := root.post("/groups/new", f); code != 200 || groupsAt(root) != "/g/evil" {
		t.Fatalf("creating the group: %d at %s\n%s", code, groupsAt(root), body)
	}
	w.sql(t, `INSERT INTO threads (group_id, subject, message_count) SELECT id, $1, 1 FROM groups WHERE slug = 'evil'`, evil)
	w.sql(t, `INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		SELECT t.id, t.group_id, u.id, 'x1@test', 's', $1, 'web', 'approved' FROM threads t, users u WHERE u.email = 'root@example.org'`,
		evil+` <svg onload=alert(1)> [x](javascript:alert(1))`)
	w.sql(t, `UPDATE groups SET listed = true, join_policy = 'open' WHERE slug = 'evil'`)

	ann := groupsLogin(t, w, "ann@example.org")
	hrefJS := regexp.MustCompile(`(?i)(href|src|action)\s*=\s*["']?\s*javascript:`)
	handler := regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)
	for _, who := range []*webClient{ann, root} {
		for _, p := range []string{"/explore", "/g/evil", "/admin/categories"} {
			code, body := who.get(p)
			if p == "/admin/categories" && who == ann {
				continue
			}
			if code != 200 {
				t.Fatalf("GET %s: %d", p, code)
			}
			if strings.Contains(body, "<script>alert") {
				t.Errorf("%s has a live <script>", p)
			}
			if m := hrefJS.FindString(body); m != "" {
				t.Errorf("%s has a javascript: link: %s", p, m)
			}
			if m := handler.FindString(body); m != "" {
				t.Errorf("%s has an event handler attribute: %s", p, m)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s does not show the name as text", p)
			}
		}
	}
}

// TestGroupsPageThreadsAndSettings: the group page shows the latest
// threads (the newest open, the others as a line and an excerpt) with
// only what the viewer may see, the compose box to those who may post,
// the owners with their staff badge, the popular links, and the member's
// email setting, which they change there.
func TestGroupsPageThreadsAndSettings(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	w.createUser(t, "carl@example.org", "Carl", groupsPassword, false)
	w.createUser(t, "dave@example.org", "Dave", groupsPassword, false)
	w.sql(t, `UPDATE users SET is_staff = true WHERE email = 'olga@example.org'`)
	groupsMake(t, w, "owls", "Owl Friends", "description = 'All about **owls**.'")
	for _, e := range []string{"ann@example.org", "bob@example.org"} {
		groupsAddMember(t, w, "owls", e, "active")
	}
	groupsAddMember(t, w, "owls", "carl@example.org", "banned")
	w.sql(t, `
		INSERT INTO threads (group_id, subject, message_count, last_message_at)
			SELECT id, 'Older thread', 2, now() - interval '2 days' FROM groups WHERE slug = 'owls';
		INSERT INTO threads (group_id, subject, message_count, last_message_at)
			SELECT id, 'Newest thread', 4, now() - interval '1 hour' FROM groups WHERE slug = 'owls';
		INSERT INTO threads (group_id, subject, message_count, last_message_at, private_member_id)
			SELECT g.id, 'Private matter', 1, now(), u.id FROM groups g, users u WHERE g.slug = 'owls' AND u.email = 'ann@example.org';
		INSERT INTO threads (group_id, subject, message_count, last_message_at)
			SELECT id, 'Ghost thread', 0, now() FROM groups WHERE slug = 'owls'`)
	msg := func(thread, author, id, body, status string, age int) {
		w.sql(t, `INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at)
			SELECT t.id, t.group_id, u.id, $3, t.subject, $4, 'web', $5, now() - make_interval(mins => $6)
			FROM threads t, users u WHERE t.subject = $1 AND u.email = $2`, thread, author, id, body, status, age)
	}
	msg("Older thread", "ann@example.org", "o1@test", "First words, see https://example.org/popular", "approved", 3000)
	msg("Older thread", "bob@example.org", "o2@test", "Older excerpt text https://example.org/popular and https://example.org/once", "approved", 2900)
	msg("Newest thread", "ann@example.org", "n1@test", "Hello **owl people** https://example.org/popular", "approved", 120)
	msg("Newest thread", "bob@example.org", "n2@test", "Held words", "held", 110)
	msg("Newest thread", "bob@example.org", "n3@test", "Flagged words https://example.org/flagged", "approved", 100)
	msg("Newest thread", "carl@example.org", "n4@test", "Banned words https://example.org/banned", "approved", 90)
	msg("Private matter", "ann@example.org", "p1@test", "Secret words https://secret.example.org/x", "approved", 10)
	w.sql(t, `INSERT INTO flags (message_id, flagged_by, reason) SELECT m.id, u.id, 'rude' FROM messages m, users u
		WHERE m.message_id = 'n3@test' AND u.email = 'ann@example.org'`)

	ann := groupsLogin(t, w, "ann@example.org")
	code, body := ann.get("/g/owls")
	if code != 200 {
		t.Fatalf("the group page: %d", code)
	}
	for _, want := range []string{"<strong>owls</strong>", "Newest thread", "<strong>owl people</strong>", "Older thread", "2 messages",
		"Older excerpt text", `href="/g/owls/t/`, "Staff member", `href="/people/`, "See all members", "Write to the owners",
		`action="/g/owls/threads"`, `name="subject"`, `name="body"`, "owls@lists.test", "https://example.org/popular", "https://example.org/once"} {
		if !strings.Contains(body, want) {
			t.Errorf("the member's group page lacks %q", want)
		}
	}
	if want := fmt.Sprintf(`href="/people/%d">Ann</a>`, groupsUserID(t, w, "ann@example.org")); !strings.Contains(body, want) {
		t.Errorf("the newest thread's author does not link to her profile (%s)", want)
	}
	for _, hidden := range []string{"Held words", "Flagged words", "Banned words", "Private matter", "Ghost thread", "secret.example.org",
		"example.org/flagged", "example.org/banned"} {
		if strings.Contains(body, hidden) {
			t.Errorf("the member's group page shows %q", hidden)
		}
	}
	links := regexp.MustCompile(`(?s)<ol class="links">.*?</ol>`).FindString(body)
	if i, j := strings.Index(links, "https://example.org/popular"), strings.Index(links, "https://example.org/once"); i < 0 || j < 0 || i > j {
		t.Errorf("popular links are not listed most posted first: %s", links)
	}
	bob := groupsLogin(t, w, "bob@example.org")
	if _, body := bob.get("/g/owls"); !strings.Contains(body, "Held words") || !strings.Contains(body, "Flagged words") {
		t.Error("the author does not see his own held and flagged messages")
	}
	olga := groupsLogin(t, w, "olga@example.org")
	if _, body := olga.get("/g/owls"); !strings.Contains(body, "Flagged words") || strings.Contains(body, "Banned words") {
		t.Error("the owner should see the flagged message but not the banned member's")
	}
	// A reader of a public group who is not a member reads, but gets a
	// Join button instead of the compose box.
	dave := groupsLogin(t, w, "dave@example.org")
	if _, body := dave.get("/g/owls"); !strings.Contains(body, "Newest thread") || strings.Contains(body, `action="/g/owls/threads"`) ||
		!strings.Contains(body, `action="/g/owls/join"`) || strings.Contains(body, "My email setting") {
		t.Error("a non-member of a public group: want threads and a Join button, no compose box and no email setting")
	}

	// The email setting.
	code, body = ann.post("/g/owls/delivery", url.Values{"delivery": {"weekly"}})
	if code != 200 || !strings.Contains(body, "Your email setting for Owl Friends is now: A weekly digest") ||
		!strings.Contains(body, `<option value="weekly" selected>`) {
		t.Fatalf("changing the email setting: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'ann@example.org' AND m.delivery = 'weekly'`) != 1 {
		t.Error("the email setting is not saved")
	}
	if code, _ := ann.post("/g/owls/delivery", url.Values{"delivery": {"hourly"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown email setting: %d, want 400", code)
	}
	dave.get("/g/owls")
	if code, _ := dave.post("/g/owls/delivery", url.Values{"delivery": {"none"}}); code != http.StatusForbidden {
		t.Errorf("a non-member changing an email setting: %d, want 403", code)
	}
}

// TestCategoryAdmin: superusers and holders of manage_categories manage
// categories; the form shows errors beside fields; deleting one leaves
// its groups without a category.
func TestCategoryAdmin(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	ann := groupsLogin(t, w, "ann@example.org")
	if code, _ := ann.get("/admin/categories"); code != http.StatusForbidden {
		t.Fatalf("categories without the permission: %d, want 403", code)
	}
	if code, _ := ann.post("/admin/categories", url.Values{"slug": {"x"}, "name": {"X"}, "color": {"#000000"}}); code != http.StatusForbidden {
		t.Fatalf("creating a category without the permission: %d, want 403", code)
	}
	w.sql(t, `UPDATE users SET permissions = '{manage_categories}' WHERE email = 'ann@example.org'`)
	if code, _ := ann.get("/admin/categories"); code != 200 {
		t.Fatalf("categories with manage_categories: %d", code)
	}
	code, body := ann.post("/admin/categories", url.Values{"slug": {"Bad Slug"}, "name": {""}, "color": {"red"}})
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad category: %d, want 422", code)
	}
	for _, want := range []string{`id="slug-error"`, `id="name-error"`, `id="color-error"`, `value="Bad Slug"`, "The name is required."} {
		if !strings.Contains(body, want) {
			t.Errorf("the category form lacks %q", want)
		}
	}
	if code, body := ann.post("/admin/categories", url.Values{"slug": {"music"}, "name": {"Music"}, "color": {"#6B3FA0"}}); code != 200 ||
		!strings.Contains(body, "The category Music is created") || !strings.Contains(body, "cat-5") {
		t.Fatalf("creating a category: %d", code)
	}
	if code, body := ann.post("/admin/categories", url.Values{"slug": {"music"}, "name": {"Music again"}, "color": {"#000000"}}); code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Another category has this slug") {
		t.Errorf("a taken slug: %d, want 422", code)
	}
	id := w.queryInt(t, `SELECT id FROM categories WHERE slug = 'music'`)
	groupsMake(t, w, "band", "The Band", fmt.Sprintf("category_id = %d", id))
	if code, body := ann.get(fmt.Sprintf("/admin/categories/%d/edit", id)); code != 200 || !strings.Contains(body, `value="Music"`) {
		t.Fatalf("the edit form: %d", code)
	}
	if code, _ := ann.post(fmt.Sprintf("/admin/categories/%d", id), url.Values{"slug": {"music"}, "name": {"Music and Song"}, "color": {"#00796b"}}); code != 200 {
		t.Fatalf("saving a category: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM categories WHERE name = 'Music and Song' AND color = '#00796b'`) != 1 {
		t.Error("the category is not saved")
	}
	// Its edit page shows the history: who created it, who changed what.
	if _, body := ann.get(fmt.Sprintf("/admin/categories/%d/edit", id)); !strings.Contains(body, "created: Music (music)") ||
		!strings.Contains(body, `changed name from &#34;Music&#34; to &#34;Music and Song&#34;`) {
		t.Errorf("the category's history is missing or wrong:\n%s", body)
	}
	if code, body := ann.post(fmt.Sprintf("/admin/categories/%d/delete", id), url.Values{}); code != 200 || !strings.Contains(body, "is deleted") {
		t.Fatalf("deleting a category: %d", code)
	}
	if w.queryInt(t, `SELECT count(*) FROM groups WHERE slug = 'band' AND category_id IS NULL`) != 1 {
		t.Error("the group still has the deleted category")
	}
	if w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action LIKE 'category.%'`) != 3 {
		t.Error("category changes are not all audited")
	}
}

// TestJoinRequestsInBulk: an owner approves the ticked requests at once;
// the others stay pending, and a member cannot decide.
func TestJoinRequestsInBulk(t *testing.T) {
	t.Parallel()
	w := groupsSite(t)
	groupsMake(t, w, "quilters", "Quilters", "join_policy = 'request'")
	w.createUser(t, "cy@example.org", "Cy", groupsPassword, false)
	w.sql(t, `INSERT INTO memberships (group_id, user_id, status) SELECT g.id, u.id, 'requested' FROM groups g, users u
		WHERE g.slug = 'quilters' AND u.email IN ('ann@example.org', 'bob@example.org', 'cy@example.org')`)
	id := func(email string) string {
		return strconv.Itoa(w.queryInt(t, `SELECT id FROM users WHERE email = $1`, email))
	}
	olga := groupsLogin(t, w, "olga@example.org")
	code, body := olga.get("/g/quilters/members")
	if code != 200 || !strings.Contains(body, `form="bulk-requests"`) || !strings.Contains(body, "Approve selected") {
		t.Fatalf("members page: %d, no bulk form", code)
	}
	code, body = olga.post("/g/quilters/requests", url.Values{"decision": {"approve"}, "user": {id("ann@example.org"), id("bob@example.org")}})
	if code != 200 || !strings.Contains(body, "2 approved") {
		t.Fatalf("bulk approve: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = 'quilters' AND m.status = 'active' AND m.role = 'member'`); n != 2 {
		t.Errorf("%d members after approving two, want 2", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = 'quilters' AND m.status = 'requested'`); n != 1 {
		t.Errorf("%d requests left, want Cy's", n)
	}
	groupsMail(t, w, "bob@example.org", "Your request to join Quilters is approved")
	ann := groupsLogin(t, w, "ann@example.org")
	ann.get("/g/quilters")
	if code, _ := ann.post("/g/quilters/requests", url.Values{"decision": {"approve"}, "user": {id("cy@example.org")}}); code != http.StatusForbidden {
		t.Errorf("a member deciding requests: %d, want 403", code)
	}
}
