package main

import (
	"errors"
	"html"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// privateAddrRe finds a private reply address (SLUG+p-TOKEN@MAIL_DOMAIN).
var privateAddrRe = regexp.MustCompile(`garden\+p-[a-z0-9.]+-[a-z2-7]+@lists\.test`)

// privateSend mails body from `from` (envelope and header) to `to` over
// SMTP and returns the server's refusal, if any.
func privateSend(t *testing.T, w *webSite, from, to, subject, extra, body string) error {
	t.Helper()
	msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "." +
		itoa(int(time.Now().UnixNano()%1e9)) + "@example.org>\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" + extra + "\r\n" + body + "\r\n"
	return smtp.SendMail(envValue(w.env, "SMTP_ADDR"), nil, from, []string{to}, []byte(msg))
}

// refused550 says whether err is an SMTP 550 whose text has want.
func refused550(err error, want string) bool {
	var te *textproto.Error
	return errors.As(err, &te) && te.Code == 550 && strings.Contains(te.Msg, want)
}

// withoutEnvelope is a raw copy from the file outbox without the
// envelope recipient the file backend writes on top.
func withoutEnvelope(raw []byte) string {
	var keep []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "X-Parley-Envelope-To:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestPrivateReplyByMail: against a real `parleyd serve`, each member's
// copy of a group message offers their own private address to the
// author; a reply to it reaches the author through Parley, with neither
// address in the copy, and the author's answer comes back the same way;
// both read the conversation in their web inbox. A third party's mail to
// either address gets 550 at SMTP; automatic replies to it are never
// delivered; and with "Others may write to me privately" off the link is
// gone from mail and the web and the old address is refused.
func TestPrivateReplyByMail(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	const pw = "correct horse battery"
	for _, u := range [][2]string{{"olga@example.org", "Olga"}, {"ann@example.org", "Ann"}, {"bob@example.org", "Bob"}, {"eve@example.org", "Eve"}} {
		w.createUser(t, u[0], u[1], pw, u[0] == "olga@example.org")
	}
	olga := w.apiToken(t, "olga@example.org")
	w.api(t, olga, "POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	for _, m := range []string{"ann", "bob", "eve"} {
		w.api(t, olga, "PUT", "/groups/garden/members/"+m+"@example.org", map[string]any{"delivery": "immediate"})
	}
	w.api(t, w.apiToken(t, "ann@example.org"), "POST", "/groups/garden/threads", map[string]any{"subject": "Seed swap", "body": "Bring seeds."})

	// Each copy has its own address, in the text and the HTML; the
	// author's own copy offers none.
	bobCopy := linksWaitMail(t, w, "bob@example.org", "Seed swap")
	eveCopy := linksWaitMail(t, w, "eve@example.org", "Seed swap")
	bobAddr, eveAddr := privateAddrRe.FindString(bobCopy.text), privateAddrRe.FindString(eveCopy.text)
	if bobAddr == "" || eveAddr == "" || bobAddr == eveAddr || !strings.Contains(bobCopy.text, "Reply to the author privately") {
		t.Fatalf("private addresses %q and %q, want one for each copy:\n%s", bobAddr, eveAddr, bobCopy.text)
	}
	if !strings.Contains(html.UnescapeString(bobCopy.html), `href="mailto:`+bobAddr+`"`) {
		t.Errorf("the HTML part has no mailto: link to %s", bobAddr)
	}
	if annCopy := linksWaitMail(t, w, "ann@example.org", "Seed swap"); privateAddrRe.MatchString(annCopy.text) {
		t.Errorf("the author's own copy offers a private reply to herself")
	}

	// Eve may not use Bob's address, nor a forged envelope.
	if err := privateSend(t, w, "eve@example.org", bobAddr, "Sneaky", "", "Hi Ann."); !refused550(err, "only from the member it was given to") {
		t.Errorf("a third party's mail to a private address: %v, want 550", err)
	}

	// Bob's private reply reaches Ann from Parley, with his address nowhere.
	if err := privateSend(t, w, "bob@example.org", bobAddr, "Beans for me", "", "Could you keep me some beans?\r\n\r\n> Bring seeds."); err != nil {
		t.Fatalf("Bob's private reply: %v", err)
	}
	toAnn := linksWaitMail(t, w, "ann@example.org", "Beans for me")
	raw := withoutEnvelope(toAnn.raw)
	if strings.Contains(strings.ToLower(raw), "bob@example.org") || !strings.Contains(toAnn.text, "keep me some beans") {
		t.Fatalf("Ann's copy shows Bob's address, or not his text:\n%s", raw)
	}
	annReplyTo := privateAddrRe.FindString(headerOf(raw, "Reply-To"))
	if annReplyTo == "" || !strings.Contains(headerOf(raw, "From"), "Bob via Garden") || !strings.Contains(headerOf(raw, "From"), "@lists.test") {
		t.Fatalf("Ann's copy: From %q, Reply-To %q", headerOf(raw, "From"), headerOf(raw, "Reply-To"))
	}
	if strings.Contains(toAnn.text, "Reply to the author privately") {
		t.Errorf("a private message offers a further private reply in its footer")
	}

	// Ann answers; Bob gets it the same way, without her address.
	if err := privateSend(t, w, "eve@example.org", annReplyTo, "Sneaky", "", "Hi Bob."); !refused550(err, "only from the member it was given to") {
		t.Errorf("a third party's mail to the address back: %v, want 550", err)
	}
	if err := privateSend(t, w, "ann@example.org", annReplyTo, "Re: Beans for me", "In-Reply-To: <x@example.org>\r\n", "Of course."); err != nil {
		t.Fatalf("Ann's answer: %v", err)
	}
	toBob := linksWaitMail(t, w, "bob@example.org", "Re: Beans for me")
	raw = withoutEnvelope(toBob.raw)
	if strings.Contains(strings.ToLower(raw), "ann@example.org") || !strings.Contains(toBob.text, "Of course.") ||
		!privateAddrRe.MatchString(headerOf(raw, "Reply-To")) {
		t.Fatalf("Bob's copy of the answer shows Ann's address, or not her text, or no private Reply-To:\n%s", raw)
	}
	private := w.queryInt(t, `SELECT id FROM threads WHERE subject = 'Beans for me'`)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE thread_id = $1`, private); n != 2 {
		t.Errorf("%d messages in the private thread, want 2", n)
	}
	for who, want := range map[string]int{"ann@example.org": 200, "bob@example.org": 200, "eve@example.org": 404} {
		c := w.client(t)
		c.login(who, pw)
		if code, _ := c.get("/g/garden/t/" + itoa(private)); code != want {
			t.Errorf("%s reads the private thread: %d, want %d", who, code, want)
		}
		if _, inbox := c.get("/inbox"); strings.Contains(inbox, "Beans for me") != (want == 200) {
			t.Errorf("%s's inbox lists the private thread: %v, want %v", who, !(want == 200), want == 200)
		}
	}

	// An out-of-office reply from Bob to his address is never delivered.
	if err := privateSend(t, w, "bob@example.org", bobAddr, "Out of office", "Auto-Submitted: auto-replied\r\n", "Away."); err != nil {
		t.Fatalf("the automatic reply: %v", err)
	}
	w.waitInt(t, func(n int) bool { return n == 1 }, `SELECT count(*) FROM inbound_messages WHERE outcome LIKE '%dropped: automatic mail%'`)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE subject LIKE '%Out of office%'`); n != 0 {
		t.Errorf("the automatic reply was posted")
	}

	// Ann turns private messages off: her next post offers no private
	// reply, the thread page no "Write privately", and Bob's old address
	// is refused politely.
	ann := w.client(t)
	ann.login("ann@example.org", pw)
	ann.get("/account")
	if code, page := ann.post("/account/private-messages", url.Values{}); code != http.StatusOK || strings.Contains(page, `name="private_messages" value="1" checked`) {
		t.Fatalf("turning private messages off: %d", code)
	}
	w.api(t, w.apiToken(t, "ann@example.org"), "POST", "/groups/garden/threads", map[string]any{"subject": "Second swap", "body": "Again."})
	if again := linksWaitMail(t, w, "bob@example.org", "Second swap"); privateAddrRe.MatchString(again.text) || strings.Contains(again.html, "privately") {
		t.Errorf("with private messages off, the author's post still offers a private reply")
	}
	if err := privateSend(t, w, "bob@example.org", bobAddr, "Beans again", "", "More beans?"); !refused550(err, "does not take private messages") {
		t.Errorf("mail to an old private address of a member who turned them off: %v, want a polite 550", err)
	}
	bob := w.client(t)
	bob.login("bob@example.org", pw)
	if _, page := bob.get("/g/garden/t/" + itoa(w.queryInt(t, `SELECT id FROM threads WHERE subject = 'Seed swap'`))); strings.Contains(page, "Write privately") {
		t.Errorf("the thread page offers Write privately to a member who turned it off")
	}
}

// TestWritePrivatelyOnTheWeb: "Write privately" beside a message opens a
// form whose message reaches the author alone, by mail through Parley
// (with a private Reply-To and no address of the writer) and in the web
// inbox of both.
func TestWritePrivatelyOnTheWeb(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	const pw = "correct horse battery"
	for _, u := range [][2]string{{"olga@example.org", "Olga"}, {"ann@example.org", "Ann"}, {"eve@example.org", "Eve"}} {
		w.createUser(t, u[0], u[1], pw, u[0] == "olga@example.org")
	}
	olga := w.apiToken(t, "olga@example.org")
	w.api(t, olga, "POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	for _, m := range []string{"ann", "eve"} {
		w.api(t, olga, "PUT", "/groups/garden/members/"+m+"@example.org", map[string]any{"delivery": "immediate"})
	}
	w.api(t, w.apiToken(t, "ann@example.org"), "POST", "/groups/garden/threads", map[string]any{"subject": "Seed swap", "body": "Bring seeds."})
	thread := "/g/garden/t/" + itoa(w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT coalesce(max(id), 0) FROM threads WHERE subject = 'Seed swap'`))
	annID := w.queryInt(t, `SELECT id FROM users WHERE email = 'ann@example.org'`)
	write := "/g/garden/write/" + itoa(annID)

	ann := w.client(t)
	ann.login("ann@example.org", pw)
	if _, page := ann.get(thread); strings.Contains(page, "Write privately") {
		t.Errorf("the author is offered to write privately to herself")
	}
	eve := w.client(t)
	eve.login("eve@example.org", pw)
	if _, page := eve.get(thread); !strings.Contains(page, `href="`+write+`"`) {
		t.Fatalf("no Write privately link to %s on the thread page", write)
	}
	if code, page := eve.get(write); code != http.StatusOK || !strings.Contains(page, "Write privately to Ann") {
		t.Fatalf("the form: %d", code)
	}
	if code, page := eve.post(write, url.Values{"subject": {""}, "body": {"Half written"}}); code != http.StatusUnprocessableEntity || !strings.Contains(page, "Half written</textarea>") {
		t.Fatalf("an empty subject: %d, want 422 with the text kept", code)
	}
	if code, page := eve.post(write, url.Values{"subject": {"Just between us"}, "body": {"A quiet word, Ann."}}); code != http.StatusOK ||
		!strings.Contains(page, "Your message was sent privately to Ann.") {
		t.Fatalf("sending: %d", code)
	}
	toAnn := linksWaitMail(t, w, "ann@example.org", "Just between us")
	raw := withoutEnvelope(toAnn.raw)
	if strings.Contains(strings.ToLower(raw), "eve@example.org") || !privateAddrRe.MatchString(headerOf(raw, "Reply-To")) {
		t.Fatalf("Ann's copy shows Eve's address or has no private Reply-To:\n%s", raw)
	}
	if _, inbox := ann.get("/inbox"); !strings.Contains(inbox, "Just between us") {
		t.Errorf("Ann's inbox does not list the private conversation")
	}
	// Mailed to Ann, and (a web post) to Eve herself; to no one else.
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		WHERE m.subject = 'Just between us' AND d.email NOT IN ('ann@example.org', 'eve@example.org')`); n != 0 {
		t.Errorf("the private message was mailed to %d others", n)
	}
}

// headerOf returns the (unfolded) value of a header field of raw.
func headerOf(raw, name string) string {
	head, _, _ := strings.Cut(strings.ReplaceAll(raw, "\r\n", "\n"), "\n\n")
	head = strings.ReplaceAll(head, "\n ", " ")
	for _, l := range strings.Split(head, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
