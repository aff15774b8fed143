package main

import (
	"net/http"
	"net/smtp"
	"strings"
	"testing"
)

// TestForgedModeratorFromIsHeld: against a real `parleyd serve` checking
// senders in the DNS the test runs, a post over SMTP in a moderator's
// name from a client their domain's SPF does not authorise (and with no
// DKIM signature) is held, and the moderation notice and panel say why;
// the owner's own post, from a client that domain authorises, is not.
func TestForgedModeratorFromIsHeld(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "owner@example.org", "Owner", "correct horse battery", false)
	w.createUser(t, "mod@forged.example", "Mod", "correct horse battery", false)
	w.sql(t, `
		INSERT INTO groups (slug, name, moderated) VALUES ('cormorants', 'Cormorants', true);
		INSERT INTO memberships (group_id, user_id, role)
			SELECT g.id, u.id, CASE u.email WHEN 'owner@example.org' THEN 'owner' ELSE 'moderator' END FROM groups g, users u`)
	var smtpAddr string
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "SMTP_ADDR="); ok {
			smtpAddr = v
		}
	}
	send := func(from, subject string) {
		msg := "From: " + from + "\r\nTo: cormorants@lists.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@test>\r\n\r\nHello.\r\n"
		if err := smtp.SendMail(smtpAddr, nil, from, []string{"cormorants@lists.test"}, []byte(msg)); err != nil {
			t.Fatalf("sending %q: %v", subject, err)
		}
	}
	send("mod@forged.example", "Forged moderator")
	send("owner@example.org", "Owner post")
	const why = "From not authenticated: SPF fail, no DKIM"
	w.waitInt(t, func(n int) bool { return n == 2 }, `SELECT count(*) FROM messages`)
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE subject = 'Forged moderator' AND status = 'held' AND sender_auth = $1`, why); n != 1 {
		t.Fatal("the forged moderator's post was not held with the reason")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE subject = 'Owner post' AND status = 'approved' AND sender_auth = 'sender verified by SPF example.org'`); n != 1 {
		t.Fatal("the owner's authenticated post was not posted directly")
	}
	if text := waitOutbox(t, w, "owner@example.org", "Forged moderator"); !strings.Contains(text, "Sender check: "+why) {
		t.Errorf("the moderation notice does not say why:\n%s", text)
	}
	owner := w.client(t)
	owner.login("owner@example.org", "correct horse battery")
	code, page := owner.get("/g/cormorants/moderation")
	if code != http.StatusOK || !strings.Contains(page, why) {
		t.Errorf("the moderation panel (%d) does not say why the post is held", code)
	}
}
