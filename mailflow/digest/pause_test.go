package digest_test

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// TestDigestsWaitForThePause (issue 19), with the service's clock moved
// day by day: a member who pauses gets no digest while paused, and on
// the first digest morning after the pause one digest holds everything
// posted since the pause began (she had no digest before it); a member
// not paused gets a digest each morning. A digest recorded before the
// pause and sent during it is dropped, not sent, and loses nothing.
func TestDigestsWaitForThePause(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	g := group(t, st, "away", owner)
	member(t, st, "alice@example.org", "UTC", g, mailflow.DeliveryDigest)
	paula := member(t, st, "paula@example.org", "UTC", g, mailflow.DeliveryDigest)
	day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -10)
	mustExec(t, st, `UPDATE memberships SET created_at = $1`, day0.AddDate(0, 0, -1))
	post := posting.New(st, "lists.test", log, posting.Hooks{})
	for d := range 3 {
		acc, err := post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Day " + strconv.Itoa(d),
			Body: "News of day " + strconv.Itoa(d), Source: mailflow.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, st, `UPDATE messages SET created_at = $2 WHERE id = $1`, acc.Message.ID, day0.AddDate(0, 0, d).Add(9*time.Hour))
	}

	newSvc, sink := sinkServices(t, st, log)
	var clock time.Time
	svc := newSvc(digest.Schedule{Hour: 7})
	svc.Now = func() time.Time { return clock }
	// Day 0, 07:00: a digest is recorded for both; Paula pauses (at
	// 08:00, until day 3) before hers is sent.
	clock = day0.Add(7 * time.Hour)
	res, err := svc.Scan(ctx, clock, "")
	if err != nil || len(res.Created) != 2 {
		t.Fatalf("day 0 scan: %+v %v", res, err)
	}
	clock = day0.Add(8 * time.Hour)
	if err := st.SetPause(ctx, paula.ID, day0.AddDate(0, 0, 3), clock); err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	sendAll := func(ids []int64) {
		t.Helper()
		for _, id := range ids {
			d, _ := st.DigestByID(ctx, id)
			out, err := svc.Send(ctx, id, false)
			if err != nil {
				t.Fatal(err)
			}
			notes[strconv.FormatInt(d.UserID, 10)+"@"+d.Key.Format("01-02")] = out
		}
	}
	sendAll(res.Created)
	paulaKey := func(d int) string {
		return strconv.FormatInt(paula.ID, 10) + "@" + day0.AddDate(0, 0, d).Format("01-02")
	}
	if n := notes[paulaKey(0)]; n != "mail paused" {
		t.Errorf("paula's digest recorded before the pause: %q, want it dropped", n)
	}
	for d := 1; d <= 3; d++ {
		clock = day0.AddDate(0, 0, d).Add(8 * time.Hour)
		res, err := svc.Scan(ctx, clock, "")
		if err != nil {
			t.Fatal(err)
		}
		wantN := 1 // alice only while paula is paused
		if d == 3 {
			wantN = 2
		}
		if len(res.Created) != wantN {
			t.Fatalf("day %d: %d digests recorded, want %d", d, len(res.Created), wantN)
		}
		sendAll(res.Created)
	}
	if n := notes[paulaKey(3)]; !strings.HasPrefix(n, "sent 3 messages") {
		t.Errorf("paula's first digest after the pause: %q, want the 3 messages posted since it began", n)
	}
	var toPaula, toAlice int
	for _, e := range sink.Envelopes() {
		switch e.To[0] {
		case "paula@example.org":
			toPaula++
		case "alice@example.org":
			toAlice++
		}
	}
	if toPaula != 1 || toAlice != 3 {
		t.Errorf("%d digests to paula (want 1, after the pause), %d to alice (want 3: days 1-3; day 0 was empty)", toPaula, toAlice)
	}
}

// sinkServices returns a maker of digest services that send to an
// in-process SMTP sink, and the sink.
func sinkServices(t *testing.T, st *store.Store, log *slog.Logger) (func(digest.Schedule) *digest.Service, *mailtest.Sink) {
	t.Helper()
	sink := mailtest.NewSink(t)
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	origin, _ := url.Parse("https://lists.test")
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", MailDomain: "lists.test", FromEmail: "Parley <no-reply@lists.test>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	return func(sc digest.Schedule) *digest.Service {
		return &digest.Service{Store: st, Renderer: r, Domain: "lists.test", Log: log, Schedule: sc,
			Transport: outbound.NewSMTP(outbound.SMTPConfig{Host: host, Port: p, Timeout: 10 * time.Second, HelloName: "lists.test"}, log)}
	}, sink
}
