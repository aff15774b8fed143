package inbound_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
)

// forgedARF is a spam complaint (RFC 5965) naming victim, with no
// returned message of Parley's: what anyone can write.
func forgedARF(to, victim string, n int) string {
	return fmt.Sprintf(`From: abuse@fbl.example
To: %s
Subject: Abuse report
Message-ID: <arf-%d@fbl.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f1"

--f1
Content-Type: text/plain

This is a spam complaint.

--f1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1
Original-Rcpt-To: <%s>

--f1
Content-Type: text/rfc822-headers

From: "Someone via Club" <club@lists.test>
To: %s
Subject: hello
X-Parley-Delivery: p.1-aaaaaaaaaaaaaaaa
Return-Path: <bounces+2-bbbbbbbbbbbbbbbb@lists.test>

--f1--
`, to, n, victim, victim)
}

// dsnTo is a delivery failure report about named; returned is the
// returned message's header ("" for none).
func dsnTo(to, named, returned string, n int) string {
	s := fmt.Sprintf(`From: MAILER-DAEMON@mx.example.org
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-proof-%d@mx.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The mail system could not deliver your message.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; %s
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <%s>: user unknown
`, to, n, named, named)
	if returned != "" {
		s += "\n--b1\nContent-Type: text/rfc822-headers\n\n" + returned
	}
	return s + "\n--b1--\n"
}

// proofRig is a group whose first post reached x, y and z, with their
// copies and VERP addresses at hand.
type proofRig struct {
	*rig
	copies      map[string]string // recipient → the message as it reached them
	returnPaths map[string]string // recipient → its VERP envelope sender
	systemMail  int               // system mail jobs queued before the reports
}

func newProofRig(t *testing.T) *proofRig {
	t.Helper()
	r := &proofRig{rig: newRig(t), copies: map[string]string{}, returnPaths: map[string]string{}}
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	x, y, z := r.user("x@example.org", true), r.user("y@example.org", true), r.user("z@example.org", true)
	g := r.group("club", owner, x, y, z)
	if _, err := r.st.SetDelivery(ctx, g.ID, owner.ID, mailflow.DeliveryNone); err != nil {
		t.Fatal(err)
	}
	if _, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Hello", Body: "Hello all", Source: mailflow.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	if !r.sink.WaitFor(3, 20*time.Second) {
		t.Fatalf("fan-out: %d", r.sink.Count())
	}
	for _, e := range r.sink.Envelopes() {
		r.copies[e.To[0]] = strings.ReplaceAll(string(e.Data), "\r\n", "\n")
		r.returnPaths[e.To[0]] = e.From
	}
	for _, a := range []string{"x@example.org", "y@example.org", "z@example.org"} {
		if !strings.HasPrefix(r.returnPaths[a], "bounces+") || !strings.Contains(r.copies[a], "\nX-Parley-Delivery: p.") {
			t.Fatalf("the copy to %s has no VERP return path or delivery header: %q", a, r.returnPaths[a])
		}
	}
	r.systemMail = r.count(`SELECT count(*) FROM river_job WHERE kind = 'system_mail'`)
	return r
}

func (r *proofRig) count(q string, args ...any) int {
	r.t.Helper()
	var n int
	if err := r.st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// untouched fails unless email has no score, is not suppressed, and no
// system mail was queued since the rig was set up.
func (r *proofRig) untouched(email string) {
	r.t.Helper()
	ctx := context.Background()
	if sc, err := r.st.BounceScoreOf(ctx, email); err != nil || sc.Score != 0 {
		r.t.Errorf("%s has bounce score %.1f (%v), want 0", email, sc.Score, err)
	}
	if why, err := r.st.Suppression(ctx, email); err != nil || why != "" {
		r.t.Errorf("%s is suppressed (%q, %v)", email, why, err)
	}
	if n := r.count(`SELECT count(*) FROM river_job WHERE kind = 'system_mail'`); n != r.systemMail {
		r.t.Errorf("%d system mails queued by reports", n-r.systemMail)
	}
}

// events returns email's bounce log.
func (r *proofRig) events(email string) []store.BounceEvent {
	r.t.Helper()
	ev, err := r.st.BounceEvents(context.Background(), email, 100)
	if err != nil {
		r.t.Fatal(err)
	}
	return ev
}

// TestForgedReportsChangeNothing replays the attack: forged spam
// complaints and forged delivery failures about x, from the null sender,
// to every kind of address Parley takes mail at. None scores, suppresses
// or mails anyone; each is in x's bounce log as unverified, with why.
func TestForgedReportsChangeNothing(t *testing.T) {
	r := newProofRig(t)
	targets := []string{
		"club@" + domain, "club+help@" + domain, "club+owner@" + domain, "club+subscribe@" + domain, "no-reply@" + domain,
		"bounces+1a-aaaaaaaaaaaaaaaa@" + domain, // a token that does not verify
		r.returnPaths["y@example.org"],          // a valid token, for another member's delivery
	}
	n := 0
	for _, to := range targets {
		for _, raw := range []string{forgedARF(to, "x@example.org", n), dsnTo(to, "x@example.org", "", n)} {
			n++
			if err := r.send("", []string{to}, raw); err != nil {
				t.Fatalf("sending to %s: %v", to, err)
			}
		}
	}
	// A feedback loop's complaint comes from an ordinary address: it is
	// still a report (not a post, nor answered), and still needs proof.
	if err := r.send("fbl@isp.example", []string{"club@" + domain}, forgedARF("club@"+domain, "x@example.org", n)); err != nil {
		t.Fatal(err)
	}
	n++
	outcomes := r.waitInbound(n)
	for i, o := range outcomes {
		if !strings.Contains(o, "unverified report") {
			t.Errorf("report %d: outcome %q, want unverified", i, o)
		}
	}
	r.untouched("x@example.org")
	r.untouched("y@example.org")
	ev := r.events("x@example.org")
	if len(ev) != n {
		t.Fatalf("x's bounce log has %d reports, want %d", len(ev), n)
	}
	for _, e := range ev {
		if e.Verified || e.Scored || e.Proof == "" {
			t.Errorf("a forged report is recorded as %+v, want unverified with a reason", e)
		}
	}
	reasons := strings.Join(func() []string {
		var s []string
		for _, e := range ev {
			s = append(s, e.Proof)
		}
		return s
	}(), "\n")
	for _, want := range []string{"none valid", "no valid token", "another account's address"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("no report is explained with %q:\n%s", want, reasons)
		}
	}
	if got := r.events("y@example.org"); len(got) != 0 {
		t.Errorf("y's bounce log: %+v", got)
	}
}

// TestReportsWithProof: a genuine DSN at the delivery's VERP address
// scores; a genuine complaint at the group address that returns y's copy
// suppresses y; a DSN about a forwarding address scores the member whose
// delivery it returns.
func TestReportsWithProof(t *testing.T) {
	r := newProofRig(t)
	ctx := context.Background()

	// 1. A DSN to x's VERP address.
	if err := r.send("", []string{r.returnPaths["x@example.org"]}, dsnTo(r.returnPaths["x@example.org"], "x@example.org", "", 1)); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(1)
	if sc, _ := r.st.BounceScoreOf(ctx, "x@example.org"); sc.Score != 1 {
		t.Fatalf("x's score after a DSN at its VERP address: %.1f", sc.Score)
	}

	// 2. A complaint from a feedback loop to the group address, returning
	// y's copy whole (message/rfc822), naming y with the redacted form
	// feedback loops use.
	arf := `From: fbl@isp.example
To: club@lists.test
Subject: complaint about message from 192.0.2.1
Message-ID: <arf-real@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="f2"

--f2
Content-Type: text/plain

This is an email abuse report.

--f2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/2.0
Version: 1
Original-Rcpt-To: <y@example.org>

--f2
Content-Type: message/rfc822

` + r.copies["y@example.org"] + "\n--f2--\n"
	// Feedback loops send from an ordinary address, not the null sender.
	if err := r.send("fbl@isp.example", []string{"club@" + domain}, arf); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(2)
	if why, _ := r.st.Suppression(ctx, "y@example.org"); why != "complaint" {
		t.Fatalf("y after a proven complaint: suppressed %q, want complaint", why)
	}
	if n := r.count(`SELECT count(*) FROM river_job WHERE kind = 'system_mail' AND args->>'to' = 'y@example.org'`); n != 1 {
		t.Errorf("y was told %d times, want once", n)
	}
	if ev := r.events("y@example.org"); len(ev) != 1 || !ev[0].Verified || !strings.Contains(ev[0].Proof, "returned message carries") {
		t.Errorf("y's bounce log: %+v", ev)
	}

	// 3. Forwarding: z's mail goes on to an address Parley does not know,
	// which fails. The report names that address; z counts, both at z's
	// VERP address and at the group address with z's returned header.
	hdr, _, _ := strings.Cut(r.copies["z@example.org"], "\n\n")
	hdr = "Return-Path: <" + r.returnPaths["z@example.org"] + ">\n" + hdr + "\n"
	if err := r.send("", []string{r.returnPaths["z@example.org"]}, dsnTo(r.returnPaths["z@example.org"], "z.forward@elsewhere.example", "", 3)); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(3)
	r.st.Pool().Exec(ctx, `UPDATE bounce_scores SET last_hard_on = last_hard_on - 1 WHERE email = 'z@example.org'`) // a new day
	if err := r.send("", []string{"club@" + domain}, dsnTo("club@"+domain, "z.forward@elsewhere.example", hdr, 4)); err != nil {
		t.Fatal(err)
	}
	outcomes := r.waitInbound(4)
	if sc, _ := r.st.BounceScoreOf(ctx, "z@example.org"); sc.Score != 2 {
		t.Fatalf("z's score after two reports about its forwarding address: %.1f (outcomes %q)", sc.Score, outcomes)
	}
	if ev := r.events("z.forward@elsewhere.example"); len(ev) != 0 {
		t.Errorf("the forwarding address has a bounce log: %+v", ev)
	}
	for _, e := range r.events("z@example.org") {
		if !e.Verified || !strings.Contains(e.Proof, "z.forward@elsewhere.example") {
			t.Errorf("z's report %+v does not say it was forwarded", e)
		}
	}
}

// TestRealReportsWithoutProof sends real feedback-loop and bounce
// samples (shared/corpus, read in place) to the group address and a
// bounces+ address with a bad token, with the addresses they name made
// members: nothing changes, and they are kept as unverified.
func TestRealReportsWithoutProof(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus") // the worktree sits beside shared/
	files := map[string]string{"arf/sisimai-arf-16.eml": "kijitora@example.com", "dsn/discourse-hard_bounce_via_verp.eml": "linux-admin@b-s-c.co.jp"}
	raws := map[string]string{}
	for f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Skipf("the shared corpus is not here (%v): run with ../shared checked out", err)
		}
		raws[f] = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	r := newProofRig(t)
	n := 0
	for f, raw := range raws {
		r.user(files[f], true)
		// One message to both (the intake keeps one copy of a message).
		if err := r.send("", []string{"club@" + domain, "bounces+3-cccccccccccccccc@" + domain}, raw); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n++
	}
	r.waitInbound(n)
	for f := range raws {
		r.untouched(files[f])
		ev := r.events(files[f])
		if len(ev) != 2 {
			t.Errorf("%s: %d reports in %s's log, want 2", f, len(ev), files[f])
		}
		for _, e := range ev {
			if e.Verified || e.Proof == "" {
				t.Errorf("%s: %+v", f, e)
			}
		}
	}
}
