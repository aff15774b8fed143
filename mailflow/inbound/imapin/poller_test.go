package imapin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/parleymail/parley/mailflow/mailtest"
)

func TestPollerMarksSeen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		noIdle bool
	}{
		{"idle", false},
		{"poll", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			ts := startServer(t, rec, serverOpts{})
			msgs := ts.add(1, 50)
			p := testPoller(t, Config{URL: ts.url("imap")}, rec.ingest)
			p.noIdle = tc.noIdle
			stop := start(t, p)

			eventually(t, "50 messages ingested and seen", func() bool {
				_, unseen := ts.status("INBOX")
				return rec.distinct() == 50 && unseen == 0
			})
			// Appended while the poller waits: IDLE must wake it, or the
			// next poll find it.
			msgs = append(msgs, ts.add(51, 1)...)
			eventually(t, "late message ingested and seen", func() bool {
				_, unseen := ts.status("INBOX")
				return rec.distinct() == 51 && unseen == 0
			})
			stop()

			for i, m := range msgs {
				if n := rec.callsFor(m); n != 1 {
					t.Errorf("message %d ingested %d times, want 1", i+1, n)
				}
			}
			if v := ts.violations.Load(); v != 0 {
				t.Errorf("%d messages flagged before their ingest returned", v)
			}
			if total, _ := ts.status("INBOX"); total != 51 {
				t.Errorf("INBOX has %d messages, want 51 (they stay, seen)", total)
			}
			switch idles := ts.idles.Load(); {
			case tc.noIdle && idles != 0:
				t.Errorf("poll mode sent %d IDLE commands", idles)
			case !tc.noIdle && idles == 0:
				t.Error("idle mode never sent IDLE")
			}
		})
	}
}

func TestPollerMovesToDoneFolder(t *testing.T) {
	const done = "Archive/parley"
	for _, tc := range []struct {
		name string
		opts serverOpts
		// Without MOVE and UIDPLUS the poller must not EXPUNGE, so the
		// originals stay, flagged \Seen \Deleted.
		inboxLeft uint32
	}{
		{"move", serverOpts{caps: capsMove}, 0},
		{"copy and uid expunge", serverOpts{caps: capsUIDPlus}, 0},
		{"copy only", serverOpts{caps: capsBareRev1}, 51},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			ts := startServer(t, rec, tc.opts)
			msgs := ts.add(1, 50)
			p := testPoller(t, Config{URL: ts.url("imap"), DoneFolder: done}, rec.ingest)
			p.batchSize = 8 // several MOVEs, and a short last batch
			stop := start(t, p)

			eventually(t, "50 messages in the done folder", func() bool {
				if rec.distinct() != 50 {
					return false
				}
				_, err := ts.user.Status(done, &imap.StatusOptions{})
				if err != nil {
					return false // not created yet
				}
				n, _ := ts.status(done)
				return n == 50
			})
			msgs = append(msgs, ts.add(51, 1)...)
			// COPY lands in the done folder before the original is
			// flagged and expunged: wait for both ends.
			eventually(t, "late message in the done folder and out of INBOX", func() bool {
				n, _ := ts.status(done)
				total, unseen := ts.status("INBOX")
				return n == 51 && total == tc.inboxLeft && unseen == 0
			})
			stop()

			total, unseen := ts.status("INBOX")
			if total != tc.inboxLeft || unseen != 0 {
				t.Errorf("INBOX has %d messages (%d unseen), want %d (0 unseen)", total, unseen, tc.inboxLeft)
			}
			for i, m := range msgs {
				if n := rec.callsFor(m); n != 1 {
					t.Errorf("message %d ingested %d times, want 1", i+1, n)
				}
			}
			if v := ts.violations.Load(); v != 0 {
				t.Errorf("%d messages moved before their ingest returned", v)
			}
		})
	}
}

// A crash after some commits: the first Run's context ends inside ingest,
// after the 20th message is committed, and a second Poller finishes.
func TestPollerRestartAfterCrash(t *testing.T) {
	rec := newRecorder()
	ts := startServer(t, rec, serverOpts{})
	msgs := ts.add(1, 50)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec.afterCommit = func(n int) {
		if n == 20 {
			cancel()
		}
	}
	p := testPoller(t, Config{URL: ts.url("imap")}, rec.ingest)
	p.batchSize = 7
	if err := p.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if n := rec.distinct(); n != 20 {
		t.Fatalf("first run committed %d messages, want 20", n)
	}
	_, unseen := ts.status("INBOX")
	if seen := 50 - int(unseen); seen > 20 || seen == 0 {
		t.Errorf("after the crash %d messages are seen, want between 1 and 20", seen)
	}

	rec.mu.Lock()
	rec.afterCommit = nil
	rec.mu.Unlock()
	stop := start(t, testPoller(t, Config{URL: ts.url("imap")}, rec.ingest))
	eventually(t, "every message ingested and seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 50 && unseen == 0
	})
	stop()

	for i, m := range msgs {
		if n := rec.callsFor(m); n < 1 || n > 2 {
			t.Errorf("message %d handed to ingest %d times, want 1 or 2", i+1, n)
		}
	}
	if v := ts.violations.Load(); v != 0 {
		t.Errorf("%d messages flagged before their ingest returned", v)
	}
}

func TestPollerIngestErrorLeavesMessageUnseen(t *testing.T) {
	rec := newRecorder()
	ts := startServer(t, rec, serverOpts{})
	msgs := ts.add(1, 10)
	bad := msgs[4]
	rec.setFail(bad, true)
	p := testPoller(t, Config{URL: ts.url("imap")}, rec.ingest)
	p.batchSize = 3
	stop := start(t, p)

	eventually(t, "the other 9 ingested and seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 9 && unseen == 1
	})
	// With IDLE and no new mail, a failed message is still retried after
	// the poll interval.
	eventually(t, "the bad message retried", func() bool { return rec.callsFor(bad) >= 3 })
	if v := ts.violations.Load(); v != 0 {
		t.Errorf("%d messages flagged before their ingest returned", v)
	}

	rec.setFail(bad, false)
	eventually(t, "the fixed message ingested and seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 10 && unseen == 0
	})
	stop()
	for i, m := range msgs {
		if n := rec.callsFor(m); m != nil && !bytes.Equal(m, bad) && n != 1 {
			t.Errorf("message %d ingested %d times, want 1", i+1, n)
		}
	}
}

func TestPollerReconnects(t *testing.T) {
	rec := newRecorder()
	ts := startServer(t, rec, serverOpts{})
	px := startProxy(t, ts.addr)
	ts.add(1, 5)

	var logs mailtest.Buffer
	p := testPoller(t, Config{URL: strings.Replace(ts.url("imap"), ts.addr, px.addr(), 1)}, rec.ingest)
	p.log = slog.New(slog.NewTextHandler(&logs, nil))
	stop := start(t, p)
	eventually(t, "first messages seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 5 && unseen == 0
	})

	// Drop the connection mid-IDLE and refuse new ones for a while: the
	// poller retries with backoff and logs the streak once.
	px.setDown(true)
	ts.add(6, 5)
	eventually(t, "several failed attempts", func() bool { return px.refused() >= 3 })
	px.setDown(false)
	eventually(t, "messages after the outage seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 10 && unseen == 0
	})
	stop()

	out := logs.String()
	if n := strings.Count(out, "imap connection failed;"); n != 1 {
		t.Errorf("failure streak logged %d times at warn, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "imap connection restored") {
		t.Errorf("recovery not logged:\n%s", out)
	}
}

func TestPollerIdleRefresh(t *testing.T) {
	rec := newRecorder()
	ts := startServer(t, rec, serverOpts{})
	p := testPoller(t, Config{URL: ts.url("imap")}, rec.ingest)
	p.idleRefresh = 30 * time.Millisecond
	start(t, p)
	eventually(t, "IDLE re-issued", func() bool { return ts.idles.Load() >= 4 })
}

func TestPollerImplicitTLS(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	rec := newRecorder()
	ts := startServer(t, rec, serverOpts{tlsConfig: serverTLS})
	ts.add(1, 3)
	stop := start(t, testPoller(t, Config{URL: ts.url("imaps"), TLSConfig: clientTLS}, rec.ingest))
	eventually(t, "messages over TLS seen", func() bool {
		_, unseen := ts.status("INBOX")
		return rec.distinct() == 3 && unseen == 0
	})
	stop()
}

func TestRunRejectsBadConfig(t *testing.T) {
	ingest := func(context.Context, []byte) error { return nil }
	for _, tc := range []struct {
		name   string
		cfg    Config
		ingest Ingest
		want   string
	}{
		{"bad url", Config{URL: "http://u:p@host/INBOX"}, ingest, "scheme"},
		{"done is mailbox", Config{URL: "imaps://u:p@host/INBOX", DoneFolder: "inbox"}, ingest, "is the mailbox"},
		{"wildcard done", Config{URL: "imaps://u:p@host/INBOX", DoneFolder: "Done*"}, ingest, "must not contain"},
		{"no ingest", Config{URL: "imaps://u:p@host/INBOX"}, nil, "no ingest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			err := New(tc.cfg, tc.ingest, nil).Run(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: time.Second, max: 5 * time.Minute}
	want := time.Second
	for range 12 {
		got := b.next()
		if got < want/2 || got > want {
			t.Fatalf("delay %v, want within [%v, %v]", got, want/2, want)
		}
		want = min(2*want, 5*time.Minute)
	}
	b.reset()
	if got := b.next(); got > time.Second {
		t.Fatalf("after reset: delay %v, want at most 1s", got)
	}
}

// proxy forwards TCP to the test server, and can cut every connection and
// refuse new ones, as a network outage would.
type proxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	down     bool
	nrefused int
	conns    []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &proxy{ln: ln, target: target}
	go px.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		px.setDown(true)
	})
	return px
}

func (px *proxy) addr() string { return px.ln.Addr().String() }

func (px *proxy) serve() {
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		px.mu.Lock()
		if px.down {
			px.nrefused++
			px.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", px.target)
		if err != nil {
			px.mu.Unlock()
			_ = c.Close()
			continue
		}
		px.conns = append(px.conns, c, up)
		px.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// setDown(true) cuts the open connections and refuses new ones.
func (px *proxy) setDown(down bool) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.down = down
	if down {
		for _, c := range px.conns {
			_ = c.Close()
		}
		px.conns = nil
	}
}

func (px *proxy) refused() int {
	px.mu.Lock()
	defer px.mu.Unlock()
	return px.nrefused
}

// testTLS makes a self-signed certificate for 127.0.0.1 and the configs
// that serve it and trust it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}
