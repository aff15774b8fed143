package senderauth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/inbound/senderauth/dnstest"
)

// sign DKIM-signs msg for domain with a new key, and publishes the key
// in zone.
func sign(t testing.TB, zone senderauth.Zone, domain, msg string) []byte {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	zone.TXT["sel._domainkey."+domain] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: "sel", Signer: priv}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func newZone() senderauth.Zone {
	return senderauth.Zone{TXT: map[string][]string{
		"example.org":        {"v=spf1 ip4:192.0.2.0/24 -all"},
		"_dmarc.example.org": {"v=DMARC1; p=reject"},
		"soft.example":       {"v=spf1 ~all"},
		"example.net":        {"v=spf1 ip4:192.0.2.7 -all"},
		"_dmarc.example.com": {"v=DMARC1; p=none; sp=quarantine"},
	}}
}

const plain = "From: Ann <ann@example.org>\r\nTo: g@lists.test\r\nSubject: Hi\r\nMessage-ID: <1@example.org>\r\n\r\nHello.\r\n"

func TestCheck(t *testing.T) {
	zone := newZone()
	signed := sign(t, zone, "example.org", plain)
	otherSigned := sign(t, zone, "example.net", plain)
	sub := strings.Replace(plain, "ann@example.org", "ann@mail.example.com", 1)
	c := senderauth.New(senderauth.Config{Resolver: zone, AuthServID: "mx.lists.test",
		TrustedRelays: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	ar := func(id, v string) []byte {
		return []byte("Authentication-Results: " + id + "; " + v + "\r\n" + plain)
	}
	for _, tc := range []struct {
		name      string
		in        senderauth.Input
		auth      bool
		dmarcFail bool
		summary   string
	}{
		{"dkim aligned", senderauth.Input{Raw: signed, RemoteAddr: "203.0.113.9:25", MailFrom: "x@elsewhere.test", Transport: "smtp"},
			true, false, "sender verified by DKIM example.org"},
		{"spf aligned", senderauth.Input{Raw: []byte(plain), RemoteAddr: "192.0.2.5:4000", MailFrom: "ann@example.org", Transport: "smtp"},
			true, false, "sender verified by SPF example.org"},
		{"forged", senderauth.Input{Raw: []byte(plain), RemoteAddr: "203.0.113.9:25", MailFrom: "ann@example.org", Transport: "smtp"},
			false, true, "From not authenticated: SPF fail, no DKIM; example.org publishes DMARC p=reject"},
		{"softfail", senderauth.Input{Raw: []byte(strings.Replace(plain, "example.org", "soft.example", -1)), RemoteAddr: "203.0.113.9:25", MailFrom: "ann@soft.example", Transport: "smtp"},
			false, false, "From not authenticated: SPF softfail, no DKIM"},
		{"unaligned dkim and spf", senderauth.Input{Raw: otherSigned, RemoteAddr: "192.0.2.7:25", MailFrom: "bob@example.net", Transport: "smtp"},
			false, true, "From not authenticated: SPF pass for example.net (not the From domain), DKIM pass for example.net (not the From domain); example.org publishes DMARC p=reject"},
		{"subdomain policy", senderauth.Input{Raw: []byte(sub), RemoteAddr: "203.0.113.9:25", MailFrom: "ann@mail.example.com", Transport: "smtp"},
			false, true, "From not authenticated: SPF none, no DKIM; mail.example.com publishes DMARC p=quarantine"},
		{"trusted header over lmtp", senderauth.Input{Raw: ar("mx.lists.test", "spf=pass smtp.mailfrom=ann@example.org (sender ok; really)"), RemoteAddr: "127.0.0.1:1", MailFrom: "ann@example.org", Transport: "lmtp"},
			true, false, "sender verified by SPF example.org (reported by mx.lists.test)"},
		{"someone else's header", senderauth.Input{Raw: ar("mx.evil.test", "spf=pass smtp.mailfrom=ann@example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"), RemoteAddr: "127.0.0.1:1", MailFrom: "ann@example.org", Transport: "lmtp"},
			false, true, "From not authenticated: SPF not checked, no DKIM; example.org publishes DMARC p=reject"},
		{"trusted relay, reported dmarc", senderauth.Input{Raw: ar("MX.lists.test", "dmarc=pass header.from=example.org"), RemoteAddr: "10.1.2.3:25", MailFrom: "ann@example.org", Transport: "smtp"},
			true, false, "sender verified by DMARC example.org (reported by mx.lists.test)"},
		{"relay header ignored from the internet", senderauth.Input{Raw: ar("mx.lists.test", "spf=pass smtp.mailfrom=ann@example.org"), RemoteAddr: "203.0.113.9:25", MailFrom: "ann@example.org", Transport: "smtp"},
			false, true, "From not authenticated: SPF fail, no DKIM; example.org publishes DMARC p=reject"},
		{"dkim still verified behind a relay", senderauth.Input{Raw: signed, Transport: "imap"},
			true, false, "sender verified by DKIM example.org"},
		{"two From", senderauth.Input{Raw: []byte("From: a@example.org\r\n" + plain), RemoteAddr: "192.0.2.5:1", MailFrom: "ann@example.org", Transport: "smtp"},
			false, false, "From not authenticated: the message has 2 From fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(context.Background(), tc.in)
			if r.Authenticated != tc.auth || r.DMARCFailed() != tc.dmarcFail || r.Summary != tc.summary {
				t.Errorf("got authenticated=%v dmarc-failed=%v %q (%+v), want %v %v %q", r.Authenticated, r.DMARCFailed(), r.Summary, r, tc.auth, tc.dmarcFail, tc.summary)
			}
		})
	}
}

// A tampered signed message fails DKIM.
func TestTamperedDKIM(t *testing.T) {
	zone := newZone()
	signed := sign(t, zone, "example.org", plain)
	tampered := bytes.Replace(signed, []byte("Hello."), []byte("Send money."), 1)
	r := senderauth.New(senderauth.Config{Resolver: zone}).Check(context.Background(),
		senderauth.Input{Raw: tampered, RemoteAddr: "203.0.113.9:25", MailFrom: "ann@example.org", Transport: "smtp"})
	if r.Authenticated || !strings.Contains(r.Summary, "DKIM fail (example.org)") {
		t.Errorf("tampered message: %+v", r)
	}
}

func TestParseAuthResults(t *testing.T) {
	rep, ok := senderauth.ParseAuthResults(`mx.lists.test 1; spf=softfail (no; "quoted (not a comment)") smtp.mailfrom=<a@b.example>; dkim=pass (2048-bit key) header.d=B.example header.i=@b.example; dmarc=fail header.from=b.example`, "mx.lists.test")
	if !ok || rep.SPF != "softfail" || rep.SPFDomain != "b.example" || len(rep.DKIM) != 1 || rep.DKIM[0] != (senderauth.DKIMSignature{Domain: "b.example", Result: "pass"}) ||
		rep.DMARC != "fail" || rep.DMARCFrom != "b.example" {
		t.Errorf("got %+v, %v", rep, ok)
	}
	if _, ok := senderauth.ParseAuthResults("mx.other.test; spf=pass smtp.mailfrom=a@b.example", "mx.lists.test"); ok {
		t.Error("a header from another authserv-id was read")
	}
}

func FuzzAuthResults(f *testing.F) {
	for _, s := range []string{
		"mx.lists.test; spf=pass smtp.mailfrom=a@b.example",
		"mx.lists.test 1; dkim=pass (good (nested) \\) key) header.d=b.example; dmarc=fail header.from=b.example",
		`mx.lists.test; none`, `mx.lists.test; spf=pass reason="a;b"`, "mx.lists.test; (((", "mx.lists.test; \"\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		rep, ok := senderauth.ParseAuthResults(v, "mx.lists.test")
		if ok && rep.AuthServID != "mx.lists.test" {
			t.Fatalf("read a header of %q as trusted", rep.AuthServID)
		}
		raw := []byte("Authentication-Results: " + strings.NewReplacer("\r", "", "\n", "").Replace(v) + "\r\nFrom: a@b.example\r\n\r\nx\r\n")
		senderauth.New(senderauth.Config{Resolver: senderauth.Zone{}, AuthServID: "mx.lists.test"}).
			Check(context.Background(), senderauth.Input{Raw: raw, Transport: "lmtp"})
	})
}

// The checker asks a real DNS server through ServerResolver.
func TestServerResolver(t *testing.T) {
	addr := dnstest.Serve(t, map[string][]string{"example.org": {"v=spf1 ip4:127.0.0.0/8 -all"}, "_dmarc.example.org": {"v=DMARC1; p=reject"}})
	c := senderauth.New(senderauth.Config{Resolver: senderauth.ServerResolver(addr)})
	r := c.Check(context.Background(), senderauth.Input{Raw: []byte(plain), RemoteAddr: "127.0.0.1:5000", MailFrom: "ann@example.org", Transport: "smtp"})
	if !r.Authenticated || r.Summary != "sender verified by SPF example.org" || r.DMARC != "pass" || r.Policy != "reject" {
		t.Errorf("from loopback: %+v", r)
	}
	r = c.Check(context.Background(), senderauth.Input{Raw: []byte(plain), RemoteAddr: "198.51.100.1:5000", MailFrom: "ann@example.org", Transport: "smtp"})
	if r.Authenticated || !r.DMARCFailed() {
		t.Errorf("from elsewhere: %+v", r)
	}
}

// BenchmarkCheck: one message through SPF, DKIM and DMARC, the DNS
// answered in memory (go test -run XXX -bench Check ./mailflow/inbound/senderauth/).
func BenchmarkCheck(b *testing.B) {
	zone := newZone()
	signed := sign(b, zone, "example.org", plain)
	c := senderauth.New(senderauth.Config{Resolver: zone})
	in := senderauth.Input{Raw: signed, RemoteAddr: "192.0.2.5:4000", MailFrom: "ann@example.org", Transport: "smtp"}
	for b.Loop() {
		if r := c.Check(context.Background(), in); !r.Authenticated {
			b.Fatal(r.Summary)
		}
	}
}
