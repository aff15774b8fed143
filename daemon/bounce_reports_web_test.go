package main

import (
	"encoding/json"
	"net/http"
	"net/smtp"
	"strings"
	"testing"
)

// TestForgedReportShownToAdmins: against a real `parleyd serve`, a
// forged spam complaint about a member, sent to no-reply@ from the null
// sender, suppresses nobody and mails nobody; admins see it as
// unverified, with why, on Admin › Bounce reports and in the member's
// bounce log (GET /api/v1/bounces/{email}). A member without
// manage_users cannot open the page.
func TestForgedReportShownToAdmins(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root", "correct horse battery", true)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	var smtpAddr string
	for _, e := range w.env {
		if v, ok := strings.CutPrefix(e, "SMTP_ADDR="); ok {
			smtpAddr = v
		}
	}
	arf := "From: fbl@isp.example\r\nTo: no-reply@lists.test\r\nSubject: complaint\r\nMessage-ID: <forged-1@isp.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nspam\r\n\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: t/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <ann@example.org>\r\n\r\n--b--\r\n"
	if err := smtp.SendMail(smtpAddr, nil, "", []string{"no-reply@lists.test"}, []byte(arf)); err != nil {
		t.Fatalf("sending the forged complaint: %v", err)
	}
	if n := w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT count(*) FROM bounce_events WHERE email = 'ann@example.org'`); n != 1 {
		t.Fatalf("%d reports recorded about ann, want 1", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM suppressions WHERE email = 'ann@example.org'`); n != 0 {
		t.Error("a forged complaint suppressed ann")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM river_job WHERE kind = 'system_mail'`); n != 0 {
		t.Errorf("%d system mails queued after a forged complaint", n)
	}

	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	code, body := root.get("/admin/bounces?show=unverified")
	if code != 200 || !strings.Contains(body, "ann@example.org") || !strings.Contains(body, "<strong>unverified</strong>") ||
		!strings.Contains(body, "returns no Parley token") {
		t.Fatalf("Bounce reports page: %d\n%s", code, body)
	}
	if code, body := root.get("/admin/bounces?show=verified"); code != 200 || strings.Contains(body, "ann@example.org") {
		t.Errorf("the verified list shows the forged report: %d", code)
	}
	if _, body := root.get("/admin/users"); !strings.Contains(body, `href="/admin/bounces"`) {
		t.Error("the Admin menu has no Bounce reports tab")
	}
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	if code, _ := ann.get("/admin/bounces"); code != http.StatusForbidden {
		t.Errorf("a member opening Bounce reports: %d, want 403", code)
	}

	out, stderr, code := runCmd(t, w.env, "", "create-token", "root@example.org", "--name", "t")
	if code != 0 {
		t.Fatalf("create-token: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	req, _ := http.NewRequest("GET", w.url+"/api/v1/bounces/ann@example.org", nil)
	req.Header.Set("Authorization", "Bearer "+lines[len(lines)-1])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var log struct {
		Suppressed string
		Score      struct{ Score float64 }
		Events     []struct {
			Kind     string
			Verified bool
			Scored   bool
			Proof    string
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&log); err != nil || res.StatusCode != 200 {
		t.Fatalf("bounce log: %d %v", res.StatusCode, err)
	}
	if log.Suppressed != "" || log.Score.Score != 0 || len(log.Events) != 1 || log.Events[0].Verified || log.Events[0].Scored ||
		log.Events[0].Kind != "complaint" || !strings.Contains(log.Events[0].Proof, "no Parley token") {
		t.Errorf("bounce log: %+v", log)
	}
}
