package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/emersion/go-message"
)

// The acceptance test of groups and their conversations, in a real
// headless Chromium: a superuser sets up a moderated group, a member asks
// to join and posts, a moderator approves, others reply, read, archive
// and flag. Every step is what a person clicks and types, checked by what
// they then see; SQL only makes the accounts and reads facts to assert.

const (
	bgPassword = "correct horse battery"
	bgGroup    = "night-herons"
	bgSubject  = "Heron at dusk"
	bgAnnBody  = "A black-crowned night heron stood by the reeds until the light was gone."
	bgCatBody  = "Lovely. I saw two of them fishing below the weir last night."
	bgReason   = "This looks like a copied photo caption."
	// bgDeliveryWait bounds the fan-out of an approved message to the
	// members' deliveries, which a background job may do.
	bgDeliveryWait = 20 * time.Second
)

func TestBrowserGroupsAndMessages(t *testing.T) {
	chromium := browserExecPath(t)

	// 1. A site with four accounts, and a second group, Owls, with one
	// thread by Cat, that Bob is in: the inbox's group filter needs
	// another group to tell them apart.
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", bgPassword, true)
	for _, name := range []string{"Ann", "Bob", "Cat"} {
		w.createUser(t, strings.ToLower(name)+"@example.org", name, bgPassword, false)
	}
	bobID := w.queryInt(t, `SELECT id FROM users WHERE email = 'bob@example.org'`)
	catID := w.queryInt(t, `SELECT id FROM users WHERE email = 'cat@example.org'`)
	owls := inboxGroup(t, w, "owls", "Owls")
	inboxJoin(t, w, owls, bobID, "member", "active")
	inboxJoin(t, w, owls, catID, "member", "active")
	inboxThread(t, w, owls, catID, "Owl pellets", 60, 0)

	// Each person has a browser of their own (a separate browser context
	// of one Chromium: their own cookies, so their own session).
	root := newBrowser(t, chromium, w.url)
	ann, bob, cat := browserPerson(root, "Ann"), browserPerson(root, "Bob"), browserPerson(root, "Cat")

	// 2. Root sets up the category and the group.
	browserLogIn(root, "root@example.org", bgPassword, "Root")
	browserCreateCategory(root)
	browserCreateGroup(root)

	// 3. Ann finds the group and asks to join; 4. Root approves her.
	browserLogIn(ann, "ann@example.org", bgPassword, "Ann")
	browserAskToJoin(ann)
	browserApproveRequest(root, ann)
	// Bob and Cat join by SQL: asking and approving is Ann's path above,
	// and doing it twice more would only make the test longer.
	w.sql(t, `INSERT INTO memberships (group_id, user_id) SELECT g.id, u.id FROM groups g, users u
		WHERE g.slug = $1 AND u.email IN ('bob@example.org', 'cat@example.org')`, bgGroup)

	// 5. Ann posts; the group is moderated, so others do not see it yet.
	browserLogIn(bob, "bob@example.org", bgPassword, "Bob")
	thread, annMsg := browserPostThread(ann, bob)

	// 6. Root approves it, and it goes out by mail.
	browserModerate(root, annMsg, bgSubject, bgAnnBody)
	browserWaitDeliveries(t, w, annMsg)

	// 7. Cat replies (held too, and approved).
	browserLogIn(cat, "cat@example.org", bgPassword, "Cat")
	catMsg := browserReply(cat, thread)
	browserModerate(root, catMsg, "", bgCatBody)

	// 8. Bob reads, archives and filters his inbox.
	browserInbox(bob, thread)

	// 9. Cat flags Ann's message: hidden from members, not from its
	// author or the moderators.
	browserFlag(cat, bob, ann, root, thread, annMsg)

	// The approval of Ann's request was emailed to her, and Ann's post
	// reached Bob by email (a list message is To: the group, so the file's
	// envelope recipient says whose it is).
	waitOutbox(t, w, "ann@example.org", "Your request to join Night Herons is approved")
	browserWaitListMail(t, w, "bob@example.org", bgAnnBody)
}

// Step 2: a category, then a moderated, listed group joined by request.
func browserCreateCategory(b *browserSession) {
	t := b.t
	t.Helper()
	b.expect(b.open("/explore"), http.StatusOK, "/explore", "Explore groups")
	b.expect(b.follow(`//main//a[normalize-space()="Manage categories"]`), http.StatusOK, "/admin/categories",
		"Categories", "There are no categories yet.", "New category")
	b.do(b.fill("#name", "Birds"), b.fill("#slug", "birds"))
	b.expect(b.submit("Create the category"), http.StatusOK, "/admin/categories", "The category Birds is created.")
	if got := b.eval(`[...document.querySelectorAll("main table tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim()).join("\n")`); !strings.HasPrefix(got, "Birds birds 0") {
		t.Fatalf("the category list shows %q, want one row for Birds (slug birds, 0 groups)", got)
	}
}

func browserCreateGroup(b *browserSession) {
	t := b.t
	t.Helper()
	b.expect(b.open("/explore"), http.StatusOK, "/explore", "Explore groups")
	b.expect(b.follow(`//main//a[normalize-space()="Create a group"]`), http.StatusOK, "/groups/new", "The group", "Who can join")
	b.do(
		b.fill("#name", "Night Herons"),
		b.fill("#slug", bgGroup),
		chromedp.SetValue(chromedp.CSS("#category"), "birds"),
		b.fill("#description", "For watchers of nocturnal waders: sightings, roosts and photographs."),
		chromedp.Click(chromedp.Search(`//main//label[input[@name="join_policy" and @value="request"]]`)),
		chromedp.Click(chromedp.Search(`//main//label[input[@name="moderated"]]`)),
	)
	// Listed is the default; the clicks chose "by request" and moderation.
	state := b.eval(`(() => { const f = document.querySelector("form.group-form");
		return [f.category.value, f.querySelector("input[name=join_policy]:checked").value, f.listed.checked, f.moderated.checked].join(" "); })()`)
	if state != "birds request true true" {
		t.Fatalf("the group form shows category, join policy, listed, moderated = %q, want \"birds request true true\"", state)
	}
	b.expect(b.submit("Create the group"), http.StatusOK, "/g/"+bgGroup,
		"Your group Night Herons is created.", "Email: "+bgGroup+"@lists.test", "Birds", "nocturnal waders",
		"You are a member (owner)", "after a moderator approves it", "No conversations yet.")
	if h1 := b.eval(`document.querySelector("main h1").innerText`); h1 != "Night Herons" {
		t.Fatalf("the group page's heading is %q, want Night Herons", h1)
	}
}

// Step 3: Ann searches Explore, opens the group and asks to join.
func browserAskToJoin(b *browserSession) {
	t := b.t
	t.Helper()
	b.expect(b.follow(`//header//nav//a[normalize-space()="Explore"]`), http.StatusOK, "/explore", "Explore groups", "Night Herons", "Owls")
	b.do(b.fill("#q", "nocturnal"))
	b.expect(b.submit("Search"), http.StatusOK, "/explore", "Night Herons", "Birds", "Clear the search")
	if q := b.eval(`new URLSearchParams(location.search).get("q")`); q != "nocturnal" {
		t.Fatalf("the search page's address has q=%q, want nocturnal", q)
	}
	if names := b.eval(`[...document.querySelectorAll("main .group-cards h2")].map(h => h.innerText).join("|")`); names != "Night Herons" {
		t.Fatalf("searching for \"nocturnal\" lists %q, want only Night Herons", names)
	}
	b.expect(b.follow(`//main//h2/a[normalize-space()="Night Herons"]`), http.StatusOK, "/g/"+bgGroup,
		"Night Herons", "nocturnal waders", "Only members read this group's conversations.")
	b.expect(b.submit("Ask to join"), http.StatusOK, "/g/"+bgGroup,
		"Your request to join Night Herons is sent.", "You asked to join; the owners will decide.")
	if b.eval(`document.querySelector("#compose-title") ? "compose box" : ""`) != "" {
		t.Fatal("the group page offers a compose box to someone whose request is pending")
	}
}

// Step 4: the owner sees the pending request and approves it.
func browserApproveRequest(b, ann *browserSession) {
	t := b.t
	t.Helper()
	b.expect(b.open("/g/"+bgGroup), http.StatusOK, "/g/"+bgGroup, "1 pending")
	b.expect(b.follow(`//main//a[normalize-space()="See all members"]`), http.StatusOK, "/g/"+bgGroup+"/members",
		"Requests to join", "Ann", "ann@example.org")
	b.expect(b.submit("Approve"), http.StatusOK, "/g/"+bgGroup+"/members",
		"Ann is now a member of Night Herons; we emailed them.", "2 members")
	if b.eval(`document.querySelector("#requests-title") ? "requests" : ""`) != "" {
		t.Fatal("the members page still lists requests to join after the only one was approved")
	}
	ann.expect(ann.open("/g/"+bgGroup), http.StatusOK, "/g/"+bgGroup, "You are a member", "Start a conversation")
}

// Step 5: Ann starts a thread from the group page; it waits for a
// moderator, and Bob does not see it. It returns the thread's path and
// the message's id, as the page Ann lands on shows them.
func browserPostThread(ann, bob *browserSession) (string, int) {
	t := ann.t
	t.Helper()
	ann.do(ann.fill("#subject", bgSubject), ann.fill("#body", bgAnnBody))
	res := ann.submit("Post")
	thread := browserPath(ann)
	if !regexp.MustCompile(`^/g/` + bgGroup + `/t/\d+$`).MatchString(thread) {
		t.Fatalf("posting a thread led to %s, want /g/%s/t/<id>", thread, bgGroup)
	}
	ann.expect(res, http.StatusOK, thread, bgSubject, bgAnnBody, "Your message is awaiting moderation.", "Awaiting moderation")
	msg := browserMessageID(ann)

	bob.expect(bob.open("/g/"+bgGroup), http.StatusOK, "/g/"+bgGroup, "You are a member", "No conversations yet.")
	bob.lacks(bgSubject, bgAnnBody)
	bob.expect(bob.open(thread), http.StatusNotFound, thread)
	bob.lacks(bgAnnBody)
	return thread, msg
}

// Steps 6 and 7: a moderator approves the held message msg (whose
// subject is shown when not empty) in the moderation panel.
func browserModerate(b *browserSession, msg int, subject, body string) {
	t := b.t
	t.Helper()
	path := "/g/" + bgGroup + "/moderation"
	b.expect(b.open(path), http.StatusOK, path, "Held messages", body, subject)
	item := fmt.Sprintf(`//main//article[@id="held-%d"]`, msg)
	b.do(chromedp.Click(chromedp.Search(item + `//label[normalize-space()="Approve"]`)))
	if v := b.eval(fmt.Sprintf(`document.querySelector('input[name="held_%d"]:checked').value`, msg)); v != "approve" {
		t.Fatalf("after clicking Approve, the decision on message %d is %q", msg, v)
	}
	b.expect(b.submit("Save changes"), http.StatusOK, path, "Saved: 1 approved.", "No messages are waiting.")
	b.lacks(body)
}

// browserWaitDeliveries waits until the approved message is queued for
// delivery: the web post went through the mail path.
func browserWaitDeliveries(t *testing.T, w *webSite, msg int) {
	t.Helper()
	deadline := time.Now().Add(bgDeliveryWait)
	for w.queryInt(t, `SELECT count(*) FROM deliveries WHERE message_id = $1`, msg) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery of message %d %s after its approval", msg, bgDeliveryWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browserWaitListMail waits for a message in the outbox whose envelope
// recipient is rcpt and whose text contains want.
func browserWaitListMail(t *testing.T, w *webSite, rcpt, want string) {
	t.Helper()
	deadline := time.Now().Add(browserMailWait)
	for {
		files, _ := filepath.Glob(filepath.Join(w.dir, "outbox", "*.eml"))
		for _, name := range files {
			if browserMailFor(t, name, rcpt, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no list mail to %s containing %q after %s", rcpt, want, browserMailWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func browserMailFor(t *testing.T, name, rcpt, want string) bool {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := message.Read(f)
	if err != nil || !strings.EqualFold(e.Header.Get("X-Parley-Envelope-To"), "<"+rcpt+">") {
		return false
	}
	found := false
	_ = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if mt, _, _ := part.Header.ContentType(); strings.HasPrefix(mt, "text/") {
			b, _ := io.ReadAll(part.Body)
			found = found || strings.Contains(string(b), want)
		}
		return nil
	})
	return found
}

// Step 7: Cat opens the thread from the group page and replies; it
// returns the reply's id.
func browserReply(b *browserSession, thread string) int {
	t := b.t
	t.Helper()
	b.expect(b.open("/g/"+bgGroup), http.StatusOK, "/g/"+bgGroup, bgSubject, bgAnnBody)
	b.expect(b.follow(fmt.Sprintf(`//main//h3/a[normalize-space()=%q]`, bgSubject)), http.StatusOK, thread,
		bgSubject, bgAnnBody, "This group is moderated: your reply is published once a moderator approves it.")
	b.do(b.fill("#body", bgCatBody))
	b.expect(b.submit("Send reply"), http.StatusOK, thread, "Your message is awaiting moderation.", bgAnnBody, bgCatBody)
	msg := browserMessageID(b)
	if st := b.eval(fmt.Sprintf(`document.querySelector("#m%d .message-status").innerText`, msg)); st != "Awaiting moderation" {
		t.Fatalf("Cat's reply is marked %q, want Awaiting moderation", st)
	}
	return msg
}

// Step 8: unread, read, archived, and the group filter.
func browserInbox(b *browserSession, thread string) {
	t := b.t
	t.Helper()
	threadID := thread[strings.LastIndexByte(thread, '/')+1:]
	b.expect(b.follow(`//header//nav//a[starts-with(normalize-space(),"Messages")]`), http.StatusOK, "/inbox", "Messages")
	b.expectInbox("the inbox", map[string]bool{bgSubject: true, "Owl pellets": true})

	b.expect(b.follow(fmt.Sprintf(`//main//a[contains(@class,"subject")][contains(.,%q)]`, bgSubject)), http.StatusOK, thread,
		bgSubject, bgAnnBody, bgCatBody)
	b.expect(b.follow(`//main//a[normalize-space()="Back to Inbox"]`), http.StatusOK, "/inbox")
	b.expectInbox("the inbox after reading the thread", map[string]bool{bgSubject: false, "Owl pellets": true})

	box := fmt.Sprintf(`input[name="thread"][value=%q]`, threadID)
	b.do(chromedp.Click(chromedp.CSS(box)))
	if b.eval(fmt.Sprintf(`String(document.querySelector(%q).checked)`, box)) != "true" {
		t.Fatal("clicking the thread's checkbox did not tick it")
	}
	b.expect(b.submit("Archive"), http.StatusOK, "/inbox", "1 thread archived.")
	b.expectInbox("the inbox after archiving", map[string]bool{"Owl pellets": true})

	b.expect(b.follow(`//main//nav[contains(@class,"inbox-tabs")]//a[normalize-space()="Archive"]`), http.StatusOK, "/inbox")
	b.expectQuery("view=archive")
	b.expectInbox("the Archive view", map[string]bool{bgSubject: false})

	b.do(chromedp.SetValue(chromedp.CSS("#inbox-group"), bgGroup))
	b.expect(b.submit("Show"), http.StatusOK, "/inbox")
	b.expectQuery("group=" + bgGroup + "&view=archive")
	b.expectInbox("the Archive view of Night Herons", map[string]bool{bgSubject: false})

	b.do(chromedp.SetValue(chromedp.CSS("#inbox-group"), "owls"))
	b.expect(b.submit("Show"), http.StatusOK, "/inbox", "Nothing archived.", "Show every group")
	b.expectQuery("group=owls&view=archive")
	b.expectInbox("the Archive view of Owls", map[string]bool{})

	// The Inbox tab keeps the filter: Owls' own thread, not the heron one.
	b.expect(b.follow(`//main//nav[contains(@class,"inbox-tabs")]//a[normalize-space()="Inbox"]`), http.StatusOK, "/inbox")
	b.expectQuery("group=owls")
	b.expectInbox("the inbox of Owls", map[string]bool{"Owl pellets": true})
}

// Step 9: Cat flags Ann's message. Members (Bob, and Cat) no longer see
// it; Ann does, marked; Root finds it in the moderation panel.
func browserFlag(cat, bob, ann, root *browserSession, thread string, annMsg int) {
	t := cat.t
	t.Helper()
	cat.expect(cat.open(thread), http.StatusOK, thread, bgAnnBody, bgCatBody)
	flag := fmt.Sprintf("/messages/%d/flag", annMsg)
	cat.expect(cat.follow(fmt.Sprintf(`//main//li[@id="m%d"]//a[contains(@class,"flag-link")]`, annMsg)), http.StatusOK, flag,
		"Flag this message?", "Ann", bgAnnBody)
	cat.do(cat.fill("#reason", bgReason))
	cat.expect(cat.submit("Flag the message"), http.StatusOK, thread, "Thank you: moderators will review it", bgCatBody)
	cat.lacks(bgAnnBody)

	bob.expect(bob.open(thread), http.StatusOK, thread, bgSubject, "Cat", bgCatBody)
	bob.lacks(bgAnnBody)

	ann.expect(ann.open(thread), http.StatusOK, thread, bgAnnBody, bgCatBody)
	if st := ann.eval(fmt.Sprintf(`document.querySelector("#m%d .message-status").innerText`, annMsg)); st != "Flagged: hidden from members until a moderator reviews it" {
		t.Fatalf("the author sees her flagged message marked %q", st)
	}

	path := "/g/" + bgGroup + "/moderation"
	root.expect(root.open(path), http.StatusOK, path, "Flagged messages", "No messages are waiting.")
	item := root.eval(fmt.Sprintf(`(document.querySelector("#flag-%d") || {innerText: ""}).innerText`, annMsg))
	for _, want := range []string{bgSubject, "Ann", "flagged by Cat", bgReason, bgAnnBody} {
		if !strings.Contains(item, want) {
			t.Fatalf("the moderation panel's flagged message %d does not show %q; it shows:\n%s", annMsg, want, item)
		}
	}
}

// browserPerson opens a browser of another person on b's Chromium: a
// new browser context, so with cookies of its own.
func browserPerson(b *browserSession, who string) *browserSession {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			if page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`)); err == nil {
				t.Logf("%s's page when the test failed:\n%s", who, page)
			}
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a browser for %s: %v", who, err)
	}
	return &browserSession{t: t, ctx: ctx, base: b.base}
}

// follow clicks the link (or button) that the XPath finds and returns
// the page it leads to.
func (b *browserSession) follow(xpath string) *network.Response {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.Search(xpath)))
	if err != nil {
		b.t.Fatalf("clicking %s: %v", xpath, err)
	}
	if res == nil {
		b.t.Fatalf("clicking %s loaded no page", xpath)
	}
	return res
}

// lacks checks that the page shows none of texts.
func (b *browserSession) lacks(texts ...string) {
	b.t.Helper()
	text := b.text()
	for _, s := range texts {
		if s != "" && strings.Contains(text, s) {
			b.t.Fatalf("on %s: the page shows %q; it should not:\n%s", b.eval(`location.href`), s, text)
		}
	}
}

// expectQuery checks the query of the page's address, keys sorted.
func (b *browserSession) expectQuery(want string) {
	b.t.Helper()
	u, err := url.Parse(b.eval(`location.href`))
	if err != nil {
		b.t.Fatal(err)
	}
	if got := u.Query().Encode(); got != want {
		b.t.Fatalf("on %s: the query is %q, want %q", u, got, want)
	}
}

// expectInbox checks the threads the inbox page lists, by subject, and
// whether each is shown unread (its subject link has class "unread").
func (b *browserSession) expectInbox(what string, want map[string]bool) {
	b.t.Helper()
	raw := b.eval(`JSON.stringify([...document.querySelectorAll("main table.inbox-list a.subject")].map(a =>
		[a.textContent.trim().replace(/^Unread:\s*/, ""), a.classList.contains("unread")]))`)
	var rows [][2]any
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		b.t.Fatalf("reading the inbox %s: %v", raw, err)
	}
	got := map[string]bool{}
	var desc []string
	for _, r := range rows {
		s, _ := r[0].(string)
		unread, _ := r[1].(bool)
		got[s] = unread
		desc = append(desc, s+" (unread "+strconv.FormatBool(unread)+")")
	}
	slices.Sort(desc)
	if len(got) != len(want) || len(rows) != len(want) {
		b.t.Fatalf("%s lists %v, want %v", what, desc, want)
	}
	for s, unread := range want {
		if u, ok := got[s]; !ok || u != unread {
			b.t.Fatalf("%s lists %v, want %v", what, desc, want)
		}
	}
}

// browserPath is the path of the page the browser shows.
func browserPath(b *browserSession) string {
	b.t.Helper()
	return b.eval(`location.pathname`)
}

// browserMessageID reads the message a post led to from the address's
// fragment (#m<id>).
func browserMessageID(b *browserSession) int {
	b.t.Helper()
	hash := b.eval(`location.hash`)
	id, err := strconv.Atoi(strings.TrimPrefix(hash, "#m"))
	if err != nil || !strings.HasPrefix(hash, "#m") {
		b.t.Fatalf("the page after posting is at %s, want a #m<id> fragment", b.eval(`location.href`))
	}
	return id
}
