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
