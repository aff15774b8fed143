package config

import (
	"net/netip"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow/bounce/webhook"
)

// Describe and its helpers print the effective configuration for
// check-config, secrets masked.

// Describe returns the effective settings as sorted NAME=value lines, with
// secrets masked, for check-config.
func (c *Config) Describe() []string {
	m := c.values()
	for _, p := range webhook.Providers() {
		for _, st := range p.Settings() {
			m[st.Name] = c.Webhooks[st.Name]
			if st.Secret {
				m[st.Name] = mask(c.Webhooks[st.Name], false, "")
			}
		}
	}
	if c.ResourceStorage == "local" {
		m["RESOURCE_STORAGE"] += " (files in " + c.BlobDir() + ")"
	}
	if c.EmailBackend == "file" {
		m["EMAIL_BACKEND"] += " (one .eml per message in " + c.OutboxDir() + ")"
	}
	lines := make([]string, 0, len(m))
	for k, v := range m {
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	return lines
}

func devWhere(c *Config, file string) string {
	if c.Production() {
		return ""
	}
	return filepath.Join(c.DataDir, file)
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable)"
		}
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func redactURLError(err error, raw string) string {
	msg := err.Error()
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

func joinPrefixes(ps []netip.Prefix) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mask hides a secret's value, saying where a generated one is kept.
func mask(s string, generated bool, where string) string {
	switch {
	case s == "" && where != "":
		return "(generated on first start in " + where + ")"
	case s == "":
		return "(unset)"
	case generated:
		return "******** (generated, in " + where + ")"
	}
	return "********"
}

// values are the settings' values as Describe shows them, secrets masked.
func (c *Config) values() map[string]string {
	db := "(embedded PostgreSQL in " + filepath.Join(c.DataDir, "pg") + ")"
	if c.DatabaseURL != "" {
		db = redactURL(c.DatabaseURL)
	}
	return map[string]string{
		"PARLEY_ENV":                    c.Env,
		"DATABASE_URL":                  db,
		"DATA_DIR":                      c.DataDir,
		"SECRET_KEY":                    mask(c.SecretKey, c.SecretKeyGenerated, devWhere(c, "secret_key")),
		"EMAIL_SECRET_KEY":              mask(c.EmailSecretKey, c.EmailSecretGenerated, devWhere(c, "email_secret_key")),
		"ORIGIN":                        c.Origin.String(),
		"HTTP_ADDR":                     c.HTTPAddr,
		"SMTP_ADDR":                     c.SMTPAddr,
		"MAIL_DOMAIN":                   c.MailDomain,
		"DEFAULT_FROM_ADDRESS":          c.DefaultFromAddress,
		"DEFAULT_FROM_EMAIL":            c.DefaultFromEmail,
		"BRAND_TITLE":                   c.BrandTitle,
		"ORGANIZATION":                  c.Organization,
		"EMAIL_BACKEND":                 c.EmailBackend,
		"EMAIL_HOST":                    c.EmailHost,
		"EMAIL_PORT":                    strconv.Itoa(c.EmailPort),
		"EMAIL_HOST_USER":               c.EmailHostUser,
		"EMAIL_HOST_PASSWORD":           mask(c.EmailHostPassword, false, ""),
		"EMAIL_USE_TLS":                 strconv.FormatBool(c.EmailUseTLS),
		"EMAIL_USE_SSL":                 strconv.FormatBool(c.EmailUseSSL),
		"EMAIL_TIMEOUT":                 strconv.Itoa(int(c.EmailTimeout / time.Second)),
		"EMAIL_RATE_LIMIT":              strconv.FormatFloat(c.EmailRateLimit, 'f', -1, 64),
		"EMAIL_CONCURRENCY":             strconv.Itoa(c.EmailConcurrency),
		"LOG_LEVEL":                     strings.ToLower(c.LogLevel.String()),
		"LOG_FORMAT":                    c.LogFormat,
		"SHUTDOWN_GRACE_SECONDS":        strconv.Itoa(int(c.ShutdownGrace / time.Second)),
		"EMAIL_SECRET_KEY_PREVIOUS":     mask(c.EmailSecretKeyPrevious, false, ""),
		"DKIM_DOMAIN":                   c.DKIMDomain,
		"DKIM_SELECTOR":                 c.DKIMSelector,
		"DKIM_PRIVATE_KEY_FILE":         c.DKIMPrivateKeyFile,
		"EMAIL_RETRY_HOURS":             strconv.Itoa(int(c.EmailRetryFor / time.Hour)),
		"DELIVERY_LEASE_SECONDS":        strconv.Itoa(int(c.DeliveryLease / time.Second)),
		"SMTP_TLS_CERT":                 c.SMTPTLSCert,
		"SMTP_TLS_KEY":                  c.SMTPTLSKey,
		"SMTP_LMTP":                     strconv.FormatBool(c.SMTPLMTP),
		"MAX_MESSAGE_BYTES":             strconv.FormatInt(c.MaxMessageBytes, 10),
		"SMTP_MAX_RECIPIENTS":           strconv.Itoa(c.SMTPMaxRecipients),
		"SMTP_MAX_CONNECTIONS_PER_IP":   strconv.Itoa(c.SMTPMaxConnsPerIP),
		"SMTP_MAX_CONNECTIONS":          strconv.Itoa(c.SMTPMaxConns),
		"SMTP_RATE_PER_MINUTE":          strconv.Itoa(c.SMTPRatePerMinute),
		"IMAP_URL":                      redactURL(c.IMAPURL),
		"IMAP_POLL_SECONDS":             strconv.Itoa(int(c.IMAPPoll / time.Second)),
		"IMAP_DONE_FOLDER":              c.IMAPDoneFolder,
		"BOUNCE_SCORE_THRESHOLD":        strconv.FormatFloat(c.BounceThreshold, 'f', -1, 64),
		"BOUNCE_INFO_STALE_DAYS":        strconv.Itoa(c.BounceStaleDays),
		"BOUNCE_DISABLE_WARNINGS":       strconv.Itoa(c.BounceDisableWarnings),
		"BOUNCE_WARNINGS_INTERVAL_DAYS": strconv.Itoa(c.BounceWarningDays),
		"DIGEST_HOUR":                   strconv.Itoa(c.DigestHour),
		"DIGEST_WEEKDAY":                strings.ToLower(c.DigestWeekday.String()),
		"DIGEST_CRON":                   c.DigestCron,
		"TEST_CLOCK_OFFSET_HOURS":       strconv.Itoa(int(c.ClockOffset / time.Hour)),
		"ALLOWED_HOSTS":                 strings.Join(c.AllowedHosts, ","),
		"TRUSTED_PROXIES":               strings.Join(c.TrustedProxies, ","),
		"SESSION_IDLE_DAYS":             strconv.Itoa(int(c.SessionIdle / (24 * time.Hour))),
		"SESSION_MAX_DAYS":              strconv.Itoa(int(c.SessionMax / (24 * time.Hour))),
		"OIDC_ISSUER":                   c.OIDCIssuer,
		"OIDC_CLIENT_ID":                c.OIDCClientID,
		"OIDC_CLIENT_SECRET":            mask(c.OIDCSecret, false, ""),
		"OIDC_NAME":                     c.OIDCName,
		"RESOURCE_STORAGE":              c.ResourceStorage,
		"S3_ENDPOINT":                   c.S3Endpoint,
		"S3_BUCKET":                     c.S3Bucket,
		"S3_REGION":                     c.S3Region,
		"S3_ACCESS_KEY_ID":              c.S3AccessKeyID,
		"S3_SECRET_ACCESS_KEY":          mask(c.S3SecretAccessKey, false, ""),
		"S3_USE_SSL":                    strconv.FormatBool(c.S3UseSSL),
		"RESOURCE_MAX_BYTES":            strconv.FormatInt(c.ResourceMaxBytes, 10),
		"MAIL_AUTH_SERV_ID":             c.MailAuthServID,
		"MAIL_AUTH_TRUSTED_RELAYS":      joinPrefixes(c.MailAuthRelays),
		"MAIL_AUTH_DNS_TIMEOUT":         strconv.Itoa(int(c.MailAuthDNSTimeout / time.Second)),
		"MAIL_AUTH_DNS_SERVER":          c.MailAuthDNSServer,
		// Retention.
		"DELIVERY_RETENTION_DAYS":     strconv.Itoa(int(c.DeliveryRetention / (24 * time.Hour))),
		"INBOUND_RETENTION_DAYS":      strconv.Itoa(int(c.InboundRetention / (24 * time.Hour))),
		"BOUNCE_EVENT_RETENTION_DAYS": strconv.Itoa(int(c.BounceEventRetention / (24 * time.Hour))),
		"RETENTION_CRON":              c.RetentionCron,
	}
}
