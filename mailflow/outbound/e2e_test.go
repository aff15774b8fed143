package outbound_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"
	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/queue"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const emailKey = "email-secret-key-for-tests-0123456789abcdef"

// rig is a whole outbound pipeline on a real database, sending over real
// SMTP to an in-process sink.
type rig struct {
	t      testing.TB
	st     *store.Store
	sink   *mailtest.Sink
	post   *posting.Service
	sender *outbound.Sender
	keys   sign.Keys
	web    *httptest.Server
	origin *url.URL
}

func newRig(t testing.TB, dkim *outbound.DKIM) *rig {
	t.Helper()
	return newRigWith(t, dkim, outbound.SenderConfig{
		Workers: 4, RetryBase: 50 * time.Millisecond, Poll: 50 * time.Millisecond, Lease: 30 * time.Second,
	})
}

// newRigWith is newRig with the sender's settings cfg.
func newRigWith(t testing.TB, dkim *outbound.DKIM, cfg outbound.SenderConfig) *rig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st := storetest.New(t)
	sink := mailtest.NewSink(t)
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	r := &rig{t: t, st: st, sink: sink, keys: sign.Keys{Current: emailKey}}

	// The web server first: its URL is the ORIGIN that links point to.
	mux := &switchHandler{}
	r.web = httptest.NewServer(mux)
	t.Cleanup(r.web.Close)
	r.origin, _ = url.Parse(r.web.URL + "/lists")

	links, err := urls.New(r.origin, r.keys)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := outbound.NewRenderer(outbound.Site{URLs: links, BrandTitle: "Parley Test", Organization: "Test Org", MailDomain: "lists.test"}, dkim)
	if err != nil {
		t.Fatal(err)
	}
	transport := outbound.NewSMTP(outbound.SMTPConfig{Host: host, Port: p, Timeout: 10 * time.Second, HelloName: "lists.test"}, log)
	m := metrics.New()
	r.sender = outbound.NewSender(st, renderer, transport, r.keys, links, "lists.test", m, log, cfg)
	workers := river.NewWorkers()
	river.AddWorker(workers, &outbound.FanoutWorker{Store: st, Wake: r.sender.Wake, Log: log})
	q, err := queue.New(st, queue.Options{Workers: workers, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	r.post = posting.New(st, "lists.test", log, posting.Hooks{Accept: []posting.Hook{outbound.EnqueueFanout}})

	h, err := web.New(web.Deps{Store: st, Posting: r.post, Metrics: m, Log: log,
		Site:  web.Site{MailDomain: "lists.test", Origin: r.origin, BrandTitle: "Parley Test", Organization: "Test Org"},
		Guard: web.Guard{SecretKey: strings.Repeat("s", 32), Keys: r.keys}})
	if err != nil {
		t.Fatal(err)
	}
	mux.set(h)

	qctx, stopQ := context.WithCancel(ctx)
	if err := q.Start(qctx); err != nil {
		t.Fatal(err)
	}
	sctx, stopS := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.sender.Run(sctx) }()
	t.Cleanup(func() {
		stopS()
		<-done
		sc, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(sc)
		stopQ()
	})
	return r
}

type switchHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (s *switchHandler) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }
func (s *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := s.h
	s.mu.RUnlock()
	h.ServeHTTP(w, r)
}

func (r *rig) user(email string, verified bool) mailflow.User {
	r.t.Helper()
	u, err := r.st.CreateUser(context.Background(), store.NewUser{Email: email, Name: "Member " + strings.Split(email, "@")[0], Verified: verified})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *rig) join(g mailflow.Group, u mailflow.User, d mailflow.Delivery) {
	r.t.Helper()
	if _, _, err := r.st.SetMembership(context.Background(), mailflow.Membership{GroupID: g.ID, UserID: u.ID, Delivery: d, Status: mailflow.MemberActive}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) group(slug string, owner mailflow.User) mailflow.Group {
	r.t.Helper()
	g, err := r.st.CreateGroup(context.Background(), mailflow.Group{Slug: slug, Name: "Group " + slug, JoinPolicy: mailflow.JoinOpen,
		Listed: true, MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func (r *rig) waitSettled(messageID int64, timeout time.Duration) map[string]int {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := r.st.DeliveryCounts(context.Background(), messageID)
		if err != nil {
			r.t.Fatal(err)
		}
		total := 0
		for _, n := range c {
			total += n
		}
		if total > 0 && c["queued"]+c["sending"]+c["deferred"] == 0 {
			return c
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("deliveries not settled after %s: %v", timeout, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var unsubRE = regexp.MustCompile(`<(http[^>]+/u/[^>]+)>`)

func TestFanoutToAThousandMembers(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("big", owner)

	want := map[string]bool{"owner@example.org": true} // a post from the API reaches its author too
	for i := range 1000 {
		email := fmt.Sprintf("m%04d@example.org", i)
		switch {
		case i == 0: // banned account
			u := r.user(email, true)
			r.join(g, u, mailflow.DeliveryImmediate)
			if _, err := r.st.Pool().Exec(ctx, `UPDATE users SET status = 'banned' WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
		case i == 1: // unverified address
			r.join(g, r.user(email, false), mailflow.DeliveryImmediate)
		case i%10 == 2: // daily digest
			r.join(g, r.user(email, true), mailflow.DeliveryDigest)
		case i%10 == 3: // no email
			r.join(g, r.user(email, true), mailflow.DeliveryNone)
		case i%50 == 4: // suppressed address
			r.join(g, r.user(email, true), mailflow.DeliveryImmediate)
			if err := r.st.Suppress(ctx, strings.ToUpper(email), "hard_bounce", "test", ""); err != nil {
				t.Fatal(err)
			}
		default:
			r.join(g, r.user(email, true), mailflow.DeliveryImmediate)
			want[email] = true
		}
	}

	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Héllo ✓ everyone",
		Body: "A **bold** hello with a [link](https://example.org/x).", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	counts := r.waitSettled(acc.Message.ID, 60*time.Second)
	if counts["sent"] != len(want) || counts["suppressed"] != 20 || counts["skipped"] != 2 {
		t.Fatalf("delivery states %v; want sent=%d suppressed=20 skipped=2", counts, len(want))
	}
	if !r.sink.WaitFor(len(want), 10*time.Second) {
		t.Fatalf("sink got %d messages, want %d", r.sink.Count(), len(want))
	}

	got := map[string]bool{}
	unsubs := map[string]bool{}
	verps := map[string]bool{}
	for _, env := range r.sink.Envelopes() {
		if len(env.To) != 1 {
			t.Fatalf("one recipient per envelope, got %v", env.To)
		}
		to := env.To[0]
		if got[to] {
			t.Fatalf("%s got the message twice", to)
		}
		got[to] = true
		if !strings.HasPrefix(env.From, "bounces+") || !strings.HasSuffix(env.From, "@lists.test") || verps[env.From] {
			t.Fatalf("Return-Path must be a per-delivery VERP address: %q", env.From)
		}
		verps[env.From] = true
		token := strings.TrimSuffix(strings.TrimPrefix(env.From, "bounces+"), "@lists.test")
		if _, err := r.keys.VerifyVERP(token); err != nil {
			t.Fatalf("VERP token does not verify: %v", err)
		}

		mr, err := mail.CreateReader(bytes.NewReader(env.Data))
		if err != nil {
			t.Fatalf("go-message cannot parse the email: %v", err)
		}
		h := mr.Header
		subj, _ := h.Subject()
		from, _ := h.AddressList("From")
		if !strings.Contains(subj, "Héllo ✓ everyone") || len(from) != 1 || from[0].Address != "big@lists.test" ||
			!strings.Contains(from[0].Name, "via Group big") {
			t.Fatalf("subject %q from %v", subj, from)
		}
		if id, _ := h.MessageID(); id != acc.Message.MessageID {
			t.Fatalf("Message-ID %q, want the message's own %q", id, acc.Message.MessageID)
		}
		for _, k := range []string{"List-Id", "List-Post", "List-Archive", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence", "Date", "MIME-Version", "Reply-To", "Sender"} {
			if h.Get(k) == "" {
				t.Fatalf("header %s missing", k)
			}
		}
		if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("List-Unsubscribe-Post: %q", h.Get("List-Unsubscribe-Post"))
		}
		m := unsubRE.FindStringSubmatch(h.Get("List-Unsubscribe"))
		if m == nil || unsubs[m[1]] {
			t.Fatalf("List-Unsubscribe must hold a personal https URL: %q", h.Get("List-Unsubscribe"))
		}
		unsubs[m[1]] = true
		parts := 0
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading MIME part: %v", err)
			}
			b, _ := io.ReadAll(p.Body)
			if !strings.Contains(string(b), m[1]) {
				t.Fatalf("a part lacks the recipient's own unsubscribe link")
			}
			parts++
		}
		if parts != 2 {
			t.Fatalf("want text and HTML parts, got %d", parts)
		}
	}
	for e := range want {
		if !got[e] {
			t.Errorf("%s got nothing", e)
		}
	}
	for e := range got {
		if !want[e] {
			t.Errorf("%s should not have been mailed", e)
		}
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	ada := r.user("ada@example.org", true)
	bob := r.user("bob@example.org", true)
	g := r.group("club", owner)
	r.join(g, ada, mailflow.DeliveryImmediate)
	r.join(g, bob, mailflow.DeliveryImmediate)

	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Hi", Body: "Hello", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	r.waitSettled(acc.Message.ID, 30*time.Second)
	var adaURL string
	for _, env := range r.sink.Envelopes() {
		if env.To[0] == "ada@example.org" {
			mr, _ := mail.CreateReader(bytes.NewReader(env.Data))
			adaURL = unsubRE.FindStringSubmatch(mr.Header.Get("List-Unsubscribe"))[1]
		}
	}
	if adaURL == "" {
		t.Fatal("ada got no mail")
	}
	delivery := func(u mailflow.User) mailflow.Delivery {
		m, err := r.st.Membership(ctx, g.ID, u.ID)
		if err != nil || m == nil {
			t.Fatal(err)
		}
		return m.Delivery
	}

	// GET shows a page and changes nothing (link scanners fetch links).
	res, err := http.Get(adaURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "<form method=\"post\"") || delivery(ada) != mailflow.DeliveryImmediate {
		t.Fatalf("GET: %d, delivery %s\n%s", res.StatusCode, delivery(ada), page)
	}

	// Forged and truncated tokens: 400 with a friendly page.
	for _, bad := range []string{adaURL[:len(adaURL)-4], adaURL + "x", strings.Replace(adaURL, "/u/", "/u/AAAA", 1), r.origin.String() + "/u/garbage"} {
		res, err := http.Post(bad, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(body), "does not work") {
			t.Fatalf("forged token %q: %d %s", bad, res.StatusCode, body)
		}
	}
	if delivery(ada) != mailflow.DeliveryImmediate {
		t.Fatal("a forged token changed something")
	}

	// The RFC 8058 one-click POST unsubscribes ada from this group only.
	res, err = http.Post(adaURL, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || delivery(ada) != mailflow.DeliveryNone || delivery(bob) != mailflow.DeliveryImmediate {
		t.Fatalf("one-click POST: %d; ada %s, bob %s", res.StatusCode, delivery(ada), delivery(bob))
	}
	// The next post reaches bob and not ada.
	r.sink.Reset()
	acc, err = r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Again", Body: "Hello again", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	r.waitSettled(acc.Message.ID, 30*time.Second)
	for _, env := range r.sink.Envelopes() {
		if env.To[0] == "ada@example.org" {
			t.Fatal("ada was mailed after unsubscribing")
		}
	}

	// Undo restores her delivery.
	undo := regexp.MustCompile(`action="([^"]*/undo/[^"]+)"`).FindStringSubmatch(string(page))
	if undo == nil {
		t.Fatalf("no undo form on the page:\n%s", page)
	}
	res, err = http.Post(r.web.URL+undo[1], "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || delivery(ada) != mailflow.DeliveryImmediate {
		t.Fatalf("undo: %d, delivery %s", res.StatusCode, delivery(ada))
	}
}

func TestTemporaryFailuresAreRetriedAndPermanentOnesRecorded(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("retry", owner)
	for i := range 20 {
		r.join(g, r.user(fmt.Sprintf("r%02d@example.org", i), true), mailflow.DeliveryImmediate)
	}
	// 451 at DATA for the first 30 transactions, then 250; the address
	// r07 is refused for good.
	var refusals atomic.Int32
	r.sink.SetDataHook(func(string, []string) *smtp.SMTPError {
		if refusals.Add(1) <= 30 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	r.sink.SetRcptHook(func(to string) *smtp.SMTPError {
		if to == "r07@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Retry", Body: "x", Source: mailflow.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	counts := r.waitSettled(acc.Message.ID, 60*time.Second)
	if counts["sent"] != 20 || counts["failed"] != 1 {
		t.Fatalf("states %v; want 20 sent (19 members and the author) and 1 failed", counts)
	}
	seen := map[string]int{}
	for _, env := range r.sink.Envelopes() {
		seen[env.To[0]]++
	}
	for to, n := range seen {
		if n != 1 {
			t.Errorf("%s received %d copies", to, n)
		}
	}
	if len(seen) != 20 || seen["r07@example.org"] != 0 {
		t.Fatalf("recipients: %v", seen)
	}
	var code int
	var lastErr string
	if err := r.st.Pool().QueryRow(ctx, `SELECT smtp_code, last_error FROM deliveries WHERE email = 'r07@example.org'`).Scan(&code, &lastErr); err != nil {
		t.Fatal(err)
	}
	if code != 550 || !strings.Contains(lastErr, "5.1.1") {
		t.Fatalf("failed delivery records the reply: %d %q", code, lastErr)
	}
}

// Copies whose address was suppressed after the fan-out are settled by
// the claim that takes them, not sent. A claim that took only such
// copies has still found work: the worker claims again at once rather
// than sleeping until its next poll, or the copies queued behind them
// would wait (here, an hour; by default, a second per 50 suppressed).
func TestSendersGoOnPastClaimsOfSuppressedCopies(t *testing.T) {
	r := newRigWith(t, nil, outbound.SenderConfig{Workers: 4, Batch: 50, Poll: time.Hour, Lease: 30 * time.Second})
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("wrens", owner)
	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Wrens at the gate", Body: "Two of them.", Source: mailflow.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	r.waitSettled(acc.Message.ID, 30*time.Second) // the author's copy; every worker is idle after it
	if !r.sink.WaitFor(1, 10*time.Second) {
		t.Fatal("the author's copy never reached the sink")
	}
	r.sink.Reset()

	// 4 workers × 50: every worker's first claim takes only suppressed
	// copies. Then 20 copies to send.
	queue := func(email string) {
		u := r.user(email, true)
		if _, err := r.st.Pool().Exec(ctx, `INSERT INTO deliveries (message_id, user_id, email) VALUES ($1, $2, $3)`, acc.Message.ID, u.ID, email); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		email := fmt.Sprintf("gone%03d@example.org", i)
		if err := r.st.Suppress(ctx, email, "hard_bounce", "test", ""); err != nil {
			t.Fatal(err)
		}
		queue(email)
	}
	for i := range 20 {
		queue(fmt.Sprintf("here%02d@example.org", i))
	}
	r.sender.Wake()
	if !r.sink.WaitFor(20, 30*time.Second) {
		t.Fatalf("the sink got %d of the 20 copies queued behind 200 suppressed ones", r.sink.Count())
	}
	counts := r.waitSettled(acc.Message.ID, 10*time.Second)
	if counts["suppressed"] != 200 || counts["sent"] != 21 {
		t.Fatalf("states %v; want 200 suppressed, 21 sent (the author and 20 members)", counts)
	}
	for _, env := range r.sink.Envelopes() {
		if strings.HasPrefix(env.To[0], "gone") {
			t.Errorf("%s is suppressed and was mailed", env.To[0])
		}
	}
}

// BenchmarkFanout posts one message to a group of 2,000 members through
// the accept path and measures until every copy is recorded sent over
// real SMTP to an in-process sink (parleyd bench fanout runs the same
// code at any size).
func BenchmarkFanout(b *testing.B) {
	const members = 2000
	r := newRig(b, nil)
	ctx := context.Background()
	r.sink.SetDiscard(true)
	owner := r.user("owner@example.org", true)
	g := r.group("bench", owner)
	if err := r.st.SeedMembers(ctx, g.ID, members, "bench.test"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Bench", Body: "Hello **all**", Source: mailflow.SourceEmail})
		if err != nil {
			b.Fatal(err)
		}
		r.waitSettled(acc.Message.ID, 5*time.Minute)
	}
	b.ReportMetric(float64(members*b.N)/time.Since(start).Seconds(), "msgs/s")
}

func TestFanoutSignsWithDKIM(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := outbound.NewDKIM("lists.test", "parley", key)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, dk)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("signed", owner)
	for i := range 3 {
		r.join(g, r.user(fmt.Sprintf("s%d@example.org", i), true), mailflow.DeliveryImmediate)
	}
	acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Signed", Body: "Hello", Source: mailflow.SourceEmail})
	if err != nil {
		t.Fatal(err)
	}
	r.waitSettled(acc.Message.ID, 30*time.Second)
	envs := r.sink.Envelopes()
	if len(envs) != 3 {
		t.Fatalf("got %d messages, want 3", len(envs))
	}
	opts := &dkim.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
		if domain != dk.RecordName() {
			return nil, fmt.Errorf("unexpected lookup %s", domain)
		}
		return []string{dk.TXTRecord()}, nil
	}}
	for _, env := range envs {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(env.Data), opts)
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Fatalf("DKIM verification: %v %+v", err, vs)
		}
		signed := strings.ToLower(strings.Join(vs[0].HeaderKeys, ","))
		for _, h := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} {
			if !strings.Contains(signed, h) {
				t.Fatalf("%s is not signed: %s", h, signed)
			}
		}
	}
}
