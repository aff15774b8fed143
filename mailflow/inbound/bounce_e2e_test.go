package inbound_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
)

// TestBouncesStopDelivery fans a post out to the sink, sends DSNs for one
// recipient to its VERP Return-Path through Parley's own SMTP listener on
// five different days, and checks that the score rises to the threshold
// and the next post skips that recipient while the others still get it.
func TestBouncesStopDelivery(t *testing.T) {
	var day atomic.Int64
	base := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	r := newRig(t)
	r.bounces.Now = func() time.Time { return base.Add(time.Duration(day.Load()) * 24 * time.Hour) }
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	x := r.user("x@example.org", true)
	y := r.user("y@example.org", true)
	g := r.group("bouncy", owner, x, y)
	if _, err := r.st.SetDelivery(ctx, g.ID, owner.ID, mailflow.DeliveryNone); err != nil {
		t.Fatal(err)
	}
	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "First", Body: "Hello", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	if !r.sink.WaitFor(2, 20*time.Second) {
		t.Fatalf("fan-out: %d", r.sink.Count())
	}
	var returnPath string
	for _, e := range r.sink.Envelopes() {
		if e.To[0] == "x@example.org" {
			returnPath = e.From
		}
	}
	if !strings.HasPrefix(returnPath, "bounces+") {
		t.Fatalf("no VERP return path: %q", returnPath)
	}
	for i := range 5 {
		day.Store(int64(i))
		dsn := fmt.Sprintf(`From: MAILER-DAEMON@mx.example.org
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-%d@mx.example.org>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The mail system could not deliver your message.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; x@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <x@example.org>: user unknown

--b1--
`, returnPath, i)
		if err := r.send("", []string{returnPath}, dsn); err != nil {
			t.Fatalf("sending DSN %d: %v", i, err)
		}
		r.waitInbound(i + 1)
		sc, err := r.st.BounceScoreOf(ctx, "x@example.org")
		if err != nil {
			t.Fatal(err)
		}
		if sc.Score != float64(i+1) {
			t.Fatalf("after %d bounces the score is %.1f", i+1, sc.Score)
		}
	}
	if why, _ := r.st.Suppression(ctx, "x@example.org"); why != "bounce_score" {
		t.Fatalf("after five hard bounces x is %q, want suppressed by bounce score", why)
	}
	// x is told once, with a link to start mail again.
	deadline := time.Now().Add(20 * time.Second)
	for notice := 0; notice == 0; {
		for _, e := range r.sink.Envelopes() {
			if e.To[0] == "x@example.org" && strings.Contains(string(e.Data), "/mail/reenable/") {
				notice++
			}
		}
		if notice == 0 && time.Now().After(deadline) {
			t.Fatal("no notice with a re-enable link reached x")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The next post reaches y but not x; x was told once how to re-enable.
	r.sink.Reset()
	acc, err = r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Second", Body: "Hello again", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		c, _ := r.st.DeliveryCounts(ctx, acc.Message.ID)
		if c["sent"] == 1 && c["suppressed"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second post: %v", c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	toY := 0
	for _, e := range r.sink.Envelopes() {
		switch e.To[0] {
		case "y@example.org":
			toY++
		case "x@example.org":
			t.Fatal("x got the post after delivery stopped")
		}
	}
	if toY != 1 {
		t.Fatalf("y got %d copies", toY)
	}
}
