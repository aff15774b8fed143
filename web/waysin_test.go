package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The ways into every feature: each page a role may use is reached by
// following links from the start page, links lead to pages that answer,
// and what a reader may not see is neither linked nor listed.

// hrefRE finds links, and the targets of GET forms (the search box).
var hrefRE = regexp.MustCompile(`(?:href="|<form[^>]* method="get" action=")([^"]+)"`)

// crawl follows every same-site GET link from start, breadth first, as
// client, and returns the paths (without the query) it reached. A link
// that answers a 4xx or 5xx fails the test with the page it was on.
func crawl(t *testing.T, c *testClient, start string, limit int) map[string]bool {
	t.Helper()
	reached := map[string]bool{}
	seen := map[string]bool{start: true}
	type hop struct{ path, from string }
	queue := []hop{{start, ""}}
	for len(queue) > 0 && len(seen) <= limit {
		h := queue[0]
		queue = queue[1:]
		code, body := c.get(h.path)
		if code == http.StatusSeeOther || code == http.StatusFound {
			next := c.last.Header.Get("Location")
			if strings.HasPrefix(next, "/") && !seen[next] {
				seen[next] = true
				queue = append(queue, hop{next, h.path})
			}
			continue
		}
		if code >= 400 {
			t.Errorf("%s (linked from %s) answered %d", h.path, h.from, code)
			continue
		}
		u, _ := url.Parse(h.path)
		reached[u.Path] = true
		if !strings.Contains(c.last.Header.Get("Content-Type"), "text/html") {
			continue
		}
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			if i := strings.IndexByte(link, '#'); i >= 0 {
				link = link[:i]
			}
			if !strings.HasPrefix(link, "/") || strings.HasPrefix(link, "//") || skipCrawl(link) || seen[link] {
				continue
			}
			seen[link] = true
			queue = append(queue, hop{link, h.path})
		}
	}
	return reached
}

// skipCrawl leaves out what is not a page: files, downloads, and the
// signed-out pages a signed-in member is sent away from.
func skipCrawl(link string) bool {
	for _, p := range []string{"/static/", "/pictures/", "/dev/", "/login", "/signup", "/api/"} {
		if strings.HasPrefix(link, p) {
			return true
		}
	}
	u, err := url.Parse(link)
	if err != nil {
		return true
	}
	return strings.HasSuffix(u.Path, ".csv") || strings.HasSuffix(u.Path, "/mbox") || strings.HasSuffix(u.Path, "/download") ||
		strings.HasSuffix(u.Path, "/thumb")
}

// TestEveryFeatureReachable crawls the site from the start page as a
// newcomer, a member, a group owner, a holder of moderate_groups and a
// superuser: every page each may use is reached by links alone, no link
// answers an error, and pages they may not use are not linked.
func TestEveryFeatureReachable(t *testing.T) {
	s := newTestSite(t)
	newcomer := s.user("new@example.org", "Newcomer")
	member := s.user("member@example.org", "Member")
	owner := s.user("owner@example.org", "Owner")
	modAll := s.user("mod@example.org", "Mod All")
	s.exec(`UPDATE users SET permissions = '{moderate_groups}' WHERE id = $1`, modAll)
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'owner')`, s.groupID, member, owner)
	// A held post waits on the panel.
	s.exec(`INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		VALUES ($1, $2, $3, 'held-1@lists.test', 'Re: Hello', 'Held reply', 'web', 'held')`, s.threadID, s.groupID, member)
	var msgID int64
	if err := s.st.Pool().QueryRow(t.Context(), `SELECT id FROM messages WHERE thread_id = $1 AND status = 'approved'`, s.threadID).Scan(&msgID); err != nil {
		t.Fatal(err)
	}
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	common := []string{"/", "/explore", "/inbox", "/compose", "/search", "/resources", "/account", "/g/crawl"}
	admin := []string{"/admin/users", "/admin/dashboard", "/admin/reports/users", "/admin/reports/groups", "/admin/categories",
		"/admin/tags", "/admin/invite", "/admin/import", "/admin/bounces", "/admin/mail/failed", "/admin/flags", "/admin/gallery"}
	for _, tc := range []struct {
		name   string
		id     int64
		want   []string
		absent []string
	}{
		{"newcomer", newcomer, common, append([]string{"/g/crawl/moderation", "/groups/new"}, admin...)},
		{"member", member, append([]string{thread, fmt.Sprintf("/messages/%d/flag", msgID)}, common...),
			append([]string{"/g/crawl/moderation", "/g/crawl/members/invite"}, admin...)},
		{"owner", owner, append([]string{thread, "/g/crawl/moderation", "/g/crawl/edit", "/g/crawl/invite", "/g/crawl/members"}, common...), admin},
		{"moderator of all groups", modAll, append([]string{"/g/crawl/moderation", "/admin/flags"}, common...),
			[]string{"/admin/users", "/admin/dashboard", "/admin/categories", "/admin/tags"}},
		{"superuser", s.rootID, append(append([]string{thread, "/g/crawl/moderation", "/groups/new"}, common...), admin...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached := crawl(t, s.signIn(tc.id), "/", 400)
			var missing, extra []string
			for _, p := range tc.want {
				if !reached[p] {
					missing = append(missing, p)
				}
			}
			for _, p := range tc.absent {
				if reached[p] {
					extra = append(extra, p)
				}
			}
			if len(missing) > 0 || len(extra) > 0 {
				var all []string
				for p := range reached {
					all = append(all, p)
				}
				sort.Strings(all)
				t.Errorf("not reached by links: %v; reached but not theirs: %v\nreached: %v", missing, extra, all)
			}
		})
	}
	s.noErrors()
}

// TestModerationWaitingLinks: the group page shows its owners and
// moderators the panel with the number waiting (held and flagged), and
// the inbox, whose badge counts held posts, leads there; members get
// neither.
func TestModerationWaitingLinks(t *testing.T) {
	s := newTestSite(t)
	member := s.user("member@example.org", "Member")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, member)
	s.exec(`INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		VALUES ($1, $2, $3, 'held-1@lists.test', 'Re: Hello', 'Held reply', 'web', 'held')`, s.threadID, s.groupID, member)
	s.exec(`INSERT INTO flags (message_id, flagged_by) SELECT id, $2 FROM messages WHERE thread_id = $1 AND status = 'approved'`, s.threadID, member)

	root := s.signIn(s.rootID)
	code, body := root.get("/g/crawl")
	if code != 200 || !strings.Contains(body, `href="/g/crawl/moderation">Moderation <span class="badge" aria-label="2 waiting">2</span>`) {
		t.Errorf("owner's group page: %d, no link to the panel with 2 waiting:\n%s", code, body)
	}
	code, body = root.get("/inbox")
	if code != 200 || !strings.Contains(body, `<a href="/g/crawl/moderation">Crawl</a> <span class="badge" aria-label="2 waiting">2</span>`) {
		t.Errorf("owner's inbox: %d, no link to the panel with 2 waiting:\n%s", code, body)
	}
	if code, _ := root.get("/g/crawl/moderation"); code != 200 {
		t.Errorf("the panel answered %d", code)
	}

	bob := s.signIn(member)
	for _, p := range []string{"/g/crawl", "/inbox"} {
		if code, body := bob.get(p); code != 200 || strings.Contains(body, "/g/crawl/moderation") {
			t.Errorf("member's %s: %d, links the moderation panel", p, code)
		}
	}
	s.noErrors()
}

// TestAdminMenuForEveryAdminPermission: whoever holds one permission
// behind an Admin tab gets the Admin menu, landing on a page they may use
// with the tabs they may use; others get neither.
func TestAdminMenuForEveryAdminPermission(t *testing.T) {
	s := newTestSite(t)
	for _, tc := range []struct {
		perm, land string
		tabs, not  []string
	}{
		{"", "", nil, nil},
		{"create_groups", "", nil, nil},
		{"moderate_groups", "/admin/flags", []string{"/admin/flags"}, []string{"/admin/users", "/admin/categories"}},
		{"manage_categories", "/admin/categories", []string{"/admin/categories", "/admin/tags"}, []string{"/admin/flags", "/admin/users"}},
		{"view_reports", "/admin/dashboard", []string{"/admin/dashboard", "/admin/reports/users"}, []string{"/admin/flags", "/admin/users"}},
		{"manage_users", "/admin/users", []string{"/admin/users", "/admin/invite", "/admin/import"}, []string{"/admin/flags", "/admin/categories"}},
	} {
		t.Run("permission "+tc.perm, func(t *testing.T) {
			id := s.user(tc.perm+"x@example.org", "Holder")
			if tc.perm != "" {
				s.exec(`UPDATE users SET permissions = ARRAY[$2] WHERE id = $1`, id, tc.perm)
			}
			c := s.signIn(id)
			_, home := c.get("/")
			hasMenu := strings.Contains(home, `<a href="/admin">Admin</a>`)
			if hasMenu != (tc.land != "") {
				t.Fatalf("Admin menu shown: %v, want %v", hasMenu, tc.land != "")
			}
			if tc.land == "" {
				return
			}
			if code, _ := c.get("/admin"); code != http.StatusSeeOther || c.last.Header.Get("Location") != tc.land {
				t.Fatalf("/admin: %d to %q, want %s", code, c.last.Header.Get("Location"), tc.land)
			}
			code, body := c.get(tc.land)
			if code != 200 || !strings.Contains(body, `<nav class="tabs" aria-label="Admin">`) {
				t.Fatalf("%s: %d, without the Admin tabs", tc.land, code)
			}
			for _, p := range tc.tabs {
				if !strings.Contains(body, `href="`+p+`"`) {
					t.Errorf("%s: no tab %s", tc.land, p)
				}
				if code, _ := c.get(p); code != 200 {
					t.Errorf("tab %s answered %d", p, code)
				}
			}
			for _, p := range tc.not {
				if strings.Contains(body, `href="`+p+`"`) {
					t.Errorf("%s: tab %s shown to a holder of %s only", tc.land, p, tc.perm)
				}
			}
		})
	}
	s.noErrors()
}

// TestFlagReturnsAndHiddenThreadsUnlisted: flagging goes back to the
// thread with a flash while the flagger still sees some of it, and to the
// inbox once they see none; a thread whose every message is hidden from
// a member (flagged, by an author the group banned) is not on the group
// page or in search, while its moderators still see it.
func TestFlagReturnsAndHiddenThreadsUnlisted(t *testing.T) {
	s := newTestSite(t)
	bob := s.user("bob@example.org", "Bob")
	carol := s.user("carol@example.org", "Carol")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member'), ($1, $3, 'member')`, s.groupID, bob, carol)
	var two, three, first, second int64
	if err := s.st.Pool().QueryRow(t.Context(), `
		WITH t2 AS (INSERT INTO threads (group_id, subject, message_count) VALUES ($1, 'Two', 2) RETURNING id),
		     t3 AS (INSERT INTO threads (group_id, subject, message_count) VALUES ($1, 'Three', 1) RETURNING id),
		     m1 AS (INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, approved_at, created_at)
		            SELECT id, $1, $2, 'two-1@lists.test', 'Two', 'First of two', 'web', 'approved', now(), now() - interval '1 minute' FROM t2 RETURNING id),
		     m2 AS (INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, approved_at)
		            SELECT id, $1, $2, 'two-2@lists.test', 'Re: Two', 'Second of two', 'web', 'approved', now() FROM t2 RETURNING id),
		     m3 AS (INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, approved_at)
		            SELECT id, $1, $3, 'three-1@lists.test', 'Three', 'Zebras crossing', 'web', 'approved', now() FROM t3)
		SELECT t2.id, t3.id, m1.id, m2.id FROM t2, t3, m1, m2`, s.groupID, s.rootID, carol).Scan(&two, &three, &first, &second); err != nil {
		t.Fatal(err)
	}
	var hello int64
	if err := s.st.Pool().QueryRow(t.Context(), `SELECT id FROM messages WHERE thread_id = $1`, s.threadID).Scan(&hello); err != nil {
		t.Fatal(err)
	}
	b := s.signIn(bob)

	// A message of a thread with another: back to the thread.
	if code, _ := b.get(fmt.Sprintf("/messages/%d/flag", first)); code != 200 {
		t.Fatalf("flag page: %d", code)
	}
	code, _ := b.post(fmt.Sprintf("/messages/%d/flag", first), url.Values{"reason": {"rude"}})
	want := fmt.Sprintf("/g/crawl/t/%d", two)
	if code != http.StatusSeeOther || b.last.Header.Get("Location") != want {
		t.Fatalf("flag: %d to %q, want 303 to %s", code, b.last.Header.Get("Location"), want)
	}
	code, body := b.get(want)
	if code != 200 || !strings.Contains(body, "Thank you: moderators will review it") ||
		strings.Contains(body, fmt.Sprintf(`id="m%d"`, first)) || !strings.Contains(body, fmt.Sprintf(`id="m%d"`, second)) {
		t.Fatalf("after flagging: %d, want the thread without the flagged message, with the flash:\n%s", code, body)
	}

	// The only message of a thread: back to the inbox, which no longer
	// lists it.
	code, _ = b.post(fmt.Sprintf("/messages/%d/flag", hello), url.Values{})
	if code != http.StatusSeeOther || b.last.Header.Get("Location") != "/inbox" {
		t.Fatalf("flag the only message: %d to %q, want 303 to /inbox", code, b.last.Header.Get("Location"))
	}
	code, body = b.get("/inbox")
	if code != 200 || !strings.Contains(body, "Thank you: moderators will review it") {
		t.Fatalf("inbox after flagging: %d, no flash", code)
	}
	helloLink := fmt.Sprintf(`/g/crawl/t/%d"`, s.threadID)
	threeLink := fmt.Sprintf(`/g/crawl/t/%d"`, three)
	if code, _ := b.get(strings.TrimSuffix(helloLink, `"`)); code != http.StatusNotFound {
		t.Errorf("the flagged thread answered %d to bob, want 404 (hence unlisted)", code)
	}

	// Carol is banned from the group: her thread goes from bob's lists.
	s.exec(`UPDATE memberships SET status = 'banned' WHERE group_id = $1 AND user_id = $2`, s.groupID, carol)
	_, group := b.get("/g/crawl")
	_, search := b.get("/search?q=zebras")
	for what, page := range map[string]string{"group page": group, "search": search} {
		if strings.Contains(page, threeLink) {
			t.Errorf("bob's %s lists the thread of a banned author", what)
		}
		if strings.Contains(page, helloLink) {
			t.Errorf("bob's %s lists the thread he flagged", what)
		}
	}
	if !strings.Contains(group, fmt.Sprintf(`/g/crawl/t/%d"`, two)) {
		t.Errorf("the thread bob still sees part of is not listed for him")
	}

	// The owner (a moderator) still has the flagged thread listed; the
	// banned author's is listed for them exactly when it opens for them.
	r := s.signIn(s.rootID)
	_, rootGroup := r.get("/g/crawl")
	if !strings.Contains(rootGroup, helloLink) {
		t.Errorf("the owner's group page lacks the flagged thread")
	}
	code, _ = r.get(strings.TrimSuffix(threeLink, `"`))
	if strings.Contains(rootGroup, threeLink) != (code == 200) {
		t.Errorf("the banned author's thread answers the owner %d, yet listed on the group page: %v", code, strings.Contains(rootGroup, threeLink))
	}
	s.noErrors()
}

// TestThreadPageActions: a member's thread page offers Reply (to the
// form) and Archive, which puts the thread away and lands on the inbox.
func TestThreadPageActions(t *testing.T) {
	s := newTestSite(t)
	bob := s.user("bob@example.org", "Bob")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, bob)
	b := s.signIn(bob)
	path := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	code, body := b.get(path)
	if code != 200 || !strings.Contains(body, `<a class="button" href="#body">Reply</a>`) || !strings.Contains(body, `id="body"`) ||
		!strings.Contains(body, `action="/inbox/archive"`) {
		t.Fatalf("thread page: %d, without Reply and Archive:\n%s", code, body)
	}
	code, _ = b.post("/inbox/archive", url.Values{"view": {"inbox"}, "thread": {fmt.Sprint(s.threadID)}})
	if code != http.StatusSeeOther || b.last.Header.Get("Location") != "/inbox" {
		t.Fatalf("archive: %d to %q", code, b.last.Header.Get("Location"))
	}
	_, inbox := b.get("/inbox")
	if !strings.Contains(inbox, "1 thread archived.") || strings.Contains(inbox, path+`"`) {
		t.Errorf("after Archive the inbox still lists the thread or has no flash")
	}
	_, archived := b.get("/inbox?view=archive")
	if !strings.Contains(archived, path+`"`) {
		t.Errorf("the archived thread is not in the Archive view")
	}

	// A signed-out visitor of the public archive gets neither.
	s.exec(`UPDATE groups SET archive_public = true WHERE id = $1`, s.groupID)
	_, visitor := s.signIn(0).get(path)
	if strings.Contains(visitor, `action="/inbox/archive"`) || strings.Contains(visitor, `href="#body">Reply`) {
		t.Errorf("a visitor is offered Archive or Reply")
	}
	s.noErrors()
}
