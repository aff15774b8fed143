package main

import (
	"bytes"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// TestPauseMail (issue 19) over a real parleyd serve, SMTP out to the
// file outbox and HTTP: bob pauses from the footer link of a group mail
// (the GET changes nothing, the POST pauses), dan from the account page.
// While paused neither gets group mail or a digest, and the others do;
// fay pauses and ends the pause early and gets the next post. Then the
// daemon is restarted with its clock moved past the pause's end
// (TEST_CLOCK_OFFSET_HOURS): its digest scan at start brings dan
// the first digest morning's digest, which holds what was posted during
// the pause, and bob gets group mail again. Cat and eve take plain text
// only: their group mail and digest are one text/plain part.
func TestPauseMail(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "", "DIGEST_CRON=0 0 1 1 *") // digests at start and when asked
	const pw = "correct horse battery"
	delivery := map[string]string{"bob": "immediate", "cat": "immediate", "dan": "digest", "eve": "digest", "fay": "immediate"}
	w.createUser(t, "olga@example.org", "Olga", pw, true)
	for _, n := range []string{"bob", "cat", "dan", "eve", "fay"} {
		w.createUser(t, n+"@example.org", strings.ToUpper(n[:1])+n[1:], pw, false)
	}
	token := w.apiToken(t, "olga@example.org")
	w.api(t, token, "POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	for n, d := range delivery {
		w.api(t, token, "PUT", "/groups/garden/members/"+n+"@example.org", map[string]any{"delivery": d})
	}
	post := func(subject string) {
		t.Helper()
		w.api(t, token, "POST", "/groups/garden/threads", map[string]any{"subject": subject, "body": "About **" + subject + "**."})
	}
	account := func(who string) *webClient {
		c := w.client(t)
		c.login(who+"@example.org", pw)
		c.get("/account")
		return c
	}
	for _, n := range []string{"cat", "eve"} {
		if code, body := account(n).post("/account/plain-text", url.Values{"plain_text": {"1"}}); code != 200 || !strings.Contains(body, "plain text only") {
			t.Fatalf("%s choosing plain text: %d\n%s", n, code, body)
		}
	}

	post("Before the pause")
	pauseLink := regexp.MustCompile(`https?://\S+/pause/\S+`).FindString(linksWaitMail(t, w, "bob@example.org", "Before the pause").text)
	if pauseLink == "" {
		t.Fatal("bob's group mail has no pause link in its footer")
	}
	pauseCheckPlain(t, linksWaitMail(t, w, "cat@example.org", "Before the pause").raw, "cat's group mail")

	paused := func(who string) int {
		return w.queryInt(t, `SELECT count(*) FROM users WHERE email = $1 AND paused_until > now()`, who+"@example.org")
	}
	// The footer link: GET shows the form and changes nothing; a bad
	// date is refused with the input kept; the POST pauses.
	loc := time.UTC // every account here is on UTC
	resume := time.Now().In(loc).AddDate(0, 0, 3)
	day := resume.Format("2006-01-02")
	code, body := pauseGet(t, pauseLink)
	if code != 200 || !strings.Contains(body, `method="post"`) || !strings.Contains(body, `type="date"`) || paused("bob") != 0 {
		t.Fatalf("GET of the pause link: %d, paused %d\n%s", code, paused("bob"), body)
	}
	yesterday := time.Now().In(loc).AddDate(0, 0, -1).Format("2006-01-02")
	if code, body := pausePost(t, pauseLink, url.Values{"until": {yesterday}}); code != 422 || !strings.Contains(body, `value="`+yesterday+`"`) || paused("bob") != 0 {
		t.Fatalf("a past date: %d, paused %d\n%s", code, paused("bob"), body)
	}
	if code, body := pausePost(t, pauseLink, url.Values{"until": {day}}); code != 200 || !strings.Contains(body, "Your email is paused") ||
		!strings.Contains(body, "End the pause now") || paused("bob") != 1 {
		t.Fatalf("pausing from the link: %d, paused %d\n%s", code, paused("bob"), body)
	}
	// The account page: more than a year is refused with the input kept.
	dan := account("dan")
	far := time.Now().In(loc).AddDate(2, 0, 0).Format("2006-01-02")
	if code, body := dan.post("/account/pause", url.Values{"until": {far}}); code != 422 || !strings.Contains(body, `value="`+far+`"`) || paused("dan") != 0 {
		t.Fatalf("pausing for two years: %d\n%s", code, body)
	}
	if code, body := dan.post("/account/pause", url.Values{"until": {day}}); code != 200 || !strings.Contains(body, "Your email is paused") || paused("dan") != 1 {
		t.Fatalf("pausing on the account page: %d\n%s", code, body)
	}
	// The API and the admin user page show the pause.
	if got := string(w.api(t, token, "GET", "/users/bob@example.org", nil)); !strings.Contains(got, `"paused_until":"`+day+"T00:00:00Z") ||
		!strings.Contains(got, `"plain_text_email":false`) {
		t.Errorf("the API's user lacks bob's pause: %s", got)
	}
	admin := account("olga")
	if code, body := admin.get("/admin/users/" + itoa(w.queryInt(t, `SELECT id FROM users WHERE email = 'bob@example.org'`))); code != 200 ||
		!strings.Contains(body, "<strong>paused</strong>, resumes on "+resume.Format("Monday 2 January 2006")) {
		t.Errorf("the admin user page does not show bob's pause: %d\n%s", code, body)
	}
	fay := account("fay")
	fay.post("/account/pause", url.Values{"until": {day}})
	if paused("fay") != 1 {
		t.Fatal("fay's pause was not recorded")
	}

	// While paused: nothing to bob, dan or fay; cat and eve get theirs.
	post("While away")
	linksWaitMail(t, w, "cat@example.org", "While away")
	// bob's and fay's copies (dan takes digests: no copy is made for him).
	if n := w.waitInt(t, func(n int) bool { return n == 2 }, `SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id
		WHERE m.subject = 'While away' AND d.state = 'skipped' AND d.skip_reason = 'mail paused'`); n != 2 {
		t.Errorf("%d copies of the post skipped as paused, want bob's and fay's", n)
	}
	out, stderr, code := runCmd(t, w.env, "", "send-digests", "--now")
	if code != 0 || !strings.Contains(out, "eve@example.org: daily digest: sent") || strings.Contains(out, "dan@example.org") {
		t.Fatalf("send-digests --now while dan is paused: %d\n%s%s", code, out, stderr)
	}
	eveDigest := linksWaitMail(t, w, "eve@example.org", "Daily digest")
	pauseCheckPlain(t, eveDigest.raw, "eve's digest")
	if !strings.Contains(eveDigest.text, "While away") || !strings.Contains(eveDigest.text, "/pause/") {
		t.Errorf("eve's digest lacks the post or the pause link:\n%s", eveDigest.text)
	}

	// Fay ends her pause early and gets the next post.
	if code, body := fay.post("/account/pause/end", url.Values{}); code != 200 || !strings.Contains(body, "no longer paused") || paused("fay") != 0 {
		t.Fatalf("ending the pause: %d\n%s", code, body)
	}
	post("Fay is back")
	linksWaitMail(t, w, "fay@example.org", "Fay is back")
	for _, m := range linksOutbox(t, w) {
		if (m.to == "bob@example.org" || m.to == "fay@example.org") && strings.Contains(m.subject, "While away") || m.to == "dan@example.org" {
			t.Errorf("mail to %s while paused: %q", m.to, m.subject)
		}
	}

	// Days later: at 08:00 on the day the pause ends, an hour after
	// DIGEST_HOUR, the daemon (re)starts and scans for digests.
	resumeAt := time.Date(resume.Year(), resume.Month(), resume.Day(), 8, 0, 0, 0, loc)
	hours := int(math.Ceil(time.Until(resumeAt).Hours()))
	// The scan job is unique per minute of the real clock (river's
	// ByPeriod), so a restart in the minute of the last scan would not
	// scan again: wait for the next one.
	// (No scan yet, on a loaded machine: nothing to wait for.)
	lastScan := queryOne[time.Time](t, w, `SELECT coalesce(max(created_at), 'epoch') FROM river_job WHERE kind = 'digest_scan'`)
	for time.Now().Truncate(time.Minute).Equal(lastScan.Truncate(time.Minute)) {
		time.Sleep(200 * time.Millisecond)
	}
	w.srv.stop(t, syscall.SIGTERM)
	w.srv = startServe(t, append(w.env[:len(w.env):len(w.env)], "TEST_CLOCK_OFFSET_HOURS="+strconv.Itoa(hours)))
	waitHealthy(t, w.url, 60*time.Second, w.srv.exited)
	danDigest := linksWaitMail(t, w, "dan@example.org", "Daily digest")
	if !strings.Contains(danDigest.text, "While away") || !strings.Contains(danDigest.html, "While away") {
		t.Errorf("dan's first digest after the pause lacks what was posted during it:\n%s", danDigest.text)
	}
	if got := queryOne[string](t, w, `SELECT string_agg(d.period_key::text, ',') FROM digests d JOIN users u ON u.id = d.user_id
		WHERE u.email = 'dan@example.org' AND d.state = 'sent'`); got != day {
		t.Errorf("dan's digests sent on %s, want one on %s, the first morning after the pause", got, day)
	}
	post("After the pause")
	linksWaitMail(t, w, "bob@example.org", "After the pause")
}

func pauseGet(t *testing.T, link string) (int, string) {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func pausePost(t *testing.T, link string, form url.Values) (int, string) {
	t.Helper()
	res, err := http.PostForm(link, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// pauseCheckPlain asserts the MIME structure of a plain-text-only copy:
// the message itself is text/plain, with no HTML anywhere.
func pauseCheckPlain(t *testing.T, raw []byte, what string) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	ct, _, _ := mime.ParseMediaType(mr.Header.Get("Content-Type"))
	if ct != "text/plain" || bytes.Contains(bytes.ToLower(raw), []byte("text/html")) {
		t.Errorf("%s is %s, want one text/plain part and no HTML", what, ct)
	}
}
