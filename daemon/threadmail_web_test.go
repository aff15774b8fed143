package main

import (
	"io"
	"net/http"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// threadMailLink finds the conversation links (mute, follow, stop
// following) in a mail's text, in order.
var threadMailLink = regexp.MustCompile(`https?://[^\s<>"]+/thread-mail/[^\s<>"]+`)

// threadMailGet opens a conversation link as a mail scanner would: the
// page asks, with one button.
func threadMailGet(t *testing.T, link, button string) {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `method="post"`) || !strings.Contains(string(body), ">"+button+"<") {
		t.Fatalf("GET %s: %d without its %q button\n%s", link, res.StatusCode, button, body)
	}
}

// threadMailPost presses the page's button and returns the page, which
// must say what was done and offer the undo; it returns the undo's action.
func threadMailPost(t *testing.T, w *webSite, link, says string) string {
	t.Helper()
	res, err := http.PostForm(link, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	undo := regexp.MustCompile(`<form method="post" action="([^"]+)">\s*<button type="submit" class="secondary">Undo</button>`).FindStringSubmatch(string(body))
	if res.StatusCode != 200 || !strings.Contains(string(body), says) || undo == nil {
		t.Fatalf("POST %s: %d, want %q and an Undo button\n%s", link, res.StatusCode, says, body)
	}
	u, _ := url.Parse(w.url)
	return u.Scheme + "://" + u.Host + undo[1]
}

// TestMuteAndFollowConversations, over real SMTP and HTTP against
// `parleyd serve`: an every-message member mutes a thread from the link
// in its mail (the GET changes nothing, the POST does), then gets the
// next post of another thread but no more replies in the muted one, and
// undoes it; a digest member follows a thread from the link in their
// digest, gets its next reply at once and the rest of the group in the
// next digest, without the reply again; "mute" alone, mailed to a
// thread's reply address from the member's own address, mutes it and is
// confirmed with an undo link.
func TestMuteAndFollowConversations(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "", "DIGEST_CRON=0 0 1 1 *") // digests only when asked
	for _, u := range []struct{ email, name string }{{"olga@example.org", "Olga"}, {"ann@example.org", "Ann"}, {"dan@example.org", "Dan"}} {
		w.createUser(t, u.email, u.name, "correct horse battery", u.email == "olga@example.org")
	}
	token := w.apiToken(t, "olga@example.org")
	api := func(method, path string, body any) { t.Helper(); w.api(t, token, method, path, body) }
	api("POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	api("PUT", "/groups/garden/members/olga@example.org", map[string]any{"delivery": "immediate"})
	api("PUT", "/groups/garden/members/ann@example.org", map[string]any{"delivery": "immediate"})
	api("PUT", "/groups/garden/members/dan@example.org", map[string]any{"delivery": "digest"})
	w.sql(t, `UPDATE memberships SET created_at = now() - interval '1 hour'`)
	prefs := func(email string) string {
		return queryOne[string](t, w, `SELECT coalesce(string_agg(t.subject || '=' || tp.pref, ',' ORDER BY t.subject), '')
			FROM thread_prefs tp JOIN threads t ON t.id = tp.thread_id JOIN users u ON u.id = tp.user_id WHERE u.email = $1`, email)
	}
	threadID := func(subject string) string {
		return itoa(w.queryInt(t, `SELECT id FROM threads WHERE subject = $1`, subject))
	}

	// ann mutes "Tomatoes" from her copy's footer.
	api("POST", "/groups/garden/threads", map[string]any{"subject": "Tomatoes", "body": "Staking tomatoes?"})
	first := linksWaitMail(t, w, "ann@example.org", "Tomatoes")
	links := threadMailLink.FindAllString(first.text, -1)
	if len(links) != 1 || !strings.Contains(first.html, "Mute this conversation") {
		t.Fatalf("an every-message member's copy: want one conversation link (Mute), got %q\n%s", links, first.text)
	}
	threadMailGet(t, links[0], "Mute")
	if p := prefs("ann@example.org"); p != "" {
		t.Fatalf("opening the mute link changed ann's choices: %q", p)
	}
	undo := threadMailPost(t, w, links[0], "Conversation muted")
	if p := prefs("ann@example.org"); p != "Tomatoes=mute" {
		t.Fatalf("after the POST ann's choices are %q", p)
	}
	api("POST", "/threads/"+threadID("Tomatoes")+"/messages", map[string]any{"body": "Use bamboo canes."})
	linksWaitMail(t, w, "olga@example.org", "Re: Tomatoes") // the reply went out
	api("POST", "/groups/garden/threads", map[string]any{"subject": "Beans", "body": "Runner or French?"})
	beans := linksWaitMail(t, w, "ann@example.org", "Beans")
	for _, m := range linksOutbox(t, w) {
		if m.to == "ann@example.org" && strings.Contains(m.subject, "Re: Tomatoes") {
			t.Fatal("ann got a reply in the thread she muted")
		}
	}
	// Undo: she is mailed the thread again.
	threadMailPost(t, w, undo, "Back to your group setting")
	if p := prefs("ann@example.org"); p != "" {
		t.Fatalf("after undo ann's choices are %q", p)
	}
	api("POST", "/threads/"+threadID("Tomatoes")+"/messages", map[string]any{"body": "Or hazel rods."})
	linksWaitMail(t, w, "ann@example.org", "Re: Tomatoes")

	// dan (daily digest) follows "Beans" from his digest.
	if out, stderr, code := runCmd(t, w.env, "", "send-digests", "--now"); code != 0 || !strings.Contains(out, "sent") {
		t.Fatalf("send-digests --now: %d %s %s", code, out, stderr)
	}
	digest := linksWaitMail(t, w, "dan@example.org", "digest")
	at := strings.Index(digest.text, "-- Beans")
	follow := regexp.MustCompile(`Follow \(every new message by email at once\): (\S+)`).FindStringSubmatch(digest.text[max(at, 0):])
	if at < 0 || follow == nil || !strings.Contains(digest.html, ">Follow</a>") || !strings.Contains(digest.html, ">Mute</a>") {
		t.Fatalf("the digest's Beans item without Follow and Mute:\n%s", digest.text)
	}
	threadMailGet(t, follow[1], "Follow")
	if p := prefs("dan@example.org"); p != "" {
		t.Fatalf("opening the follow link changed dan's choices: %q", p)
	}
	threadMailPost(t, w, follow[1], "You follow this conversation")
	api("POST", "/threads/"+threadID("Beans")+"/messages", map[string]any{"body": "Runner beans, always."})
	reply := linksWaitMail(t, w, "dan@example.org", "Re: Beans")
	if !strings.Contains(reply.text, "Stop following this conversation") || !strings.Contains(reply.text, "because you follow this conversation") {
		t.Fatalf("a follower's copy does not say why it came or how to stop:\n%s", reply.text)
	}
	api("POST", "/groups/garden/threads", map[string]any{"subject": "Carrots", "body": "Sow them thin."})
	linksWaitMail(t, w, "ann@example.org", "Carrots")
	if _, ok := linksMailTo(t, w, "dan@example.org", "Carrots"); ok {
		t.Fatal("dan got a thread he does not follow by email")
	}
	if out, stderr, code := runCmd(t, w.env, "", "send-digests", "--now"); code != 0 || !strings.Contains(out, "sent") {
		t.Fatalf("second send-digests --now: %d %s %s", code, out, stderr)
	}
	var second linksMail
	deadline := time.Now().Add(30 * time.Second)
	for second.text == "" && time.Now().Before(deadline) {
		for _, m := range linksOutbox(t, w) {
			if m.to == "dan@example.org" && strings.Contains(m.subject, "digest") && strings.Contains(m.text, "Carrots") {
				second = m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if second.text == "" || strings.Contains(second.text, "Runner beans, always.") {
		t.Fatalf("dan's next digest: want Carrots and not the Beans reply mailed to him already:\n%s", second.text)
	}

	// ann mutes "Beans" by email: "Mute" alone above her signature and
	// the quoted message, to the thread's reply address in her copy.
	addr := regexp.MustCompile(`garden\+r-[a-z0-9-]+@lists\.test`).FindString(beans.text)
	if addr == "" {
		t.Fatalf("ann's copy names no reply address to mute by email:\n%s", beans.text)
	}
	before := w.queryInt(t, `SELECT count(*) FROM messages`)
	msg := "From: Ann <ann@example.org>\r\nTo: " + addr + "\r\nSubject: Re: Beans\r\nMessage-ID: <mute-1@example.org>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\nMute\r\n\r\n-- \r\nAnn, from the allotment\r\n\r\n" +
		"On Mon, Olga wrote:\r\n> Runner or French?\r\n"
	if err := smtp.SendMail(envValue(w.env, "SMTP_ADDR"), nil, "ann@example.org", []string{addr}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	confirm := linksWaitMail(t, w, "ann@example.org", "Muted: Beans")
	if p := prefs("ann@example.org"); p != "Beans=mute" {
		t.Fatalf("after mailing mute ann's choices are %q", p)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages`); n != before {
		t.Fatalf("the mute command was posted to the group (%d messages, were %d)", n, before)
	}
	undoLinks := threadMailLink.FindAllString(confirm.text, -1)
	if len(undoLinks) != 1 {
		t.Fatalf("the confirmation has no undo link:\n%s", confirm.text)
	}
	threadMailGet(t, undoLinks[0], "Confirm")
	threadMailPost(t, w, undoLinks[0], "Back to your group setting")
	if p := prefs("ann@example.org"); p != "" {
		t.Fatalf("after the emailed undo ann's choices are %q", p)
	}
}

// linksMailTo returns the outbox's mail to `to` whose subject holds
// subject, if any, without waiting.
func linksMailTo(t *testing.T, w *webSite, to, subject string) (linksMail, bool) {
	t.Helper()
	for _, m := range linksOutbox(t, w) {
		if m.to == to && strings.Contains(m.subject, subject) {
			return m, true
		}
	}
	return linksMail{}, false
}
