package digest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

var keys = sign.Keys{Current: strings.Repeat("d", 40)}

func member(t *testing.T, st *store.Store, email, tz string, g mailflow.Group, d mailflow.Delivery) mailflow.User {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: strings.Split(email, "@")[0], Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE users SET timezone = $2 WHERE id = $1`, u.ID, tz); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: u.ID, Delivery: d, Status: mailflow.MemberActive}); err != nil {
		t.Fatal(err)
	}
	return u
}

func group(t *testing.T, st *store.Store, slug string, owner mailflow.User) mailflow.Group {
	t.Helper()
	g, err := st.CreateGroup(context.Background(), mailflow.Group{Slug: slug, Name: "Group " + slug, JoinPolicy: mailflow.JoinOpen,
		Listed: true, MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestScheduleOverASimulatedWeek scans every 15 minutes of a week that
// holds the November DST change: each member gets exactly one daily
// digest a day, due at 07:00 their time, and weekly members one, on
// Monday.
func TestScheduleOverASimulatedWeek(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	g := group(t, st, "week", owner)
	zones := []string{"Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Asia/Kolkata"}
	for i, z := range zones {
		member(t, st, fmt.Sprintf("d%d@example.org", i), z, g, mailflow.DeliveryDigest)
	}
	member(t, st, "weekly@example.org", "America/New_York", g, mailflow.DeliveryWeekly)
	svc := &digest.Service{Store: st, Schedule: digest.Schedule{Hour: 7, Weekday: time.Monday}, Log: slog.New(slog.DiscardHandler)}
	start := time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC) // the US clocks go back on 1 November
	for now := start; now.Before(start.Add(7 * 24 * time.Hour)); now = now.Add(15 * time.Minute) {
		if _, err := svc.Scan(ctx, now, ""); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.Pool().Query(ctx, `SELECT u.email, u.timezone, d.period, d.due_at FROM digests d JOIN users u ON u.id = d.user_id ORDER BY u.email, d.due_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perDay := map[string]map[string]int{}
	weekly := 0
	for rows.Next() {
		var email, tz, period string
		var due time.Time
		if err := rows.Scan(&email, &tz, &period, &due); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(tz)
		l := due.In(loc)
		if l.Hour() != 7 || l.Minute() != 0 {
			t.Errorf("%s: %s digest due at %s local, want 07:00", email, period, l)
		}
		if period == "weekly" {
			weekly++
			if l.Weekday() != time.Monday {
				t.Errorf("weekly digest on %s", l.Weekday())
			}
			continue
		}
		if perDay[email] == nil {
			perDay[email] = map[string]int{}
		}
		perDay[email][l.Format("2006-01-02")]++
	}
	for i := range zones {
		days := perDay[fmt.Sprintf("d%d@example.org", i)]
		if len(days) < 7 || len(days) > 8 {
			t.Errorf("%s: digests on %d days, want 7 or 8 (the first may be due before the week began)", zones[i], len(days))
		}
		for day, n := range days {
			if n != 1 {
				t.Errorf("%s: %d digests on %s", zones[i], n, day)
			}
		}
	}
	if weekly < 1 || weekly > 2 {
		t.Errorf("weekly digests: %d", weekly)
	}
}

// TestConcurrentScans: two scans at once (as two daemons would) record
// each digest once.
func TestConcurrentScans(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	g := group(t, st, "race", owner)
	for i := range 300 {
		member(t, st, fmt.Sprintf("r%d@example.org", i), "Europe/Paris", g, mailflow.DeliveryDigest)
	}
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	results := make([][]int64, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := &digest.Service{Store: st, Schedule: digest.Schedule{Hour: 7}, Log: slog.New(slog.DiscardHandler)}
			res, err := svc.Scan(ctx, now, "")
			if err != nil {
				t.Error(err)
			}
			results[i] = res.Created
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, ids := range results {
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("digest %d created by both scans", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != 300 {
		t.Fatalf("%d digests, want 300", len(seen))
	}
}

// TestDigestEmail: a member of three groups with 40 new messages gets one
// email, text and HTML, that go-message parses, and whose per-group links
// work when followed over HTTP.
func TestDigestEmail(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	post := posting.New(st, "lists.test", log, posting.Hooks{})
	var groups []mailflow.Group
	var reader mailflow.User
	for i, slug := range []string{"alpha", "beta", "gamma"} {
		g := group(t, st, slug, owner)
		groups = append(groups, g)
		if i == 0 {
			reader = member(t, st, "reader@example.org", "Asia/Kolkata", g, mailflow.DeliveryDigest)
		} else if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: reader.ID, Delivery: mailflow.DeliveryDigest, Status: mailflow.MemberActive}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		g := groups[i%3]
		if _, err := post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: fmt.Sprintf("Topic %d", i%7),
			Body: fmt.Sprintf("Message number %d with **seeds**, [a link](https://example.org/x) and <b onclick=\"alert(1)\">markup</b> & text.", i), Source: mailflow.SourceAPI}); err != nil {
			t.Fatal(err)
		}
	}

	sink := mailtest.NewSink(t)
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	mux := &handlerSwitch{}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	origin, _ := url.Parse(srv.URL)
	h, err := web.New(web.Deps{Store: st, Posting: post, Metrics: metrics.New(), Log: log,
		Site: web.Site{MailDomain: "lists.test", Origin: origin, BrandTitle: "Parley"}, Guard: web.Guard{SecretKey: strings.Repeat("s", 40), Keys: keys}})
	if err != nil {
		t.Fatal(err)
	}
	mux.h = h
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", Organization: "Org", MailDomain: "lists.test", FromEmail: "Parley <no-reply@lists.test>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	real := time.Now().UTC()
	svc := &digest.Service{Store: st, Renderer: r, Domain: "lists.test", Log: log,
		Transport: outbound.NewSMTP(outbound.SMTPConfig{Host: host, Port: p, Timeout: 10 * time.Second, HelloName: "lists.test"}, log),
		// Due within the next two hours in Kolkata, so the window holds the posts.
		Schedule: digest.Schedule{Hour: real.Add(time.Hour).In(mustLoc("Asia/Kolkata")).Hour()}}
	res, err := svc.Scan(ctx, real.Add(2*time.Hour), "")
	if err != nil || len(res.Created) != 1 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	out, err := svc.Send(ctx, res.Created[0], false)
	if err != nil || !strings.HasPrefix(out, "sent 40 messages") {
		t.Fatalf("send: %q %v", out, err)
	}
	if again, _ := svc.Send(ctx, res.Created[0], false); again != "already sent" {
		t.Fatalf("a second send must not send again: %q", again)
	}
	envs := sink.Envelopes()
	if len(envs) != 1 || envs[0].To[0] != "reader@example.org" {
		t.Fatalf("want one digest email, got %d", len(envs))
	}
	mr, err := mail.CreateReader(bytes.NewReader(envs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if mr.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(mr.Header.Get("List-Unsubscribe"), "/u/") {
		t.Fatalf("digest List-Unsubscribe headers: %q", mr.Header.Get("List-Unsubscribe"))
	}
	// The signed delivery header names this digest, so that a complaint
	// returning it proves whom it is about.
	if got, err := keys.VerifyDeliveryHeader(mr.Header.Get("X-Parley-Delivery")); err != nil || got != (sign.Sent{Kind: sign.SentDigest, ID: res.Created[0]}) {
		t.Errorf("X-Parley-Delivery %q: %+v %v", mr.Header.Get("X-Parley-Delivery"), got, err)
	}
	var text, html string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part.Body)
		ct := part.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "text/plain") {
			text = string(b)
		} else if strings.HasPrefix(ct, "text/html") {
			html = string(b)
		}
	}
	for _, g := range groups {
		if !strings.Contains(text, g.Name) || !strings.Contains(html, g.Name) {
			t.Fatalf("%s missing from the digest", g.Name)
		}
	}
	if !strings.Contains(text, "40 new messages in 3 groups") {
		t.Fatalf("summary wrong:\n%s", text)
	}
	// The HTML part renders each message's Markdown as group mail does:
	// sanitised (no handler, markup typed as text kept harmless) and with
	// no Markdown marks left; the text part is plain text.
	for _, want := range []string{"<strong", ">seeds</strong>", `<a href="https://example.org/x"`, "<b>markup</b>", "&amp; text"} {
		if !strings.Contains(html, want) {
			t.Errorf("the digest's HTML part lacks %s:\n%s", want, html)
		}
	}
	for _, bad := range []string{"**", "onclick", "&lt;b", "](https"} {
		if strings.Contains(html, bad) {
			t.Errorf("the digest's HTML part contains %s", bad)
		}
	}
	for _, bad := range []string{"onclick", "<b", "**", "&amp;"} {
		if strings.Contains(text, bad) {
			t.Errorf("the digest's text part contains %s", bad)
		}
	}
	if !strings.Contains(text, "Message number 1 with *seeds*, a link [1] and markup & text.") {
		t.Errorf("the digest's text part does not read as plain text:\n%s", text)
	}
	settings := regexp.MustCompile(`http://[^\s]+/email-settings/[A-Za-z0-9_.\-=]+`).FindAllString(text, -1)
	unsubs := regexp.MustCompile(`http://[^\s]+/u/[A-Za-z0-9_.\-=]+`).FindAllString(text, -1)
	if len(settings) != 3 || len(unsubs) != 4 {
		t.Fatalf("links: %d settings, %d unsubscribe (3 groups + all digests)", len(settings), len(unsubs))
	}
	for _, l := range settings {
		res, err := http.Get(l)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("following %s: %v %v", l, res, err)
		}
		res.Body.Close()
	}
	// The first group's unsubscribe link stops that group's mail only.
	res2, err := http.Post(unsubs[0], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || res2.StatusCode != 200 {
		t.Fatalf("unsubscribe: %v %v", res2, err)
	}
	res2.Body.Close()
	changed := 0
	for _, g := range groups {
		m, _ := st.Membership(ctx, g.ID, reader.ID)
		if m.Delivery == mailflow.DeliveryNone {
			changed++
		}
	}
	if changed != 1 {
		t.Fatalf("%d groups unsubscribed, want 1", changed)
	}
}

type handlerSwitch struct{ h http.Handler }

func (s *handlerSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// TestBusyDigestStaysUnderGmailsClip: a very busy day (300 long messages
// in 30 threads) still makes a digest under the 102 KB at which Gmail
// clips mail (hiding its footer and links), and every thread is listed.
func TestBusyDigestStaysUnderGmailsClip(t *testing.T) {
	origin, _ := url.Parse("https://lists.example.org")
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", MailDomain: "lists.example.org", FromEmail: "Parley <no-reply@lists.example.org>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	var items []store.DigestItem
	for th := range 30 {
		for i := range 10 {
			items = append(items, store.DigestItem{GroupID: int64(1 + th/10), GroupSlug: "g", GroupName: fmt.Sprintf("Group %d", th/10),
				ThreadID: int64(100 + th), Subject: fmt.Sprintf("Busy thread %d", th), MessageID: int64(th*100 + i),
				AuthorName: "Someone", CreatedAt: time.Now(), Body: strings.Repeat("A long message. ", 70)})
		}
	}
	msg, err := r.Render(store.DigestMember{UserID: 1, Email: "x@example.org", Name: "X", Timezone: "UTC"}, 0, digest.Daily, items, time.UTC, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("busy digest: %d bytes", len(msg))
	if len(msg) >= 102_000 {
		t.Fatalf("digest is %d bytes: Gmail would clip it", len(msg))
	}
	mr, err := mail.CreateReader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(p.Body)
	for th := range 30 {
		if !strings.Contains(string(text), fmt.Sprintf("Busy thread %d", th)) {
			t.Fatalf("thread %d is not listed", th)
		}
	}
	if !strings.Contains(string(text), "read them on the web") || !strings.Contains(string(text), "/u/") {
		t.Fatal("the summarised threads and the footer links must be there")
	}
}

// TestDigestShowsOnlyWhatTheMemberCouldSee: two members share a group's
// window (read once for both), but the one who joined half-way gets only
// what was posted after they joined.
func TestDigestShowsOnlyWhatTheMemberCouldSee(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	g := group(t, st, "late", owner)
	early := member(t, st, "early@example.org", "UTC", g, mailflow.DeliveryDigest)
	late := member(t, st, "late@example.org", "UTC", g, mailflow.DeliveryDigest)
	post := posting.New(st, "lists.test", log, posting.Hooks{})
	base := time.Now().UTC().Add(-3 * time.Hour)
	for i := range 10 {
		acc, err := post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "S", Body: fmt.Sprintf("m%d", i), Source: mailflow.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE messages SET created_at = $2 WHERE id = $1`, acc.Message.ID, base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE memberships SET created_at = $3 WHERE group_id = $1 AND user_id = $2`, g.ID, late.ID, base.Add(4*time.Minute+30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `UPDATE memberships SET created_at = $3 WHERE group_id = $1 AND user_id = $2`, g.ID, early.ID, base.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	origin, _ := url.Parse("http://localhost")
	r, err := digest.NewRenderer(digest.Site{URLs: testURLs(t, origin), BrandTitle: "Parley", MailDomain: "lists.test", FromEmail: "Parley <no-reply@lists.test>"}, keys)
	if err != nil {
		t.Fatal(err)
	}
	sink := mailtest.NewSink(t)
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	now := time.Now().UTC()
	svc := &digest.Service{Store: st, Renderer: r, Domain: "lists.test", Log: log, Schedule: digest.Schedule{Hour: now.Hour()},
		Transport: outbound.NewSMTP(outbound.SMTPConfig{Host: host, Port: p, Timeout: 10 * time.Second, HelloName: "lists.test"}, log)}
	res, err := svc.Scan(ctx, now, "")
	if err != nil || len(res.Created) != 2 {
		t.Fatalf("scan: %+v %v", res, err)
	}
	got := map[string]string{}
	for _, id := range res.Created {
		out, err := svc.Send(ctx, id, false)
		if err != nil {
			t.Fatal(err)
		}
		got[strings.Fields(out)[len(strings.Fields(out))-1]] = out
	}
	if !strings.HasPrefix(got["early@example.org"], "sent 10 messages") || !strings.HasPrefix(got["late@example.org"], "sent 5 messages") {
		t.Fatalf("outcomes: %v", got)
	}
}

func testURLs(t *testing.T, origin *url.URL) *urls.Map {
	t.Helper()
	m, err := urls.New(origin, keys)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
