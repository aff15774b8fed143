package outbound

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// defaultSMTPTimeout bounds each SMTP command when SMTPConfig.Timeout is
// zero. RFC 5321 section 4.5.3.2 suggests minutes, which suits slow MX hosts;
// a relay that takes longer than this is better treated as down.
const defaultSMTPTimeout = time.Minute

// SMTPConfig says how to reach the SMTP relay (submission server) that
// carries Parley's outgoing mail.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	// StartTLS requires the STARTTLS upgrade of RFC 3207 (EMAIL_USE_TLS);
	// a server that does not offer it is an error, never a silent fallback
	// to plain text.
	StartTLS bool
	// ImplicitTLS speaks TLS from the first byte, as on port 465 (RFC 8314
	// section 3.3; EMAIL_USE_SSL).
	ImplicitTLS bool
	// Timeout bounds the connection set-up and each SMTP command; zero means
	// one minute. A context deadline, when sooner, wins.
	Timeout time.Duration
	// HelloName is the name given in EHLO (RFC 5321 section 4.1.1.1),
	// normally the MAIL_DOMAIN; empty means "localhost".
	HelloName string
	// TLSConfig overrides the TLS settings (tests use it to trust their own
	// certificate). ServerName defaults to Host.
	TLSConfig *tls.Config
}

type smtpTransport struct {
	cfg  SMTPConfig
	addr string
	tls  *tls.Config
	log  *slog.Logger
}

// NewSMTP returns a Transport that relays through the SMTP server in cfg.
// Each Conn it opens holds one connection, dialled on its first Send and
// reused for every later message.
func NewSMTP(cfg SMTPConfig, log *slog.Logger) Transport {
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	return &smtpTransport{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tls:  tc,
		log:  log.With("smtp_relay", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))),
	}
}

func (t *smtpTransport) Name() string { return "smtp" }

// Open returns a Conn without connecting: the first Send dials, so that a
// worker with nothing to send holds no socket open at the relay.
func (t *smtpTransport) Open(context.Context) (Conn, error) {
	return &smtpConn{t: t}, nil
}

// smtpConn is one reusable SMTP session. Its fields are used by one
// goroutine at a time, except the deadline, which a context's cancellation
// may also move (see watch).
type smtpConn struct {
	t      *smtpTransport
	client *smtp.Client // nil when not connected
	nc     net.Conn     // the socket under client, for deadlines
	reused bool         // client has completed a transaction before
	// pipelining is set when the server offers PIPELINING (RFC 2920).
	pipelining bool
	closed     bool // Close was called

	// dmu orders arm against a cancellation moving the deadline into the
	// past, so that one cannot undo the other.
	dmu sync.Mutex
	w   watching // the watch transactions keep (transport_watch.go)
}

// stage names the step of a transaction, for errors and for knowing what
// state the session is left in.
type stage uint8

const (
	stageMail stage = iota
	stageRcpt
	stageData
	stageBody
	stageEnd
)

func (s stage) String() string {
	return [...]string{"mail from", "rcpt to", "data", "message body", "end of data"}[s]
}

// Send delivers msg to one recipient in one SMTP transaction (RFC 5321
// section 3.3): MAIL FROM, RCPT TO, DATA.
func (c *smtpConn) Send(ctx context.Context, from, to string, msg []byte) error {
	if err := checkEnvelope(from, to); err != nil {
		return err
	}
	if c.closed {
		return &SendError{Temporary: true, Err: errConnClosed}
	}
	if err := ctx.Err(); err != nil {
		return &SendError{Temporary: true, Err: err}
	}

	if c.client == nil {
		if err := c.dial(ctx); err != nil {
			return err
		}
	}
	st, err := c.transact(ctx, from, to, msg)
	if err != nil && st == stageMail && c.reused && ctxErr(ctx) == nil && staleSession(err) {
		// A reused session failed before the server accepted anything: most
		// likely the relay closed it while idle (RFC 5321 section 4.5.3.2.7
		// lets a server give up after 5 minutes). Nothing was delivered, so
		// one fresh connection may try again without risk of a duplicate.
		c.drop("stale session", err)
		if err := c.dial(ctx); err != nil {
			return err
		}
		st, err = c.transact(ctx, from, to, msg)
	}
	if err != nil {
		err = c.fail(ctx, st, err)
	}
	// Any session that survives a transaction, failed or not, may since
	// have been closed by the server when the next Send comes.
	c.reused = c.client != nil
	return err
}

// transact runs one mail transaction and returns the stage it failed at.
func (c *smtpConn) transact(ctx context.Context, from, to string, msg []byte) (stage, error) {
	c.keepWatch(ctx)
	if c.pipelining {
		return c.transactPipelined(ctx, from, to, msg)
	}

	if err := c.arm(ctx); err != nil {
		return stageMail, err
	}
	if err := c.client.Mail("<" + from + ">"); err != nil {
		return stageMail, err
	}
	if err := c.arm(ctx); err != nil {
		return stageRcpt, err
	}
	if err := c.client.Rcpt("<" + to + ">"); err != nil {
		return stageRcpt, err
	}
	if err := c.arm(ctx); err != nil {
		return stageData, err
	}
	w, err := c.client.Data()
	if err != nil {
		return stageData, err
	}
	if err := c.arm(ctx); err != nil {
		return stageBody, err
	}
	// One Write: the dot-stuffing writer (RFC 5321 section 4.5.2) streams
	// the whole message through its buffer without further copies.
	if _, err := w.Write(msg); err != nil {
		return stageBody, err
	}
	if err := c.arm(ctx); err != nil {
		return stageEnd, err
	}
	if err := w.Close(); err != nil {
		return stageEnd, err
	}
	return stageEnd, nil
}

// transactPipelined runs one transaction with command pipelining (RFC
// 2920): MAIL, RCPT and DATA go out in one write and their replies are
// read together, then the message and its end in a second write. Two round
// trips instead of four, and half the system calls, which is most of the
// cost of a small message on a fast relay. go-mail's client exposes its
// textproto connection for such extensions.
func (c *smtpConn) transactPipelined(ctx context.Context, from, to string, msg []byte) (stage, error) {
	if err := c.arm(ctx); err != nil {
		return stageMail, err
	}
	tc := c.client.Text
	w := tc.W
	w.WriteString("MAIL FROM:<")
	w.WriteString(from)
	w.WriteString(">\r\nRCPT TO:<")
	w.WriteString(to)
	w.WriteString(">\r\nDATA\r\n")
	if err := w.Flush(); err != nil {
		return stageMail, err
	}
	// Every pipelined command gets its reply, in order, whatever happened
	// to the ones before (RFC 2920 section 3.1).
	mailErr := readReply(tc, 250)
	rcptErr := readReply(tc, 25)
	dataErr := readReply(tc, 354)
	switch {
	case mailErr != nil:
		return stageMail, c.afterRefusedData(mailErr, dataErr)
	case rcptErr != nil:
		return stageRcpt, c.afterRefusedData(rcptErr, dataErr)
	case dataErr != nil:
		return stageData, dataErr
	}
	if err := c.arm(ctx); err != nil {
		return stageBody, err
	}
	writeDotStuffed(w, msg)
	if err := w.Flush(); err != nil {
		return stageBody, err
	}
	if err := readReply(tc, 250); err != nil {
		return stageEnd, err
	}
	return stageEnd, nil
}

// afterRefusedData handles a refused MAIL or RCPT: the server then answers
// DATA with an error too (RFC 2920 section 3.1). Should it have accepted
// DATA anyway, the transaction is ended with an empty message's end, which
// a conforming server rejects for lack of recipients.
func (c *smtpConn) afterRefusedData(refusal, dataErr error) error {
	if dataErr == nil {
		if _, err := c.client.Text.W.WriteString(".\r\n"); err != nil {
			return err
		}
		if err := c.client.Text.W.Flush(); err != nil {
			return err
		}
		_, _, _ = c.client.Text.ReadResponse(250)
	}
	return refusal
}

// writeDotStuffed writes msg as DATA content (RFC 5321 section 4.5.2): a
// line starting with "." gets another, and the message ends with
// CRLF.CRLF. msg has CRLF line ends already; runs without a leading dot
// are copied whole.
func writeDotStuffed(w *bufio.Writer, msg []byte) {
	lineStart := true
	for len(msg) > 0 {
		if lineStart && msg[0] == '.' {
			w.WriteByte('.')
		}
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			w.Write(msg)
			lineStart = false
			break
		}
		w.Write(msg[:i+1])
		msg = msg[i+1:]
		lineStart = true
	}
	if !lineStart {
		w.WriteString("\r\n")
	}
	w.WriteString(".\r\n")
}

// fail turns an error from stage st into a *SendError and leaves the
// connection either ready for the next transaction or closed.
func (c *smtpConn) fail(ctx context.Context, st stage, err error) error {
	var te *textproto.Error
	if !errors.As(err, &te) {
		// A network error, a timeout or a cancelled context: the session is
		// in an unknown state, so it must not carry another message.
		c.drop(st.String(), err)
		if cerr := ctxErr(ctx); cerr != nil {
			err = cerr
		}
		return &SendError{Temporary: true, Err: fmt.Errorf("%s: %w", st, err)}
	}

	se := replyError(te)
	switch {
	case te.Code == 421:
		// RFC 5321 section 3.8: 421 means the server is closing the channel.
		c.drop(st.String(), err)
	case te.Code < 400 || te.Code >= 600:
		// A reply outside the failure classes means client and server no
		// longer agree on the session's state.
		c.drop(st.String(), err)
	case st != stageEnd:
		// The transaction was refused part-way; RSET (RFC 5321 section
		// 4.1.1.5) clears it so the session can carry the next message.
		// After the reply to the final dot the transaction is over anyway.
		if rerr := c.reset(ctx); rerr != nil {
			c.drop("rset", rerr)
		}
	}
	return se
}

// replyError maps an SMTP reply to a SendError: 4xx (and anything not 5xx)
// is worth retrying, 5xx is permanent (RFC 5321 section 4.2.1).
func replyError(te *textproto.Error) *SendError {
	enh, msg := splitEnhanced(te.Msg)
	return &SendError{
		Code:      te.Code,
		Enhanced:  enh,
		Msg:       msg,
		Temporary: te.Code/100 != 5,
		Err:       te,
	}
}

// splitEnhanced separates the RFC 3463 enhanced status code that RFC 2034
// servers put at the start of each reply line ("5.1.1 user unknown") from
// the text. Multi-line replies come joined by "\n"; the code is removed from
// every line that repeats it.
func splitEnhanced(msg string) (code, text string) {
	code = enhancedPrefix(msg)
	if code == "" {
		return "", msg
	}
	if !strings.Contains(msg, "\n") {
		return code, strings.TrimPrefix(msg[len(code):], " ")
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if enhancedPrefix(l) == code {
			lines[i] = strings.TrimPrefix(l[len(code):], " ")
		}
	}
	return code, strings.Join(lines, "\n")
}

// enhancedPrefix returns the leading status code of s, class "." subject
// "." detail with 1 to 3 digits each (RFC 3463 section 2), or "".
func enhancedPrefix(s string) string {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return ""
	}
	i := 2
	for part := range 2 {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && n < 3 {
			i++
			n++
		}
		if n == 0 {
			return ""
		}
		if part == 0 {
			if i >= len(s) || s[i] != '.' {
				return ""
			}
			i++
		}
	}
	if i < len(s) && s[i] != ' ' {
		return ""
	}
	return s[:i]
}

// ctxErr is ctx.Err, but also reports DeadlineExceeded once the deadline
// has passed: the socket deadline, set to the same instant, can fire before
// the context's own timer does, and the caller should see why.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// staleSession reports whether err looks like a session the server had
// already closed: a network error, or 421.
func staleSession(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code == 421
	}
	return true
}

// dial connects, greets, upgrades to TLS and authenticates. Errors here are
// temporary whatever the reply code: a refused login or a relay without
// STARTTLS is a fault of the configuration or the relay, and must not bounce
// the recipient of the message that happened to open the connection.
func (c *smtpConn) dial(ctx context.Context) (err error) {
	cfg := &c.t.cfg
	nd := &net.Dialer{Timeout: cfg.Timeout}
	var nc net.Conn
	if cfg.ImplicitTLS {
		nc, err = (&tls.Dialer{NetDialer: nd, Config: c.t.tls}).DialContext(ctx, "tcp", c.t.addr)
	} else {
		nc, err = nd.DialContext(ctx, "tcp", c.t.addr)
	}
	if err != nil {
		return setupError("dial", err)
	}
	c.nc = nc
	stop := c.watch(ctx)
	defer stop()
	defer func() {
		if err != nil {
			if cerr := nc.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
				c.t.log.Debug("closing failed smtp connection", "err", cerr)
			}
			c.client, c.nc = nil, nil
		}
	}()
	if err := c.arm(ctx); err != nil {
		return setupError("greeting", err)
	}
	client, err := smtp.NewClient(nc, cfg.Host)
	if err != nil {
		return setupError("greeting", err)
	}
	if err := client.Hello(cfg.HelloName); err != nil {
		return setupError("ehlo", err)
	}
	if cfg.StartTLS && !cfg.ImplicitTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return setupError("starttls", errors.New("server does not offer STARTTLS"))
		}
		if err := c.arm(ctx); err != nil {
			return setupError("starttls", err)
		}
		if err := client.StartTLS(c.t.tls); err != nil {
			return setupError("starttls", err)
		}
	}
	mech := ""
	if cfg.Username != "" {
		var auth smtp.Auth
		auth, mech, err = c.chooseAuth(client)
		if err != nil {
			return setupError("auth", err)
		}
		if err := c.arm(ctx); err != nil {
			return setupError("auth", err)
		}
		if err := client.Auth(auth); err != nil {
			return setupError("auth "+mech, err)
		}
	}
	c.client = client
	c.reused = false
	c.pipelining, _ = client.Extension("PIPELINING")
	c.t.log.Debug("smtp connection opened",
		"tls", cfg.ImplicitTLS || cfg.StartTLS, "auth", mech, "pipelining", c.pipelining)
	return nil
}

// chooseAuth picks PLAIN (RFC 4616) when the server offers it, else LOGIN.
// Both refuse to send the password over a connection that is neither TLS
// nor to localhost.
func (c *smtpConn) chooseAuth(client *smtp.Client) (smtp.Auth, string, error) {
	cfg := &c.t.cfg
	ok, params := client.Extension("AUTH")
	if !ok {
		return nil, "", errors.New("server does not offer AUTH")
	}
	mechs := strings.Fields(strings.ToUpper(params))
	switch {
	case slices.Contains(mechs, "PLAIN"):
		return smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host, false), "PLAIN", nil
	case slices.Contains(mechs, "LOGIN"):
		return smtp.LoginAuth(cfg.Username, cfg.Password, cfg.Host, false), "LOGIN", nil
	}
	return nil, "", fmt.Errorf("server offers neither PLAIN nor LOGIN (offers %q)", params)
}

// setupError wraps a connection set-up failure as a temporary SendError,
// keeping the reply code when there was one.
func setupError(step string, err error) *SendError {
	se := &SendError{Temporary: true, Err: fmt.Errorf("%s: %w", step, err)}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code = te.Code
		se.Enhanced, se.Msg = splitEnhanced(te.Msg)
	}
	return se
}

// arm sets the deadline for the next command: Timeout from now, or the
// context's deadline if sooner.
func (c *smtpConn) arm(ctx context.Context) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	d := time.Now().Add(c.t.cfg.Timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return c.nc.SetDeadline(d)
}

// reset sends RSET with a fresh deadline.
func (c *smtpConn) reset(ctx context.Context) error {
	if ctx.Err() != nil {
		// A cancelled context has left the deadline in the past; the
		// session cannot be cleaned up, only dropped.
		return ctx.Err()
	}
	if err := c.arm(ctx); err != nil {
		return err
	}
	return c.client.Reset()
}

// drop closes the connection without QUIT, so that the next Send redials.
func (c *smtpConn) drop(why string, cause error) {
	if c.client == nil {
		return
	}
	c.unwatch()
	c.t.log.Debug("dropping smtp connection", "at", why, "err", cause)
	if err := c.client.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		c.t.log.Debug("closing smtp connection", "err", err)
	}
	c.client, c.nc = nil, nil
}

// Close ends the session politely with QUIT (RFC 5321 section 4.1.1.10).
func (c *smtpConn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.client == nil {
		return nil
	}
	c.unwatch()
	client := c.client
	err := c.arm(context.Background())
	c.client, c.nc = nil, nil
	if err == nil {
		err = client.Quit()
	}
	if err != nil {
		// Quit closes the socket only when the server answers; make sure it
		// is closed either way.
		_ = client.Close()
		return fmt.Errorf("smtp quit: %w", err)
	}
	return nil
}
