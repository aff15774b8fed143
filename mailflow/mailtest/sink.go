// Package mailtest provides a real SMTP server on loopback that records what
// it receives, so that tests (and the sending benchmark) can drive Parley's
// outbound code over a genuine TCP connection and inspect the result.
//
// The sink speaks SMTP as implemented by github.com/emersion/go-smtp; tests
// can make it refuse recipients or messages to exercise the temporary (4xx)
// and permanent (5xx) failure paths of RFC 5321 section 4.2.1.
package mailtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Envelope is one message accepted by the sink: the SMTP envelope (RFC 5321
// section 2.3.1) and the message bytes as received after DATA, with the
// dot-stuffing undone and CRLF line endings.
type Envelope struct {
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Sink is an SMTP server listening on 127.0.0.1 that records every message
// it accepts. It is safe for concurrent use.
type Sink struct {
	// Addr is the host:port the sink listens on.
	Addr string

	srv *smtp.Server
	ln  net.Listener

	mu        sync.Mutex
	envs      []Envelope
	count     int
	firstAt   time.Time // when the first message since Start or Reset was accepted
	lastAt    time.Time // and the last
	conns     int
	open      map[net.Conn]struct{} // connections not yet closed, for DropConns
	discard   bool
	rcptHook  func(to string) *smtp.SMTPError
	dataHook  func(from string, to []string) *smtp.SMTPError
	notify    chan struct{} // closed on the next accepted message; nil when nobody waits
	closeOnce sync.Once
	closeErr  error
	served    chan struct{} // closed when Serve returns
}

// NewSink starts a sink for a test and closes it when the test ends.
func NewSink(t testing.TB) *Sink {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("start smtp sink: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close smtp sink: %v", err)
		}
	})
	return s
}

// Start starts a sink outside of a test, for example in a benchmark command.
// The caller must Close it.
func Start() (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Sink{Addr: ln.Addr().String(), served: make(chan struct{}), open: make(map[net.Conn]struct{})}
	s.ln = &countingListener{Listener: ln, sink: s}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "sink.localhost"
	srv.MaxMessageBytes = 50 << 20
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = true
	// Generous timeouts: a test that stalls should fail on its own deadline,
	// but a leaked client must not hold a goroutine forever.
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	// go-smtp logs connection errors to stderr by default; a client that
	// hangs up abruptly is an expected event in tests, not noise to print.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv = srv

	go func() {
		defer close(s.served)
		// Serve returns nil after Close; any other error means the listener
		// broke, which the tests will notice as refused connections.
		_ = srv.Serve(s.ln)
	}()
	return s, nil
}

// Close stops listening and drops every open connection. It is safe to call
// more than once.
func (s *Sink) Close() error {
	s.closeOnce.Do(func() {
		err := s.srv.Close()
		// Serve registers the listener from its own goroutine, so a Close
		// right after Start can come first; closing the listener here too
		// makes sure Serve's Accept returns either way.
		if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
			err = lerr
		}
		<-s.served
		if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, smtp.ErrServerClosed) {
			s.closeErr = fmt.Errorf("close smtp sink: %w", err)
		}
	})
	return s.closeErr
}

// Envelopes returns a copy of the recorded messages in arrival order.
func (s *Sink) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Envelope, len(s.envs))
	for i, e := range s.envs {
		e.To = slices.Clone(e.To)
		e.Data = bytes.Clone(e.Data)
		out[i] = e
	}
	return out
}

// Count returns the number of completed DATA transactions since the sink
// started or was last Reset, including those not recorded because of
// SetDiscard.
func (s *Sink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Conns returns the number of TCP connections the sink has accepted since it
// started. Reset does not clear it.
func (s *Sink) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// DropConns closes every open connection without a reply, as a relay that
// restarts or times out an idle session would, and keeps listening.
func (s *Sink) DropConns() {
	s.mu.Lock()
	open := make([]net.Conn, 0, len(s.open))
	for c := range s.open {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close() // the server's goroutine sees the error and ends the session
	}
}

// WaitFor waits until Count reaches n or the timeout passes, and reports
// whether Count reached n.
func (s *Sink) WaitFor(n int, timeout time.Duration) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.count >= n {
			s.mu.Unlock()
			return true
		}
		if s.notify == nil {
			s.notify = make(chan struct{})
		}
		ch := s.notify
		s.mu.Unlock()

		select {
		case <-ch:
		case <-timer.C:
			return s.Count() >= n
		}
	}
}

// SetRcptHook installs a function consulted for every RCPT TO; a non-nil
// answer rejects that recipient with the given reply (for example 550 5.1.1
// or 451 4.3.0) and the transaction continues with the others. nil removes
// the hook.
func (s *Sink) SetRcptHook(hook func(to string) *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcptHook = hook
}

// SetDataHook installs a function consulted once the message data has been
// received; a non-nil answer rejects the whole message with that reply
// instead of 250. nil removes the hook.
func (s *Sink) SetDataHook(hook func(from string, to []string) *smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataHook = hook
}

// Reset forgets the recorded messages and sets Count back to zero.
func (s *Sink) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envs = nil
	s.count = 0
	s.firstAt, s.lastAt = time.Time{}, time.Time{}
}

// Span returns when the first and the last message since Start or Reset
// were accepted (zero before any), also while discarding: the sending
// benchmark times a run by the sink's own clock.
func (s *Sink) Span() (first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstAt, s.lastAt
}

// SetDiscard switches recording off (true) or on (false). While discarding,
// accepted messages are only counted, so that benchmarks sending tens of
// thousands of messages measure the sender rather than the sink's memory.
func (s *Sink) SetDiscard(discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = discard
}

func (s *Sink) newSession(*smtp.Conn) (smtp.Session, error) {
	return &session{sink: s}, nil
}

// record stores one accepted message and wakes any WaitFor.
func (s *Sink) record(from string, to []string, data []byte, discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	now := time.Now()
	if s.firstAt.IsZero() {
		s.firstAt = now
	}
	s.lastAt = now
	if !discard {
		s.envs = append(s.envs, Envelope{From: from, To: to, Data: data, At: now})
	}
	if s.notify != nil {
		close(s.notify)
		s.notify = nil
	}
}

func (s *Sink) hooks() (rcpt func(string) *smtp.SMTPError, data func(string, []string) *smtp.SMTPError, discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptHook, s.dataHook, s.discard
}

// countingListener counts accepted TCP connections, so that tests can check
// that a sender reuses its connection rather than dialling per message, and
// keeps the open ones for DropConns.
type countingListener struct {
	net.Listener
	sink *Sink
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, sink: l.sink}
	l.sink.mu.Lock()
	l.sink.conns++
	l.sink.open[tc] = struct{}{}
	l.sink.mu.Unlock()
	return tc, nil
}

// trackedConn removes itself from the sink's open set when closed.
type trackedConn struct {
	net.Conn
	sink *Sink
}

func (c *trackedConn) Close() error {
	c.sink.mu.Lock()
	delete(c.sink.open, c)
	c.sink.mu.Unlock()
	return c.Conn.Close()
}

// session is one SMTP connection's transaction state. go-smtp calls its
// methods from the connection's goroutine only.
type session struct {
	sink *Sink
	from string
	to   []string
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	ss.to = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if hook, _, _ := ss.sink.hooks(); hook != nil {
		if rej := hook(to); rej != nil {
			return rej
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	_, hook, discard := ss.sink.hooks()
	var data []byte
	if discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		var err error
		if data, err = io.ReadAll(r); err != nil {
			return err
		}
	}
	to := slices.Clone(ss.to)
	if hook != nil {
		if rej := hook(ss.from, slices.Clone(to)); rej != nil {
			return rej
		}
	}
	ss.sink.record(ss.from, to, data, discard)
	return nil
}
