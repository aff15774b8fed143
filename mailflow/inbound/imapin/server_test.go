package imapin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const (
	testUser     = "list@example.org"
	testPassword = "pa:ss/w@rd%1"
)

// Capability sets for the in-process server. IDLE is always offered by
// go-imap's server once logged in; MOVE and UIDPLUS only when listed.
var (
	capsMove     = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	capsUIDPlus  = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	capsBareRev1 = imap.CapSet{imap.CapIMAP4rev1: {}}
)

// testServer is go-imap's in-memory server on 127.0.0.1:0, with a user
// whose INBOX the test fills directly.
type testServer struct {
	t    *testing.T
	addr string
	user *imapmemserver.User
	rec  *recorder

	mu     sync.Mutex
	hashes map[imap.UID][32]byte // INBOX UID → content hash, for the guard

	violations atomic.Int64 // messages flagged or moved before their ingest returned
	idles      atomic.Int64 // IDLE commands seen
}

type serverOpts struct {
	caps      imap.CapSet
	tlsConfig *tls.Config // serve implicit TLS
}

func startServer(t *testing.T, rec *recorder, o serverOpts) *testServer {
	t.Helper()
	if o.caps == nil {
		o.caps = capsMove
	}
	ts := &testServer{t: t, rec: rec, hashes: make(map[imap.UID][32]byte)}
	mem := imapmemserver.New()
	ts.user = imapmemserver.NewUser(testUser, testPassword)
	if err := ts.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(ts.user)

	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &guardedSession{Session: mem.NewSession(), ts: ts}, nil, nil
		},
		Caps:         o.caps,
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	var ln net.Listener
	var err error
	if o.tlsConfig != nil {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", o.tlsConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ts
}

// url is the IMAP_URL for this server, with user and password escaped.
func (ts *testServer) url(scheme string) string {
	u := url.URL{Scheme: scheme, User: url.UserPassword(testUser, testPassword), Host: ts.addr, Path: "/INBOX"}
	return u.String()
}

// add appends n messages numbered from first to INBOX and returns them.
func (ts *testServer) add(first, n int) [][]byte {
	ts.t.Helper()
	var msgs [][]byte
	for i := first; i < first+n; i++ {
		raw := testMessage(i)
		// The lock spans the append: a poller that sees the new message at
		// once must find its hash (guard waits for it), or its move would
		// count as a violation.
		ts.mu.Lock()
		data, err := ts.user.Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{})
		if err == nil {
			ts.hashes[data.UID] = sha256.Sum256(raw)
		}
		ts.mu.Unlock()
		if err != nil {
			ts.t.Fatal(err)
		}
		msgs = append(msgs, raw)
	}
	return msgs
}

func testMessage(i int) []byte {
	return fmt.Appendf(nil, "From: member%d@example.org\r\nTo: list@example.org\r\n"+
		"Subject: post %d\r\nMessage-ID: <%d@example.org>\r\n\r\nBody of post %d.\r\n", i, i, i, i)
}

// status reads a mailbox's message and unseen counts.
func (ts *testServer) status(mailbox string) (messages, unseen uint32) {
	ts.t.Helper()
	st, err := ts.user.Status(mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		ts.t.Fatalf("status %s: %v", mailbox, err)
	}
	return *st.NumMessages, *st.NumUnseen
}

// guard records a violation for every message in numSet whose ingest has
// not returned nil yet: a flag or move that came too early.
func (ts *testServer) guard(numSet imap.NumSet) {
	uids, ok := numSet.(imap.UIDSet)
	if !ok {
		ts.violations.Add(1) // the poller only ever uses UIDs
		return
	}
	nums, ok := uids.Nums()
	if !ok {
		ts.violations.Add(1)
		return
	}
	for _, uid := range nums {
		ts.mu.Lock()
		h, known := ts.hashes[uid]
		ts.mu.Unlock()
		if !known || !ts.rec.committed(h) {
			ts.violations.Add(1)
		}
	}
}

// guardedSession checks every STORE, COPY and MOVE against the recorder
// before handing it to the in-memory server.
type guardedSession struct {
	imapserver.Session
	ts *testServer
}

func (s *guardedSession) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	s.ts.guard(numSet)
	return s.Session.Store(w, numSet, flags, options)
}

func (s *guardedSession) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	s.ts.guard(numSet)
	return s.Session.Copy(numSet, dest)
}

func (s *guardedSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	s.ts.guard(numSet)
	return s.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

func (s *guardedSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	s.ts.idles.Add(1)
	return s.Session.Idle(w, stop)
}

// recorder is a fake ingest side that dedupes by content hash, as the real
// one does by Message-ID and hash.
type recorder struct {
	mu    sync.Mutex
	calls map[[32]byte]int
	done  map[[32]byte]bool
	fail  map[[32]byte]bool
	// afterCommit, if set, runs after each new commit with the number of
	// distinct messages committed so far.
	afterCommit func(n int)
}

func newRecorder() *recorder {
	return &recorder{calls: map[[32]byte]int{}, done: map[[32]byte]bool{}, fail: map[[32]byte]bool{}}
}

var errIngest = errors.New("fake ingest failure")

func (r *recorder) ingest(_ context.Context, raw []byte) error {
	h := sha256.Sum256(raw)
	r.mu.Lock()
	r.calls[h]++
	if r.fail[h] {
		r.mu.Unlock()
		return errIngest
	}
	if r.done[h] {
		r.mu.Unlock()
		return nil
	}
	r.done[h] = true
	n := len(r.done)
	hook := r.afterCommit
	r.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil
}

func (r *recorder) setFail(raw []byte, fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[sha256.Sum256(raw)] = fail
}

func (r *recorder) committed(h [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[h]
}

func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.done)
}

func (r *recorder) callsFor(raw []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[sha256.Sum256(raw)]
}

// testPoller returns a Poller tuned for fast tests.
func testPoller(t *testing.T, cfg Config, ingest Ingest) *Poller {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	p := New(cfg, ingest, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	p.backoffMin = 10 * time.Millisecond
	p.backoffMax = 100 * time.Millisecond
	return p
}

// start runs p until the test ends, and returns a func that stops it and
// checks that Run returned nil.
func start(t *testing.T, p *Poller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually fails the test unless cond becomes true within 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testWriter sends the poller's log to t.Log, so it shows with -v or on
// failure only.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}
