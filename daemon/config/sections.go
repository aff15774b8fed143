package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow/bounce/webhook"
)

// Settings read as groups, for the mail-authentication and storage
// sections of Load.

// loadMailAuth reads how the senders of posts are checked (see
// mailflow/inbound/senderauth).
func (c *Config) loadMailAuth(get func(name, def string) string) error {
	c.MailAuthServID = strings.ToLower(strings.TrimSpace(get("MAIL_AUTH_SERV_ID", "")))
	// RFC 8601 section 2.5: the authserv-id is a value, in practice a
	// host name; anything with spaces or separators cannot match a header.
	if strings.ContainsAny(c.MailAuthServID, " \t;()\"") {
		return &Error{"MAIL_AUTH_SERV_ID", fmt.Sprintf("%q is not an authserv-id such as mx.example.org", c.MailAuthServID)}
	}
	for _, p := range strings.Split(get("MAIL_AUTH_TRUSTED_RELAYS", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return &Error{"MAIL_AUTH_TRUSTED_RELAYS", fmt.Sprintf("%q is not an IP address or CIDR range such as 10.0.0.0/8", p)}
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		c.MailAuthRelays = append(c.MailAuthRelays, prefix.Masked())
	}
	timeout, err := intIn("MAIL_AUTH_DNS_TIMEOUT", get("MAIL_AUTH_DNS_TIMEOUT", "10"), 1, 120)
	if err != nil {
		return err
	}
	c.MailAuthDNSTimeout = time.Duration(timeout) * time.Second
	if v := strings.TrimSpace(get("MAIL_AUTH_DNS_SERVER", "")); v != "" {
		if c.MailAuthDNSServer, err = hostPort("MAIL_AUTH_DNS_SERVER", v); err != nil {
			return err
		}
	}
	return nil
}

// loadStorage reads where uploaded files live (see mailflow/blobstore).
func (c *Config) loadStorage(get func(name, def string) string) error {
	c.ResourceStorage = strings.ToLower(get("RESOURCE_STORAGE", "local"))
	if c.ResourceStorage != "local" && c.ResourceStorage != "s3" {
		return &Error{"RESOURCE_STORAGE", fmt.Sprintf("must be local or s3, not %q", c.ResourceStorage)}
	}
	c.S3Endpoint = get("S3_ENDPOINT", "")
	c.S3Bucket = get("S3_BUCKET", "")
	c.S3Region = get("S3_REGION", "us-east-1")
	c.S3AccessKeyID = get("S3_ACCESS_KEY_ID", "")
	c.S3SecretAccessKey = get("S3_SECRET_ACCESS_KEY", "")
	var err error
	if c.S3UseSSL, err = boolean("S3_USE_SSL", get("S3_USE_SSL", "true")); err != nil {
		return err
	}
	if c.ResourceMaxBytes, err = int64In("RESOURCE_MAX_BYTES", get("RESOURCE_MAX_BYTES", "52428800"), 1<<20, 5<<30); err != nil {
		return err
	}
	if c.S3Endpoint != "" {
		if strings.Contains(c.S3Endpoint, "://") || strings.Contains(c.S3Endpoint, "/") {
			return &Error{"S3_ENDPOINT", fmt.Sprintf("must be host or host:port such as s3.eu-west-1.amazonaws.com, without a scheme (S3_USE_SSL chooses https), not %q", c.S3Endpoint)}
		}
	}
	if c.ResourceStorage != "s3" {
		return nil
	}
	for _, req := range []struct{ name, v string }{
		{"S3_ENDPOINT", c.S3Endpoint},
		{"S3_BUCKET", c.S3Bucket},
		{"S3_ACCESS_KEY_ID", c.S3AccessKeyID},
		{"S3_SECRET_ACCESS_KEY", c.S3SecretAccessKey},
	} {
		if req.v == "" {
			return &Error{req.name, "is required when RESOURCE_STORAGE=s3 (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)"}
		}
	}
	return nil
}

// loadWebhooks reads the settings of every bounce-webhook provider and
// has each provider check its own.
func (c *Config) loadWebhooks(get func(name, def string) string) error {
	c.Webhooks = map[string]string{}
	for _, p := range webhook.Providers() {
		for _, st := range p.Settings() {
			c.Webhooks[st.Name] = get(st.Name, st.Default)
		}
	}
	_, err := webhook.Endpoints(func(name string) string { return c.Webhooks[name] }, webhook.Env{})
	if se := (*webhook.SettingError)(nil); errors.As(err, &se) {
		return &Error{se.Name, se.Msg}
	}
	return err
}
