package proof

import (
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

// FuzzFind: any input is read without a panic, at most maxTokens tokens
// come back, and none is valid unless the input holds that very token:
// a report cannot make a token verify by any arrangement of bytes.
func FuzzFind(f *testing.F) {
	f.Add([]byte(arf("abuse@lists.test", "Return-Path: <bounces+"+keys.VERPToken(41)+"@lists.test>\n")))
	f.Add([]byte(arf("abuse@lists.test", "X-Parley-Delivery: "+keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: 3})+"\n")))
	f.Add([]byte(arf("abuse@lists.test", "List-Unsubscribe: <https://x/u/"+keys.Token(sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: 7})+">\n")))
	f.Add([]byte("Subject: x\n\nReturn-Path: <bounces+1-aaaaaaaaaaaaaaaa@x>\nX-Parley-Delivery: p.1-aaaaaaaaaaaaaaaa\n"))
	f.Add([]byte("Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n\nWC1QYXJsZXktRGVsaXZlcnk6IHAuMS1hYWFh\n--x--\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := Find(raw, keys)
		if len(got) > maxTokens {
			t.Fatalf("%d tokens", len(got))
		}
		lower := strings.ToLower(string(raw))
		for _, tk := range got {
			if !tk.Valid {
				continue
			}
			var want string
			switch {
			case tk.Source == SourceVERP:
				want = keys.VERPToken(tk.DeliveryID)
			case tk.Source == SourceDeliveryHeader && tk.DeliveryID != 0:
				want = keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: tk.DeliveryID})
			case tk.Source == SourceDeliveryHeader:
				want = keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: tk.DigestID})
			default:
				continue // a link token: its payload may be any user's, encoded; its MAC was checked
			}
			if !strings.Contains(lower, want) && !strings.Contains(strings.ToLower(decodeAll(raw)), want) {
				t.Fatalf("a valid %s token %q that the input does not hold", tk.Source, want)
			}
		}
	})
}

// decodeAll is what Find read, for the check above: parts may be
// base64 or quoted-printable.
func decodeAll(raw []byte) string {
	var b strings.Builder
	for _, p := range bodies(raw) {
		b.Write(p)
	}
	return b.String()
}
