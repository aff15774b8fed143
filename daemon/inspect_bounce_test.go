package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

// TestInspectBounceProof runs `parleyd inspect bounce` on a complaint
// that returns a copy with Parley's delivery header and on a forged one:
// with the key, the first is verified and the second is not, each with
// why; without a key, the proof is unchecked.
func TestInspectBounceProof(t *testing.T) {
	key := strings.Repeat("e", 40)
	keys := sign.Keys{Current: key}
	dir := t.TempDir()
	report := func(name, returned string) string {
		p := filepath.Join(dir, name)
		raw := "From: fbl@isp.example\nTo: abuse@lists.example\nSubject: complaint\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nspam\n\n" +
			"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: t/1\nVersion: 1\nOriginal-Rcpt-To: <ada@example.org>\n\n" +
			"--b\nContent-Type: text/rfc822-headers\n\nFrom: garden@lists.example\n" + returned + "Subject: hi\n\n--b--\n"
		if err := os.WriteFile(p, []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	genuine := report("genuine.eml", "X-Parley-Delivery: "+keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: 31})+"\n")
	forged := report("forged.eml", "X-Parley-Delivery: p.v-aaaaaaaaaaaaaaaa\n")
	type out struct {
		Proof struct {
			Decision, Why string
			Tokens        []struct {
				Valid      bool
				DeliveryID int64 `json:"delivery_id"`
			}
		}
	}
	inspect := func(env []string, args ...string) []out {
		t.Helper()
		stdout, stderr, code := runCmd(t, env, "", append([]string{"inspect", "bounce"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var res []out
		for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var o out
			if err := json.Unmarshal([]byte(l), &o); err != nil {
				t.Fatalf("%v: %q", err, l)
			}
			res = append(res, o)
		}
		return res
	}
	for name, res := range map[string][]out{
		"--key":            inspect(nil, "--key", key, genuine, forged),
		"EMAIL_SECRET_KEY": inspect([]string{"EMAIL_SECRET_KEY=" + key}, genuine, forged),
	} {
		g, f := res[0].Proof, res[1].Proof
		if g.Decision != "verified" || len(g.Tokens) != 1 || g.Tokens[0].DeliveryID != 31 || !strings.Contains(g.Why, "delivery 31") {
			t.Errorf("%s: the genuine report: %+v", name, g)
		}
		if f.Decision != "unverified" || !strings.Contains(f.Why, "none valid") {
			t.Errorf("%s: the forged report: %+v", name, f)
		}
	}
	if p := inspect(nil, genuine)[0].Proof; p.Decision != "unchecked" || !strings.Contains(p.Why, "key") {
		t.Errorf("without a key: %+v", p)
	}
	// The forged report at a delivery's real VERP address is proven by it.
	if p := inspect(nil, "--key", key, "--rcpt", "bounces+"+keys.VERPToken(8)+"@lists.example", forged)[0].Proof; p.Decision != "verified" || !strings.Contains(p.Why, "delivery 8") {
		t.Errorf("at the VERP address: %+v", p)
	}
}

// TestInspectBounceRule: `parleyd inspect bounce` says which rule read a
// report as it did, for the report and for each recipient, beside the
// fields it always printed.
func TestInspectBounceRule(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dsn.eml")
	raw := "From: MAILER-DAEMON@mx.example.net\nTo: bounces@lists.example\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n\n" +
		"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Original-Recipient: rfc822; ada@example.org\nFinal-Recipient: rfc822; ada.l@forward.example\nAction: failed\nStatus: 5.1.1\n\n--b--\n"
	if err := os.WriteFile(p, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCmd(t, nil, "", "inspect", "bounce", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		Kind, Rule string
		Recipients []struct {
			Address, Class, Rule string
			Original             string `json:"original_recipient"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if out.Kind != "bounce" || !strings.Contains(out.Rule, "message/delivery-status") || len(out.Recipients) != 1 {
		t.Fatalf("%s", stdout)
	}
	rc := out.Recipients[0]
	if rc.Address != "ada.l@forward.example" || rc.Class != "hard" || rc.Original != "ada@example.org" || !strings.Contains(rc.Rule, "Final-Recipient") {
		t.Errorf("%+v", rc)
	}
}
