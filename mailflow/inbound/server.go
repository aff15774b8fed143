package inbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// Config tunes the listener.
type Config struct {
	Domain          string      // MAIL_DOMAIN: the only domain accepted at RCPT
	MaxMessageBytes int64       // MAX_MESSAGE_BYTES: larger mail gets 552 5.3.4
	MaxRecipients   int         // SMTP_MAX_RECIPIENTS per message: more get 452
	MaxConnsPerIP   int         // SMTP_MAX_CONNECTIONS_PER_IP at once: more get 421
	MaxConns        int         // SMTP_MAX_CONNECTIONS at once from all addresses: more get 421
	SpoolDir        string      // DATA is spooled to a file here while it arrives; "" is the system's temporary directory
	RatePerMinute   float64     // SMTP_RATE_PER_MINUTE: messages per minute per IP; more get 451
	TLS             *tls.Config // STARTTLS when set
	LMTP            bool        // speak LMTP (behind Postfix or another MTA)
}

// Server is the SMTP/LMTP listener.
type Server struct {
	cfg     Config
	store   *store.Store
	keys    sign.Keys
	metrics *metrics.Metrics
	log     *slog.Logger
	smtp    *smtp.Server

	mu     sync.Mutex
	limits map[string]*rate.Limiter // per remote IP

	// storing bounds the messages being copied into PostgreSQL at once.
	// Each copy holds a database connection for as long as its bytes take;
	// unbounded, thirty large messages would take the whole pool from the
	// job queue and the web pages. The others wait, spooled on disk.
	storing chan struct{}
}

// concurrentStores is how many messages are copied into PostgreSQL at
// once (see Server.storing).
const concurrentStores = 2

// NewServer returns a listener; Serve starts it.
func NewServer(cfg Config, st *store.Store, keys sign.Keys, m *metrics.Metrics, log *slog.Logger) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 25 << 20
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 50
	}
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = 10
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 100
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 120
	}
	s := &Server{cfg: cfg, store: st, keys: keys, metrics: m, log: log, limits: map[string]*rate.Limiter{},
		storing: make(chan struct{}, concurrentStores)}
	srv := smtp.NewServer(s)
	srv.Domain = cfg.Domain
	srv.LMTP = cfg.LMTP
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.TLSConfig = cfg.TLS
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogAdapter{log}
	s.smtp = srv
	return s
}

// Serve accepts connections on ln until Close or Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.smtp.Serve(&limitListener{Listener: ln, maxPerIP: s.cfg.MaxConnsPerIP, maxTotal: s.cfg.MaxConns, count: map[string]int{}})
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for open sessions until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.smtp.Shutdown(ctx) }

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if c.Conn() != nil {
		remote = c.Conn().RemoteAddr().String()
	}
	return &session{s: s, conn: c, remote: remote, transport: map[bool]string{true: "lmtp", false: "smtp"}[s.cfg.LMTP]}, nil
}

func (s *Server) allow(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limits[host]
	if l == nil {
		if len(s.limits) > 100_000 {
			clear(s.limits) // a crude bound on memory under a flood of addresses
		}
		l = rate.NewLimiter(rate.Limit(s.cfg.RatePerMinute/60), max(1, int(s.cfg.RatePerMinute/6)))
		s.limits[host] = l
	}
	return l.Allow()
}

var (
	errUnknownRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"}
	errTempFailure      = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure, please try again later"}
	errTooFast          = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "too many messages from your address; slow down and try again later"}
)

type session struct {
	s         *Server
	conn      *smtp.Conn // its HELO name goes with the message, for SPF
	remote    string
	transport string
	from      string
	rcpts     []string
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.s.allow(ss.remote) {
		ss.s.metrics.InboundRejected.WithLabelValues("rate").Inc()
		return errTooFast
	}
	ss.from = from
	return nil
}

// Rcpt checks each recipient at once (RFC 5321 section 3.3): mail for an
// address that cannot exist is refused here rather than bounced later.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	r, ok := ParseRecipient(to, ss.s.cfg.Domain, ss.s.keys)
	if !ok {
		ss.s.metrics.InboundRejected.WithLabelValues("unknown_recipient").Inc()
		return errUnknownRecipient
	}
	if r.Kind != KindBounce {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		g, err := ss.s.store.GroupBySlug(ctx, r.Slug)
		switch {
		case errors.Is(err, mailflow.ErrNotFound):
			ss.s.metrics.InboundRejected.WithLabelValues("unknown_recipient").Inc()
			return errUnknownRecipient
		case err != nil:
			ss.s.log.Error("smtp: looking up recipient", "rcpt", to, "err", err)
			return errTempFailure
		}
		if r.Kind == KindPrivate {
			if err := ss.s.checkPrivate(ctx, g, r.Private, ss.from); err != nil {
				return err
			}
		}
		if r.Kind == KindReply {
			t, err := ss.s.store.ThreadByID(ctx, r.ThreadID)
			if errors.Is(err, mailflow.ErrNotFound) || (err == nil && t.GroupID != g.ID) {
				return errUnknownRecipient
			}
			if err != nil {
				return errTempFailure
			}
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// Data stores the message and answers 250 only once it is committed.
// The message is spooled as it arrives (a large one to a file) and copied
// from there into PostgreSQL in chunks: memory holds buffers, never a
// large message, so many large messages at once cost disk, not RAM.
func (ss *session) Data(r io.Reader) error {
	sp := newSpool(ss.s.cfg.SpoolDir)
	defer sp.Close()
	if _, err := io.Copy(sp, r); err != nil {
		var se *smtp.SMTPError
		switch {
		case errors.As(err, &se): // 552 5.3.4: over MAX_MESSAGE_BYTES
			ss.s.metrics.InboundRejected.WithLabelValues("too_large").Inc()
			return se
		case errors.Is(err, smtp.ErrTooLongLine):
			// RFC 5321 section 4.5.3.1.6: lines are at most 1000 octets.
			ss.s.metrics.InboundRejected.WithLabelValues("line_too_long").Inc()
			return &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "line too long"}
		}
		ss.s.log.Error("smtp: reading or spooling message; answered 451", "from", ss.from, "err", err)
		return errTempFailure
	}
	body, err := sp.body()
	if err != nil {
		ss.s.log.Error("smtp: spooling message; answered 451", "from", ss.from, "err", err)
		return errTempFailure
	}
	// Copying 25 MB into PostgreSQL takes a while on a busy machine; the
	// client waits up to 10 minutes for the reply (RFC 5321 section 4.5.3.2.6).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, created, err := ss.s.Accept(ctx, store.Inbound{
		Transport: ss.transport, RemoteAddr: ss.remote, Helo: ss.conn.Hostname(), MailFrom: ss.from, RcptTo: ss.rcpts, MessageID: sp.messageID(),
	}, body)
	if err != nil {
		ss.s.log.Error("smtp: storing message; answered 451", "from", ss.from, "err", err)
		return errTempFailure
	}
	ss.s.metrics.InboundAccepted.Inc()
	ss.s.log.Info("mail received", "inbound_id", id, "from", ss.from, "rcpt", ss.rcpts, "bytes", body.Size, "duplicate", !created)
	return nil
}

// Accept stores a received message durably and enqueues its processing
// in the same transaction: the one intake path of SMTP, LMTP and IMAP. A
// message whose bytes were stored before is not stored again.
func (s *Server) Accept(ctx context.Context, in store.Inbound, body store.RawBody) (int64, bool, error) {
	select {
	case s.storing <- struct{}{}:
		defer func() { <-s.storing }()
	case <-ctx.Done():
		return 0, false, fmt.Errorf("waiting to store the message: %w", ctx.Err())
	}
	return s.store.InsertInbound(ctx, in, body, func(tx *store.Store, id int64) error {
		return tx.Enqueue(ctx, ProcessArgs{InboundID: id})
	})
}

// headerMessageID reads the Message-ID from the header block, for the
// record (the job parses the message properly).
func headerMessageID(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = min(len(raw), 64<<10)
	}
	for _, line := range strings.Split(string(raw[:end]), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Message-ID") {
			return strings.Trim(strings.TrimSpace(v), "<>")
		}
	}
	return ""
}

// limitListener refuses a connection beyond maxPerIP from one address,
// or beyond maxTotal from all, with a 421 greeting (RFC 5321 section
// 3.1) and closes it.
type limitListener struct {
	net.Listener
	maxPerIP, maxTotal int
	mu                 sync.Mutex
	total              int
	count              map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		l.mu.Lock()
		switch {
		case l.total >= l.maxTotal:
			l.mu.Unlock()
			go refuse(c, "421 4.7.0 too many connections, try again later\r\n")
			continue
		case l.count[host] >= l.maxPerIP:
			l.mu.Unlock()
			go refuse(c, "421 4.7.0 too many connections from your address, try again later\r\n")
			continue
		}
		l.count[host]++
		l.total++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() {
			l.mu.Lock()
			l.total--
			if l.count[host]--; l.count[host] <= 0 {
				delete(l.count, host)
			}
			l.mu.Unlock()
		}}, nil
	}
}

// refuse answers a connection it will not serve and closes it, apart
// from the accept loop so that a slow client cannot stall it.
func refuse(c net.Conn, greeting string) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = io.WriteString(c, greeting)
	_ = c.Close()
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Printf(format string, v ...any) {
	a.log.Warn("smtp: " + fmt.Sprintf(format, v...))
}
func (a slogAdapter) Println(v ...any) { a.log.Warn("smtp: " + fmt.Sprintln(v...)) }

// IngestIMAP takes a message fetched from a mailbox into the same intake
// as SMTP. A mailbox has no envelope, so the recipients are the
// addresses of this domain in Delivered-To, X-Original-To, To and Cc, and
// the sender is the Return-Path the last MTA wrote.
func (s *Server) IngestIMAP(ctx context.Context, raw []byte) error {
	rcpts, from := envelopeFromHeaders(raw, s.cfg.Domain, s.keys)
	_, _, err := s.Accept(ctx, store.Inbound{Transport: "imap", MailFrom: from, RcptTo: rcpts, MessageID: headerMessageID(raw)}, store.BytesBody(raw))
	if err == nil {
		s.metrics.InboundAccepted.Inc()
	}
	return err
}

func envelopeFromHeaders(raw []byte, domain string, keys sign.Keys) (rcpts []string, from string) {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return []string{}, ""
	}
	seen := map[string]bool{}
	for _, field := range []string{"Delivered-To", "X-Original-To", "To", "Cc"} {
		for _, v := range m.Header[textproto.CanonicalMIMEHeaderKey(field)] {
			list, err := netmail.ParseAddressList(v)
			if err != nil {
				continue
			}
			for _, a := range list {
				addr := strings.ToLower(a.Address)
				if _, ok := ParseRecipient(addr, domain, keys); ok && !seen[addr] {
					seen[addr] = true
					rcpts = append(rcpts, addr)
				}
			}
		}
	}
	if rcpts == nil {
		rcpts = []string{}
	}
	from = strings.Trim(strings.TrimSpace(m.Header.Get("Return-Path")), "<>")
	return rcpts, from
}
