package main

import (
	"bytes"
	"html"
	"io"
	"mime"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// TestEveryMailLinkWorks: against a real `parleyd serve` with a path
// prefix in ORIGIN, it makes Parley send every kind of mail it can here
// (group message, digest, moderation notice, veto, the confirmation of a
// subscribe by email and the decision on the request, a group
// invitation, a site invitation, verification, password reset, the
// complaint notice with its re-enable link, the help reply and the note
// to a non-member), then follows every link in their text and HTML parts
// and every URL in their List-* headers, logged out and logged in as the
// recipient: none answers 404 or a 5xx, the thread link shows the
// thread, a file's link (in the copy of a reply posted on the web with
// a file) downloads it, and opening the signed links changes nothing
// (the conversation links of group mail, digests and the answer to a
// "follow" by email among them).
// Each system mail has an HTML part that links exactly what its text
// part does.
func TestEveryMailLinkWorks(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "/lists", "DIGEST_CRON=0 0 1 1 *") // digests only when asked
	// The daemon scans for due digests once at start. Dan must join
	// after that scan: one that ran later would record his digest of
	// the last period as empty before his message is moved into it.
	if n := w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT count(*) FROM river_job WHERE kind = 'digest_scan' AND state = 'completed'`); n == 0 {
		t.Fatal("the daemon's start-up scan for due digests did not run within 30 s")
	}
	const pw = "correct horse battery"
	for _, u := range []struct {
		email, name string
		super       bool
	}{{"olga@example.org", "Olga", true}, {"ann@example.org", "Ann", false}, {"dan@example.org", "Dan", false}} {
		w.createUser(t, u.email, u.name, pw, u.super)
	}
	passwords := map[string]string{"olga@example.org": pw, "ann@example.org": pw, "dan@example.org": pw, "new@example.org": pw}
	smtpAddr := envValue(w.env, "SMTP_ADDR")
	send := func(from, to, subject, body string) {
		t.Helper()
		msg := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.org>\r\n" +
			"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n\r\n" + body + "\r\n"
		if err := smtp.SendMail(smtpAddr, nil, from, []string{to}, []byte(msg)); err != nil {
			t.Fatalf("sending %q: %v", subject, err)
		}
	}

	// The groups, through the API as their owner.
	token := w.apiToken(t, "olga@example.org")
	api := func(method, path string, body any) { t.Helper(); w.api(t, token, method, path, body) }
	api("POST", "/groups", map[string]any{"slug": "garden", "name": "Garden"})
	api("PUT", "/groups/garden/members/ann@example.org", map[string]any{"delivery": "immediate"})
	api("PUT", "/groups/garden/members/dan@example.org", map[string]any{"delivery": "digest"})
	api("POST", "/groups", map[string]any{"slug": "quiet", "name": "Quiet", "moderated": true, "join_policy": "request"})
	api("PUT", "/groups/quiet/members/ann@example.org", map[string]any{"delivery": "immediate"})
	api("POST", "/groups", map[string]any{"slug": "closed", "name": "Closed", "join_policy": "invite"})

	// Group message (and, for dan, a digest of it).
	api("POST", "/groups/garden/threads", map[string]any{"subject": "Seed swap on Saturday", "body": "Bring **seeds**."})
	groupMail := linksWaitMail(t, w, "ann@example.org", "Seed swap on Saturday")
	// The footer's "Going away? Pause email" (issue 19), followed with
	// every other link below: its GET must pause nothing.
	if !strings.Contains(groupMail.text, "Going away? Pause email") || !regexp.MustCompile(`/pause/\S+`).MatchString(groupMail.html) {
		t.Errorf("group mail without the pause link in both parts:\n%s", groupMail.text)
	}
	// The digest due last (07:00 UTC, DIGEST_HOUR) holds the message if
	// both it and dan's joining came before that.
	due := time.Now().UTC().Truncate(24 * time.Hour).Add(7 * time.Hour)
	if due.After(time.Now()) {
		due = due.Add(-24 * time.Hour)
	}
	w.sql(t, `UPDATE users SET timezone = 'UTC' WHERE email = 'dan@example.org'`)
	w.sql(t, `UPDATE memberships SET created_at = $1 WHERE user_id = (SELECT id FROM users WHERE email = 'dan@example.org')`, due.Add(-2*time.Hour))
	w.sql(t, `UPDATE messages SET created_at = $1 WHERE subject = 'Seed swap on Saturday'`, due.Add(-time.Hour))
	if out, stderr, code := runCmd(t, w.env, "", "send-digests", "--now"); code != 0 || !strings.Contains(out, "sent") {
		t.Fatalf("send-digests --now: %d %s %s", code, out, stderr)
	}
	linksWaitMail(t, w, "dan@example.org", "digest")

	// A reply with a file, posted on the web: ann's copy links the file.
	filer := w.client(t)
	filer.login("olga@example.org", pw)
	_, page := filer.get("/g/garden/t/" + itoa(w.queryInt(t, `SELECT id FROM threads WHERE subject = 'Seed swap on Saturday'`)))
	const fileText = "Seeds to swap: beans, kale.\n"
	if code, body := filer.postFiles(page, [][2]string{{"body", "The list is attached."}}, map[string][]byte{"seeds.txt": []byte(fileText)}); code != 200 {
		t.Fatalf("replying with a file: %d\n%s", code, body)
	}
	linksWaitMail(t, w, "ann@example.org", "Re: Seed swap on Saturday")
	// Conversation email (issue 19): dan follows the thread, so its next
	// reply reaches him with "Stop following"; ann follows it by email,
	// and is answered with an undo link.
	w.sql(t, `INSERT INTO thread_prefs (user_id, thread_id, pref) SELECT u.id, t.id, 'follow' FROM users u, threads t
		WHERE u.email = 'dan@example.org' AND t.subject = 'Seed swap on Saturday'`)
	api("POST", "/threads/"+itoa(w.queryInt(t, `SELECT id FROM threads WHERE subject = 'Seed swap on Saturday'`))+"/messages",
		map[string]any{"body": "Saturday at ten."})
	if m := linksWaitMail(t, w, "dan@example.org", "Re: Seed swap on Saturday"); !strings.Contains(m.text, "Stop following") {
		t.Fatalf("a follower's copy without Stop following:\n%s", m.text)
	}
	replyAddr := regexp.MustCompile(`garden\+r-[a-z0-9-]+@lists\.test`).FindString(groupMail.text)
	send("ann@example.org", replyAddr, "Re: Seed swap", "follow")
	linksWaitMail(t, w, "ann@example.org", "Following: Seed swap on Saturday")

	// A held message: the moderators' notice; its veto link, POSTed, tells
	// the poster.
	send("ann@example.org", "quiet@lists.test", "Held for a moderator", "Please approve me.")
	notice := linksWaitMail(t, w, "olga@example.org", "To moderate in Quiet")
	veto := regexp.MustCompile(`https?://\S+/moderate/\S+`).FindAllString(notice.text, -1)
	if len(veto) != 2 {
		t.Fatalf("moderation notice without its two decision links:\n%s", notice.text)
	}
	if res, err := http.PostForm(veto[1], url.Values{"reason": {"Off topic"}}); err != nil || res.StatusCode != 200 {
		t.Fatalf("vetoing from the notice: %v %v", res, err)
	}
	linksWaitMail(t, w, "ann@example.org", "Not accepted: Held for a moderator")
	// Another stays held: its links must only ask.
	send("ann@example.org", "quiet@lists.test", "Still waiting", "Me too.")
	linksWaitMail(t, w, "olga@example.org", "To moderate in Quiet: Still waiting")

	// Join by email a group that takes requests, and the owner's decision.
	send("pat@example.org", "quiet+subscribe@lists.test", "subscribe", "")
	join := linksWaitMail(t, w, "pat@example.org", "ask to join Quiet")
	joinLink := regexp.MustCompile(`https?://\S+/join/\S+`).FindString(join.text)
	if res, err := http.PostForm(joinLink, url.Values{}); err != nil || res.StatusCode != 200 {
		t.Fatalf("confirming the subscribe: %v %v", res, err)
	}
	patID := w.waitInt(t, func(n int) bool { return n > 0 }, `SELECT coalesce(max(id), 0) FROM users WHERE email = 'pat@example.org'`)
	olga := w.client(t)
	olga.login("olga@example.org", pw)
	olga.get("/g/quiet/members")
	if code, body := olga.post("/g/quiet/requests/"+itoa(patID)+"/approve", url.Values{}); code != 200 {
		t.Fatalf("approving pat: %d\n%s", code, body)
	}
	linksWaitMail(t, w, "pat@example.org", "Welcome to Quiet")

	// Invitations: to a group, and to the site.
	olga.get("/g/closed/invite")
	if code, body := olga.post("/g/closed/invite", url.Values{"addresses": {"guest@example.org"}}); code != 200 {
		t.Fatalf("inviting to closed: %d\n%s", code, body)
	}
	linksWaitMail(t, w, "guest@example.org", "invitation to join Closed")
	olga.get("/admin/invite")
	if code, body := olga.post("/admin/invite", url.Values{"addresses": {"friend@example.org"}, "group": {"garden"}}); code != 200 {
		t.Fatalf("inviting to the site: %d\n%s", code, body)
	}
	linksWaitMail(t, w, "friend@example.org", "invites you")

	// Account mail: sign-up verification and password reset.
	visitor := w.client(t)
	visitor.get("/signup")
	if code, body := visitor.post("/signup", url.Values{"email": {"new@example.org"}, "name": {"Newcomer"}, "password": {pw}, "timezone": {"UTC"}}); code != 200 {
		t.Fatalf("sign-up: %d\n%s", code, body)
	}
	linksWaitMail(t, w, "new@example.org", "Confirm your email address")
	forgot := w.client(t)
	forgot.get("/forgot-password")
	forgot.post("/forgot-password", url.Values{"email": {"dan@example.org"}})
	linksWaitMail(t, w, "dan@example.org", "Reset your")

	// Inbound answers: help, and the note to a non-member.
	send("ann@example.org", "garden+help@lists.test", "help", "")
	linksWaitMail(t, w, "ann@example.org", "Help for Garden")
	send("stranger@example.org", "garden@lists.test", "Hello there", "Can I post?")
	linksWaitMail(t, w, "stranger@example.org", "was not posted")

	// Last, as it stops ann's mail: a complaint returning her copy of the
	// group message, which names its delivery; she is told how to start
	// mail again.
	arf := "From: fbl@isp.example\r\nTo: no-reply@lists.test\r\nSubject: complaint\r\nMessage-ID: <fbl-1@isp.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nspam\r\n\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: t/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <ann@example.org>\r\n\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" + string(groupMail.raw) + "\r\n--b--\r\n"
	if err := smtp.SendMail(smtpAddr, nil, "", []string{"no-reply@lists.test"}, []byte(arf)); err != nil {
		t.Fatalf("sending the complaint: %v", err)
	}
	linksWaitMail(t, w, "ann@example.org", "We stopped sending you email")

	// Every link of every mail. Opening them must change nothing: the
	// signed ones show a page with a button.
	state := func() string {
		return queryOne[string](t, w, `SELECT concat_ws(' | ',
			(SELECT string_agg(group_id || ':' || user_id || ':' || delivery || ':' || status, ',' ORDER BY group_id, user_id) FROM memberships),
			(SELECT string_agg(email, ',' ORDER BY email) FROM suppressions),
			(SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM messages),
			(SELECT 'paused ' || count(*) FROM users WHERE paused_until IS NOT NULL),
			(SELECT string_agg(user_id || ':' || thread_id || ':' || pref, ',' ORDER BY user_id, thread_id) FROM thread_prefs))`)
	}
	before := state()
	mails := linksOutbox(t, w)
	origin, _ := url.Parse(w.url)
	followed, threadLinks, fileLinks, systemMails := 0, 0, 0, 0
	kinds := map[string]int{} // subject → links followed
	for _, m := range mails {
		links := m.links(w.url)
		kinds[m.subject] = len(links)
		// System mail has an HTML part whose links are those of its text.
		if m.system {
			systemMails++
			if tl, hl := underOrigin(m.textLinks(), w.url), underOrigin(m.htmlLinks(), w.url); m.html == "" || !slices.Equal(tl, hl) {
				t.Errorf("%q: the HTML part's links differ from the text's (or it has none):\ntext %q\nhtml %q", m.subject, tl, hl)
			}
		}
		clients := map[string]*http.Client{"logged out": {Timeout: 30 * time.Second}}
		if p, ok := passwords[m.to]; ok {
			c := w.client(t)
			c.login(m.to, p)
			clients["logged in as "+m.to] = c.c
		}
		for _, l := range links {
			for who, c := range clients {
				res, err := c.Get(l)
				if err != nil {
					t.Fatalf("GET %s: %v", l, err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				followed++
				if res.StatusCode == http.StatusNotFound || res.StatusCode >= 500 {
					t.Errorf("%q to %s: %s, %s: %d (at %s)", m.subject, m.to, l, who, res.StatusCode, res.Request.URL)
				}
				if res.Request.URL.Host != origin.Host || !strings.HasPrefix(res.Request.URL.Path, origin.Path+"/") {
					t.Errorf("%s, %s, ended outside ORIGIN at %s", l, who, res.Request.URL)
				}
				if strings.Contains(l, "/t/") && strings.HasPrefix(who, "logged in") {
					threadLinks++
					if res.StatusCode != 200 || !strings.Contains(string(body), "Seed swap on Saturday") {
						t.Errorf("thread link %s, %s: %d without the thread's subject", l, who, res.StatusCode)
					}
				}
				if strings.Contains(l, "/files/") {
					fileLinks++
					if res.StatusCode != 200 || string(body) != fileText {
						t.Errorf("file link %s, %s: %d %q", l, who, res.StatusCode, body)
					}
				}
				decided := strings.Contains(l, "/moderate/") && strings.Contains(m.subject, "Held for a moderator") // says who decided
				if linksSigned.MatchString(l) && !decided && (res.StatusCode != 200 || !strings.Contains(string(body), `method="post"`)) {
					t.Errorf("signed link %s, %s: %d, no confirmation button", l, who, res.StatusCode)
				}
			}
		}
	}
	if threadLinks == 0 {
		t.Error("no thread link was followed logged in")
	}
	if fileLinks == 0 {
		t.Error("no file link was followed")
	}
	if after := state(); after != before {
		t.Errorf("following the links changed memberships, suppressions or messages:\nbefore %s\nafter  %s", before, after)
	}
	linksPressVerify(t, w, mails)
	if systemMails < 10 {
		t.Errorf("%d system mails recognised in the outbox, want every kind sent here", systemMails)
	}
	t.Logf("%d mails, %d link visits; links per subject: %v", len(mails), followed, kinds)
}

// linksPressVerify: the verification link confirmed nothing when it was
// followed (a scanner's GET); the button of the page it opens does.
func linksPressVerify(t *testing.T, w *webSite, mails []linksMail) {
	t.Helper()
	verified := func() bool {
		return queryOne[bool](t, w, `SELECT email_verified_at IS NOT NULL FROM users WHERE email = 'new@example.org'`)
	}
	if verified() {
		t.Fatal("following the verification link confirmed the address")
	}
	var link string
	for _, m := range mails {
		for _, l := range m.links(w.url) {
			if m.to == "new@example.org" && strings.Contains(l, "/verify-email?") {
				link = l
			}
		}
	}
	c := w.client(t)
	req, _ := http.NewRequest("GET", link, nil)
	if code, page := c.do(req); code != 200 || !strings.Contains(page, "Confirm my address") {
		t.Fatalf("the verification link %q: %d without its button\n%s", link, code, page)
	}
	u, _ := url.Parse(link)
	if code, page := c.post("/verify-email", url.Values{"token": {u.Query().Get("token")}}); code != 200 ||
		!strings.Contains(page, "new@example.org is confirmed") || !verified() {
		t.Fatalf("pressing Confirm my address: %d, verified %v\n%s", code, verified(), page)
	}
}

// linksSigned matches the links whose token is the credential and whose
// GET must only show a confirmation.
var linksSigned = regexp.MustCompile(`/(u|email-settings|join|moderate|mail/reenable|thread-mail)/[^/?#]+$`)

func envValue(env []string, name string) string {
	v := ""
	for _, e := range env {
		if s, ok := strings.CutPrefix(e, name+"="); ok {
			v = s
		}
	}
	return v
}

// linksMail is one email of the file outbox.
type linksMail struct {
	to, subject string
	lists       []string // URLs of the List-* header fields
	text, html  string
	raw         []byte
	system      bool // written by Parley on its own behalf (mailflow/notice)
}

var (
	linksTextURL = regexp.MustCompile(`https?://[^\s<>"]+`)
	linksHref    = regexp.MustCompile(`href="([^"]+)"`)
	linksListURL = regexp.MustCompile(`<(https?://[^>]+)>`)
)

// links returns the distinct links of the mail that point under origin.
func (m linksMail) links(origin string) []string {
	all := append(append(m.textLinks(), m.htmlLinks()...), m.lists...)
	return underOrigin(all, origin)
}

func (m linksMail) textLinks() []string {
	var all []string
	for _, u := range linksTextURL.FindAllString(m.text, -1) {
		all = append(all, strings.TrimRight(u, ".,;:)]"))
	}
	return all
}

func (m linksMail) htmlLinks() []string {
	var all []string
	for _, s := range linksHref.FindAllStringSubmatch(m.html, -1) {
		all = append(all, html.UnescapeString(s[1]))
	}
	return all
}

// underOrigin returns the distinct links that point under origin, sorted.
func underOrigin(all []string, origin string) []string {
	slices.Sort(all)
	seen := map[string]bool{}
	var out []string
	for _, u := range all {
		if strings.HasPrefix(u, origin+"/") && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

func linksOutbox(t *testing.T, w *webSite) []linksMail {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(w.dir, "outbox", "*.eml"))
	var out []linksMail
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		mr, err := mail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			continue
		}
		m := linksMail{raw: raw}
		// The recipient is the envelope's (group mail is addressed To the group).
		m.to = strings.ToLower(strings.Trim(mr.Header.Get("X-Parley-Envelope-To"), "<> "))
		m.subject, _ = mr.Header.Subject()
		m.system = strings.HasPrefix(mr.Header.Get("Message-Id"), "<parley.sys.")
		for _, f := range []string{"List-Archive", "List-Help", "List-Unsubscribe", "List-Post", "List-Subscribe", "List-Owner"} {
			for _, s := range linksListURL.FindAllStringSubmatch(mr.Header.Get(f), -1) {
				m.lists = append(m.lists, s[1])
			}
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if h, ok := p.Header.(*mail.InlineHeader); ok {
				b, _ := io.ReadAll(p.Body)
				if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct == "text/html" {
					m.html += string(b)
				} else {
					m.text += string(b)
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// linksWaitMail waits for a mail to `to` whose subject has `subject`.
func linksWaitMail(t *testing.T, w *webSite, to, subject string) linksMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range linksOutbox(t, w) {
			if m.to == to && strings.Contains(m.subject, subject) {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %q", to, subject)
	return linksMail{}
}
