// Package config turns the environment (and an optional env file) into a
// validated Config. It is the only place that reads Parley's settings; the
// rest of the program gets the values it needs passed in.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"
)

// Config is Parley's effective configuration.
type Config struct {
	Env         string // development or production
	DatabaseURL string // empty: the embedded cluster in DataDir
	DataDir     string // absolute

	SecretKey            string
	EmailSecretKey       string
	SecretKeyGenerated   bool // true when SecretKey comes from DataDir
	EmailSecretGenerated bool

	Origin   *url.URL
	HTTPAddr string
	SMTPAddr string

	MailDomain         string
	DefaultFromAddress string // bare address
	DefaultFromEmail   string // "Name <address>"
	BrandTitle         string
	Organization       string

	EmailBackend      string // smtp, file, discard
	EmailHost         string
	EmailPort         int
	EmailHostUser     string
	EmailHostPassword string
	EmailUseTLS       bool
	EmailUseSSL       bool
	EmailTimeout      time.Duration
	EmailRateLimit    float64 // messages per second; 0 means no limit
	EmailConcurrency  int

	LogLevel  slog.Level
	LogFormat string // text or json

	ShutdownGrace time.Duration

	EmailSecretKeyPrevious string // still accepted on signed links after a key rotation
	DKIMDomain             string // DKIM signing: all three set, or none
	DKIMSelector           string
	DKIMPrivateKeyFile     string
	EmailRetryFor          time.Duration // temporary failures are retried this long
	DeliveryLease          time.Duration // a claimed delivery returns to the queue after this if its sender died

	SMTPTLSCert, SMTPTLSKey string // STARTTLS on the inbound listener when both are set
	SMTPLMTP                bool   // speak LMTP on SMTP_ADDR (behind another MTA)
	MaxMessageBytes         int64  // larger inbound mail is refused with 552
	SMTPMaxRecipients       int
	SMTPMaxConnsPerIP       int
	SMTPMaxConns            int // simultaneous inbound connections from all addresses
	SMTPRatePerMinute       int
	IMAPURL                 string // pull mail from this mailbox too
	IMAPPoll                time.Duration
	IMAPDoneFolder          string

	BounceThreshold       float64
	BounceStaleDays       int
	BounceDisableWarnings int
	BounceWarningDays     int
	// Webhooks holds the value of every setting of the bounce webhooks'
	// providers (webhook.Providers), by name; checked by Load.
	Webhooks map[string]string

	DigestHour    int
	DigestWeekday time.Weekday
	DigestCron    string
	// ClockOffset is TEST_CLOCK_OFFSET_HOURS: a test-only shift
	// of the clock by which pauses and digest times are judged (issue
	// 19), so a test can let days pass; refused in production.
	ClockOffset time.Duration

	// Retention (loadRetention): how long old rows are kept, 0 forever.
	DeliveryRetention    time.Duration // settled deliveries
	InboundRetention     time.Duration // processed received messages' raw copies
	BounceEventRetention time.Duration // bounce events: reports by mail, provider webhook events
	RetentionCron        string        // when the pruning runs

	AllowedHosts   []string // Host headers the web UI answers; "*" for any
	TrustedProxies []string // addresses whose X-Forwarded-For/-Proto are believed
	SessionIdle    time.Duration
	SessionMax     time.Duration
	OIDCIssuer     string // single sign-on: issuer, client id and secret all set, or none
	OIDCClientID   string
	OIDCSecret     string
	OIDCName       string // the "Sign in with …" button's name

	ResourceStorage   string // local (DataDir/blobs) or s3
	S3Endpoint        string // host[:port], no scheme
	S3Bucket          string
	S3Region          string
	S3AccessKeyID     string
	S3SecretAccessKey string
	S3UseSSL          bool
	ResourceMaxBytes  int64 // larger uploads are refused

	// Who sent a post (mailflow/inbound/senderauth).
	MailAuthServID     string         // the authserv-id whose Authentication-Results are believed
	MailAuthRelays     []netip.Prefix // SMTP clients that are an MTA in front of Parley
	MailAuthDNSTimeout time.Duration  // all the DNS of one message's check
	MailAuthDNSServer  string         // host:port of the DNS server to ask; "": the system's
}

// Production reports whether PARLEY_ENV is production.
func (c *Config) Production() bool { return c.Env == "production" }

// Now is the daemon's clock for pauses and digest times: the time, moved
// by TEST_CLOCK_OFFSET_HOURS (only ever set by tests).
func (c *Config) Now() time.Time { return time.Now().Add(c.ClockOffset) }

// Error is a bad setting. The daemon prints it as one line and exits 2.
type Error struct {
	Name string // the environment variable
	Msg  string
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// Lookup finds a setting by name; os.LookupEnv is one.
type Lookup func(name string) (string, bool)

// Load reads settings through lookup, applies defaults and validates them.
// Secrets that development generates are not created here (see
// EnsureSecrets); Load only reads them if they already exist.
func Load(lookup Lookup) (*Config, error) {
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := &Config{}
	for _, load := range []func(get func(name, def string) string) error{
		c.loadSite, c.loadOutbound, c.loadLogging, c.loadSigning, c.loadIntake, c.loadBounces, c.loadDigests, c.loadWeb,
		c.loadStorage, c.loadMailAuth, c.loadRetention, c.loadSecrets,
	} {
		if err := load(get); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// loadSite reads the site: environment, database, data directory,
// origin, listening addresses, mail domain, brand and sender.
func (c *Config) loadSite(get func(name, def string) string) error {
	var err error
	c.Env = get("PARLEY_ENV", "development")
	if c.Env != "development" && c.Env != "production" {
		return &Error{"PARLEY_ENV", fmt.Sprintf("must be development or production, not %q", c.Env)}
	}

	c.DatabaseURL = get("DATABASE_URL", "")
	if c.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			return &Error{"DATABASE_URL", "cannot be parsed: " + redactURLError(err, c.DatabaseURL)}
		}
	}

	dd, err := filepath.Abs(get("DATA_DIR", "./var"))
	if err != nil {
		return &Error{"DATA_DIR", err.Error()}
	}
	c.DataDir = dd

	origin := get("ORIGIN", "http://localhost:8080")
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return &Error{"ORIGIN", fmt.Sprintf("must be an absolute http(s) URL such as https://lists.example.org, not %q", origin)}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	c.Origin = u

	if c.HTTPAddr, err = hostPort("HTTP_ADDR", get("HTTP_ADDR", "127.0.0.1:8080")); err != nil {
		return err
	}
	if c.SMTPAddr, err = hostPort("SMTP_ADDR", get("SMTP_ADDR", "127.0.0.1:2525")); err != nil {
		return err
	}

	c.MailDomain = strings.ToLower(get("MAIL_DOMAIN", "localhost"))
	if !validDomain(c.MailDomain) {
		return &Error{"MAIL_DOMAIN", fmt.Sprintf("%q is not a domain name", c.MailDomain)}
	}
	c.BrandTitle = get("BRAND_TITLE", "Parley")
	c.Organization = get("ORGANIZATION", "") // empty: footers show the brand alone
	if strings.ContainsAny(c.BrandTitle+c.Organization, "\r\n") {
		return &Error{"BRAND_TITLE", "must be a single line"}
	}
	c.DefaultFromAddress = get("DEFAULT_FROM_ADDRESS", "no-reply@"+c.MailDomain)
	if a, err := mail.ParseAddress(c.DefaultFromAddress); err != nil || a.Name != "" {
		return &Error{"DEFAULT_FROM_ADDRESS", fmt.Sprintf("%q is not a bare email address", c.DefaultFromAddress)}
	}
	c.DefaultFromEmail = get("DEFAULT_FROM_EMAIL", (&mail.Address{Name: c.BrandTitle, Address: c.DefaultFromAddress}).String())
	if _, err := mail.ParseAddress(c.DefaultFromEmail); err != nil {
		return &Error{"DEFAULT_FROM_EMAIL", fmt.Sprintf("%q is not an address such as \"Parley <no-reply@example.org>\"", c.DefaultFromEmail)}
	}
	return nil
}

// loadOutbound reads how mail goes out: backend, relay, timeouts, rate and concurrency.
func (c *Config) loadOutbound(get func(name, def string) string) error {
	var err error
	defBackend := "file"
	if c.Production() {
		defBackend = "smtp"
	}
	c.EmailBackend = get("EMAIL_BACKEND", defBackend)
	switch c.EmailBackend {
	case "smtp", "file", "discard":
	default:
		return &Error{"EMAIL_BACKEND", fmt.Sprintf("must be smtp, file or discard, not %q", c.EmailBackend)}
	}
	c.EmailHost = get("EMAIL_HOST", "localhost")
	if c.EmailPort, err = intIn("EMAIL_PORT", get("EMAIL_PORT", "25"), 1, 65535); err != nil {
		return err
	}
	c.EmailHostUser = get("EMAIL_HOST_USER", "")
	c.EmailHostPassword = get("EMAIL_HOST_PASSWORD", "")
	if c.EmailUseTLS, err = boolean("EMAIL_USE_TLS", get("EMAIL_USE_TLS", "false")); err != nil {
		return err
	}
	if c.EmailUseSSL, err = boolean("EMAIL_USE_SSL", get("EMAIL_USE_SSL", "false")); err != nil {
		return err
	}
	if c.EmailUseTLS && c.EmailUseSSL {
		return &Error{"EMAIL_USE_TLS", "EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL (implicit TLS) cannot both be true; choose one"}
	}
	secs, err := intIn("EMAIL_TIMEOUT", get("EMAIL_TIMEOUT", "30"), 1, 3600)
	if err != nil {
		return err
	}
	c.EmailTimeout = time.Duration(secs) * time.Second
	rl, err := strconv.ParseFloat(get("EMAIL_RATE_LIMIT", "0"), 64)
	if err != nil || rl < 0 {
		return &Error{"EMAIL_RATE_LIMIT", "must be a number of messages per second, 0 for no limit"}
	}
	c.EmailRateLimit = rl
	if c.EmailConcurrency, err = intIn("EMAIL_CONCURRENCY", get("EMAIL_CONCURRENCY", "4"), 1, 256); err != nil {
		return err
	}
	return nil
}

// loadLogging reads logging and the shutdown grace.
func (c *Config) loadLogging(get func(name, def string) string) error {
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		return &Error{"LOG_LEVEL", "must be debug, info, warn or error"}
	}
	c.LogFormat = get("LOG_FORMAT", "text")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return &Error{"LOG_FORMAT", fmt.Sprintf("must be text or json, not %q", c.LogFormat)}
	}
	grace, err := intIn("SHUTDOWN_GRACE_SECONDS", get("SHUTDOWN_GRACE_SECONDS", "10"), 0, 3600)
	if err != nil {
		return err
	}
	c.ShutdownGrace = time.Duration(grace) * time.Second
	return nil
}

// loadSigning reads the previous link key, DKIM, and how long deliveries
// are retried and leased.
func (c *Config) loadSigning(get func(name, def string) string) error {
	c.EmailSecretKeyPrevious = get("EMAIL_SECRET_KEY_PREVIOUS", "")
	c.DKIMDomain = strings.ToLower(get("DKIM_DOMAIN", ""))
	c.DKIMSelector = get("DKIM_SELECTOR", "")
	c.DKIMPrivateKeyFile = get("DKIM_PRIVATE_KEY_FILE", "")
	if set := btoi(c.DKIMDomain != "") + btoi(c.DKIMSelector != "") + btoi(c.DKIMPrivateKeyFile != ""); set != 0 && set != 3 {
		return &Error{"DKIM_DOMAIN", "DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE must be set together"}
	}
	if c.DKIMDomain != "" && !validDomain(c.DKIMDomain) {
		return &Error{"DKIM_DOMAIN", fmt.Sprintf("%q is not a domain name", c.DKIMDomain)}
	}
	hours, err := intIn("EMAIL_RETRY_HOURS", get("EMAIL_RETRY_HOURS", "72"), 1, 24*30)
	if err != nil {
		return err
	}
	c.EmailRetryFor = time.Duration(hours) * time.Hour
	lease, err := intIn("DELIVERY_LEASE_SECONDS", get("DELIVERY_LEASE_SECONDS", "120"), 1, 3600)
	if err != nil {
		return err
	}
	c.DeliveryLease = time.Duration(lease) * time.Second
	return nil
}

// loadIntake reads how mail comes in: SMTP TLS, LMTP, limits and IMAP.
func (c *Config) loadIntake(get func(name, def string) string) error {
	var err error
	c.SMTPTLSCert = get("SMTP_TLS_CERT", "")
	c.SMTPTLSKey = get("SMTP_TLS_KEY", "")
	if (c.SMTPTLSCert == "") != (c.SMTPTLSKey == "") {
		return &Error{"SMTP_TLS_CERT", "SMTP_TLS_CERT and SMTP_TLS_KEY must be set together"}
	}
	if c.SMTPLMTP, err = boolean("SMTP_LMTP", get("SMTP_LMTP", "false")); err != nil {
		return err
	}
	mb, err := intIn("MAX_MESSAGE_BYTES", get("MAX_MESSAGE_BYTES", "26214400"), 1024, 1<<30)
	if err != nil {
		return err
	}
	c.MaxMessageBytes = int64(mb)
	if c.SMTPMaxRecipients, err = intIn("SMTP_MAX_RECIPIENTS", get("SMTP_MAX_RECIPIENTS", "50"), 1, 1000); err != nil {
		return err
	}
	if c.SMTPMaxConnsPerIP, err = intIn("SMTP_MAX_CONNECTIONS_PER_IP", get("SMTP_MAX_CONNECTIONS_PER_IP", "20"), 1, 10000); err != nil {
		return err
	}
	if c.SMTPMaxConns, err = intIn("SMTP_MAX_CONNECTIONS", get("SMTP_MAX_CONNECTIONS", "100"), 1, 100000); err != nil {
		return err
	}
	if c.SMTPRatePerMinute, err = intIn("SMTP_RATE_PER_MINUTE", get("SMTP_RATE_PER_MINUTE", "600"), 1, 1_000_000); err != nil {
		return err
	}
	c.IMAPURL = get("IMAP_URL", "")
	if c.IMAPURL != "" {
		if u, perr := url.Parse(c.IMAPURL); perr != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Host == "" {
			return &Error{"IMAP_URL", "must look like imaps://user:password@host/INBOX or imap://user:password@host/INBOX"}
		}
	}
	poll, err := intIn("IMAP_POLL_SECONDS", get("IMAP_POLL_SECONDS", "60"), 1, 86400)
	if err != nil {
		return err
	}
	c.IMAPPoll = time.Duration(poll) * time.Second
	c.IMAPDoneFolder = get("IMAP_DONE_FOLDER", "")
	return nil
}

// loadBounces reads the bounce score policy and the providers' webhooks.
func (c *Config) loadBounces(get func(name, def string) string) error {
	var err error
	th, err := strconv.ParseFloat(get("BOUNCE_SCORE_THRESHOLD", "5.0"), 64)
	if err != nil || th <= 0 {
		return &Error{"BOUNCE_SCORE_THRESHOLD", "must be a number above 0"}
	}
	c.BounceThreshold = th
	if c.BounceStaleDays, err = intIn("BOUNCE_INFO_STALE_DAYS", get("BOUNCE_INFO_STALE_DAYS", "7"), 1, 365); err != nil {
		return err
	}
	if c.BounceDisableWarnings, err = intIn("BOUNCE_DISABLE_WARNINGS", get("BOUNCE_DISABLE_WARNINGS", "3"), 0, 100); err != nil {
		return err
	}
	if c.BounceWarningDays, err = intIn("BOUNCE_WARNINGS_INTERVAL_DAYS", get("BOUNCE_WARNINGS_INTERVAL_DAYS", "7"), 1, 365); err != nil {
		return err
	}
	if err := c.loadWebhooks(get); err != nil {
		return err
	}
	return nil
}

// loadDigests reads the digest schedule.
func (c *Config) loadDigests(get func(name, def string) string) error {
	var err error
	if c.DigestHour, err = intIn("DIGEST_HOUR", get("DIGEST_HOUR", "7"), 0, 23); err != nil {
		return err
	}
	wd := strings.ToLower(get("DIGEST_WEEKDAY", "monday"))
	found := false
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.ToLower(d.String()) == wd || strings.ToLower(d.String()[:3]) == wd {
			c.DigestWeekday, found = d, true
		}
	}
	if !found {
		return &Error{"DIGEST_WEEKDAY", fmt.Sprintf("must be a day of the week such as monday, not %q", wd)}
	}
	c.DigestCron = get("DIGEST_CRON", "*/15 * * * *")
	if _, err := cron.ParseStandard(c.DigestCron); err != nil {
		return &Error{"DIGEST_CRON", fmt.Sprintf("%q is not a cron schedule: %v", c.DigestCron, err)}
	}
	// Test-only (issue 19): lets a test of a real daemon move days ahead.
	hours, err := intIn("TEST_CLOCK_OFFSET_HOURS", get("TEST_CLOCK_OFFSET_HOURS", "0"), 0, 24*400)
	if err != nil {
		return err
	}
	if hours != 0 && c.Production() {
		return &Error{"TEST_CLOCK_OFFSET_HOURS", "is for tests only and refused when PARLEY_ENV=production"}
	}
	c.ClockOffset = time.Duration(hours) * time.Hour
	return nil
}

// loadWeb reads the web: allowed hosts, trusted proxies, sessions and
// single sign-on.
func (c *Config) loadWeb(get func(name, def string) string) error {
	hosts := get("ALLOWED_HOSTS", "")
	if hosts == "" {
		// Django's rule: the site's own host, and in development the
		// loopback names too.
		c.AllowedHosts = []string{c.Origin.Hostname()}
		if !c.Production() {
			c.AllowedHosts = append(c.AllowedHosts, "localhost", "127.0.0.1", "::1")
		}
	} else {
		for _, h := range strings.Split(hosts, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				c.AllowedHosts = append(c.AllowedHosts, h)
			}
		}
	}
	for _, p := range strings.Split(get("TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return &Error{"TRUSTED_PROXIES", fmt.Sprintf("%q is not an IP address or CIDR range such as 10.0.0.0/8", p)}
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	idle, err := intIn("SESSION_IDLE_DAYS", get("SESSION_IDLE_DAYS", "14"), 1, 365)
	if err != nil {
		return err
	}
	maxDays, err := intIn("SESSION_MAX_DAYS", get("SESSION_MAX_DAYS", "60"), 1, 3650)
	if err != nil {
		return err
	}
	if maxDays < idle {
		return &Error{"SESSION_MAX_DAYS", "must be at least SESSION_IDLE_DAYS"}
	}
	c.SessionIdle, c.SessionMax = time.Duration(idle)*24*time.Hour, time.Duration(maxDays)*24*time.Hour
	c.OIDCIssuer, c.OIDCClientID, c.OIDCSecret = get("OIDC_ISSUER", ""), get("OIDC_CLIENT_ID", ""), get("OIDC_CLIENT_SECRET", "")
	c.OIDCName = get("OIDC_NAME", "")
	if n := btoi(c.OIDCIssuer != "") + btoi(c.OIDCClientID != "") + btoi(c.OIDCSecret != ""); n != 0 && n != 3 {
		return &Error{"OIDC_ISSUER", "OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set together"}
	}
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &Error{"OIDC_ISSUER", fmt.Sprintf("must be the issuer's URL such as https://accounts.example.org, not %q", c.OIDCIssuer)}
		}
	}
	return nil
}

// loadSecrets reads the secret keys, required in production.
func (c *Config) loadSecrets(get func(name, def string) string) error {
	c.SecretKey = get("SECRET_KEY", "")
	c.EmailSecretKey = get("EMAIL_SECRET_KEY", "")
	if c.Production() {
		switch {
		case c.SecretKey == "":
			return &Error{"SECRET_KEY", "is required when PARLEY_ENV=production (generate one with: openssl rand -hex 32)"}
		case c.EmailSecretKey == "":
			return &Error{"EMAIL_SECRET_KEY", "is required when PARLEY_ENV=production (generate one with: openssl rand -hex 32)"}
		case c.Origin.Scheme != "https":
			return &Error{"ORIGIN", "must be an https URL when PARLEY_ENV=production"}
		}
	}
	for name, v := range map[string]string{"SECRET_KEY": c.SecretKey, "EMAIL_SECRET_KEY": c.EmailSecretKey} {
		if v != "" && len(v) < 32 {
			return &Error{name, "is too short: use at least 32 characters (openssl rand -hex 32)"}
		}
	}
	if c.SecretKey != "" && c.SecretKey == c.EmailSecretKey {
		return &Error{"EMAIL_SECRET_KEY", "must differ from SECRET_KEY"}
	}
	return nil
}

// BlobDir is where RESOURCE_STORAGE=local keeps uploaded files.
func (c *Config) BlobDir() string { return filepath.Join(c.DataDir, "blobs") }

// BlobTmpDir is where uploads are staged before they are stored; it is
// under DATA_DIR, not /tmp, so that the staging file is on the same disk
// as local storage and survives a tmpfs that is too small for uploads.
func (c *Config) BlobTmpDir() string { return filepath.Join(c.DataDir, "tmp") }

// EnsureSecrets fills unset secrets (development only) from DATA_DIR,
// generating them on first use: written once with mode 0600 and reused on
// every later start, so sessions and signed links survive restarts. It
// also checks that DATA_DIR is writable.
func (c *Config) EnsureSecrets() error {
	if err := CheckDataDir(c.DataDir); err != nil {
		return err
	}
	var err error
	if c.SecretKey == "" {
		if c.SecretKey, err = devSecret(filepath.Join(c.DataDir, "secret_key")); err != nil {
			return &Error{"SECRET_KEY", err.Error()}
		}
		c.SecretKeyGenerated = true
	}
	if c.EmailSecretKey == "" {
		if c.EmailSecretKey, err = devSecret(filepath.Join(c.DataDir, "email_secret_key")); err != nil {
			return &Error{"EMAIL_SECRET_KEY", err.Error()}
		}
		c.EmailSecretGenerated = true
	}
	return nil
}

// CheckDataDir creates DATA_DIR if needed and proves it is writable.
func CheckDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &Error{"DATA_DIR", fmt.Sprintf("cannot create %s: %v", dir, unwrapPathErr(err))}
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return &Error{"DATA_DIR", fmt.Sprintf("%s is not writable: %v", dir, unwrapPathErr(err))}
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return s, nil
		}
		return "", fmt.Errorf("%s holds a secret that is too short; delete it to generate a new one", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	// O_EXCL: two processes starting at once must not each write their own.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return devSecret(path)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return s, f.Close()
}

// OutboxDir is where the file email backend writes.
func (c *Config) OutboxDir() string { return filepath.Join(c.DataDir, "outbox") }

// TermsFile is where an operator puts their own terms of service
// (Markdown); without it Parley shows its default text.
func (c *Config) TermsFile() string { return filepath.Join(c.DataDir, "terms.md") }
