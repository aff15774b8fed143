package dsn

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMacLineEndings reads each sample stored with old Mac line endings
// (CR alone) as it reads it with LF.
func TestMacLineEndings(t *testing.T) {
	for _, name := range []string{"postfix.eml", "qmail.eml", "exim.eml", "rfc3464-two-recipients.eml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		lf := Classify(raw)
		cr := Classify(bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r")))
		if cr.Kind != lf.Kind || !slices.Equal(addresses(cr), addresses(lf)) || len(lf.Recipients) == 0 {
			t.Errorf("%s: CR-only %s %v, LF %s %v", name, cr.Kind, addresses(cr), lf.Kind, addresses(lf))
		}
	}
}

// TestRuleSaysWhy: every reading names the rule that decided it, and each
// recipient how it was found.
func TestRuleSaysWhy(t *testing.T) {
	for _, tc := range []struct{ file, rule, rcptRule string }{
		{"rfc3464-two-recipients.eml", "rfc3464: multipart/report", "rfc3464 Final-Recipient"},
		{"arf.eml", "rfc5965", "arf recipient field"},
		{"qmail.eml", "signature of qmail", "text: <address> line"},
		{"vacation.eml", "rfc3834", ""},
		{"not-bounce-delivery-failed.eml", "no report structure", ""},
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		r := Classify(raw)
		if !strings.Contains(r.Rule, tc.rule) {
			t.Errorf("%s: rule %q, want it to say %q", tc.file, r.Rule, tc.rule)
		}
		for _, rc := range r.Recipients {
			if tc.rcptRule != "" && !strings.Contains(rc.Rule, tc.rcptRule) {
				t.Errorf("%s: %s found by %q, want %q", tc.file, rc.Address, rc.Rule, tc.rcptRule)
			}
		}
	}
}

// TestForwardedRecipient: a forwarding mailbox's report names the
// address it forwarded to as Final-Recipient and the subscriber as
// Original-Recipient; both are kept.
func TestForwardedRecipient(t *testing.T) {
	raw := "From: MAILER-DAEMON@mx.example.net\nTo: bounces@lists.example.org\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n\n" +
		"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Original-Recipient: rfc822; ada@example.org\nFinal-Recipient: rfc822; ada.l@forward.example.net\nAction: failed\nStatus: 5.1.1\n\n--b--\n"
	r := Classify([]byte(raw))
	if len(r.Recipients) != 1 {
		t.Fatalf("%+v", r)
	}
	rc := r.Recipients[0]
	if rc.Address != "ada.l@forward.example.net" || rc.Original != "ada@example.org" || !strings.Contains(rc.Rule, "forwarded") {
		t.Errorf("%+v", rc)
	}
}

// TestTextShapes reads recipients from the free-text shapes of mailers
// that predate RFC 3464, each written here from its documented form.
func TestTextShapes(t *testing.T) {
	hdr := "To: sender@lists.example.org\nSubject: Undeliverable Mail\n\n"
	for _, tc := range []struct{ name, body, want string }{
		{"postfix quoted local part", "<\"a..b\"@example.org>: host mx.example.org said: 550 5.1.1 User unknown\n", `"a..b"@example.org`},
		{"label", "Invalid final delivery userid: ann@example.org\n", "ann@example.org"},
		{"label in brackets", "    Could not be delivered to: <bea@example.org>\n     As their mailbox is full.\n", "bea@example.org"},
		{"list item", "Delivery to the following recipients failed permanently:\n\n   * cid@example.org\n", "cid@example.org"},
		{"sendmail reply line", "554 <dan@example.org>... Remote protocol error\n", "dan@example.org"},
		{"address then why", "eve@example.org Invalid Address, ERROR_CODE :550\n", "eve@example.org"},
		{"failure line", "Unable to deliver message to <fay@example.org> (and other recipients in the same domain).\n", "fay@example.org"},
		{"dma sentence", "There was an error delivering your mail to <gus@example.org>.\n\nmx said: 550 5.1.1 unknown\n", "gus@example.org"},
		{"aol screen name", "\n\nThe mail you sent could not be delivered to:\n\n  CatLover99\n\nPlease check the screen name.\n", "catlover99@aol.com"},
		{"qmail to the addressee", "Hi. This is the qmail-send program at example.net.\n\n<sender@lists.example.org>:\nmailbox full\n", "sender@lists.example.org"},
	} {
		from := "From: MAILER-DAEMON@mx.example.net\n"
		if strings.HasPrefix(tc.name, "aol") {
			from = "From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>\n"
		}
		r := Classify([]byte(from + hdr + tc.body))
		if r.Kind != KindBounce || !slices.Contains(addresses(r), tc.want) {
			t.Errorf("%s: %s %v (%s), want a bounce for %s", tc.name, r.Kind, addresses(r), r.Rule, tc.want)
		}
	}
}
