package main

import (
	"bytes"
	"io"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// moderationPost posts a thread through the JSON API as email, with a
// token made by the CLI, and returns the new message's id.
func moderationPost(t *testing.T, w *webSite, email, group, subject string) int {
	t.Helper()
	out, stderr, code := runCmd(t, w.env, "", "create-token", email)
	if code != 0 {
		t.Fatalf("create-token: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	req, _ := http.NewRequest("POST", w.url+"/api/v1/groups/"+group+"/threads",
		strings.NewReader(`{"subject":"`+subject+`","body":"Body of `+subject+`"}`))
	req.Header.Set("Authorization", "Bearer "+lines[len(lines)-1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("posting %q: %d %s", subject, res.StatusCode, b)
	}
	return w.queryInt(t, `SELECT id FROM messages WHERE subject = $1`, subject)
}

// TestModerationPanel: an owner approves two held messages and vetoes
// one in a single "Save changes"; the approved ones are queued for every
// member like a new post, the vetoed poster is told why, and a second
// decision on a decided message says who decided first.
func TestModerationPanel(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	for _, u := range []string{"owner", "mod", "ann", "bob", "out"} {
		w.createUser(t, u+"@example.org", strings.ToUpper(u[:1])+u[1:], "correct horse battery", false)
	}
	w.sql(t, `
		INSERT INTO groups (slug, name, listed, join_policy, moderated) VALUES ('herons', 'Herons', false, 'request', true);
		INSERT INTO memberships (group_id, user_id, role)
			SELECT g.id, u.id, CASE u.email WHEN 'owner@example.org' THEN 'owner' WHEN 'mod@example.org' THEN 'moderator' ELSE 'member' END
			FROM groups g, users u WHERE u.email <> 'out@example.org'`)
	first := moderationPost(t, w, "ann@example.org", "herons", "First heron")
	second := moderationPost(t, w, "bob@example.org", "herons", "Second heron")
	spam := moderationPost(t, w, "bob@example.org", "herons", "Cheap pills")
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries`); n != 0 {
		t.Fatalf("%d deliveries before approval, want none", n)
	}

	// Who may open the panel: a member gets 403, a non-member 404.
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	if code, _ := ann.get("/g/herons/moderation"); code != http.StatusForbidden {
		t.Errorf("a member opening the panel: %d, want 403", code)
	}
	out := w.client(t)
	out.login("out@example.org", "correct horse battery")
	if code, _ := out.get("/g/herons/moderation"); code != http.StatusNotFound {
		t.Errorf("a non-member opening a private group's panel: %d, want 404", code)
	}

	owner := w.client(t)
	owner.login("owner@example.org", "correct horse battery")
	code, body := owner.get("/g/herons/moderation")
	if code != 200 || !strings.Contains(body, "First heron") || !strings.Contains(body, "Cheap pills") {
		t.Fatalf("panel: %d", code)
	}
	form := url.Values{
		"held_" + strconv.Itoa(first):  {"approve"},
		"held_" + strconv.Itoa(second): {"approve"},
		"held_" + strconv.Itoa(spam):   {"veto"},
		"reason_" + strconv.Itoa(spam): {"No advertising here"},
	}
	code, body = owner.post("/g/herons/moderation", form)
	if code != 200 || !strings.Contains(body, "Saved: 2 approved, 1 vetoed.") {
		t.Fatalf("save: %d\n%s", code, body)
	}
	if strings.Contains(body, "First heron") {
		t.Error("an approved message is still in the panel")
	}
	// The approved messages fan out to the members (5 in the group, the
	// poster of each excluded as for any post by API... or not: count rows).
	w.waitInt(t, func(n int) bool { return n >= 2 }, `SELECT count(DISTINCT message_id) FROM deliveries`)
	if n := w.queryInt(t, `SELECT count(DISTINCT message_id) FROM deliveries WHERE message_id IN ($1, $2)`, first, second); n != 2 {
		t.Errorf("deliveries exist for %d approved messages, want 2", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries WHERE message_id = $1`, spam); n != 0 {
		t.Error("a vetoed message was delivered")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM moderation_actions WHERE action IN ('approve', 'veto')`) + w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action IN ('message.approve', 'message.veto')`); n != 6 {
		t.Errorf("%d moderation records and audit lines, want 3 of each", n)
	}
	// The vetoed poster is told, with the reason and their text.
	link := waitOutbox(t, w, "bob@example.org", "No advertising here")
	if !strings.Contains(link, "Body of Cheap pills") {
		t.Error("the veto notice does not give the poster their text back")
	}

	// A second moderator deciding the same message later is told who won.
	mod := w.client(t)
	mod.login("mod@example.org", "correct horse battery")
	mod.get("/g/herons/moderation")
	_, body = mod.post("/g/herons/moderation", url.Values{"held_" + strconv.Itoa(first): {"veto"}})
	if !strings.Contains(body, "Owner already approved this message") {
		t.Errorf("a late decision does not say who decided first:\n%s", body)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'approved'`, first); n != 1 {
		t.Error("the late veto changed an approved message")
	}

	// Flags: a flagged message is listed, and removing it takes it down.
	w.sql(t, `INSERT INTO flags (message_id, flagged_by, reason) SELECT $1, id, 'rude' FROM users WHERE email = 'ann@example.org'`, second)
	_, body = owner.get("/g/herons/moderation")
	if !strings.Contains(body, "flagged by Ann") || !strings.Contains(body, "rude") {
		t.Fatalf("the flag is not in the panel with who flagged it")
	}
	_, body = owner.post("/g/herons/moderation", url.Values{"flag_" + strconv.Itoa(second): {"remove"}})
	if !strings.Contains(body, "1 flagged removed") {
		t.Errorf("removing a flagged message: %s", body)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'removed'`, second); n != 1 {
		t.Error("the flagged message was not removed")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM flags WHERE message_id = $1 AND resolution = 'removed' AND resolved_by IS NOT NULL`, second); n != 1 {
		t.Error("the flag is not resolved with the moderator's name")
	}
	// The flag log names who flagged and who moderated.
	_, body = owner.get("/g/herons/moderation/flags")
	if !strings.Contains(body, "Second heron") || !strings.Contains(body, "<td>Ann</td>") || !strings.Contains(body, "<td>Owner</td>") || !strings.Contains(body, "removed") {
		t.Errorf("the flag log lacks the flagger, the moderator or the action:\n%s", body)
	}
	if code, _ := ann.get("/admin/flags"); code != http.StatusForbidden {
		t.Errorf("the site's flag log for a member: %d, want 403", code)
	}
}

// waitOutbox waits for an email to `to` containing want and returns its text.
func waitOutbox(t *testing.T, w *webSite, to, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, text := range outboxTexts(t, w, to) {
			if strings.Contains(text, want) {
				return text
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no email to %s containing %q", to, want)
	return ""
}

// TestModerateByEmail: each moderator's notice carries signed links; the
// approve link asks for confirmation, then delivers; the other
// moderator's veto link then says who approved first.
func TestModerateByEmail(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	for _, u := range []string{"owner", "mod", "ann"} {
		w.createUser(t, u+"@example.org", strings.ToUpper(u[:1])+u[1:], "correct horse battery", false)
	}
	w.sql(t, `
		INSERT INTO groups (slug, name, moderated) VALUES ('egrets', 'Egrets', true);
		INSERT INTO memberships (group_id, user_id, role)
			SELECT g.id, u.id, CASE u.email WHEN 'owner@example.org' THEN 'owner' WHEN 'mod@example.org' THEN 'moderator' ELSE 'member' END
			FROM groups g, users u`)
	id := moderationPost(t, w, "ann@example.org", "egrets", "Egret sighting")
	linkRE := regexp.MustCompile(`https?://\S+/moderate/[A-Za-z0-9_.\-]+`)
	modNotice := waitOutbox(t, w, "mod@example.org", "Egret sighting")
	ownerNotice := waitOutbox(t, w, "owner@example.org", "Egret sighting")
	modLinks := linkRE.FindAllString(modNotice, -1)
	ownerLinks := linkRE.FindAllString(ownerNotice, -1)
	if len(modLinks) != 2 || len(ownerLinks) != 2 || modLinks[0] == ownerLinks[0] {
		t.Fatalf("notices without two personal links each:\n%s", modNotice)
	}
	// Opening the link changes nothing (scanners open links); the button does.
	anon := w.client(t)
	code, body := anon.get(strings.TrimPrefix(modLinks[0], w.url))
	if code != 200 || !strings.Contains(body, "Approve and send") {
		t.Fatalf("approve link: %d", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'held'`, id); n != 1 {
		t.Fatal("opening the link decided")
	}
	code, body = anon.post(strings.TrimPrefix(modLinks[0], w.url), url.Values{})
	if code != 200 || !strings.Contains(body, "Approved") {
		t.Fatalf("approving by link: %d\n%s", code, body)
	}
	w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT count(*) FROM deliveries WHERE message_id = $1`, id)
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries WHERE message_id = $1`, id); n == 0 {
		t.Error("the approved message was not queued for the members")
	}
	// The owner's veto link comes too late.
	code, body = anon.post(strings.TrimPrefix(ownerLinks[1], w.url), url.Values{"reason": {"too late"}})
	if code != http.StatusConflict || !strings.Contains(body, "Mod already approved this message") {
		t.Errorf("a second decision by link: %d\n%s", code, body)
	}
	// A tampered link is refused.
	if code, _ := anon.get(strings.TrimPrefix(modLinks[0], w.url) + "x"); code != http.StatusBadRequest {
		t.Errorf("a tampered link: %d, want 400", code)
	}
}

// TestTrustFirstPosts: a group that holds a new member's first two posts
// holds exactly those, trusts whitelisted members from the start, and
// lets the third post through once two were approved.
func TestTrustFirstPosts(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	for _, u := range []string{"owner", "ann", "wes"} {
		w.createUser(t, u+"@example.org", strings.ToUpper(u[:1])+u[1:], "correct horse battery", false)
	}
	w.sql(t, `
		INSERT INTO groups (slug, name) VALUES ('ibis', 'Ibis');
		INSERT INTO memberships (group_id, user_id, role, whitelisted)
			SELECT g.id, u.id, CASE u.email WHEN 'owner@example.org' THEN 'owner' ELSE 'member' END, u.email = 'wes@example.org'
			FROM groups g, users u`)
	// The owner sets it on the group's form.
	owner := w.client(t)
	owner.login("owner@example.org", "correct horse battery")
	_, body := owner.get("/g/ibis/edit")
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="(?:text|hidden)"[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	for _, m := range regexp.MustCompile(`<input type="radio" name="([a-z_]+)" value="([^"]*)" checked`).FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	form.Set("owners", "owner@example.org")
	form.Set("whitelist", "wes@example.org")
	form.Set("trust_posts", "2")
	if form.Get("dmarc_failure") != "hold" {
		t.Errorf("the form's DMARC setting shows %q, want hold by default", form.Get("dmarc_failure"))
	}
	form.Set("dmarc_failure", "refuse")
	form.Del("csrf_token")
	if code, body := owner.post("/g/ibis/edit", form); code != 200 {
		t.Fatalf("saving the trust setting: %d\n%s", code, body)
	}
	if n := w.queryInt(t, `SELECT trust_posts FROM groups WHERE slug = 'ibis'`); n != 2 {
		t.Fatalf("trust_posts = %d, want 2", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM groups WHERE slug = 'ibis' AND dmarc_failure = 'refuse'`); n != 1 {
		t.Fatal("the group form did not save the DMARC setting")
	}
	status := func(id int) string {
		if w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'held'`, id) == 1 {
			return "held"
		}
		return "approved"
	}
	a1 := moderationPost(t, w, "ann@example.org", "ibis", "Ann one")
	a2 := moderationPost(t, w, "ann@example.org", "ibis", "Ann two")
	if status(a1) != "held" || status(a2) != "held" {
		t.Fatalf("a new member's first posts: %s, %s; want both held", status(a1), status(a2))
	}
	if wes := moderationPost(t, w, "wes@example.org", "ibis", "Wes one"); status(wes) != "approved" {
		t.Error("a whitelisted member's first post was held")
	}
	owner.get("/g/ibis/moderation")
	owner.post("/g/ibis/moderation", url.Values{"held_" + strconv.Itoa(a1): {"approve"}, "held_" + strconv.Itoa(a2): {"approve"}})
	if a3 := moderationPost(t, w, "ann@example.org", "ibis", "Ann three"); status(a3) != "approved" {
		t.Error("the third post after two approved ones was held")
	}
}

// TestModerateByReply: answering a moderation notice with "approve"
// approves the message; a second moderator's "veto" answer is told who
// decided first; an answer from another address is ignored.
func TestModerateByReply(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	for _, u := range []string{"owner", "mod", "ann"} {
		w.createUser(t, u+"@example.org", strings.ToUpper(u[:1])+u[1:], "correct horse battery", false)
	}
	w.sql(t, `
		INSERT INTO groups (slug, name, moderated) VALUES ('cranes', 'Cranes', true);
		INSERT INTO memberships (group_id, user_id, role)
			SELECT g.id, u.id, CASE u.email WHEN 'owner@example.org' THEN 'owner' WHEN 'mod@example.org' THEN 'moderator' ELSE 'member' END
			FROM groups g, users u`)
	id := moderationPost(t, w, "ann@example.org", "cranes", "Crane dance")
	modReply := waitReplyTo(t, w, "mod@example.org", "Crane dance")
	ownerReply := waitReplyTo(t, w, "owner@example.org", "Crane dance")
	if !strings.HasPrefix(modReply, "cranes+m-") || modReply == ownerReply {
		t.Fatalf("reply addresses %q and %q: want personal cranes+m-… addresses", modReply, ownerReply)
	}
	var smtpAddr string
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "SMTP_ADDR="); ok {
			smtpAddr = v
		}
	}
	answer := func(from, to, text string) {
		msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: Re: To moderate in Cranes: Crane dance\r\n" +
			"Message-ID: <" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.org>\r\n\r\n" + text + "\r\n\r\n> A message to Cranes is waiting for a moderator.\r\n"
		if err := smtp.SendMail(smtpAddr, nil, from, []string{to}, []byte(msg)); err != nil {
			t.Fatalf("sending the answer: %v", err)
		}
	}
	// Someone else answering with the moderator's address in hand: ignored.
	answer("ann@example.org", modReply, "approve")
	answer("mod@example.org", modReply, "Approve.")
	w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'approved'`, id)
	if n := w.queryInt(t, `SELECT count(*) FROM moderation_actions a JOIN users u ON u.id = a.moderator_id
		WHERE a.message_id = $1 AND a.action = 'approve' AND u.email = 'mod@example.org'`, id); n != 1 {
		t.Fatal("answering approve did not approve the message as the moderator")
	}
	answer("owner@example.org", ownerReply, "veto: off topic")
	if text := waitOutbox(t, w, "owner@example.org", "already approved"); !strings.Contains(text, "Mod already approved this message") {
		t.Errorf("the late moderator's answer: %q", text)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE id = $1 AND status = 'approved'`, id); n != 1 {
		t.Error("the late veto changed the message")
	}
}

// waitReplyTo waits for an email to `to` whose text contains want and
// returns the address its Reply-To names.
func waitReplyTo(t *testing.T, w *webSite, to, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(w.dir, "outbox", "*.eml"))
		for _, name := range files {
			raw, err := os.ReadFile(name)
			if err != nil || !bytes.Contains(raw, []byte(want)) {
				continue
			}
			mr, err := mail.CreateReader(bytes.NewReader(raw))
			if err != nil {
				continue
			}
			rcpt, _ := mr.Header.AddressList("To")
			rt, _ := mr.Header.AddressList("Reply-To")
			if len(rcpt) == 1 && strings.EqualFold(rcpt[0].Address, to) && len(rt) == 1 {
				return rt[0].Address
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no email to %s with a Reply-To about %q", to, want)
	return ""
}
