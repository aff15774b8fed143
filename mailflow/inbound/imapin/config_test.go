package imapin

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/mailtest"
)

func TestParseURL(t *testing.T) {
	const secret = "Sup3r%2Fs%40cret" // escaped form of "Sup3r/s@cret"
	for _, tc := range []struct {
		name, url string
		want      endpoint // checked when wantErr is empty
		wantErr   string
	}{
		{name: "imaps default port", url: "imaps://list%40example.org:" + secret + "@mail.example.org/INBOX",
			want: endpoint{implicitTLS: true, host: "mail.example.org", addr: "mail.example.org:993",
				user: "list@example.org", password: "Sup3r/s@cret", mailbox: "INBOX"}},
		{name: "imap default port and mailbox", url: "imap://u:" + secret + "@mail.example.org",
			want: endpoint{host: "mail.example.org", addr: "mail.example.org:143",
				user: "u", password: "Sup3r/s@cret", mailbox: "INBOX"}},
		{name: "explicit port, nested mailbox", url: "imaps://u:" + secret + "@[::1]:1993/Lists/parley/",
			want: endpoint{implicitTLS: true, host: "::1", addr: "[::1]:1993",
				user: "u", password: "Sup3r/s@cret", mailbox: "Lists/parley"}},
		{name: "upper-case scheme", url: "IMAPS://u:" + secret + "@h/INBOX",
			want: endpoint{implicitTLS: true, host: "h", addr: "h:993", user: "u", password: "Sup3r/s@cret", mailbox: "INBOX"}},

		{name: "empty", url: "", wantErr: "empty"},
		{name: "wrong scheme", url: "https://u:" + secret + "@h/INBOX", wantErr: "scheme"},
		{name: "no scheme", url: "u:" + secret + "@h/INBOX", wantErr: "scheme"},
		{name: "opaque", url: "imaps:u:" + secret + "@h", wantErr: "must look like"},
		{name: "no user", url: "imaps://h/INBOX", wantErr: "no user"},
		{name: "no password", url: "imaps://u@h/INBOX", wantErr: "no password"},
		{name: "empty password", url: "imaps://u:@h/INBOX", wantErr: "no password"},
		{name: "no host", url: "imaps://u:" + secret + "@/INBOX", wantErr: "no host"},
		{name: "port zero", url: "imaps://u:" + secret + "@h:0/INBOX", wantErr: "port"},
		{name: "port too big", url: "imaps://u:" + secret + "@h:99999/INBOX", wantErr: "port"},
		// Unescaped, the password breaks the URL in ways whose errors
		// would otherwise quote it.
		{name: "unescaped slash in password", url: "imaps://u:Sup3r/s@cret@h/INBOX", wantErr: "imap url"},
		{name: "unescaped hash in password", url: "imaps://u:Sup3r#s@cret@h/INBOX", wantErr: "imap url"},
		{name: "unescaped question mark", url: "imaps://u:Sup3r?s@cret@h/INBOX", wantErr: "imap url"},
		{name: "bad escape in password", url: "imaps://u:Sup3r%zzs@cret@h/INBOX", wantErr: "malformed"},
		{name: "query", url: "imaps://u:" + secret + "@h/INBOX?tls=off", wantErr: "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseURL(tc.url)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseURL(%q) = nil error, want one containing %q", tc.url, tc.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.wantErr) {
					t.Errorf("error %q does not contain %q", msg, tc.wantErr)
				}
				for _, part := range []string{"Sup3r", "cret", secret} {
					if strings.Contains(msg, part) {
						t.Errorf("error %q reveals the password", msg)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if cfg.URL != tc.url {
				t.Errorf("Config.URL = %q, want the input", cfg.URL)
			}
			got, _ := parseEndpoint(tc.url)
			if got != tc.want {
				t.Errorf("endpoint = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestEndpointPlaintext(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"imap://u:p@127.0.0.1/INBOX", true},
		{"imap://u:p@localhost/INBOX", true},
		{"imap://u:p@[::1]/INBOX", true},
		{"imap://u:p@127.9.9.9/INBOX", true},
		{"imap://u:p@mail.example.org/INBOX", false}, // STARTTLS required
		{"imap://u:p@10.0.0.1/INBOX", false},
		{"imaps://u:p@127.0.0.1/INBOX", false}, // TLS anyway
	} {
		ep, err := parseEndpoint(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if got := ep.plaintext(); got != tc.want {
			t.Errorf("%s: plaintext = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestConfigLogValueHidesPassword(t *testing.T) {
	var buf mailtest.Buffer
	cfg := Config{URL: "imaps://u:Sup3rSecret@h/INBOX"}
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "imap", cfg)
	if out := buf.String(); strings.Contains(out, "Sup3rSecret") || !strings.Contains(out, "imaps://u:xxxxx@h/INBOX") {
		t.Errorf("logged config: %s", out)
	}
}
