package main

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// smtpAddrOf returns the SMTP_ADDR a test site was started with.
func smtpAddrOf(w *webSite) string {
	for _, kv := range w.env {
		if v, ok := strings.CutPrefix(kv, "SMTP_ADDR="); ok {
			return v
		}
	}
	return ""
}

// sendMail delivers raw (LF line ends) over SMTP and returns the refusal, if any.
func sendMail(addr, from, to, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	dw, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := dw.Write([]byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		return err
	}
	return dw.Close()
}

// TestFailedMailOnAdminPage: a post PostgreSQL refuses every time (a
// trigger stands in for a real fault) ends "failed" with its reason after
// its retries, is counted in /metrics, and is listed under Admin › Failed
// mail with when, from, to and why; once the fault is gone, Retry (a POST
// with the CSRF token) posts it.
func TestFailedMailOnAdminPage(t *testing.T) {
	w := startWeb(t, "")
	w.createUser(t, "admin@example.org", "Admin", "correct horse battery", true)
	w.sql(t, `INSERT INTO groups (slug, name) VALUES ('poison', 'Poison');
		INSERT INTO memberships (group_id, user_id, role) SELECT g.id, u.id, 'owner' FROM groups g, users u WHERE u.email = 'admin@example.org'`)
	w.sql(t, `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$`)
	w.sql(t, `CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.subject = 'Poison') EXECUTE FUNCTION refuse_poison()`)

	if err := sendMail(smtpAddrOf(w), "admin@example.org", "poison@lists.test",
		"From: Admin <admin@example.org>\nTo: poison@lists.test\nSubject: Poison\nMessage-ID: <poison@example.org>\n\nHello\n"); err != nil {
		t.Fatal(err)
	}
	// The retries are minutes apart; bring each due now rather than wait.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		w.sql(t, `UPDATE river_job SET scheduled_at = now() WHERE kind = 'process_inbound' AND state = 'retryable'`)
		if w.queryInt(t, `SELECT count(*) FROM inbound_messages WHERE state = 'failed'`) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not marked failed; outcome %q", queryOne[string](t, w, `SELECT state || ': ' || outcome FROM inbound_messages`))
		}
	}
	// The job queue records the job's end a moment after the work that
	// marked the message failed has committed: wait for it.
	if n := w.waitInt(t, func(n int) bool { return n == 0 },
		`SELECT count(*) FROM river_job WHERE kind = 'process_inbound' AND state NOT IN ('completed', 'discarded', 'cancelled')`); n != 0 {
		t.Fatalf("%d processing jobs still pending after the message failed", n)
	}
	if v := metric(t, w.url, "parley_inbound_failed_total"); v != 1 {
		t.Fatalf("parley_inbound_failed_total = %v, want 1", v)
	}
	id := w.queryInt(t, `SELECT id FROM inbound_messages`)

	c := w.client(t)
	c.login("admin@example.org", "correct horse battery")
	if code, body := c.get("/admin/users"); code != 200 || !strings.Contains(body, `href="/admin/mail/failed"`) {
		t.Fatalf("the Admin menu should link to Failed mail: %d", code)
	}
	code, body := c.get("/admin/mail/failed")
	if code != 200 {
		t.Fatalf("failed mail page: %d", code)
	}
	for _, want := range []string{"admin@example.org", "poison@lists.test", "failed after 5 attempts", "disk on fire", "poison@example.org"} {
		if !strings.Contains(body, want) {
			t.Errorf("failed mail page lacks %q", want)
		}
	}
	retry := "/admin/mail/failed/" + strconv.Itoa(id) + "/retry"
	if code, _ := c.post(retry, url.Values{"csrf_token": {"forged"}}); code != 403 {
		t.Fatalf("retry without the CSRF token: %d, want 403", code)
	}
	if code, _ := c.get("/admin/mail/failed"); code != 200 {
		t.Fatal(code)
	}

	w.sql(t, `DROP TRIGGER refuse_poison ON messages`)
	code, body = c.post(retry, url.Values{})
	if code != 200 || !strings.Contains(body, "will be processed again") {
		t.Fatalf("retry: %d\n%s", code, body)
	}
	if n := w.waitInt(t, func(n int) bool { return n == 1 }, `SELECT count(*) FROM messages WHERE subject = 'Poison'`); n != 1 {
		t.Fatalf("%d posted after the retry, want 1", n)
	}
	// The post commits before its received copy is marked processed: wait
	// for the mark too, as the admin page would show it moments later.
	w.waitInt(t, func(n int) bool { return n == 1 }, `SELECT count(*) FROM inbound_messages WHERE state = 'processed'`)
	if state := queryOne[string](t, w, `SELECT state FROM inbound_messages`); state != "processed" {
		t.Fatalf("state after the retry: %q", state)
	}
	if _, body := c.get("/admin/mail/failed"); !strings.Contains(body, "No failed mail.") {
		t.Fatal("the retried message is still listed")
	}
}
