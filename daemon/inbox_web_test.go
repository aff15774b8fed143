package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The inbox's pages, driven as a browser without JavaScript would.

const inboxPassword = "correct horse battery"

// inboxUser makes a member and returns their id.
func inboxUser(t *testing.T, w *webSite, email, name string) int {
	t.Helper()
	w.createUser(t, email, name, inboxPassword, false)
	return w.queryInt(t, `SELECT id FROM users WHERE email = $1`, email)
}

// inboxGroup makes a group and returns its id.
func inboxGroup(t *testing.T, w *webSite, slug, name string) int {
	t.Helper()
	return w.queryInt(t, `INSERT INTO groups (slug, name) VALUES ($1, $2) RETURNING id`, slug, name)
}

func inboxJoin(t *testing.T, w *webSite, groupID, userID int, role, status string) {
	t.Helper()
	w.sql(t, `INSERT INTO memberships (group_id, user_id, role, status) VALUES ($1, $2, $3, $4)`, groupID, userID, role, status)
}

// inboxThread adds a thread with one approved message, its last activity
// minutesAgo minutes ago; privateTo is the member of a private thread,
// or 0. It returns the thread's id.
func inboxThread(t *testing.T, w *webSite, groupID, author int, subject string, minutesAgo, privateTo int) int {
	t.Helper()
	var private any
	if privateTo != 0 {
		private = privateTo
	}
	id := w.queryInt(t, `INSERT INTO threads (group_id, subject, created_by, message_count, last_message_at, private_member_id)
		VALUES ($1, $2, $3, 1, now() - make_interval(mins => $4), $5) RETURNING id`, groupID, subject, author, minutesAgo, private)
	inboxMessage(t, w, id, "approved", "About "+subject)
	return id
}

// inboxMessage adds a message to a thread (without counting it).
func inboxMessage(t *testing.T, w *webSite, threadID int, status, body string) {
	t.Helper()
	w.sql(t, `INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		SELECT t.id, t.group_id, t.created_by, 'inbox-' || t.id || '-' || (SELECT count(*) FROM messages) || '@test', t.subject, $2, 'web', $3
		FROM threads t WHERE t.id = $1`, threadID, body, status)
}

// inboxLink is the subject link of a thread as the inbox renders it,
// bold (unread) or not.
func inboxLink(slug string, id int, unread bool) string {
	class := "subject"
	if unread {
		class += " unread"
	}
	return fmt.Sprintf(`<a class="%s" href="/g/%s/t/%d">`, class, slug, id)
}

var inboxBadgeRe = regexp.MustCompile(`<span class="badge" aria-label="(\d+) unread">(\d+)</span>`)

// inboxBadge is the number on the Messages link of the page; 0 when
// there is no badge.
func inboxBadge(t *testing.T, body string) int {
	t.Helper()
	m := inboxBadgeRe.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

func inboxGet(t *testing.T, c *webClient, path string) string {
	t.Helper()
	code, body := c.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

func TestInboxWeb(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	ann := inboxUser(t, w, "ann@example.org", "Ann")
	bob := inboxUser(t, w, "bob@example.org", "Bob")
	birds, bees, secret := inboxGroup(t, w, "birds", "Birds"), inboxGroup(t, w, "bees", "Bees"), inboxGroup(t, w, "secret", "Secret")
	for _, g := range []int{birds, bees} {
		inboxJoin(t, w, g, ann, "member", "active")
	}
	for _, g := range []int{birds, bees, secret} {
		inboxJoin(t, w, g, bob, "member", "active")
	}
	owls := inboxThread(t, w, birds, bob, "Owls at dusk", 10, 0)
	wrens := inboxThread(t, w, birds, bob, "Wrens nesting", 20, 0)
	hive := inboxThread(t, w, bees, bob, "Hive inspection", 30, 0)
	swarm := inboxThread(t, w, bees, bob, "Swarm season", 40, 0)
	hidden := inboxThread(t, w, secret, bob, "Secret plans", 5, 0)
	bobPrivate := inboxThread(t, w, birds, bob, "Bob to the owners", 1, bob)
	annPrivate := inboxThread(t, w, birds, ann, "Ann to the owners", 50, ann)
	empty := w.queryInt(t, `INSERT INTO threads (group_id, subject, created_by) VALUES ($1, 'Still held', $2) RETURNING id`, birds, bob)
	inboxMessage(t, w, empty, "held", "Waiting for a moderator")

	c := w.client(t)
	c.login("ann@example.org", inboxPassword)

	t.Run("unread threads are bold, newest first", func(t *testing.T) {
		body := inboxGet(t, c, "/inbox")
		var at []int
		for _, s := range []string{inboxLink("birds", owls, true), inboxLink("birds", wrens, true), inboxLink("bees", hive, true),
			inboxLink("bees", swarm, true), inboxLink("birds", annPrivate, true)} {
			i := strings.Index(body, s)
			if i < 0 {
				t.Fatalf("the inbox lacks %s", s)
			}
			at = append(at, i)
		}
		for i := 1; i < len(at); i++ {
			if at[i] < at[i-1] {
				t.Errorf("thread %d is listed out of order", i)
			}
		}
		for _, s := range []string{"Secret plans", "Bob to the owners", "Still held"} {
			if strings.Contains(body, s) {
				t.Errorf("the inbox shows %q", s)
			}
		}
		if !strings.Contains(body, "About Owls at dusk") {
			t.Error("no excerpt of the last message")
		}
		if !strings.Contains(body, `<a href="/inbox" aria-current="page">Inbox</a>`) {
			t.Error("the Inbox tab is not marked current")
		}
		if got := inboxBadge(t, body); got != 5 {
			t.Errorf("badge %d, want 5 unread threads", got)
		}
	})

	t.Run("read threads are not bold", func(t *testing.T) {
		w.sql(t, `INSERT INTO thread_states (user_id, thread_id, read_at) VALUES ($1, $2, now())`, ann, owls)
		body := inboxGet(t, c, "/inbox")
		if !strings.Contains(body, inboxLink("birds", owls, false)) {
			t.Error("a read thread is still bold")
		}
		if got := inboxBadge(t, body); got != 4 {
			t.Errorf("badge %d, want 4", got)
		}
		if body := inboxGet(t, c, "/inbox?view=unread"); strings.Contains(body, "Owls at dusk") || !strings.Contains(body, "Wrens nesting") {
			t.Error("the unread view lists a read thread or misses an unread one")
		}
	})

	t.Run("archive and a new message bring it back", func(t *testing.T) {
		inboxGet(t, c, "/inbox")
		_, body := c.post("/inbox/archive", url.Values{"view": {"inbox"}, "thread": {strconv.Itoa(owls)}})
		if c.last.Request.URL.RequestURI() != "/inbox" || !strings.Contains(body, "1 thread archived.") {
			t.Fatalf("after archiving: at %s, flash missing", c.last.Request.URL)
		}
		if strings.Contains(body, "Owls at dusk") {
			t.Error("an archived thread is still in the inbox")
		}
		body = inboxGet(t, c, "/inbox?view=archive")
		if !strings.Contains(body, inboxLink("birds", owls, false)) || strings.Contains(body, "Wrens nesting") {
			t.Error("the archive does not list just the archived thread")
		}
		// Someone replies.
		w.sql(t, `UPDATE threads SET last_message_at = now() + interval '1 minute', message_count = 2 WHERE id = $1`, owls)
		body = inboxGet(t, c, "/inbox")
		if !strings.Contains(body, inboxLink("birds", owls, true)) {
			t.Error("a new message does not bring the thread back to the inbox, unread")
		}
		if body := inboxGet(t, c, "/inbox?view=archive"); strings.Contains(body, "Owls at dusk") {
			t.Error("the thread with a new message is still in the archive")
		}
	})

	t.Run("filter by group", func(t *testing.T) {
		body := inboxGet(t, c, "/inbox?group=bees")
		if !strings.Contains(body, "Hive inspection") || !strings.Contains(body, "Swarm season") || strings.Contains(body, "Wrens nesting") {
			t.Error("the bees filter lists the wrong threads")
		}
		if !strings.Contains(body, `<option value="bees" selected>Bees</option>`) {
			t.Error("the filter does not show the chosen group")
		}
		if code, _ := c.get("/inbox?group=secret"); code != http.StatusNotFound {
			t.Errorf("filtering by a group I am not in: %d, want 404", code)
		}
		if code, _ := c.get("/inbox?view=bogus"); code != http.StatusBadRequest {
			t.Errorf("an unknown view: %d, want 400", code)
		}
		if code, _ := c.get("/inbox?before=garbage"); code != http.StatusBadRequest {
			t.Errorf("a bad cursor: %d, want 400", code)
		}
	})

	t.Run("select all archives only the current filter", func(t *testing.T) {
		inboxGet(t, c, "/inbox?group=bees")
		_, body := c.post("/inbox/archive", url.Values{"view": {"inbox"}, "group": {"bees"}, "all": {"1"}})
		if c.last.Request.URL.RequestURI() != "/inbox?group=bees" || !strings.Contains(body, "2 threads archived.") {
			t.Fatalf("select all: at %s, no flash", c.last.Request.URL)
		}
		body = inboxGet(t, c, "/inbox")
		if strings.Contains(body, "Hive inspection") || strings.Contains(body, "Swarm season") || !strings.Contains(body, "Wrens nesting") {
			t.Error("select all in bees archived the wrong threads")
		}
		if n := w.queryInt(t, `SELECT count(*) FROM thread_states WHERE user_id = $1 AND archived_at IS NOT NULL`, ann); n != 3 {
			t.Errorf("%d archived states, want 3 (Owls earlier, and the two of bees)", n)
		}
		// And back, with the archive's own select all.
		inboxGet(t, c, "/inbox?view=archive&group=bees")
		if _, body := c.post("/inbox/unarchive", url.Values{"view": {"archive"}, "group": {"bees"}, "all": {"1"}}); !strings.Contains(body, "2 threads moved to the inbox.") {
			t.Error("unarchiving all of bees")
		}
	})

	t.Run("forged ids change nothing", func(t *testing.T) {
		inboxGet(t, c, "/inbox")
		form := url.Values{"view": {"inbox"}}
		for _, id := range []int{hidden, bobPrivate, empty} {
			form.Add("thread", strconv.Itoa(id))
		}
		_, body := c.post("/inbox/archive", form)
		if !strings.Contains(body, "Nothing to archive") {
			t.Error("archiving threads of others said something was archived")
		}
		c.get("/inbox")
		c.post("/inbox/read", form)
		if n := w.queryInt(t, `SELECT count(*) FROM thread_states WHERE thread_id IN ($1, $2, $3)`, hidden, bobPrivate, empty); n != 0 {
			t.Errorf("%d states written for threads Ann may not see", n)
		}
		if code, _ := c.post("/inbox/archive", url.Values{"view": {"inbox"}, "thread": {"x"}}); code != http.StatusBadRequest {
			t.Errorf("a malformed id: %d, want 400", code)
		}
		c.get("/inbox")
		if code, _ := c.post("/inbox/archive", url.Values{"view": {"inbox"}, "group": {"secret"}, "all": {"1"}}); code != http.StatusNotFound {
			t.Errorf("select all in a group I am not in: %d, want 404", code)
		}
		c.get("/inbox")
		if _, body := c.post("/inbox/archive", url.Values{"view": {"inbox"}}); !strings.Contains(body, "Choose some threads first") {
			t.Error("an empty selection does not say so")
		}
	})

	t.Run("private threads of others never show", func(t *testing.T) {
		c.get("/inbox")
		c.post("/inbox/read", url.Values{"view": {"inbox"}, "all": {"1"}})
		for _, p := range []string{"/inbox", "/inbox?view=unread", "/inbox?view=archive", "/inbox?group=birds"} {
			if body := inboxGet(t, c, p); strings.Contains(body, "Bob to the owners") {
				t.Errorf("%s shows Bob's private thread", p)
			}
		}
		if body := inboxGet(t, c, "/inbox?group=birds"); !strings.Contains(body, "Ann to the owners") {
			t.Error("Ann's own private thread is missing")
		}
	})

	t.Run("empty views", func(t *testing.T) {
		body := inboxGet(t, c, "/inbox?view=unread")
		if !strings.Contains(body, "Nothing unread.") || !strings.Contains(body, `<a href="/explore">Explore groups to join.</a>`) {
			t.Error("the empty unread view does not say so and link to Explore")
		}
		if got := inboxBadge(t, body); got != 0 {
			t.Errorf("badge %d with nothing unread", got)
		}
	})

	t.Run("pages", func(t *testing.T) {
		w.sql(t, `INSERT INTO threads (group_id, subject, created_by, message_count, last_message_at)
			SELECT $1, 'Bulk ' || i, $2, 1, now() - interval '1 day' - i * interval '1 minute' FROM generate_series(1, 60) i`, bees, bob)
		body := inboxGet(t, c, "/inbox?group=bees")
		if !strings.Contains(body, "Bulk 1<") || strings.Contains(body, "Bulk 50<") {
			t.Error("the first page is not the newest 50")
		}
		m := regexp.MustCompile(`<a href="(/inbox\?[^"]*before=[^"]+)" rel="next">Older</a>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no link to older threads")
		}
		body = inboxGet(t, c, strings.ReplaceAll(m[1], "&amp;", "&"))
		if !strings.Contains(body, "Bulk 50<") || !strings.Contains(body, "Bulk 60<") || strings.Contains(body, "Bulk 47<") ||
			strings.Contains(body, `rel="next"`) || !strings.Contains(body, ">Newest</a>") {
			t.Error("the second page is not the rest, with a way back")
		}
	})
}

// TestInboxBadgeWeb: the Messages badge adds held messages for
// moderators and join requests for owners.
func TestInboxBadgeWeb(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	mem := inboxUser(t, w, "mem@example.org", "Mem")
	mod := inboxUser(t, w, "mod@example.org", "Mod")
	own := inboxUser(t, w, "own@example.org", "Own")
	asker := inboxUser(t, w, "asker@example.org", "Asker")
	g := inboxGroup(t, w, "birds", "Birds")
	inboxJoin(t, w, g, mem, "member", "active")
	inboxJoin(t, w, g, mod, "moderator", "active")
	inboxJoin(t, w, g, own, "owner", "active")
	inboxJoin(t, w, g, asker, "member", "requested")
	th := inboxThread(t, w, g, mem, "Owls", 5, 0)
	inboxMessage(t, w, th, "held", "one")
	inboxMessage(t, w, th, "held", "two")

	for _, c := range []struct {
		email string
		want  int
	}{
		{"mem@example.org", 1},   // the unread thread
		{"mod@example.org", 3},   // and two held messages
		{"own@example.org", 4},   // and a request to join
		{"asker@example.org", 0}, // not a member yet
	} {
		t.Run(c.email, func(t *testing.T) {
			cl := w.client(t)
			cl.login(c.email, inboxPassword)
			if got := inboxBadge(t, inboxGet(t, cl, "/inbox")); got != c.want {
				t.Errorf("badge %d, want %d", got, c.want)
			}
		})
	}
}
