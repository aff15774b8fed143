package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These tests drive the thread pages (issue 8) of a real parleyd: posting
// through the mail path, moderation, flags, bans, private threads, the
// archive with its mbox downloads, search, and what signed-out visitors
// may read.

const threadsPassword = "correct horse battery"

// threadsSite starts parleyd with the people the thread tests use: an
// owner, members ann, bob and carol, and an outsider, all verified.
func threadsSite(t *testing.T) *webSite {
	t.Helper()
	w := startWeb(t, "")
	for _, name := range []string{"owner", "ann", "bob", "carol", "outsider"} {
		w.createUser(t, name+"@example.org", strings.ToUpper(name[:1])+name[1:], threadsPassword, false)
	}
	return w
}

// threadsGroup creates a group; settings are "listed", "open",
// "moderated", "archive" (a public archive), and owner@ owns it.
func threadsGroup(t *testing.T, w *webSite, slug string, settings ...string) int {
	t.Helper()
	has := func(s string) bool {
		for _, x := range settings {
			if x == s {
				return true
			}
		}
		return false
	}
	policy := "invite"
	if has("open") {
		policy = "open"
	}
	id := w.queryInt(t, `INSERT INTO groups (slug, name, listed, join_policy, moderated, archive_public) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		slug, "Group "+slug, has("listed"), policy, has("moderated"), has("archive"))
	threadsMember(t, w, slug, "owner", "owner", "active")
	return id
}

// threadsMember sets who@example.org's membership of the group.
func threadsMember(t *testing.T, w *webSite, slug, who, role, status string) {
	t.Helper()
	w.sql(t, `INSERT INTO memberships (group_id, user_id, role, status)
		SELECT g.id, u.id, $3, $4 FROM groups g, users u WHERE g.slug = $1 AND u.email = $2 || '@example.org'
		ON CONFLICT (group_id, user_id) DO UPDATE SET role = EXCLUDED.role, status = EXCLUDED.status`, slug, who, role, status)
}

func threadsLogin(t *testing.T, w *webSite, who string) *webClient {
	t.Helper()
	c := w.client(t)
	c.login(who+"@example.org", threadsPassword)
	return c
}

var threadsPathRe = regexp.MustCompile(`^/g/[a-z0-9-]+/t/(\d+)$`)

// threadsPost starts a thread from the group page's compose box and
// returns the thread's path, where the post leads.
func threadsPost(t *testing.T, c *webClient, slug, subject, body string) (string, string) {
	t.Helper()
	c.get("/compose")
	code, page := c.post("/g/"+slug+"/threads", url.Values{"subject": {subject}, "body": {body}})
	path := c.last.Request.URL.Path
	if code != http.StatusOK || !threadsPathRe.MatchString(path) {
		t.Fatalf("posting to %s: %d at %s\n%s", slug, code, path, page)
	}
	return path, page
}

// threadsReply replies on the thread page and returns the page after.
func threadsReply(t *testing.T, c *webClient, path, body string) string {
	t.Helper()
	c.get(path)
	code, page := c.post(path+"/reply", url.Values{"body": {body}})
	if code != http.StatusOK || c.last.Request.URL.Path != path {
		t.Fatalf("reply to %s: %d at %s\n%s", path, code, c.last.Request.URL.Path, page)
	}
	return page
}

func threadsMustSee(t *testing.T, c *webClient, path string, want ...string) string {
	t.Helper()
	code, page := c.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	for _, s := range want {
		if !strings.Contains(page, s) {
			t.Fatalf("GET %s does not show %q", path, s)
		}
	}
	return page
}

func threadsMustNotSee(t *testing.T, c *webClient, path string, hidden ...string) {
	t.Helper()
	code, page := c.get(path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	for _, s := range hidden {
		if strings.Contains(page, s) {
			t.Fatalf("GET %s shows %q", path, s)
		}
	}
}

// threadsDeliveries waits until the fan-out job has queued the message
// with body to want@, then returns how many deliveries of it each of the
// others got. It polls: the job runs after the post commits.
func threadsDeliveries(t *testing.T, w *webSite, body, want string, others ...string) map[string]int {
	t.Helper()
	q := `SELECT count(*) FROM deliveries d JOIN users u ON u.id = d.user_id JOIN messages m ON m.id = d.message_id
		WHERE m.body = $1 AND u.email = $2 || '@example.org'`
	if w.waitInt(t, func(n int) bool { return n > 0 }, q, body, want) == 0 {
		t.Fatalf("no delivery of %q to %s", body, want)
	}
	out := map[string]int{}
	for _, o := range others {
		out[o] = w.queryInt(t, q, body, o)
	}
	return out
}

func TestThreadPostReplyAndModeration(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "owls", "listed", "open")
	threadsGroup(t, w, "hoots", "listed", "open", "moderated")
	threadsGroup(t, w, "secret")
	for _, g := range []string{"owls", "hoots", "secret"} {
		threadsMember(t, w, g, "ann", "member", "active")
		threadsMember(t, w, g, "bob", "member", "active")
	}
	ann, bob, outsider := threadsLogin(t, w, "ann"), threadsLogin(t, w, "bob"), threadsLogin(t, w, "outsider")

	t.Run("compose", func(t *testing.T) {
		page := threadsMustSee(t, ann, "/compose", `<option value="owls"`, `<option value="hoots"`, "(moderated)")
		if !strings.Contains(page, `<label for="group">`) {
			t.Fatal("the group select has no label")
		}
		code, page := ann.post("/compose", url.Values{"group": {"owls"}, "subject": {"First hoot"}, "body": {"Hello **owls**"}})
		path := ann.last.Request.URL.Path
		if code != 200 || !threadsPathRe.MatchString(path) || !strings.Contains(page, "First hoot") || !strings.Contains(page, "<strong>owls</strong>") {
			t.Fatalf("compose: %d at %s", code, path)
		}
		if !strings.Contains(page, `href="/inbox">Back to Inbox`) || !regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT`).MatchString(page) {
			t.Fatal("the thread page lacks its inbox link or its times")
		}
		// The web post went the mail path: a delivery for the other member.
		threadsDeliveries(t, w, "Hello **owls**", "bob")
		m := regexp.MustCompile(`id="m(\d+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, path+"#m"+m[1]) {
			t.Fatal("no permalink anchor and link")
		}
		if w.queryInt(t, `SELECT count(*) FROM thread_states ts JOIN users u ON u.id = ts.user_id
			WHERE u.email = 'ann@example.org' AND ts.read_at IS NOT NULL`) == 0 {
			t.Fatal("opening the thread did not mark it read")
		}

		page = threadsReply(t, bob, path, "A reply from Bob")
		if !strings.Contains(page, "Hello <strong>owls</strong>") || !strings.Contains(page, "A reply from Bob") {
			t.Fatal("the reply is not in the thread")
		}
		if strings.Index(page, "Hello <strong>owls</strong>") > strings.Index(page, "A reply from Bob") {
			t.Fatal("messages are not oldest first")
		}
	})

	t.Run("form errors", func(t *testing.T) {
		ann.get("/compose")
		code, page := ann.post("/g/owls/threads", url.Values{"subject": {"  "}, "body": {"kept text"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Write a subject") || !strings.Contains(page, "kept text") ||
			!strings.Contains(page, `aria-invalid="true"`) {
			t.Fatalf("empty subject: %d", code)
		}
		code, page = ann.post("/compose", url.Values{"group": {"secret-not-mine"}, "subject": {"s"}, "body": {"b"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose one of your groups") {
			t.Fatalf("a group that is not mine: %d", code)
		}
		path, _ := threadsPost(t, ann, "owls", "Errors", "first")
		ann.get(path)
		if code, page := ann.post(path+"/reply", url.Values{"body": {" "}}); code != http.StatusUnprocessableEntity || !strings.Contains(page, "Write a message") {
			t.Fatalf("empty reply: %d", code)
		}
	})

	t.Run("non-members", func(t *testing.T) {
		outsider.get("/compose")
		// Refused, with the text kept in the form beside the reason.
		code, page := outsider.post("/g/owls/threads", url.Values{"subject": {"s"}, "body": {"kept words"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Join the group first") || !strings.Contains(page, ">kept words</textarea>") {
			t.Fatalf("non-member posting to a listed group: %d", code)
		}
		if code, _ := outsider.post("/g/secret/threads", url.Values{"subject": {"s"}, "body": {""}}); code != http.StatusNotFound {
			t.Fatalf("non-member posting to a private group: %d, want 404", code)
		}
	})

	t.Run("held", func(t *testing.T) {
		owner := threadsLogin(t, w, "owner")
		path, _ := threadsPost(t, owner, "hoots", "Moderated talk", "The owner speaks")
		ann.get(path)
		_, page := ann.post(path+"/reply", url.Values{"body": {"Ann's held words"}})
		if !strings.Contains(page, "Your message is awaiting moderation.") || !strings.Contains(page, "Awaiting moderation") ||
			!strings.Contains(page, "held words") {
			t.Fatal("the author does not see their held reply as awaiting moderation")
		}
		threadsMustSee(t, bob, path, "The owner speaks")
		threadsMustNotSee(t, bob, path, "held words")
		threadsMustSee(t, owner, path, "held words")

		// A thread of nothing but a held post does not exist for others.
		held, _ := threadsPost(t, ann, "hoots", "Held thread", "only held")
		if code, _ := bob.get(held); code != http.StatusNotFound {
			t.Fatalf("a thread with only a held message: %d for another member, want 404", code)
		}
	})
}

func TestThreadFlagAndBan(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "owls", "listed", "open", "archive")
	for _, who := range []string{"ann", "bob", "carol"} {
		threadsMember(t, w, "owls", who, "member", "active")
	}
	owner, ann, bob, carol := threadsLogin(t, w, "owner"), threadsLogin(t, w, "ann"), threadsLogin(t, w, "bob"), threadsLogin(t, w, "carol")
	path, _ := threadsPost(t, owner, "owls", "Manners", "Be kind")
	page := threadsReply(t, ann, path, "Something rude")
	id := regexp.MustCompile(`id="m(\d+)"`).FindAllStringSubmatch(page, -1)
	msgID := id[len(id)-1][1]
	if strings.Contains(page, "/messages/"+msgID+"/flag") {
		t.Fatal("the author is offered to flag their own message")
	}

	t.Run("flag", func(t *testing.T) {
		threadsMustSee(t, bob, path, "/messages/"+msgID+"/flag")
		threadsMustSee(t, bob, "/messages/"+msgID+"/flag", "Flag this message?", "Something rude")
		code, page := bob.post("/messages/"+msgID+"/flag", url.Values{"reason": {"rude"}})
		if code != 200 || bob.last.Request.URL.Path != path || !strings.Contains(page, "Thank you: moderators will review it") {
			t.Fatalf("flagging: %d at %s", code, bob.last.Request.URL.Path)
		}
		if strings.Contains(page, "Something rude") {
			t.Fatal("the flagger still sees the message")
		}
		bob.get("/messages/" + msgID + "/flag")
		if code, _ := bob.post("/messages/"+msgID+"/flag", url.Values{}); code != http.StatusNotFound {
			t.Fatalf("flagging a message one no longer sees: %d", code)
		}
		threadsMustNotSee(t, carol, path, "Something rude")
		threadsMustSee(t, ann, path, "Something rude", "Flagged")
		threadsMustSee(t, owner, path, "Something rude")
		if n := w.queryInt(t, `SELECT count(*) FROM flags WHERE message_id = $1`, msgID); n != 1 {
			t.Fatalf("%d flags, want 1", n)
		}
		anon := w.client(t)
		threadsMustNotSee(t, anon, path, "Something rude")
	})

	t.Run("ban", func(t *testing.T) {
		threadsReply(t, carol, path, "Carol was here")
		threadsMustSee(t, bob, path, "Carol was here")
		threadsMember(t, w, "owls", "carol", "member", "banned")
		threadsMustNotSee(t, bob, path, "Carol was here")
		threadsMustNotSee(t, owner, path, "Carol was here")
		threadsMustNotSee(t, w.client(t), path, "Carol was here")
		// The group's archive is public, so carol still reads the thread,
		// and her own words in it.
		threadsMustSee(t, carol, path, "Carol was here", "banned")
	})
}

func TestPrivateGroupThreadIs404(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "secret")
	threadsMember(t, w, "secret", "ann", "member", "active")
	ann := threadsLogin(t, w, "ann")
	path, _ := threadsPost(t, ann, "secret", "Hidden plans", "nobody else")
	id := threadsPathRe.FindStringSubmatch(path)[1]

	outsider := threadsLogin(t, w, "outsider")
	for _, p := range []string{path, path + "/mbox", "/g/secret/archive", "/search?q=plans&group=secret"} {
		if code, page := outsider.get(p); code != http.StatusNotFound || strings.Contains(page, "Hidden plans") {
			t.Errorf("non-member GET %s: %d, want 404", p, code)
		}
	}
	if code, _ := w.client(t).get(path); code != http.StatusNotFound {
		t.Errorf("visitor GET %s: %d, want 404", path, code)
	}
	// The thread id in another group's path is not found either.
	threadsGroup(t, w, "open", "listed", "open")
	if code, _ := outsider.get("/g/open/t/" + id); code != http.StatusNotFound {
		t.Errorf("the thread under another group's path: %d", code)
	}

	out, stderr, code := runCmd(t, w.env, "", "create-token", "outsider@example.org")
	if code != 0 {
		t.Fatalf("create-token: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	req, _ := http.NewRequest("GET", w.url+"/api/v1/threads/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+lines[len(lines)-1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || strings.Contains(string(body), "Hidden plans") {
		t.Fatalf("API GET /threads/%s by a non-member: %d %s", id, res.StatusCode, body)
	}
}

func TestPrivateThreadToOwners(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "owls", "listed", "open", "moderated", "archive")
	threadsMember(t, w, "owls", "ann", "member", "active")
	threadsMember(t, w, "owls", "bob", "member", "active")
	ann, bob, owner := threadsLogin(t, w, "ann"), threadsLogin(t, w, "bob"), threadsLogin(t, w, "owner")

	threadsMustSee(t, ann, "/g/owls/contact-owners", "Write to the owners", `<label for="subject">`)
	code, page := ann.post("/g/owls/contact-owners", url.Values{"subject": {"A private word"}, "body": {"Just between us owls"}})
	path := ann.last.Request.URL.Path
	if code != 200 || !threadsPathRe.MatchString(path) || !strings.Contains(page, "sent to the group") ||
		!strings.Contains(page, "Just between us owls") || strings.Contains(page, "Awaiting moderation") {
		t.Fatalf("writing to the owners: %d at %s", code, path)
	}
	if code, _ := ann.post("/g/owls/contact-owners", url.Values{"subject": {""}, "body": {""}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("empty private message: %d", code)
	}
	// Mailed to the owner only: never to the other member.
	if n := threadsDeliveries(t, w, "Just between us owls", "owner", "bob"); n["bob"] != 0 {
		t.Fatal("a private message was delivered to another member")
	}

	threadsMustSee(t, owner, path, "Just between us owls")
	threadsReply(t, owner, path, "The owner answers")
	threadsMustSee(t, ann, path, "The owner answers")
	if code, page := bob.get(path); code != http.StatusNotFound || strings.Contains(page, "between us") {
		t.Fatalf("another member reading the private thread: %d, want 404", code)
	}
	// A visitor is sent to sign in, as for any thread they may not read.
	anon := w.client(t)
	if code, page := anon.get(path); code != 200 || anon.last.Request.URL.Path != "/login" || strings.Contains(page, "between us") {
		t.Fatalf("a visitor reading the private thread: %d at %s", code, anon.last.Request.URL.Path)
	}
	bob.get("/compose")
	if code, _ := bob.post(path+"/reply", url.Values{"body": {"let me in"}}); code != http.StatusNotFound {
		t.Fatalf("another member replying to the private thread: %d", code)
	}
	threadsMustNotSee(t, bob, "/g/owls/archive", "1 thread")
	threadsMustNotSee(t, bob, "/search?q=owls+between", "between us")
	if code, _ := w.client(t).get("/g/owls/contact-owners"); code != 200 {
		t.Fatalf("a visitor is not sent to sign in: %d", code)
	}
	if code, _ := threadsLogin(t, w, "outsider").get("/g/owls/contact-owners"); code != http.StatusForbidden {
		t.Fatalf("a non-member writing to the owners: %d, want 403", code)
	}
}

func TestThreadArchiveAndMbox(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "owls", "listed", "open")
	threadsGroup(t, w, "public-owls", "archive")
	threadsGroup(t, w, "hidden-owls")
	for _, g := range []string{"owls", "public-owls", "hidden-owls"} {
		threadsMember(t, w, g, "ann", "member", "active")
	}
	ann := threadsLogin(t, w, "ann")
	body := "From the start of time\n>From a quote\nowls everywhere"
	path, _ := threadsPost(t, ann, "owls", "Mbox test", body)
	month := time.Now().UTC().Format("2006-01")

	t.Run("archive", func(t *testing.T) {
		threadsMustSee(t, ann, "/g/owls/archive", "/g/owls/archive/"+month, "1 thread")
		threadsMustSee(t, ann, "/g/owls/archive/"+month, "Mbox test", path)
		if code, _ := ann.get("/g/owls/archive/2026-13"); code != http.StatusNotFound {
			t.Fatalf("a month that is not: %d", code)
		}
	})

	t.Run("mbox", func(t *testing.T) {
		for _, p := range []string{path + "/mbox", "/g/owls/archive/" + month + "/mbox"} {
			code, mbox := ann.get(p)
			h := ann.last.Header
			if code != 200 || h.Get("Content-Type") != "application/mbox" || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
				t.Fatalf("GET %s: %d %q %q", p, code, h.Get("Content-Type"), h.Get("Content-Disposition"))
			}
			if !strings.HasPrefix(mbox, "From owls@lists.test ") {
				t.Fatalf("%s does not start with a From_ line:\n%s", p, mbox)
			}
			for _, want := range []string{"\n>From the start of time\n", "\n>>From a quote\n", "Subject: Mbox test\n",
				"From: \"Ann\" <owls@lists.test>\n", "Content-Type: text/plain; charset=utf-8\n"} {
				if !strings.Contains(mbox, want) {
					t.Fatalf("%s lacks %q:\n%s", p, want, mbox)
				}
			}
			if strings.Contains(mbox, "ann@example.org") {
				t.Fatalf("%s shows the member's own address", p)
			}
		}
		// Readers who are not members (the group is public) get nothing.
		bob := threadsLogin(t, w, "bob")
		threadsMustSee(t, bob, path, "owls everywhere")
		for _, p := range []string{path + "/mbox", "/g/owls/archive/" + month + "/mbox"} {
			if code, _ := bob.get(p); code != http.StatusNotFound {
				t.Fatalf("non-member GET %s: %d, want 404", p, code)
			}
		}
	})

	t.Run("public archive", func(t *testing.T) {
		pub, _ := threadsPost(t, ann, "public-owls", "Open to the world", "Everyone may read this")
		hid, _ := threadsPost(t, ann, "hidden-owls", "Members only", "Only members read this")
		anon := w.client(t)
		threadsMustSee(t, anon, "/g/public-owls/archive", "/g/public-owls/archive/"+month)
		threadsMustSee(t, anon, "/g/public-owls/archive/"+month, "Open to the world")
		page := threadsMustSee(t, anon, pub, "Everyone may read this", "Log in</a> to reply")
		if strings.Contains(page, "/flag") || strings.Contains(page, "/mbox") {
			t.Fatal("a visitor is offered to flag or download")
		}
		threadsMustSee(t, anon, "/search?q=everyone&group=public-owls", "Open to the world")
		threadsMustSee(t, anon, "/search?q=read", "Open to the world")
		threadsMustNotSee(t, anon, "/search?q=read", "Members only", "Mbox test")
		if code, _ := anon.get(pub + "/mbox"); code != 200 || anon.last.Request.URL.Path != "/login" {
			t.Fatalf("a visitor downloading: %d at %s, want the login page", code, anon.last.Request.URL.Path)
		}
		// Members-only is the default: a listed group's archive sends a
		// visitor to sign in, an unlisted group's is not found.
		if code, _ := anon.get("/g/owls/archive"); code != 200 || anon.last.Request.URL.Path != "/login" {
			t.Fatalf("visitor, members-only listed archive: %d at %s, want the login page", code, anon.last.Request.URL.Path)
		}
		if code, _ := anon.get(path); code != 200 || anon.last.Request.URL.Path != "/login" {
			t.Fatalf("visitor, members-only thread: %d at %s", code, anon.last.Request.URL.Path)
		}
		for _, p := range []string{"/g/hidden-owls/archive", hid} {
			if code, page := anon.get(p); code != http.StatusNotFound || strings.Contains(page, "Only members") {
				t.Fatalf("visitor GET %s: %d, want 404", p, code)
			}
		}
	})
}

func TestThreadSearch(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	threadsGroup(t, w, "owls", "listed", "open")
	threadsGroup(t, w, "secret")
	threadsMember(t, w, "owls", "ann", "member", "active")
	threadsMember(t, w, "secret", "bob", "member", "active")
	ann, bob := threadsLogin(t, w, "ann"), threadsLogin(t, w, "bob")
	threadsPost(t, ann, "owls", "Night birds", "A barn owl sat on the branch")
	threadsPost(t, bob, "secret", "Council", "The owls council meets at midnight, quietly")

	page := threadsMustSee(t, ann, "/search?q=owls", "Night birds", "<mark>owl</mark>", "Group owls")
	if strings.Contains(page, "Council") || strings.Contains(page, "midnight") {
		t.Fatal("search shows a message of a group the viewer cannot read")
	}
	threadsMustSee(t, ann, "/search?q=midnight", "Nothing found")
	threadsMustSee(t, bob, "/search?q=owls&group=secret", "Council", "<mark>owls</mark>")
	if code, _ := ann.get("/search?q=owls&group=secret"); code != http.StatusNotFound {
		t.Fatalf("searching a group one cannot read: %d, want 404", code)
	}
	page = threadsMustSee(t, ann, "/search", `<label for="q">`)
	if strings.Contains(page, "Nothing found") {
		t.Fatal("an empty query searched")
	}
}

// threadsDangerous are the three classic injections, in every place a
// member's text reaches a page.
var threadsDangerous = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"

// threadsInert fails when the served page holds live markup from
// threadsDangerous: an element, an event handler or a javascript: link.
// (Escaped text such as "&lt;img src=x onerror=…" is inert, and fine.)
func threadsInert(t *testing.T, where, page string) {
	t.Helper()
	if strings.Contains(page, "<script>alert") {
		t.Errorf("%s: a script element", where)
	}
	if regexp.MustCompile(`<[a-zA-Z][^>]*\sonerror\s*=`).MatchString(page) {
		t.Errorf("%s: an element with onerror=", where)
	}
	if strings.Contains(strings.ToLower(page), `href="javascript:`) {
		t.Errorf("%s: a javascript: link", where)
	}
}

func TestThreadXSSInert(t *testing.T) {
	t.Parallel()
	w := threadsSite(t)
	w.createUser(t, "eve@example.org", "Eve <script>alert(1)</script><img src=x onerror=alert(1)>", threadsPassword, false)
	threadsGroup(t, w, "owls", "listed", "open", "archive")
	threadsMember(t, w, "owls", "eve", "member", "active")
	eve := threadsLogin(t, w, "eve")
	path, page := threadsPost(t, eve, "owls", "xsssubject "+threadsDangerous, "xssbody "+threadsDangerous)
	threadsInert(t, "thread page", page)
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("the subject or name is not shown as text")
	}
	anon := w.client(t)
	for _, p := range []string{path, "/search?q=xssbody", "/search?q=xsssubject", "/g/owls/archive/" + time.Now().UTC().Format("2006-01")} {
		for _, c := range []*webClient{eve, anon} {
			page := threadsMustSee(t, c, p, "xss")
			threadsInert(t, p, page)
		}
	}
	threadsMustSee(t, eve, "/search?q=xssbody", "<mark>xssbody</mark>")
	m := regexp.MustCompile(`/messages/(\d+)/flag`)
	bobPage := threadsMustSee(t, threadsLogin(t, w, "bob"), path)
	if id := m.FindStringSubmatch(bobPage); id != nil {
		threadsInert(t, "flag page", threadsMustSee(t, threadsLogin(t, w, "bob"), "/messages/"+id[1]+"/flag"))
	} else {
		t.Fatal("no flag link for a reader")
	}
}
