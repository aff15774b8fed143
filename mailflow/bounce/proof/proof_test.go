package proof

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

var keys = sign.Keys{Current: strings.Repeat("k", 40)}

// arf is a complaint returning the copy whose header carries hdr; the
// report's own header names outer as its recipient.
func arf(outer, hdr string) string {
	return fmt.Sprintf(`From: fbl@isp.example
To: %s
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b"

--b
Content-Type: text/plain

A complaint.

--b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: test/1.0
Version: 1

--b
Content-Type: message/rfc822

%sFrom: "Ada via Garden" <garden@lists.test>
Subject: hello
Message-ID: <parley.1@lists.test>

hello
--b--
`, outer, hdr)
}

func TestFindEachPlace(t *testing.T) {
	unsub := keys.Token(sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: 7, GroupID: 3})
	settings := keys.Token(sign.Link{Purpose: sign.PurposeSettings, UserID: 7, GroupID: 3})
	cases := []struct {
		name, hdr string
		want      Token
	}{
		{"return-path", "Return-Path: <bounces+" + keys.VERPToken(41) + "@lists.test>\n", Token{Source: SourceVERP, Valid: true, DeliveryID: 41}},
		{"delivery header, post", "X-Parley-Delivery: " + keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: 42}) + "\n", Token{Source: SourceDeliveryHeader, Valid: true, DeliveryID: 42}},
		{"delivery header, digest, case changed", "x-parley-delivery: " + strings.ToUpper(keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: 9})) + "\n", Token{Source: SourceDeliveryHeader, Valid: true, DigestID: 9}},
		{"list-unsubscribe, folded", "List-Unsubscribe: <https://parley.example/u/" + unsub + ">,\n <mailto:garden+unsubscribe@lists.test>\n", Token{Source: SourceUnsubscribe, Valid: true, UserID: 7}},
		{"list-unsubscribe URL on the next line", "List-Unsubscribe:\n <https://parley.example/u/" + unsub + ">\n", Token{Source: SourceUnsubscribe, Valid: true, UserID: 7}},
		{"forged VERP", "Return-Path: <bounces+1a-aaaaaaaaaaaaaaaa@lists.test>\n", Token{Source: SourceVERP}},
		{"VERP of another key", "Return-Path: <bounces+" + (sign.Keys{Current: "other"}).VERPToken(41) + "@lists.test>\n", Token{Source: SourceVERP}},
		{"forged header", "X-Parley-Delivery: p.1-aaaaaaaaaaaaaaaa\n", Token{Source: SourceDeliveryHeader}},
		{"a link of another purpose", "List-Unsubscribe: <https://parley.example/u/" + settings + ">\n", Token{Source: SourceUnsubscribe}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Find([]byte(arf("abuse@lists.test", c.hdr)), keys)
			if len(got) != 1 {
				t.Fatalf("found %d tokens: %+v", len(got), got)
			}
			got[0].Text = ""
			if got[0] != c.want {
				t.Fatalf("found %+v, want %+v", got[0], c.want)
			}
		})
	}
}

// The report's own header proves nothing: anyone writes it.
func TestFindIgnoresTheReportsHeader(t *testing.T) {
	tok := keys.VERPToken(5)
	raw := "Return-Path: <bounces+" + tok + "@lists.test>\nX-Parley-Delivery: " + keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: 5}) +
		"\n" + arf("bounces+"+tok+"@lists.test", "")
	if got := Find([]byte(raw), keys); len(got) != 0 {
		t.Fatalf("tokens from the report's own header: %+v", got)
	}
}

// A DSN that quotes the returned header in its text (no MIME
// structure), as older mailers do.
func TestFindInText(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example\nSubject: failure notice\n\nSorry, it failed.\n\n--- Below this line is a copy of the message.\n\n" +
		"Return-Path: <bounces+" + keys.VERPToken(77) + "@lists.test>\nSubject: hi\n\nbody\n"
	got := Find([]byte(raw), keys)
	if len(got) != 1 || !got[0].Valid || got[0].DeliveryID != 77 {
		t.Fatalf("got %+v", got)
	}
}

func TestFindUnreadableInput(t *testing.T) {
	for _, raw := range []string{"", "\x00\x01", "no header at all", "Subject: x\n\n" + strings.Repeat("bounces+", 10000)} {
		if got := Find([]byte(raw), keys); len(got) != 0 {
			t.Errorf("Find(%.20q) = %+v", raw, got)
		}
	}
}
