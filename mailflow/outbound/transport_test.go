package outbound

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// sinkTransport returns an SMTP transport pointed at s.
func sinkTransport(t testing.TB, s *mailtest.Sink, timeout time.Duration) Transport {
	t.Helper()
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return NewSMTP(SMTPConfig{Host: host, Port: p, Timeout: timeout, HelloName: "lists.example.org"}, nil)
}

func openConn(t testing.TB, tr Transport) Conn {
	t.Helper()
	c, err := tr.Open(context.Background())
	if err != nil {
		t.Fatalf("open %s: %v", tr.Name(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testMessage(i int) []byte {
	return fmt.Appendf(nil, "From: list@lists.example.org\r\nTo: m%d@example.org\r\nSubject: n%d\r\n\r\nbody %d\r\n.dot line\r\n", i, i, i)
}

// asSendError fails the test unless err is a *SendError.
func asSendError(t *testing.T, err error) *SendError {
	t.Helper()
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SendError", err, err)
	}
	return se
}

func TestSMTPReusesOneConnection(t *testing.T) {
	s := mailtest.NewSink(t)
	c := openConn(t, sinkTransport(t, s, 5*time.Second))
	ctx := context.Background()
	const n = 100
	for i := range n {
		to := fmt.Sprintf("m%d@example.org", i)
		if err := c.Send(ctx, "bounces+"+strconv.Itoa(i)+"@lists.example.org", to, testMessage(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if !s.WaitFor(n, 5*time.Second) {
		t.Fatalf("sink got %d messages, want %d", s.Count(), n)
	}
	for i, e := range s.Envelopes() {
		if want := "bounces+" + strconv.Itoa(i) + "@lists.example.org"; e.From != want {
			t.Errorf("msg %d: from %q, want %q", i, e.From, want)
		}
		if want := fmt.Sprintf("m%d@example.org", i); len(e.To) != 1 || e.To[0] != want {
			t.Errorf("msg %d: to %q, want %q", i, e.To, want)
		}
		if !bytes.Equal(e.Data, testMessage(i)) {
			t.Errorf("msg %d: data %q, want %q", i, e.Data, testMessage(i))
		}
	}
	if got := s.Conns(); got != 1 {
		t.Errorf("sink saw %d connections, want 1", got)
	}
}

func TestSMTPNullReversePath(t *testing.T) {
	s := mailtest.NewSink(t)
	c := openConn(t, sinkTransport(t, s, 5*time.Second))
	if err := c.Send(context.Background(), "", "a@example.org", testMessage(0)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if e := s.Envelopes(); len(e) != 1 || e[0].From != "" {
		t.Fatalf("envelopes = %+v, want one with the null reverse-path", e)
	}
}

func TestSMTPRejections(t *testing.T) {
	tests := []struct {
		name      string
		rcpt      func(string) *gosmtp.SMTPError
		data      func(string, []string) *gosmtp.SMTPError
		code      int
		enhanced  string
		msg       string
		temporary bool
	}{
		{
			name: "550 at rcpt",
			rcpt: func(to string) *gosmtp.SMTPError {
				if to == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
				}
				return nil
			},
			code: 550, enhanced: "5.1.1", msg: "user unknown",
		},
		{
			name: "451 at rcpt",
			rcpt: func(to string) *gosmtp.SMTPError {
				if to == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "greylisted"}
				}
				return nil
			},
			code: 451, enhanced: "4.3.0", msg: "greylisted", temporary: true,
		},
		{
			name: "451 at end of data",
			data: func(_ string, to []string) *gosmtp.SMTPError {
				if to[0] == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "queue full"}
				}
				return nil
			},
			code: 451, enhanced: "4.3.0", msg: "queue full", temporary: true,
		},
		{
			name: "554 at end of data",
			data: func(_ string, to []string) *gosmtp.SMTPError {
				if to[0] == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "spam"}
				}
				return nil
			},
			code: 554, enhanced: "5.7.1", msg: "spam",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mailtest.NewSink(t)
			s.SetRcptHook(tt.rcpt)
			s.SetDataHook(tt.data)
			c := openConn(t, sinkTransport(t, s, 5*time.Second))
			ctx := context.Background()

			err := c.Send(ctx, "list@lists.example.org", "gone@example.org", testMessage(1))
			se := asSendError(t, err)
			if se.Code != tt.code || se.Enhanced != tt.enhanced || se.Msg != tt.msg || se.Temporary != tt.temporary {
				t.Errorf("got %+v, want code %d enhanced %q msg %q temporary %v", se, tt.code, tt.enhanced, tt.msg, tt.temporary)
			}
			if want := fmt.Sprintf("smtp %d %s: %s", tt.code, tt.enhanced, tt.msg); se.Error() != want {
				t.Errorf("Error() = %q, want %q", se.Error(), want)
			}

			// The session survives a refusal and carries the next message.
			if err := c.Send(ctx, "list@lists.example.org", "ok@example.org", testMessage(2)); err != nil {
				t.Fatalf("send after refusal: %v", err)
			}
			envs := s.Envelopes()
			if len(envs) != 1 || envs[0].To[0] != "ok@example.org" {
				t.Errorf("sink recorded %+v, want only ok@example.org", envs)
			}
			if s.Conns() != 1 {
				t.Errorf("sink saw %d connections, want 1", s.Conns())
			}
		})
	}
}

func TestSMTPSinkGoesAway(t *testing.T) {
	s, err := mailtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	c := openConn(t, sinkTransport(t, s, 2*time.Second))
	ctx := context.Background()
	if err := c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(1)); err != nil {
		t.Fatalf("first send: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close sink: %v", err)
	}
	for i := range 3 {
		err := c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(2))
		se := asSendError(t, err)
		if !se.Temporary || se.Code != 0 || se.Err == nil {
			t.Errorf("send %d with the sink gone: %+v, want a temporary network error", i, se)
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("close after failures: %v", err)
	}
	if err := c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(3)); !errors.Is(err, errConnClosed) {
		t.Errorf("send after Close: %v, want errConnClosed", err)
	}
}

// TestSMTPRedialsStaleSession checks that a session the server dropped while
// idle is replaced without failing the message.
func TestSMTPRedialsStaleSession(t *testing.T) {
	s := mailtest.NewSink(t)
	c := openConn(t, sinkTransport(t, s, 2*time.Second))
	ctx := context.Background()
	for i := range 3 {
		if err := c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		s.DropConns()
	}
	if s.Count() != 3 || s.Conns() != 3 {
		t.Errorf("count %d over %d connections, want 3 over 3", s.Count(), s.Conns())
	}
}

func TestSMTPContextCancelled(t *testing.T) {
	s := mailtest.NewSink(t)
	release := make(chan struct{})
	s.SetDataHook(func(string, []string) *gosmtp.SMTPError {
		<-release
		return nil
	})
	defer close(release)
	c := openConn(t, sinkTransport(t, s, 10*time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(1))
	se := asSendError(t, err)
	if !se.Temporary || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %+v, want temporary wrapping context.DeadlineExceeded", se)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v after its context expired", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err = c.Send(ctx, "list@lists.example.org", "a@example.org", testMessage(2))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestSMTPRefusesBadAddresses(t *testing.T) {
	s := mailtest.NewSink(t)
	transports := []Transport{sinkTransport(t, s, time.Second), NewFile(t.TempDir()), NewDiscard()}
	tests := []struct{ name, from, to string }{
		{"CRLF in to", "list@lists.example.org", "a@example.org\r\nRCPT TO:<b@example.org>"},
		{"LF in from", "list@lists.example.org\nX: y", "a@example.org"},
		{"CR in to", "list@lists.example.org", "a@example.org\r"},
		{"angle bracket", "list@lists.example.org", "a@example.org> NOTIFY=NEVER"},
		{"empty to", "list@lists.example.org", ""},
	}
	for _, tr := range transports {
		c := openConn(t, tr)
		for _, tt := range tests {
			t.Run(tr.Name()+"/"+tt.name, func(t *testing.T) {
				se := asSendError(t, c.Send(context.Background(), tt.from, tt.to, testMessage(1)))
				if se.Temporary || se.Code != 0 || !errors.Is(se, errBadAddress) {
					t.Errorf("got %+v, want a permanent errBadAddress", se)
				}
			})
		}
	}
	if s.Conns() != 0 {
		t.Errorf("sink saw %d connections; bad addresses must be refused before dialling", s.Conns())
	}
}

func TestFileTransport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	tr := NewFile(dir)
	c := openConn(t, tr)
	ctx := context.Background()
	for i := range 3 {
		if err := c.Send(ctx, "bounces@lists.example.org", fmt.Sprintf("m%d@example.org", i), testMessage(i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("outbox mode %o, want 700", perm)
	}
	entries, err := os.ReadDir(dir) // sorted by name, hence by time
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("outbox holds %d files, want 3", len(entries))
	}
	for i, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("file name %q", e.Name())
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("parse %s: %v", e.Name(), err)
		}
		if got := m.Header.Get("Return-Path"); got != "<bounces@lists.example.org>" {
			t.Errorf("Return-Path = %q", got)
		}
		if got, want := m.Header.Get("X-Parley-Envelope-To"), fmt.Sprintf("<m%d@example.org>", i); got != want {
			t.Errorf("X-Parley-Envelope-To = %q, want %q", got, want)
		}
		if got, want := m.Header.Get("Subject"), fmt.Sprintf("n%d", i); got != want {
			t.Errorf("Subject = %q, want %q (files out of order?)", got, want)
		}
		if !bytes.HasSuffix(raw, testMessage(i)) {
			t.Errorf("file does not end with the message")
		}
	}
}

func TestSplitEnhanced(t *testing.T) {
	tests := []struct{ in, code, text string }{
		{"5.1.1 user unknown", "5.1.1", "user unknown"},
		{"4.7.0", "4.7.0", ""},
		{"5.7.26 unauthenticated", "5.7.26", "unauthenticated"},
		{"4.4.2 a\n4.4.2 b", "4.4.2", "a\nb"},
		{"user unknown", "", "user unknown"},
		{"3.1.1 nope", "", "3.1.1 nope"},
		{"5.1 short", "", "5.1 short"},
		{"5.1.1x", "", "5.1.1x"},
		{"5.1234.1 long", "", "5.1234.1 long"},
		{"", "", ""},
	}
	for _, tt := range tests {
		code, text := splitEnhanced(tt.in)
		if code != tt.code || text != tt.text {
			t.Errorf("splitEnhanced(%q) = %q, %q; want %q, %q", tt.in, code, text, tt.code, tt.text)
		}
	}
}

func TestSMTPTLSAndAuth(t *testing.T) {
	tests := []struct {
		name     string
		implicit bool
		mechs    []string
		password string
		wantMech string
		wantErr  bool
	}{
		{name: "starttls plain", mechs: []string{"LOGIN", "PLAIN"}, password: "secret", wantMech: "PLAIN"},
		{name: "starttls login", mechs: []string{"LOGIN"}, password: "secret", wantMech: "LOGIN"},
		{name: "implicit tls plain", implicit: true, mechs: []string{"PLAIN"}, password: "secret", wantMech: "PLAIN"},
		{name: "wrong password", mechs: []string{"PLAIN"}, password: "wrong", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startAuthServer(t, tt.implicit, tt.mechs)
			cfg := srv.config(tt.password)
			cfg.StartTLS = !tt.implicit
			cfg.ImplicitTLS = tt.implicit
			c := openConn(t, NewSMTP(cfg, nil))
			err := c.Send(context.Background(), "list@lists.example.org", "a@example.org", testMessage(1))
			if tt.wantErr {
				se := asSendError(t, err)
				if !se.Temporary || se.Code != 535 {
					t.Errorf("got %+v, want a temporary 535 (a bad login must not bounce the recipient)", se)
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := srv.result(); got != tt.wantMech+" tls" {
				t.Errorf("server saw %q, want %q", got, tt.wantMech+" tls")
			}
		})
	}

	t.Run("starttls required but not offered", func(t *testing.T) {
		s := mailtest.NewSink(t)
		tr := sinkTransport(t, s, time.Second).(*smtpTransport)
		tr.cfg.StartTLS = true
		se := asSendError(t, openConn(t, tr).Send(context.Background(), "l@example.org", "a@example.org", testMessage(1)))
		if !se.Temporary || s.Count() != 0 {
			t.Errorf("got %+v and %d messages, want a temporary error and nothing sent", se, s.Count())
		}
	})
}

// authServer is a go-smtp server with TLS and AUTH, which the sink lacks on
// purpose, to exercise the transport's STARTTLS, implicit TLS and login.
type authServer struct {
	addr string
	cert *x509.Certificate

	mu  sync.Mutex
	got string // "<mech> tls" of the last accepted message
}

func (a *authServer) config(password string) SMTPConfig {
	host, port, _ := net.SplitHostPort(a.addr)
	p, _ := strconv.Atoi(port)
	pool := x509.NewCertPool()
	pool.AddCert(a.cert)
	return SMTPConfig{
		Host: host, Port: p, Username: "parley", Password: password,
		Timeout: 5 * time.Second, TLSConfig: &tls.Config{RootCAs: pool},
	}
}

func (a *authServer) result() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.got
}

func startAuthServer(t *testing.T, implicit bool, mechs []string) *authServer {
	t.Helper()
	cert, leaf := selfSignedCert(t)
	a := &authServer{cert: leaf}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		return &authSession{srv: a, conn: c, mechs: mechs}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var ln net.Listener
	var err error
	if implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	a.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = ln.Close()
		<-done
	})
	return a
}

type authSession struct {
	srv   *authServer
	conn  *gosmtp.Conn
	mechs []string
	mech  string
}

func (s *authSession) AuthMechanisms() []string { return s.mechs }

func (s *authSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != "parley" || pass != "secret" {
			return gosmtp.ErrAuthFailed
		}
		s.mech = mech
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

func (s *authSession) Mail(string, *gosmtp.MailOptions) error {
	if s.mech == "" {
		return gosmtp.ErrAuthRequired
	}
	return nil
}
func (s *authSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *authSession) Reset()                                 {}
func (s *authSession) Logout() error                          { return nil }

func (s *authSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	got := s.mech
	if _, ok := s.conn.TLSConnectionState(); ok {
		got += " tls"
	}
	s.srv.mu.Lock()
	s.srv.got = got
	s.srv.mu.Unlock()
	return nil
}

// loginServer is the server side of the LOGIN mechanism, which go-sasl no
// longer ships: two prompts, then check.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

func selfSignedCert(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
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
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// BenchmarkSMTPSend sends 1 KB messages over 4 parallel Conns to a loopback
// sink, as four sending workers would.
func BenchmarkSMTPSend(b *testing.B) {
	s := mailtest.NewSink(b)
	s.SetDiscard(true)
	tr := sinkTransport(b, s, 10*time.Second)
	msg := bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 16) // 1 KB
	msg = append([]byte("From: list@lists.example.org\r\nSubject: bench\r\n\r\n"), msg[:1024-48]...)

	const workers = 4
	conns := make([]Conn, workers)
	for i := range conns {
		conns[i] = openConn(b, tr)
		// Dial outside the timed loop: the benchmark measures steady state.
		if err := conns[i].Send(context.Background(), "l@lists.example.org", "warm@example.org", msg); err != nil {
			b.Fatal(err)
		}
	}
	s.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for _, c := range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := c.Send(ctx, "bounces@lists.example.org", "member@example.org", msg); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if !s.WaitFor(b.N, 10*time.Second) {
		b.Fatalf("sink counted %d of %d", s.Count(), b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
