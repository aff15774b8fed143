package inbound_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/inbound"
	"github.com/parleymail/parley/mailflow/inbound/imapin"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/modmail"
	"github.com/parleymail/parley/mailflow/notice"
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

const domain = "lists.test"

// rig runs the whole mail path: Parley's SMTP listener, the job queue
// with the intake and fan-out workers, the senders, and an SMTP sink for
// everything Parley sends.
type rig struct {
	t        testing.TB
	st       *store.Store
	sink     *mailtest.Sink
	addr     string // Parley's SMTP listener
	keys     sign.Keys
	web      *httptest.Server
	maxBytes int64
	intake   *inbound.Server
	post     *posting.Service
	bounces  *bounce.Service
	proc     *inbound.Processor
	dkimKeys map[string]ed25519.PrivateKey // a DKIM key per test domain, published in the rig's DNS
}

// authServID is the MTA in front of Parley in the LMTP tests.
const authServID = "mx.lists.test"

// rigZone is the DNS the rig's sender checks ask. example.org, which most
// tests write from, authorises the loopback client by SPF, so that its
// members' mail is authenticated; mods.example and strict.example do not
// (a forged From), and strict.example publishes DMARC p=reject. Each of
// them has a DKIM key (selector "sel") that rig.sign signs with.
func rigZone(t testing.TB) (senderauth.Zone, map[string]ed25519.PrivateKey) {
	zone := senderauth.Zone{TXT: map[string][]string{
		"example.org":           {"v=spf1 ip4:127.0.0.0/8 ip6:::1 -all"},
		"mods.example":          {"v=spf1 ip4:192.0.2.1 -all"},
		"_dmarc.mods.example":   {"v=DMARC1; p=none"},
		"strict.example":        {"v=spf1 -all"},
		"_dmarc.strict.example": {"v=DMARC1; p=reject"},
	}}
	keys := map[string]ed25519.PrivateKey{}
	for _, d := range []string{"example.org", "mods.example", "strict.example"} {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		zone.TXT["sel._domainkey."+d] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
		keys[d] = priv
	}
	return zone, keys
}

func newRig(t testing.TB, tune ...func(*inbound.Config)) *rig {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st := storetest.New(t)
	sink := mailtest.NewSink(t)
	host, port, _ := net.SplitHostPort(sink.Addr)
	p, _ := strconv.Atoi(port)
	r := &rig{t: t, st: st, sink: sink, keys: sign.Keys{Current: strings.Repeat("k", 40)}, maxBytes: 64 << 10}
	origin, _ := url.Parse("http://localhost")
	links, err := urls.New(origin, r.keys)
	if err != nil {
		t.Fatal(err)
	}
	transport := outbound.NewSMTP(outbound.SMTPConfig{Host: host, Port: p, Timeout: 10 * time.Second, HelloName: domain}, log)
	renderer, err := outbound.NewRenderer(outbound.Site{URLs: links, BrandTitle: "Parley", Organization: "Org", MailDomain: domain}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	r.bounces = &bounce.Service{Store: st, Keys: r.keys, URLs: links, Notices: notices, Settings: bounce.DefaultSettings(), Log: log}
	sender := outbound.NewSender(st, renderer, transport, r.keys, links, domain, m, log, outbound.SenderConfig{Workers: 2, Poll: 50 * time.Millisecond, Failures: r.bounces})
	zone, dkimKeys := rigZone(t)
	r.dkimKeys = dkimKeys
	r.post = posting.New(st, domain, log, posting.Hooks{Accept: []posting.Hook{outbound.EnqueueFanout, modmail.Notices(r.keys, links, notices, domain)}})
	proc := &inbound.Processor{Store: st, Posting: r.post, Bounces: r.bounces, Keys: r.keys, MailDomain: domain, URLs: links, Notices: notices,
		Limits: mailparse.Limits{}, Log: log, DefaultFrom: "no-reply@" + domain, RetryBase: 20 * time.Millisecond, Metrics: m,
		SenderAuth: senderauth.New(senderauth.Config{Resolver: zone, AuthServID: authServID})}
	r.proc = proc
	workers := river.NewWorkers()
	river.AddWorker(workers, &outbound.FanoutWorker{Store: st, Wake: sender.Wake, Log: log})
	river.AddWorker(workers, &outbound.SystemMailWorker{Transport: transport, From: "Parley <no-reply@" + domain + ">", MailDomain: domain, Log: log})
	river.AddWorker(workers, proc)
	q, err := queue.New(st, queue.Options{Workers: workers, Log: log})
	if err != nil {
		t.Fatal(err)
	}

	icfg := inbound.Config{Domain: domain, MaxMessageBytes: r.maxBytes}
	for _, f := range tune {
		f(&icfg)
	}
	srv := inbound.NewServer(icfg, st, r.keys, m, log)
	r.intake = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go srv.Serve(ln)

	h, err := web.New(web.Deps{Store: st, Posting: r.post, Metrics: m, Log: log,
		Site: web.Site{MailDomain: domain, Origin: origin, BrandTitle: "Parley"}, Guard: web.Guard{SecretKey: strings.Repeat("s", 40), Keys: r.keys}})
	if err != nil {
		t.Fatal(err)
	}
	r.web = httptest.NewServer(h)

	qctx, stopQ := context.WithCancel(ctx)
	if err := q.Start(qctx); err != nil {
		t.Fatal(err)
	}
	sctx, stopS := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sender.Run(sctx) }()
	t.Cleanup(func() {
		r.web.Close()
		_ = srv.Shutdown(context.Background())
		stopS()
		<-done
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(c)
		stopQ()
	})
	return r
}

func (r *rig) user(email string, verified bool) mailflow.User {
	r.t.Helper()
	u, err := r.st.CreateUser(context.Background(), store.NewUser{Email: email, Name: strings.Split(email, "@")[0], Verified: verified})
	if err != nil {
		r.t.Fatal(err)
	}
	return u
}

func (r *rig) group(slug string, owner mailflow.User, members ...mailflow.User) mailflow.Group {
	r.t.Helper()
	ctx := context.Background()
	g, err := r.st.CreateGroup(ctx, mailflow.Group{Slug: slug, Name: "Group " + slug, JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, m := range members {
		if _, _, err := r.st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: m.ID, Status: mailflow.MemberActive}); err != nil {
			r.t.Fatal(err)
		}
	}
	return g
}

// send delivers raw mail over SMTP with go-mail's low-level client and
// returns the error of the first refused step.
func (r *rig) send(from string, to []string, raw string) error {
	r.t.Helper()
	c, err := smtp.Dial(r.addr)
	if err != nil {
		if smtpCode(err) != 0 {
			return err // a refusing greeting (421) is the server's answer, not a broken test
		}
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail("<" + from + ">"); err != nil {
		return err
	}
	for _, rc := range to {
		if err := c.Rcpt("<" + rc + ">"); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		return err
	}
	return w.Close()
}

// waitInbound waits until every received message is processed and
// returns their outcomes.
func (r *rig) waitInbound(n int) []string {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := r.st.Pool().Query(context.Background(), `SELECT state, outcome FROM inbound_messages ORDER BY id`)
		if err != nil {
			r.t.Fatal(err)
		}
		var outcomes []string
		pending := 0
		for rows.Next() {
			var state, outcome string
			_ = rows.Scan(&state, &outcome)
			if state == "received" {
				pending++
			}
			outcomes = append(outcomes, outcome)
		}
		rows.Close()
		if len(outcomes) >= n && pending == 0 {
			return outcomes
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("inbound messages not processed: %d of %d, %d pending", len(outcomes), n, pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func smtpCode(err error) int {
	var te interface{ Error() string }
	if errors.As(err, &te) {
		if m := regexp.MustCompile(`^(\d{3})`).FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

func TestPostAndReplyByEmail(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	ada := r.user("ada@example.org", true)
	bob := r.user("bob@example.org", true)
	g := r.group("garden", owner, ada, bob)

	// A member's post, sent with go-mail's full client.
	c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(portOf(r.addr)), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithHELO("ada.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	m := gomail.NewMsg()
	_ = m.From("Ada <ada@example.org>")
	_ = m.To("garden@lists.test")
	m.Subject("Tomato seeds — who has some?")
	m.SetMessageIDWithValue("first.post@example.org")
	m.SetBodyString(gomail.TypeTextPlain, "Hello all,\n\nDoes anyone have tomato seeds?\n\nAda")
	if err := c.DialAndSend(m); err != nil {
		t.Fatalf("sending the post: %v", err)
	}
	out := r.waitInbound(1)
	if !strings.Contains(out[0], "posted") {
		t.Fatalf("outcome: %q", out[0])
	}
	threads, err := r.st.ListThreads(ctx, g.ID, 0, true, 10, 0)
	if err != nil || len(threads) != 1 || threads[0].Subject != "Tomato seeds — who has some?" {
		t.Fatalf("threads: %+v %v", threads, err)
	}
	// It fans out to the other members (owner and bob; ada posted by email).
	if !r.sink.WaitFor(2, 15*time.Second) {
		t.Fatalf("fan-out: sink got %d", r.sink.Count())
	}

	// Bob replies from his mail client: quoted text and signature folded.
	reply := `From: Bob <bob@example.org>
To: Group garden <garden@lists.test>
Subject: Re: [Group garden] Tomato seeds — who has some?
Message-ID: <bob.reply@example.org>
In-Reply-To: <first.post@example.org>
References: <first.post@example.org>
Content-Type: text/plain; charset=utf-8

I have some, come by on Saturday.

On Mon, Nov 23, 2026 at 10:00 AM Ada <ada@example.org> wrote:
> Hello all,
>
> Does anyone have tomato seeds?
`
	if err := r.send("bob@example.org", []string{"garden@lists.test"}, reply); err != nil {
		t.Fatal(err)
	}
	out = r.waitInbound(2)
	if !strings.Contains(out[1], "posted") || !strings.Contains(out[1], fmt.Sprintf("thread %d", threads[0].ID)) {
		t.Fatalf("the reply should join the thread: %q", out[1])
	}
	msgs, _ := r.st.ThreadMessages(ctx, threads[0].ID)
	if len(msgs) != 2 || strings.TrimSpace(msgs[1].Body) != "I have some, come by on Saturday." {
		t.Fatalf("reply body should be the new text only: %q", msgs[len(msgs)-1].Body)
	}
	var raw []byte
	if err := r.st.Pool().QueryRow(ctx, `SELECT raw_source FROM messages WHERE id = $1`, msgs[1].ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Does anyone have tomato seeds?") {
		t.Fatal("the stored original must keep the quoted text")
	}

	// The owner answers from a French Outlook on a phone: its line, then
	// the header block and the history unquoted; the list's footer under it.
	reply = `From: Owner <owner@example.org>
To: Group garden <garden@lists.test>
Subject: RE: [Group garden] Tomato seeds — who has some?
Message-ID: <owner.reply@example.org>
In-Reply-To: <bob.reply@example.org>
References: <first.post@example.org> <bob.reply@example.org>
Content-Type: text/plain; charset=utf-8

Moi aussi, j'en ai.

Envoyé de mon iPhone
________________________________
De : Bob <bob@example.org>
Envoyé : lundi 23 novembre 2026 10:05
À : garden@lists.test
Objet : Re: [Group garden] Tomato seeds — who has some?

I have some, come by on Saturday.

-- 
You receive every message of garden (garden@lists.test)
because you are a member of this group.
`
	if err := r.send("owner@example.org", []string{"garden@lists.test"}, reply); err != nil {
		t.Fatal(err)
	}
	if out = r.waitInbound(3); !strings.Contains(out[2], "posted") {
		t.Fatalf("outcome: %q", out[2])
	}
	msgs, _ = r.st.ThreadMessages(ctx, threads[0].ID)
	if len(msgs) != 3 || strings.TrimSpace(msgs[2].Body) != "Moi aussi, j'en ai." {
		t.Fatalf("a French Outlook reply should be stored as its new text only: %q", msgs[len(msgs)-1].Body)
	}
}

func TestPythonSmtplib(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	r := newRig(t)
	owner := r.user("owner@example.org", true)
	r.group("python", owner)
	script := `import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "owner@example.org"
m["To"] = "python@lists.test"
m["Subject"] = "Grüße from smtplib"
m.set_content("Sent by Python's smtplib.\n")
with smtplib.SMTP(sys.argv[1], int(sys.argv[2])) as s:
    s.send_message(m)
`
	host, port, _ := net.SplitHostPort(r.addr)
	out, err := exec.Command("python3", "-c", script, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("smtplib: %v\n%s", err, out)
	}
	if o := r.waitInbound(1); !strings.Contains(o[0], "posted") {
		t.Fatalf("outcome %q", o[0])
	}
	var subject string
	if err := r.st.Pool().QueryRow(context.Background(), `SELECT subject FROM threads`).Scan(&subject); err != nil || subject != "Grüße from smtplib" {
		t.Fatalf("subject %q %v", subject, err)
	}
}

func TestRefusalsAndDrops(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	banned := r.user("banned@example.org", true)
	g := r.group("club", owner, banned)
	if _, err := r.st.Pool().Exec(ctx, `UPDATE users SET status = 'banned' WHERE id = $1`, banned.ID); err != nil {
		t.Fatal(err)
	}
	msg := func(from, subject, extra string) string {
		return "From: " + from + "\nTo: club@lists.test\nSubject: " + subject + "\nMessage-ID: <" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.org>\n" + extra + "\nHello\n"
	}

	// Unknown recipients are refused at RCPT.
	for _, rc := range []string{"nosuchgroup@lists.test", "club@elsewhere.test", "club+bogus@lists.test", "club+r-1-aaaaaaaaaaaaaaaa@lists.test"} {
		if err := r.send("x@example.org", []string{rc}, msg("x@example.org", "hi", "")); smtpCode(err) != 550 {
			t.Errorf("RCPT %s: %v, want 550", rc, err)
		}
	}
	// Oversized mail: 552.
	big := msg("owner@example.org", "big", "") + strings.Repeat(strings.Repeat("x", 76)+"\n", int(r.maxBytes)/70)
	if err := r.send("owner@example.org", []string{"club@lists.test"}, big); smtpCode(err) != 552 {
		t.Errorf("oversized: %v, want 552", err)
	}
	long := msg("owner@example.org", "long line", "") + strings.Repeat("y", 5000)
	if err := r.send("owner@example.org", []string{"club@lists.test"}, long); smtpCode(err) != 500 {
		t.Errorf("a 5000-octet line: %v, want 500", err)
	}
	// A non-member is told how to join, once.
	if err := r.send("stranger@example.org", []string{"club@lists.test"}, msg("stranger@example.org", "hi there", "")); err != nil {
		t.Fatal(err)
	}
	if err := r.send("stranger@example.org", []string{"club@lists.test"}, msg("stranger@example.org", "hi again", "")); err != nil {
		t.Fatal(err)
	}
	// A banned member is dropped without a word; an auto-reply is dropped.
	if err := r.send("banned@example.org", []string{"club@lists.test"}, msg("banned@example.org", "let me in", "")); err != nil {
		t.Fatal(err)
	}
	if err := r.send("owner@example.org", []string{"club@lists.test"}, msg("owner@example.org", "Out of office", "Auto-Submitted: auto-replied\n")); err != nil {
		t.Fatal(err)
	}
	out := r.waitInbound(4)
	// The two notes to the stranger may be processed in either order.
	told := strings.Count(out[0]+out[1], "not a member (told how to join)")
	again := strings.Count(out[0]+out[1], "not a member (already told today)")
	if told != 1 || again != 1 {
		t.Errorf("non-member outcomes %q, %q: want one 'told' and one 'already told'", out[0], out[1])
	}
	if !strings.Contains(out[2], "dropped") || !strings.Contains(out[3], "dropped: automatic mail") {
		t.Errorf("banned and auto-reply outcomes: %q, %q", out[2], out[3])
	}
	threads, _ := r.st.ListThreads(ctx, g.ID, 0, true, 10, 0)
	if len(threads) != 0 {
		t.Fatalf("nothing should be posted, got %d threads", len(threads))
	}
	time.Sleep(500 * time.Millisecond)
	envs := r.sink.Envelopes()
	if len(envs) != 1 || envs[0].To[0] != "stranger@example.org" || envs[0].From != "" {
		t.Fatalf("want exactly one answer, to the stranger, from the null sender: %+v", envs)
	}
	if !strings.Contains(string(envs[0].Data), "Auto-Submitted: auto-replied") {
		t.Fatal("the answer must say it is automatic (RFC 3834)")
	}
}

func TestSubscribeByEmail(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("joinme", owner)
	if err := r.send("new@example.org", []string{"joinme+subscribe@lists.test"}, "From: new@example.org\nTo: joinme+subscribe@lists.test\nSubject: subscribe\n\n"); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(1)
	if !r.sink.WaitFor(1, 10*time.Second) {
		t.Fatal("no confirmation mail")
	}
	body := string(r.sink.Envelopes()[0].Data)
	link := regexp.MustCompile(`http://localhost(/join/[A-Za-z0-9_\-.=]+)`).FindStringSubmatch(strings.ReplaceAll(body, "=\r\n", ""))
	if link == nil {
		t.Fatalf("no join link in:\n%s", body)
	}
	// Opening the link changes nothing; pressing the button joins.
	if _, err := r.st.UserByEmail(ctx, "new@example.org"); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatal("a subscribe email alone must not create anything")
	}
	res, err := http.Get(r.web.URL + link[1])
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET join: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Post(r.web.URL+link[1], "application/x-www-form-urlencoded", nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("POST join: %v %v", res, err)
	}
	res.Body.Close()
	u, err := r.st.UserByEmail(ctx, "new@example.org")
	if err != nil || !u.Verified() {
		t.Fatalf("user: %+v %v", u, err)
	}
	if m, _ := r.st.Membership(ctx, g.ID, u.ID); !m.Active() {
		t.Fatalf("membership: %+v", m)
	}
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// BenchmarkInbound sends posts from 4 parallel SMTP clients to the real
// listener; each is committed to PostgreSQL before its 250. It reports
// accepted posts per second and the mean latency of DATA.
func BenchmarkInbound(b *testing.B) {
	r := newRig(b, func(c *inbound.Config) { c.RatePerMinute = 1e9 })
	owner := r.user("owner@example.org", true)
	r.group("bench", owner)
	const clients = 4
	var total, dataNanos atomic64
	b.ResetTimer()
	start := time.Now()
	errs := make(chan error, clients)
	for w := range clients {
		go func() {
			c, err := smtp.Dial(r.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Hello("bench.test"); err != nil {
				errs <- err
				return
			}
			for i := w; i < b.N; i += clients {
				if err := c.Mail("owner@example.org"); err != nil {
					errs <- err
					return
				}
				if err := c.Rcpt("bench@lists.test"); err != nil {
					errs <- err
					return
				}
				wc, err := c.Data()
				if err != nil {
					errs <- err
					return
				}
				fmt.Fprintf(wc, "From: owner@example.org\r\nTo: bench@lists.test\r\nSubject: Post %d\r\nMessage-ID: <bench.%d.%d@example.org>\r\n\r\nBenchmark post %d.\r\n", i, w, i, i)
				t0 := time.Now()
				if err := wc.Close(); err != nil {
					errs <- err
					return
				}
				dataNanos.add(int64(time.Since(t0)))
				total.add(1)
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	n := total.load()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "posts/s")
	b.ReportMetric(float64(dataNanos.load())/float64(max(n, 1))/1e6, "ms/DATA")
}

type atomic64 struct{ v atomic.Int64 }

func (a *atomic64) add(n int64) { a.v.Add(n) }
func (a *atomic64) load() int64 { return a.v.Load() }

func TestLimits(t *testing.T) {
	r := newRig(t, func(c *inbound.Config) { c.RatePerMinute = 3; c.MaxConnsPerIP = 2; c.MaxRecipients = 2 })
	owner := r.user("owner@example.org", true)
	r.group("a", owner)
	r.group("b", owner)
	r.group("c", owner)
	raw := "From: owner@example.org\nSubject: x\n\nx\n"
	// Too many recipients: 452 for the third.
	if err := r.send("owner@example.org", []string{"a@lists.test", "b@lists.test", "c@lists.test"}, raw); smtpCode(err) != 452 {
		t.Errorf("third recipient: %v, want 452", err)
	}
	// Too fast: the burst allowance is spent, then 451 4.7.1.
	var last error
	for range 5 {
		// Each send is a new connection; under load the server may not
		// have closed the previous one yet, which the per-address
		// connection limit (2) answers with 421. Wait for it, and send again.
		for try := 0; try < 100; try++ {
			last = r.send("owner@example.org", []string{"a@lists.test"}, raw)
			if smtpCode(last) != 421 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if smtpCode(last) != 451 || !strings.Contains(last.Error(), "4.7.1") {
		t.Errorf("too fast: %v, want 451 4.7.1", last)
	}
	// Too many connections: the third gets a 421 greeting. (First let the
	// server finish closing the sessions above.)
	time.Sleep(300 * time.Millisecond)
	c1, _ := net.Dial("tcp", r.addr)
	c2, _ := net.Dial("tcp", r.addr)
	defer c1.Close()
	defer c2.Close()
	buf := make([]byte, 3)
	for _, c := range []net.Conn{c1, c2} {
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "220" {
			t.Fatalf("first two connections: %q %v, want 220", buf, err)
		}
	}
	c3, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	_ = c3.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c3, buf); err != nil || string(buf) != "421" {
		t.Errorf("third connection: %q %v, want a 421 greeting", buf, err)
	}
}

// TestIMAPIntake pulls 50 posts from a real IMAP server (go-imap's
// in-memory one, on loopback), is stopped after 20 as if it crashed,
// starts again, and ends with each message posted exactly once.
func TestIMAPIntake(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("imap", owner)

	mem := imapmemserver.New()
	user := imapmemserver.NewUser("lists", "secret pw")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	for i := range 50 {
		raw := fmt.Sprintf("Return-Path: <owner@example.org>\r\nDelivered-To: imap@lists.test\r\nFrom: owner@example.org\r\nTo: imap@lists.test\r\nSubject: IMAP post %d\r\nMessage-ID: <imap.%d@example.org>\r\n\r\nBody %d\r\n", i, i, i)
		if _, err := user.Append("INBOX", strings.NewReader(raw), &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := imapin.ParseURL((&url.URL{Scheme: "imap", User: url.UserPassword("lists", "secret pw"), Host: ln.Addr().String(), Path: "/INBOX"}).String())
	if err != nil {
		t.Fatal(err)
	}
	cfg.PollInterval = 100 * time.Millisecond
	log := slog.New(slog.DiscardHandler)

	// First run: "crash" after 20 ingests.
	runCtx, crash := context.WithCancel(ctx)
	var n atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = imapin.New(cfg, func(c context.Context, raw []byte) error {
			if n.Add(1) > 20 {
				crash()
				return c.Err()
			}
			return r.intake.IngestIMAP(c, raw)
		}, log).Run(runCtx)
	}()
	<-done
	// Second run: picks up the rest.
	runCtx, stop := context.WithCancel(ctx)
	done = make(chan struct{})
	go func() { defer close(done); _ = imapin.New(cfg, r.intake.IngestIMAP, log).Run(runCtx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		threads, err := r.st.ListThreads(ctx, g.ID, 0, true, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(threads) == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads after the restart, want 50", len(threads))
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	<-done
	var inbound, messages int
	_ = r.st.Pool().QueryRow(ctx, `SELECT count(*) FROM inbound_messages`).Scan(&inbound)
	_ = r.st.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&messages)
	if inbound != 50 || messages != 50 {
		t.Fatalf("%d stored and %d posted, want 50 and 50", inbound, messages)
	}
}

// TestProcessingTwicePostsOnce: a job that runs again for the same stored
// message (after a crash between posting and recording the outcome) does
// not post twice, even for mail without a Message-ID.
func TestProcessingTwicePostsOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("once", owner)
	if err := r.send("owner@example.org", []string{"once@lists.test"}, "From: owner@example.org\nTo: once@lists.test\nSubject: No id\n\nHello\n"); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(1)
	var id int64
	if err := r.st.Pool().QueryRow(ctx, `UPDATE inbound_messages SET state = 'received' RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := r.proc.Work(ctx, &river.Job[inbound.ProcessArgs]{Args: inbound.ProcessArgs{InboundID: id}}); err != nil {
		t.Fatal(err)
	}
	out := r.waitInbound(1)
	if !strings.Contains(out[0], "duplicate") {
		t.Fatalf("second processing: %q", out[0])
	}
	threads, _ := r.st.ListThreads(ctx, g.ID, 0, true, 10, 0)
	if len(threads) != 1 {
		t.Fatalf("%d threads, want 1", len(threads))
	}
}
