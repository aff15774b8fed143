package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != "development" || c.EmailBackend != "file" || c.HTTPAddr != "127.0.0.1:8080" || c.SMTPAddr != "127.0.0.1:2525" ||
		c.MailDomain != "localhost" || c.DefaultFromAddress != "no-reply@localhost" || c.EmailConcurrency != 4 || c.EmailPort != 25 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Organization != "" {
		t.Fatalf("ORGANIZATION default: %q, want empty (footers then show the brand alone)", c.Organization)
	}
	if !strings.Contains(c.DefaultFromEmail, "Parley") || !strings.Contains(c.DefaultFromEmail, "no-reply@localhost") {
		t.Fatalf("DEFAULT_FROM_EMAIL default: %q", c.DefaultFromEmail)
	}
	c, err = Load(lookup(map[string]string{"PARLEY_ENV": "production", "SECRET_KEY": strings.Repeat("a", 32),
		"EMAIL_SECRET_KEY": strings.Repeat("b", 32), "ORIGIN": "https://lists.example.org"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.EmailBackend != "smtp" {
		t.Fatalf("production default backend = %q, want smtp", c.EmailBackend)
	}
}

func TestStorageSettings(t *testing.T) {
	c, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ResourceStorage != "local" || c.S3Region != "us-east-1" || !c.S3UseSSL || c.ResourceMaxBytes != 52428800 {
		t.Fatalf("storage defaults: %q %q %v %d", c.ResourceStorage, c.S3Region, c.S3UseSSL, c.ResourceMaxBytes)
	}
	if c.BlobDir() != filepath.Join(c.DataDir, "blobs") || c.BlobTmpDir() != filepath.Join(c.DataDir, "tmp") {
		t.Fatalf("blob dirs: %s %s", c.BlobDir(), c.BlobTmpDir())
	}
	c, err = Load(lookup(map[string]string{"DATA_DIR": t.TempDir(), "RESOURCE_STORAGE": "s3",
		"S3_ENDPOINT": "127.0.0.1:9000", "S3_BUCKET": "parley", "S3_REGION": "eu-west-3",
		"S3_ACCESS_KEY_ID": "AKIDEXAMPLE", "S3_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret",
		"S3_USE_SSL": "false", "RESOURCE_MAX_BYTES": "1048576"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.S3Endpoint != "127.0.0.1:9000" || c.S3Bucket != "parley" || c.S3Region != "eu-west-3" || c.S3UseSSL || c.ResourceMaxBytes != 1<<20 {
		t.Fatalf("s3 settings: %+v", c)
	}
	printed := strings.Join(c.Describe(), "\n")
	if strings.Contains(printed, "wJalrXUtnFEMI-secret") || !strings.Contains(printed, "S3_SECRET_ACCESS_KEY=********") {
		t.Fatalf("the S3 secret is not masked:\n%s", printed)
	}
	if !strings.Contains(printed, "S3_ACCESS_KEY_ID=AKIDEXAMPLE") || !strings.Contains(printed, "RESOURCE_STORAGE=s3") {
		t.Fatalf("check-config misses S3 settings:\n%s", printed)
	}
}

func TestBadValues(t *testing.T) {
	key := strings.Repeat("k", 32)
	prod := map[string]string{"PARLEY_ENV": "production", "SECRET_KEY": key, "EMAIL_SECRET_KEY": strings.Repeat("e", 32), "ORIGIN": "https://x.org"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<unset>" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	s3 := map[string]string{"RESOURCE_STORAGE": "s3", "S3_ENDPOINT": "s3.example.org:9000", "S3_BUCKET": "parley",
		"S3_ACCESS_KEY_ID": "parley", "S3_SECRET_ACCESS_KEY": "s3cr3t-value"}
	cases := []struct {
		name    string
		env     map[string]string
		setting string
	}{
		{"unknown env", with(nil, "PARLEY_ENV", "staging"), "PARLEY_ENV"},
		{"unparsable database url", with(nil, "DATABASE_URL", "postgres://u:p@[::1/db"), "DATABASE_URL"},
		{"relative origin", with(nil, "ORIGIN", "lists.example.org"), "ORIGIN"},
		{"ftp origin", with(nil, "ORIGIN", "ftp://lists.example.org"), "ORIGIN"},
		{"http addr without port", with(nil, "HTTP_ADDR", "localhost"), "HTTP_ADDR"},
		{"smtp port out of range", with(nil, "SMTP_ADDR", "127.0.0.1:99999"), "SMTP_ADDR"},
		{"mail domain", with(nil, "MAIL_DOMAIN", "not a domain"), "MAIL_DOMAIN"},
		{"from address", with(nil, "DEFAULT_FROM_ADDRESS", "Parley <x@y.org>"), "DEFAULT_FROM_ADDRESS"},
		{"unknown email backend", with(nil, "EMAIL_BACKEND", "pigeon"), "EMAIL_BACKEND"},
		{"tls and ssl", with(nil, "EMAIL_USE_TLS", "true", "EMAIL_USE_SSL", "true"), "EMAIL_USE_TLS"},
		{"tls not a bool", with(nil, "EMAIL_USE_TLS", "maybe"), "EMAIL_USE_TLS"},
		{"email port", with(nil, "EMAIL_PORT", "smtp"), "EMAIL_PORT"},
		{"email timeout", with(nil, "EMAIL_TIMEOUT", "0"), "EMAIL_TIMEOUT"},
		{"rate limit", with(nil, "EMAIL_RATE_LIMIT", "-1"), "EMAIL_RATE_LIMIT"},
		{"concurrency", with(nil, "EMAIL_CONCURRENCY", "0"), "EMAIL_CONCURRENCY"},
		{"log level", with(nil, "LOG_LEVEL", "loud"), "LOG_LEVEL"},
		{"log format", with(nil, "LOG_FORMAT", "xml"), "LOG_FORMAT"},
		{"short secret", with(nil, "SECRET_KEY", "short"), "SECRET_KEY"},
		{"same secrets", with(nil, "SECRET_KEY", key, "EMAIL_SECRET_KEY", key), "EMAIL_SECRET_KEY"},
		{"production without secret", with(prod, "SECRET_KEY", "<unset>"), "SECRET_KEY"},
		{"production without email secret", with(prod, "EMAIL_SECRET_KEY", "<unset>"), "EMAIL_SECRET_KEY"},
		{"production over http", with(prod, "ORIGIN", "http://x.org"), "ORIGIN"},
		{"test clock in production", with(prod, "TEST_CLOCK_OFFSET_HOURS", "24"), "TEST_CLOCK_OFFSET_HOURS"},
		{"test clock backwards", with(nil, "TEST_CLOCK_OFFSET_HOURS", "-1"), "TEST_CLOCK_OFFSET_HOURS"},
		{"unknown storage", with(nil, "RESOURCE_STORAGE", "ftp"), "RESOURCE_STORAGE"},
		{"s3 without endpoint", with(s3, "S3_ENDPOINT", "<unset>"), "S3_ENDPOINT"},
		{"s3 without bucket", with(s3, "S3_BUCKET", "<unset>"), "S3_BUCKET"},
		{"s3 without key id", with(s3, "S3_ACCESS_KEY_ID", "<unset>"), "S3_ACCESS_KEY_ID"},
		{"s3 without secret", with(s3, "S3_SECRET_ACCESS_KEY", "<unset>"), "S3_SECRET_ACCESS_KEY"},
		{"s3 endpoint with scheme", with(s3, "S3_ENDPOINT", "https://s3.example.org"), "S3_ENDPOINT"},
		{"s3 ssl not a bool", with(s3, "S3_USE_SSL", "sometimes"), "S3_USE_SSL"},
		{"resource max too small", with(nil, "RESOURCE_MAX_BYTES", "1000"), "RESOURCE_MAX_BYTES"},
		{"resource max too large", with(nil, "RESOURCE_MAX_BYTES", "6000000000"), "RESOURCE_MAX_BYTES"},
		{"resource max not a number", with(nil, "RESOURCE_MAX_BYTES", "50MB"), "RESOURCE_MAX_BYTES"},
		{"authserv-id with a space", with(nil, "MAIL_AUTH_SERV_ID", "mx example"), "MAIL_AUTH_SERV_ID"},
		{"trusted relay not an address", with(nil, "MAIL_AUTH_TRUSTED_RELAYS", "10.0.0.1,mx.example.org"), "MAIL_AUTH_TRUSTED_RELAYS"},
		{"dns timeout zero", with(nil, "MAIL_AUTH_DNS_TIMEOUT", "0"), "MAIL_AUTH_DNS_TIMEOUT"},
		{"dns server without port", with(nil, "MAIL_AUTH_DNS_SERVER", "127.0.0.1"), "MAIL_AUTH_DNS_SERVER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(lookup(tc.env))
			var ce *Error
			if !errors.As(err, &ce) || ce.Name != tc.setting {
				t.Fatalf("got %v, want an error naming %s", err, tc.setting)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("the message must be one line: %q", err)
			}
		})
	}
	// The database password never shows in an error.
	_, err := Load(lookup(map[string]string{"DATABASE_URL": "postgres://u:hunter2@host:notaport/db"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v; want an error without the password", err)
	}
}

func TestSecretsAreGeneratedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(lookup(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if len(c.SecretKey) < 32 || len(c.EmailSecretKey) < 32 || c.SecretKey == c.EmailSecretKey {
		t.Fatalf("generated secrets: %q %q", c.SecretKey, c.EmailSecretKey)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret_key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode: %v %v", fi.Mode(), err)
	}
	c2, _ := Load(lookup(map[string]string{"DATA_DIR": dir}))
	if err := c2.EnsureSecrets(); err != nil {
		t.Fatal(err)
	}
	if c2.SecretKey != c.SecretKey || c2.EmailSecretKey != c.EmailSecretKey {
		t.Fatal("secrets changed between starts")
	}
	for _, l := range c2.Describe() {
		if strings.Contains(l, c.SecretKey) || strings.Contains(l, c.EmailSecretKey) {
			t.Fatalf("Describe shows a secret: %s", l)
		}
	}
}

func TestUnwritableDataDir(t *testing.T) {
	// A path under a regular file cannot be created, even by root.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(lookup(map[string]string{"DATA_DIR": filepath.Join(f, "data")}))
	if err != nil {
		t.Fatal(err)
	}
	var ce *Error
	if err := c.EnsureSecrets(); !errors.As(err, &ce) || ce.Name != "DATA_DIR" {
		t.Fatalf("got %v, want a DATA_DIR error", err)
	}
}

func TestEnvFile(t *testing.T) {
	vals, err := ReadEnvFile(strings.NewReader(`# comment
export ORIGIN=https://lists.example.org
BRAND_TITLE="Our \"Lists\""
ORGANIZATION='Acme Org'
EMAIL_PORT=587 # submission
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ORIGIN": "https://lists.example.org", "BRAND_TITLE": `Our "Lists"`, "ORGANIZATION": "Acme Org", "EMAIL_PORT": "587"}
	for k, v := range want {
		if vals[k] != v {
			t.Errorf("%s = %q, want %q", k, vals[k], v)
		}
	}
	if _, err := ReadEnvFile(strings.NewReader("NOT A SETTING\n")); err == nil {
		t.Fatal("a line without = should be an error")
	}
	t.Setenv("EMAIL_PORT", "2525")
	if v, _ := EnvWithFile(vals)("EMAIL_PORT"); v != "2525" {
		t.Fatalf("the environment should win over the file, got %q", v)
	}
}

// Every setting README.md documents shows in check-config's output.
func TestDescribeCoversTheREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	printed := strings.Join(c.Describe(), "\n")
	section := string(readme)
	section = section[strings.Index(section, "## Configuration"):]
	section = section[:strings.Index(section[3:], "\n## ")+3]
	names := 0
	for _, m := range regexp.MustCompile("\n\\| `([A-Z_]+)`(?:, `([A-Z_]+)`)*").FindAllString(section, -1) {
		for _, name := range regexp.MustCompile("`([A-Z_]+)`").FindAllStringSubmatch(m, -1) {
			names++
			if !strings.Contains(printed, name[1]+"=") {
				t.Errorf("check-config does not print %s", name[1])
			}
		}
	}
	if names < 50 {
		t.Fatalf("found only %d settings in README.md's configuration table", names)
	}
}

// The sender-check settings: relays as ranges (a bare address is one
// host), the authserv-id without case.
func TestMailAuthSettings(t *testing.T) {
	c, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir(), "MAIL_AUTH_SERV_ID": "MX.Example.org",
		"MAIL_AUTH_TRUSTED_RELAYS": "10.0.0.5, 192.0.2.0/24,::ffff:198.51.100.7", "MAIL_AUTH_DNS_SERVER": "127.0.0.1:53"}))
	if err != nil {
		t.Fatal(err)
	}
	var relays []string
	for _, p := range c.MailAuthRelays {
		relays = append(relays, p.String())
	}
	if c.MailAuthServID != "mx.example.org" || strings.Join(relays, ",") != "10.0.0.5/32,192.0.2.0/24,198.51.100.7/32" ||
		c.MailAuthDNSTimeout != 10*time.Second || c.MailAuthDNSServer != "127.0.0.1:53" {
		t.Errorf("got %q %v %v %q", c.MailAuthServID, relays, c.MailAuthDNSTimeout, c.MailAuthDNSServer)
	}
}
