package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// The acceptance test of moderation, in a real headless Chromium, with
// every email sent over real SMTP to an in-process sink: an owner decides
// held messages in the panel and by the links in her notices, a member
// flags and the owner removes, a superuser bans a member and acts as
// another. SQL only makes the group and its memberships, and reads facts
// to assert; the held messages are posted through the API.

const (
	bmGroup      = "storks"
	bmAnnFirst   = "Storks over the marsh"
	bmAnnSecond  = "Nest on the church tower"
	bmBobSpam    = "Cheap binoculars for sale"
	bmAnnThird   = "First chicks hatched"
	bmVetoReason = "No advertising in Storks, please."
	bmFlagReason = "This repeats a rumour about the marsh."
	bmEveReply   = "Eve watched the pair bring sticks to the tower at noon."
	bmAnnBio     = "Counts storks for the county survey (edited by Root)."
)

func TestBrowserModeration(t *testing.T) {
	chromium := browserExecPath(t)

	// sinkEnv comes after startWeb's EMAIL_BACKEND=file: os/exec keeps
	// the last value of a duplicated variable, so parleyd sends by SMTP.
	sink := mailtest.NewSink(t)
	w := startWeb(t, "", sinkEnv(sink)...)
	w.createUser(t, "root@example.org", "Root", bgPassword, true)
	for _, name := range []string{"Olga", "Ann", "Bob", "Cat", "Eve"} {
		w.createUser(t, strings.ToLower(name)+"@example.org", name, bgPassword, false)
	}
	w.sql(t, `
		INSERT INTO groups (slug, name, moderated) VALUES ('storks', 'Storks', true);
		INSERT INTO memberships (group_id, user_id, role, whitelisted)
			SELECT g.id, u.id, CASE u.email WHEN 'olga@example.org' THEN 'owner' ELSE 'member' END, u.email = 'eve@example.org'
			FROM groups g, users u WHERE u.email <> 'root@example.org'`)
	id := func(name string) int {
		return w.queryInt(t, `SELECT id FROM users WHERE email = $1`, strings.ToLower(name)+"@example.org")
	}

	// 1. Ann posts two messages and Bob one; the group holds them all.
	first := moderationPost(t, w, "ann@example.org", bmGroup, bmAnnFirst)
	second := moderationPost(t, w, "ann@example.org", bmGroup, bmAnnSecond)
	spam := moderationPost(t, w, "bob@example.org", bmGroup, bmBobSpam)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id IN ($1, $2, $3) AND status = 'held'`, first, second, spam); n != 3 {
		t.Fatalf("%d of the 3 posts to the moderated group are held, want all", n)
	}

	root := newBrowser(t, chromium, w.url)
	olga, bob, cat, eve := browserPerson(root, "Olga"), browserPerson(root, "Bob"), browserPerson(root, "Cat"), browserPerson(root, "Eve")
	browserLogIn(olga, "olga@example.org", bgPassword, "Olga")

	// 2. Olga approves Ann's two and vetoes Bob's in one "Save changes".
	browserModPanel(olga, sink, w, first, second, spam)

	// 3. Cat becomes a moderator; Ann's third post is approved by Olga
	// from the link in her notice, and Cat's link then says so.
	w.sql(t, `UPDATE memberships SET role = 'moderator' WHERE user_id = $1`, id("Cat"))
	third := moderationPost(t, w, "ann@example.org", bmGroup, bmAnnThird)
	browserLogIn(cat, "cat@example.org", bgPassword, "Cat")
	browserModByEmail(olga, cat, sink, w, third)

	// 4. Cat flags Ann's first message; Olga removes it; the flag log
	// tells who did what.
	browserModFlag(cat, olga, w, first)

	// 5. Eve replies under Ann's second message; Root bans her, and Bob no
	// longer sees her reply.
	browserLogIn(eve, "eve@example.org", bgPassword, "Eve")
	browserLogIn(bob, "bob@example.org", bgPassword, "Bob")
	browserLogIn(root, "root@example.org", bgPassword, "Root")
	browserModBan(root, eve, bob, w, second, id("Eve"))

	// 6. Root becomes Ann, edits her profile, and returns.
	browserModBecome(root, w, id("Ann"), id("Root"))
}

// Step 2: the panel's decisions; the approved messages go out by SMTP to
// the members, the vetoed one does not, and its poster is told why.
func browserModPanel(b *browserSession, sink *mailtest.Sink, w *webSite, first, second, spam int) {
	t := b.t
	t.Helper()
	path := "/g/" + bmGroup + "/moderation"
	b.expect(b.open(path), http.StatusOK, path, "Held messages", bmAnnFirst, bmAnnSecond, bmBobSpam, "Body of "+bmBobSpam)
	for msg, label := range map[int]string{first: "Approve", second: "Approve", spam: "Veto"} {
		b.do(chromedp.Click(chromedp.Search(fmt.Sprintf(`//main//article[@id="held-%d"]//label[normalize-space()=%q]`, msg, label))))
	}
	b.do(b.fill(fmt.Sprintf("#reason_%d", spam), bmVetoReason))
	state := b.eval(fmt.Sprintf(`[%d, %d, %d].map(id => document.querySelector('input[name="held_' + id + '"]:checked').value).join(" ")`, first, second, spam))
	if state != "approve approve veto" {
		t.Fatalf("after choosing, the decisions read %q, want \"approve approve veto\"", state)
	}
	b.expect(b.submit("Save changes"), http.StatusOK, path, "Saved: 2 approved, 1 vetoed.", "No messages are waiting.")
	b.lacks(bmAnnFirst, bmBobSpam)

	for _, subject := range []string{bmAnnFirst, bmAnnSecond} {
		for _, rcpt := range []string{"cat@example.org", "bob@example.org"} {
			sinkWait(t, sink, fmt.Sprintf("of %q to %s", subject, rcpt), sinkListMail(rcpt, subject))
		}
	}
	notice := sinkWait(t, sink, "telling Bob of the veto", func(m sinkMail) bool {
		return !m.list && m.to1("bob@example.org") && strings.HasPrefix(m.subject, "Not accepted: "+bmBobSpam)
	})
	for _, want := range []string{bmVetoReason, "Body of " + bmBobSpam} {
		if !strings.Contains(notice.text, want) {
			t.Fatalf("Bob's veto notice does not contain %q:\n%s", want, notice.text)
		}
	}
	// The decision and the fan-out are one transaction: a vetoed message
	// has no delivery, so nothing of it can still be on its way.
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries WHERE message_id = $1`, spam); n != 0 {
		t.Fatalf("the vetoed message has %d deliveries, want none", n)
	}
	for _, m := range sinkMails(t, sink) {
		if m.list && strings.Contains(m.subject, bmBobSpam) {
			t.Fatalf("the vetoed message reached the sink, to %v", m.to)
		}
	}
}

// Step 3: approve from the notice's link, in the browser; the second
// moderator's link then names who decided.
func browserModByEmail(olga, cat *browserSession, sink *mailtest.Sink, w *webSite, third int) {
	t := olga.t
	t.Helper()
	olgaApprove := browserModLinks(t, sink, "olga@example.org", bmAnnThird)[0]
	catLinks := browserModLinks(t, sink, "cat@example.org", bmAnnThird)
	if catLinks[0] == olgaApprove {
		t.Fatal("Olga and Cat got the same approve link; each moderator's must be their own")
	}

	path := browserURLPath(t, olgaApprove)
	olga.expect(olga.open(olgaApprove), http.StatusOK, path, "Approve this message?", "To Storks, from Ann", bmAnnThird, "Body of "+bmAnnThird)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'held'`, third); n != 1 {
		t.Fatal("opening the approve link decided without the button")
	}
	olga.expect(olga.submit("Approve and send"), http.StatusOK, path, "Approved: the message is on its way to the group.")
	sinkWait(t, sink, fmt.Sprintf("of %q to Cat after the approval by link", bmAnnThird), sinkListMail("cat@example.org", bmAnnThird))

	for _, link := range catLinks {
		p := browserURLPath(t, link)
		cat.expect(cat.open(link), http.StatusOK, p, bmAnnThird, "Olga already approved this message")
		if cat.eval(`document.querySelector("main button") ? "button" : ""`) != "" {
			t.Fatalf("Cat's link %s still offers a button for a decided message", p)
		}
	}
	if n := w.queryInt(t, `SELECT count(*) FROM moderation_actions a JOIN users u ON u.id = a.moderator_id
		WHERE a.message_id = $1 AND a.action = 'approve' AND u.email = 'olga@example.org'`, third); n != 1 {
		t.Fatalf("%d approvals of message %d recorded for Olga, want 1", n, third)
	}
}

var browserModLinkRE = regexp.MustCompile(`https?://\S+/moderate/[A-Za-z0-9_.\-]+`)

// browserModLinks waits for the moderation notice about subject to rcpt
// and returns its approve and veto links.
func browserModLinks(t *testing.T, sink *mailtest.Sink, rcpt, subject string) []string {
	t.Helper()
	m := sinkWait(t, sink, fmt.Sprintf("notice about %q to %s", subject, rcpt), func(m sinkMail) bool {
		return !m.list && m.to1(rcpt) && m.subject == "To moderate in Storks: "+subject
	})
	links := browserModLinkRE.FindAllString(m.text, -1)
	if len(links) != 2 || !strings.Contains(m.text, "Approve (it is sent to the group):\n"+links[0]) {
		t.Fatalf("the notice to %s has links %q, want an approve and a veto link:\n%s", rcpt, links, m.text)
	}
	return links
}

// Step 4: Cat flags from the thread page; the flag log shows her as the
// flagger; Olga removes the message in the panel and the log shows her.
func browserModFlag(cat, olga *browserSession, w *webSite, msg int) {
	t := cat.t
	t.Helper()
	thread := fmt.Sprintf("/g/%s/t/%d", bmGroup, w.queryInt(t, `SELECT thread_id FROM messages WHERE id = $1`, msg))
	cat.expect(cat.open(thread), http.StatusOK, thread, bmAnnFirst, "Body of "+bmAnnFirst)
	flag := fmt.Sprintf("/messages/%d/flag", msg)
	cat.expect(cat.follow(fmt.Sprintf(`//main//li[@id="m%d"]//a[contains(@class,"flag-link")]`, msg)), http.StatusOK, flag,
		"Flag this message?", "Ann", "Body of "+bmAnnFirst)
	cat.do(cat.fill("#reason", bmFlagReason))
	cat.expect(cat.submit("Flag the message"), http.StatusOK, thread, "Thank you: moderators will review it")

	log := "/g/" + bmGroup + "/moderation/flags"
	olga.expect(olga.open(log), http.StatusOK, log, "Flag log")
	if row := browserFlagRow(olga, bmAnnFirst); row[2] != "Cat" || row[4] != "" || row[6] != "open" || !strings.Contains(row[0], bmFlagReason) {
		t.Fatalf("the flag log's row for the flagged message is %q, want flagged by Cat, open, with the reason", row)
	}

	panel := "/g/" + bmGroup + "/moderation"
	olga.expect(olga.follow(`//main//a[normalize-space()="← Moderation"]`), http.StatusOK, panel, "Flagged messages", "flagged by Cat", bmFlagReason)
	olga.do(chromedp.Click(chromedp.Search(fmt.Sprintf(`//main//article[@id="flag-%d"]//label[normalize-space()="Remove"]`, msg))))
	if v := olga.eval(fmt.Sprintf(`document.querySelector('input[name="flag_%d"]:checked').value`, msg)); v != "remove" {
		t.Fatalf("after clicking Remove, the decision on flagged message %d is %q", msg, v)
	}
	olga.expect(olga.submit("Save changes"), http.StatusOK, panel, "Saved: 1 flagged removed.", "No flagged messages.")

	olga.expect(olga.follow(`//main//a[normalize-space()="Flag log"]`), http.StatusOK, log, "Flag log")
	if row := browserFlagRow(olga, bmAnnFirst); row[2] != "Cat" || row[4] != "Olga" || row[6] != "removed" {
		t.Fatalf("after the removal, the flag log's row is %q, want flagged by Cat, moderated by Olga, removed", row)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'removed'`, msg); n != 1 {
		t.Fatal("the message Olga removed is not removed")
	}
}

// browserFlagRow returns the cells of the flag log's one row for the
// message with this subject.
func browserFlagRow(b *browserSession, subject string) []string {
	b.t.Helper()
	raw := b.eval(fmt.Sprintf(`JSON.stringify([...document.querySelectorAll("main table tbody tr")]
		.filter(r => { const a = r.querySelector("td a"); return a && a.textContent.trim() === %q; })
		.map(r => [...r.cells].map(c => c.innerText.trim())))`, subject))
	var rows [][]string
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		b.t.Fatalf("reading the flag log %s: %v", raw, err)
	}
	if len(rows) != 1 || len(rows[0]) != 7 {
		b.t.Fatalf("the flag log has %q for %q, want one row of 7 cells; it shows:\n%s", rows, subject, b.text())
	}
	return rows[0]
}

// Step 5: Eve, whose posts skip moderation, replies; Bob reads it; Root
// bans Eve; Bob's view of the thread no longer has her reply.
func browserModBan(root, eve, bob *browserSession, w *webSite, annMsg, eveID int) {
	t := root.t
	t.Helper()
	thread := fmt.Sprintf("/g/%s/t/%d", bmGroup, w.queryInt(t, `SELECT thread_id FROM messages WHERE id = $1`, annMsg))
	eve.expect(eve.open(thread), http.StatusOK, thread, bmAnnSecond, "Body of "+bmAnnSecond)
	eve.do(eve.fill("#body", bmEveReply))
	eve.expect(eve.submit("Send reply"), http.StatusOK, thread, bmEveReply)
	reply := browserMessageID(eve)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'approved'`, reply); n != 1 {
		t.Fatalf("Eve's reply %d is not approved at once (she is whitelisted)", reply)
	}
	bob.expect(bob.open(thread), http.StatusOK, thread, "Body of "+bmAnnSecond, "Eve", bmEveReply)

	admin := fmt.Sprintf("/admin/users/%d", eveID)
	root.expect(root.open(admin), http.StatusOK, admin, "eve@example.org", "Status: active", "Ban user")
	root.do(root.fill("#reason", "Spam in Storks"),
		chromedp.Click(chromedp.Search(`//main//label[normalize-space()="Yes, ban Eve"]`)))
	if root.eval(`String(document.querySelector('input[name="confirm"]').checked)`) != "true" {
		t.Fatal("clicking \"Yes, ban Eve\" did not tick the confirmation box")
	}
	root.expect(root.submit("Ban user"), http.StatusOK, admin, "Eve is banned.", "Status: banned", "Reinstate user")

	bob.expect(bob.open(thread), http.StatusOK, thread, bmAnnSecond, "Body of "+bmAnnSecond)
	bob.lacks(bmEveReply)
	if bob.eval(fmt.Sprintf(`document.querySelector("#m%d") ? "shown" : ""`, reply)) != "" {
		t.Fatalf("Bob's view of the thread still has Eve's message #m%d", reply)
	}
}

// Step 6: "Become user", a change made as Ann (audited with both names),
// and the way back.
func browserModBecome(root *browserSession, w *webSite, annID, rootID int) {
	t := root.t
	t.Helper()
	admin := fmt.Sprintf("/admin/users/%d", annID)
	root.expect(root.open(admin), http.StatusOK, admin, "ann@example.org", "Become user")
	root.expect(root.submit("Become user"), http.StatusOK, "/", "You are now acting as Ann.")
	banner := `(document.querySelector(".banner.impersonating") || {innerText: ""}).innerText`
	if got := root.eval(banner); !strings.Contains(got, "You are acting as Ann (ann@example.org).") || !strings.Contains(got, "Return to your own account (Root)") {
		t.Fatalf("after Become user, the banner reads %q", got)
	}

	root.expect(root.open("/account"), http.StatusOK, "/account", "Manage my account", "You are acting as Ann")
	root.do(root.fill("#bio", bmAnnBio))
	profile := fmt.Sprintf("/people/%d", annID)
	root.expect(root.submit("Update"), http.StatusOK, profile, "Your profile is updated.", bmAnnBio, "You are acting as Ann")
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action = 'impersonated.request' AND actor_id = $1 AND impersonator_id = $2
		AND target_id = 'POST /account/profile'`, annID, rootID); n != 1 {
		t.Fatalf("%d audit rows for Ann's profile change by Root, want 1", n)
	}

	root.expect(root.follow(`//div[contains(@class,"impersonating")]//button[starts-with(normalize-space(),"Return to your own account")]`),
		http.StatusOK, admin, "You are back in your own account.", "ann@example.org")
	if got := root.eval(banner); got != "" {
		t.Fatalf("the banner is still shown after returning: %q", got)
	}
	if me := root.eval(`document.querySelector("details.menu > summary").innerText`); !strings.HasPrefix(me, "Root") {
		t.Fatalf("after returning, the account menu names %q, want Root", me)
	}
}

// browserURLPath is the path of an absolute link.
func browserURLPath(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// sinkMail is a message the SMTP sink accepted, decoded.
type sinkMail struct {
	to      []string // the envelope's recipients
	subject string
	list    bool   // a list message (it has a List-Id), not system mail
	text    string // the text/plain parts, transfer encoding undone
}

// to1 reports whether the envelope is for rcpt alone.
func (m sinkMail) to1(rcpt string) bool {
	return len(m.to) == 1 && strings.EqualFold(m.to[0], rcpt)
}

// sinkListMail matches the group's copy of the message with subject
// for rcpt.
func sinkListMail(rcpt, subject string) func(sinkMail) bool {
	return func(m sinkMail) bool {
		return m.list && m.to1(rcpt) && m.subject == "[Storks] "+subject
	}
}

func sinkMails(t *testing.T, sink *mailtest.Sink) []sinkMail {
	t.Helper()
	var out []sinkMail
	for _, e := range sink.Envelopes() {
		ent, err := message.Read(bytes.NewReader(e.Data))
		if err != nil {
			t.Fatalf("a message to %v in the sink does not parse: %v\n%s", e.To, err, e.Data)
		}
		h := gomail.Header{Header: ent.Header}
		subject, err := h.Subject()
		if err != nil {
			t.Fatalf("a message to %v: Subject: %v", e.To, err)
		}
		var text strings.Builder
		err = ent.Walk(func(_ []int, part *message.Entity, err error) error {
			if err != nil {
				return err
			}
			if mt, _, _ := part.Header.ContentType(); mt == "text/plain" {
				b, err := io.ReadAll(part.Body)
				if err != nil {
					return err
				}
				text.Write(b)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reading the message %q to %v: %v", subject, e.To, err)
		}
		out = append(out, sinkMail{to: e.To, subject: subject, list: h.Get("List-Id") != "",
			text: strings.ReplaceAll(text.String(), "\r\n", "\n")})
	}
	return out
}

// sinkWait waits, up to browserMailWait, for a message in the sink that
// match accepts, and returns it.
func sinkWait(t *testing.T, sink *mailtest.Sink, what string, match func(sinkMail) bool) sinkMail {
	t.Helper()
	deadline := time.Now().Add(browserMailWait)
	for {
		n := sink.Count()
		mails := sinkMails(t, sink)
		if i := slices.IndexFunc(mails, match); i >= 0 {
			return mails[i]
		}
		left := time.Until(deadline)
		if left <= 0 {
			var got []string
			for _, m := range mails {
				got = append(got, fmt.Sprintf("%v: %s", m.to, m.subject))
			}
			t.Fatalf("no message %s in the SMTP sink after %s; it has:\n%s", what, browserMailWait, strings.Join(got, "\n"))
		}
		sink.WaitFor(n+1, left)
	}
}
