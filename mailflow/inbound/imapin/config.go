package imapin

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultPollInterval is how often a server without IDLE is polled when
// Config.PollInterval is zero.
const DefaultPollInterval = 60 * time.Second

// Config says which mailbox to pull and what to do with processed mail.
// The zero PollInterval means DefaultPollInterval.
type Config struct {
	// URL is IMAP_URL: imaps://user:password@host[:port]/MAILBOX (implicit
	// TLS, port 993) or imap://user:password@host[:port]/MAILBOX (STARTTLS,
	// port 143; plaintext is allowed only to a loopback host). User and
	// password are URL-escaped; the mailbox defaults to INBOX.
	URL string
	// PollInterval is IMAP_POLL_SECONDS: how often to look for new mail
	// when the server has no IDLE, and how soon to retry messages whose
	// ingest failed.
	PollInterval time.Duration
	// DoneFolder is IMAP_DONE_FOLDER: processed messages are moved there
	// (it is created if missing). Empty: they stay and get \Seen.
	DoneFolder string
	// TLSConfig, when set, is used for the TLS handshake (tests pass their
	// own root CA here).
	TLSConfig *tls.Config
}

// LogValue keeps the password out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	u := "(invalid)"
	if parsed, err := url.Parse(c.URL); err == nil {
		u = parsed.Redacted()
	}
	return slog.GroupValue(
		slog.String("url", u),
		slog.Duration("poll_interval", c.PollInterval),
		slog.String("done_folder", c.DoneFolder),
	)
}

// ParseURL validates an IMAP_URL and returns a Config holding it. Its
// errors say what is wrong without quoting the URL, since any part of a
// malformed URL may be the password.
func ParseURL(raw string) (Config, error) {
	if _, err := parseEndpoint(raw); err != nil {
		return Config{}, err
	}
	return Config{URL: raw}, nil
}

// endpoint is a parsed IMAP_URL.
type endpoint struct {
	implicitTLS bool
	host        string // without port: the TLS server name
	addr        string // host:port to dial
	user        string
	password    string
	mailbox     string
}

// plaintext reports whether the connection may skip TLS altogether: only
// imap:// to a loopback host, where the traffic never leaves the machine.
func (ep endpoint) plaintext() bool {
	return !ep.implicitTLS && isLoopback(ep.host)
}

func parseEndpoint(raw string) (endpoint, error) {
	var ep endpoint
	if raw == "" {
		return ep, errors.New("imap url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the offending part, which may be the password.
		return ep, errors.New("imap url is malformed (are user and password URL-escaped?)")
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "imaps":
		ep.implicitTLS = true
		port = "993"
	case "imap":
		port = "143"
	default:
		return ep, errors.New("imap url scheme must be imaps:// or imap://")
	}
	if u.Opaque != "" {
		return ep, errors.New("imap url must look like imaps://user:password@host/INBOX")
	}
	if u.User == nil || u.User.Username() == "" {
		return ep, errors.New("imap url has no user")
	}
	pw, ok := u.User.Password()
	if !ok || pw == "" {
		return ep, errors.New("imap url has no password")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// An unescaped '?' or '#' in the password lands here too.
		return ep, errors.New("imap url must not have a query or fragment (are user and password URL-escaped?)")
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return ep, errors.New("imap url has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ep, errors.New("imap url port must be between 1 and 65535")
		}
		port = p
	}
	ep.addr = net.JoinHostPort(ep.host, port)
	ep.user = u.User.Username()
	ep.password = pw
	ep.mailbox = strings.Trim(u.Path, "/")
	if ep.mailbox == "" {
		ep.mailbox = "INBOX"
	}
	return ep, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameMailbox compares mailbox names the way servers do: INBOX is
// case-insensitive (RFC 3501 section 5.1), other names are not.
func sameMailbox(a, b string) bool {
	if strings.EqualFold(a, "INBOX") {
		return strings.EqualFold(b, "INBOX")
	}
	return a == b
}
