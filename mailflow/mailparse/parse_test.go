package mailparse

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/mailtest"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func corpusDir(t *testing.T) string { return mailtest.CorpusDir(t) }

func corpusRows(t *testing.T, dir string) []map[string]string { return mailtest.CorpusIndex(t, dir) }

func hasWarning(m *Message, words ...string) bool {
	for _, w := range m.Warnings {
		ok := true
		for _, word := range words {
			ok = ok && strings.Contains(strings.ToLower(w), strings.ToLower(word))
		}
		if ok {
			return true
		}
	}
	return false
}

// corpusFacts checks what the index (expected_text and note) states
// about a file.
var corpusFacts = map[string]func(t *testing.T, m *Message){
	"attachment/enmime-attachment.raw": func(t *testing.T, m *Message) {
		if len(m.Attachments) != 1 || m.Attachments[0].Filename != "test.html" || m.Attachments[0].ContentType != "text/html" {
			t.Errorf("attachments = %+v, want one text/html test.html", m.Attachments)
		}
		if m.HTML != "" || m.Text != "A text section" {
			t.Errorf("HTML = %q, Text = %q; the attached HTML is not the body", m.HTML, m.Text)
		}
	},
	"charset/enmime-incorrect-charset.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "charset", "us-ascii") {
			t.Errorf("no charset declaration warning in %q", m.Warnings)
		}
		if !strings.Contains(m.Text, "∮ E⋅da = Q") {
			t.Errorf("Text not read as UTF-8: %.80q", m.Text)
		}
	},
	"charset/enmime-unk-charset-part.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "charset", "fakescii") {
			t.Errorf("no unknown-charset warning in %q", m.Warnings)
		}
		if m.Text != "A text section" {
			t.Errorf("Text = %q", m.Text)
		}
	},
	"charset/mail-invalid_subject_characters.eml": func(t *testing.T, m *Message) {
		if want := "Formação FrenetikPolis: Mega Campanha Final Verão | Cursos de Setembro"; m.Subject != want {
			t.Errorf("Subject = %q, want %q", m.Subject, want)
		}
		if want := "Formação Frenetikpolis"; m.FromName != want {
			t.Errorf("FromName = %q, want %q", m.FromName, want)
		}
	},
	"charset/mail-japanese_iso_2022.eml": func(t *testing.T, m *Message) {
		if want := "すみません。\n\n"; m.Text != want {
			t.Errorf("Text = %q, want %q", m.Text, want)
		}
		if len(m.To) != 1 || m.To[0] != "raasdnil@gmail.com" {
			t.Errorf("To = %q", m.To)
		}
	},
	"encoding/enmime-qp-utf8-header.raw": func(t *testing.T, m *Message) {
		if want := "MIME UTF8 Test \u00a2 More Text"; m.Subject != want {
			t.Errorf("Subject = %q, want %q", m.Subject, want)
		}
	},
	"encoding/enmime-quoted-printable.raw": func(t *testing.T, m *Message) {
		if !strings.Contains(m.Text, "Phasellus sit amet arcu") {
			t.Errorf("Text = %.100q", m.Text)
		}
	},
	"encoding/relay-russian_spam_incoming.email": func(t *testing.T, m *Message) {
		if m.FromName != "АФРИКА ЗОВЁТ!" || !strings.Contains(m.Subject, "Африке") || !strings.Contains(m.Text, "Уважаемые господа") {
			t.Errorf("FromName = %q, Subject = %q, Text = %.80q", m.FromName, m.Subject, m.Text)
		}
	},
	"html-only/enmime-html-only-inline.raw": func(t *testing.T, m *Message) {
		if !m.TextFromHTML || !hasWarning(m, "html") || m.Text != "Test of HTML section" {
			t.Errorf("TextFromHTML = %v, Text = %q, warnings %q", m.TextFromHTML, m.Text, m.Warnings)
		}
		if len(m.Attachments) != 1 || !m.Attachments[0].Inline || m.Attachments[0].ContentID == "" {
			t.Errorf("attachments = %+v, want the inline favicon", m.Attachments)
		}
	},
	"malformed/enmime-bad-final-boundary.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "final boundary") || m.Text != "A text section" || len(m.Attachments) != 1 {
			t.Errorf("warnings %q, Text %q, %d attachments", m.Warnings, m.Text, len(m.Attachments))
		}
	},
	"malformed/enmime-erroneous.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "no header") || !strings.Contains(m.Text, "Not an RFC-822 Document") {
			t.Errorf("warnings %q, Text %q", m.Warnings, m.Text)
		}
	},
	"malformed/enmime-malformed-base64-attach.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "base64") {
			t.Errorf("no base64 warning in %q", m.Warnings)
		}
		if len(m.Attachments) != 1 || string(m.Attachments[0].Data) != "<html>\n" {
			t.Errorf("attachments = %+v", m.Attachments)
		}
	},
	"malformed/enmime-multipart-wo-boundary.raw": func(t *testing.T, m *Message) {
		if !hasWarning(m, "without boundary") || !strings.Contains(m.Text, "I'm  multipart message without boundary") {
			t.Errorf("warnings %q, Text %q", m.Warnings, m.Text)
		}
	},
	"malformed/relay-duplicate_mime_version_incoming.email": func(t *testing.T, m *Message) {
		if !hasWarning(m, "duplicate MIME-Version") || !strings.Contains(m.Text, "two MIME-Version headers") {
			t.Errorf("warnings %q, Text %q", m.Warnings, m.Text)
		}
	},
	"malformed/relay-emperor_norton_incoming.email": func(t *testing.T, m *Message) {
		if m.FromName != "Norton I., Emperor of the United States" || m.FromAddress != "norton@sf.us.example.com" {
			t.Errorf("From = %q <%s>", m.FromName, m.FromAddress)
		}
	},
	"malformed/relay-nested_brackets_service_incoming.email": func(t *testing.T, m *Message) {
		if m.FromName != "The Service" || m.FromAddress != "hello@theservice.example.com" {
			t.Errorf("From = %q <%s>", m.FromName, m.FromAddress)
		}
	},
	"notbounce/sisimai-is-not-bounce-02.eml": func(t *testing.T, m *Message) {
		if len(m.Attachments) != 1 || m.Attachments[0].ContentType != "message/rfc822" || m.Attachments[0].Filename != "original.eml" {
			t.Errorf("attachments = %+v, want the attached message", m.Attachments)
		}
		if m.FromName != "xpto" { // unpadded base64 encoded-word
			t.Errorf("FromName = %q", m.FromName)
		}
	},
}

// TestCorpus parses every corpus file of the kinds the parser must
// survive: it must neither panic nor fail, and the facts the index
// states must hold.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	kinds := map[string]bool{"charset": true, "encoding": true, "malformed": true, "html-only": true,
		"attachment": true, "autoreply": true, "notbounce": true, "dsn": true, "arf": true}
	seen := 0
	for _, row := range corpusRows(t, dir) {
		kind, file := row["kind"], row["file"]
		if !kinds[kind] {
			continue
		}
		seen++
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			switch kind {
			case "autoreply":
				if !m.IsAutoReply {
					t.Errorf("IsAutoReply = false (Auto-Submitted %q, Subject %q)", m.AutoSubmitted, m.Subject)
				}
			case "notbounce":
				if m.IsAutoReply {
					t.Error("IsAutoReply = true for ordinary mail")
				}
			}
			if check, ok := corpusFacts[file]; ok {
				check(t, m)
			} else if row["expected_text"] != "" && kind != "dsn" && kind != "arf" {
				t.Errorf("the index states %q about this file, and no check covers it", row["expected_text"])
			}
		})
	}
	if seen == 0 {
		t.Error("no corpus rows of the parsed kinds")
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNested reads a multipart/mixed holding an alternative (text, and
// related HTML with an inline image), a PDF with an RFC 2231 name, an
// attached message and a text attachment with an RFC 2047 name.
func TestNested(t *testing.T) {
	m, err := Parse(readTestdata(t, "nested.eml"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(field string, got, want any) {
		t.Helper()
		if g, w := strings.Join(strings.Fields(strings.TrimSpace(toString(got))), " "), toString(want); g != w {
			t.Errorf("%s = %q, want %q", field, g, w)
		}
	}
	check("FromName", m.FromName, "Martin, Bob")
	check("FromAddress", m.FromAddress, "bob@example.com")
	check("To", m.To, "parley-dev@lists.example.org jane@example.org")
	check("Cc", m.Cc, "joel@example.fr")
	check("Subject", m.Subject, "Résumé of the meeting — slides")
	check("Date", m.Date.UTC().Format(time.RFC3339), "2024-03-05T10:00:00Z")
	check("MessageID", m.MessageID, "nested-1@example.com")
	check("InReplyTo", m.InReplyTo, "release-plan-1@lists.example.org")
	check("References", m.References, "release-plan-0@lists.example.org release-plan-1@lists.example.org")
	check("ListID", m.ListID, "parley-dev.lists.example.org")
	check("XLoop", m.XLoop, "parley-dev@lists.example.org")
	check("Text", m.Text, "Here is the résumé of the meeting. Slides attached.")
	if !strings.Contains(m.HTML, "<b>résumé</b>") || m.TextFromHTML {
		t.Errorf("HTML = %q, TextFromHTML = %v", m.HTML, m.TextFromHTML)
	}
	want := []struct {
		name, typ string
		inline    bool
	}{
		{"", "image/png", true},
		{"Résumé of the meeting.pdf", "application/pdf", false},
		{"Programme détaillé.eml", "message/rfc822", false},
		{"notes — décisions.txt", "text/plain", false},
	}
	if len(m.Attachments) != len(want) {
		t.Fatalf("%d attachments, want %d: %+v", len(m.Attachments), len(want), m.Attachments)
	}
	for i, w := range want {
		a := m.Attachments[i]
		if a.Filename != w.name || a.ContentType != w.typ || a.Inline != w.inline || a.Size != len(a.Data) {
			t.Errorf("attachment %d = %q %s inline=%v size=%d/%d, want %q %s inline=%v", i, a.Filename, a.ContentType, a.Inline, a.Size, len(a.Data), w.name, w.typ, w.inline)
		}
	}
	if m.Attachments[0].ContentID != "logo@example.com" {
		t.Errorf("ContentID = %q", m.Attachments[0].ContentID)
	}
	if !bytes.HasPrefix(m.Attachments[1].Data, []byte("%PDF-1.4")) {
		t.Errorf("PDF data = %q", m.Attachments[1].Data)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings on a well-formed message: %q", m.Warnings)
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case []string:
		return strings.Join(v, " ")
	case string:
		return v
	}
	return ""
}

// TestCharsets encodes a body in each common charset and reads it back.
func TestCharsets(t *testing.T) {
	cases := []struct {
		label string
		enc   encoding.Encoding
		text  string
	}{
		{"ISO-8859-1", charmap.ISO8859_1, "Déjà vu, señor"},
		{"ISO-8859-2", charmap.ISO8859_2, "Zażółć gęślą jaźń"},
		{"ISO-8859-15", charmap.ISO8859_15, "Prix: 5 €"},
		{"windows-1250", charmap.Windows1250, "Příliš žluťoučký kůň"},
		{"windows-1251", charmap.Windows1251, "Привет, мир"},
		{"windows-1252", charmap.Windows1252, "“Smart quotes” – café"},
		{"KOI8-R", charmap.KOI8R, "Съешь же ещё этих булок"},
		{"ISO-2022-JP", japanese.ISO2022JP, "日本語のメール"},
		{"Shift_JIS", japanese.ShiftJIS, "シフトJISの本文"},
		{"EUC-JP", japanese.EUCJP, "EUCの本文"},
		{"GB2312", simplifiedchinese.GBK, "简体中文邮件"},
		{"GBK", simplifiedchinese.GBK, "简体中文邮件"},
		{"GB18030", simplifiedchinese.GB18030, "简体中文邮件"},
		{"UTF-8", encoding.Nop, "UTF-8 ✓ 🎉"},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			body, err := c.enc.NewEncoder().Bytes([]byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			raw := "From: a@example.org\r\nSubject: test\r\nContent-Type: text/plain; charset=\"" + c.label + "\"\r\n\r\n" + string(body)
			m, err := Parse([]byte(raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != c.text || len(m.Warnings) != 0 {
				t.Errorf("Text = %q, warnings %q; want %q", m.Text, m.Warnings, c.text)
			}
		})
	}
}

func TestCharsetFallback(t *testing.T) {
	cases := []struct {
		name, ct, body, want, warning string
	}{
		{"unknown label, UTF-8 bytes", "text/plain; charset=x-klingon", "caf\xc3\xa9", "café", "unknown charset"},
		{"unknown label, Latin-1 bytes", "text/plain; charset=x-klingon", "caf\xe9", "café", "windows-1252"},
		{"ascii label, UTF-8 bytes", "text/plain; charset=us-ascii", "caf\xc3\xa9", "café", "us-ascii"},
		{"utf-8 label, stray Latin-1 byte", "text/plain; charset=utf-8", "na\xc3\xafve caf\xe9", "naïve café", "invalid UTF-8"},
		{"wrong multibyte label", "text/plain; charset=shift_jis", "\xe2\x9c\x93 ok", "✓ ok", "not in declared charset"},
		{"no label, 8-bit", "text/plain", "caf\xe9", "café", "no charset"},
		{"utf-7", "text/plain; charset=unicode-1-1-utf-7", "Hi +AKM-1 +-", "Hi £1 +", ""},
		{"html meta charset", "text/html", "<meta charset=\"windows-1251\"><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>", "Привет", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte("From: a@example.org\nContent-Type: "+c.ct+"\n\n"+c.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != c.want {
				t.Errorf("Text = %q, want %q", m.Text, c.want)
			}
			if c.warning == "" && len(m.Warnings) > 0 && !m.TextFromHTML {
				t.Errorf("warnings %q", m.Warnings)
			}
			if c.warning != "" && !hasWarning(m, "charset", c.warning) {
				t.Errorf("warnings %q, want one about %q", m.Warnings, c.warning)
			}
		})
	}
}

func TestHeaderText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain subject", "plain subject"},
		{"=?UTF-8?Q?caf=C3=A9?= au lait", "café au lait"},
		{"=?UTF-8?B?w6l0w6k=?= =?UTF-8?B?IGNob2Q=?=", "été chod"},                                          // §6.2: the space between words goes
		{"=?UTF-8?B?4oK=?= =?UTF-8?B?rA==?=", "€"},                                                         // a character split across words
		{"=?utf-8?b?eHB0bw?=", "xpto"},                                                                     // missing padding
		{"=?ISO-8859-1*fr?Q?fran=E7ais?=", "français"},                                                     // RFC 2231 §5 language
		{"=?x-unknown?Q?abc?=", "abc"},                                                                     // unknown charset
		{"=?UTF-8?Q?broken", "=?UTF-8?Q?broken"},                                                           // not a word
		{"Re: \xe9t\xe9", "Re: été"},                                                                       // raw Latin-1
		{"Re: \xc3\xa9t\xc3\xa9", "Re: été"},                                                               // raw UTF-8 (RFC 6532)
		{"=?ISO-2022-JP?B?GyRCOzNFRBsoQg==?=", "山田"},                                                       // stateful charset
		{"a =?UTF-8?Q?b?= c", "a b c"},                                                                     // spaces around words stay
		{strings.Repeat("=?", 5000), strings.Repeat("=?", 5000)},                                           // hostile, linear
		{"=?UTF-8?Q?" + strings.Repeat("a", 3000) + "?=", "=?UTF-8?Q?" + strings.Repeat("a", 3000) + "?="}, // too long to be a word
	}
	for _, c := range cases {
		if got := decodeText(c.in); got != c.want {
			t.Errorf("decodeText(%.40q) = %.40q, want %.40q", c.in, got, c.want)
		}
	}
}

func TestAddresses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Jane Doe <jane@example.org>", "Jane Doe|jane@example.org"},
		{`"Doe, Jane" <jane@example.org>`, "Doe, Jane|jane@example.org"},
		{"Doe, Jane <jane@example.org>", "Doe, Jane|jane@example.org"},
		{"jane@example.org (Jane Doe)", "Jane Doe|jane@example.org"},
		{"<jane@example.org>", "|jane@example.org"},
		{"jane@example.org", "|jane@example.org"},
		{"The Service <The Service <hello@example.com>>", "The Service|hello@example.com"},
		{"a@example.org, B <b@example.org>;c@example.org", "|a@example.org;B|b@example.org;|c@example.org"},
		{"Friends: a@example.org, b@example.org;", "|a@example.org;|b@example.org"},
		{"undisclosed-recipients:;", ""},
		{"=?UTF-8?B?Sm/Dq2w=?= <joel@example.fr>", "Joël|joel@example.fr"},
		{`"=?UTF-8?B?Sm/Dq2w=?=" <joel@example.fr>`, "Joël|joel@example.fr"},
		{"'Jane' <jane@example.org>", "Jane|jane@example.org"},
		{"<mailto:jane@example.org>", "|jane@example.org"},
		{`"jane@example.org" <jane@example.org>`, "|jane@example.org"},
		{"J\xe9r\xf4me <jerome@example.fr>", "Jérôme|jerome@example.fr"},
		{"", ""},
		{"<<<<", ""},
	}
	for _, c := range cases {
		var got []string
		for _, a := range parseAddressList(c.in) {
			got = append(got, a.name+"|"+a.address)
		}
		if g := strings.Join(got, ";"); g != c.want {
			t.Errorf("parseAddressList(%q) = %q, want %q", c.in, g, c.want)
		}
	}
}

func TestParams(t *testing.T) {
	cases := []struct {
		in, value, key, want string
	}{
		{`text/plain; charset="utf-8"`, "text/plain", "charset", "utf-8"},
		{`TEXT/Plain;CHARSET=UTF-8;`, "text/plain", "charset", "UTF-8"},
		{`attachment; filename="a \"b\".txt"`, "attachment", "filename", `a "b".txt`},
		{`attachment; filename=My File.pdf`, "attachment", "filename", "My File.pdf"},
		{`attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf`, "attachment", "filename", "€ rates.pdf"},
		{`attachment; filename*=iso-8859-1'fr'caf%E9.txt`, "attachment", "filename", "café.txt"},
		{`attachment; filename*1="b.txt"; filename*0="a"`, "attachment", "filename", "ab.txt"},
		{`attachment; filename="plain.txt"; filename*=UTF-8''better.txt`, "attachment", "filename", "better.txt"},
		{`multipart/mixed; boundary="unterminated`, "multipart/mixed", "boundary", "unterminated"},
		{`multipart/report;`, "multipart/report", "boundary", ""},
		{`application/pdf; name=; x`, "application/pdf", "name", ""},
	}
	for _, c := range cases {
		v, ps := parseParams(c.in)
		if v != c.value || ps[c.key] != c.want {
			t.Errorf("parseParams(%q) = %q, %s=%q; want %q, %q", c.in, v, c.key, ps[c.key], c.value, c.want)
		}
	}
}

func TestTransferEncodings(t *testing.T) {
	qp, bad := decodeQP([]byte("caf=C3=A9 =\r\nau lait   \r\n=3D=3d =ZZ"))
	if string(qp) != "café au lait\r\n== =ZZ" || !bad {
		t.Errorf("decodeQP = %q, %v", qp, bad)
	}
	b, bad := decodeBase64([]byte("aGVs\r\nbG8=\r\nIHdvcmxk"))
	if string(b) != "hello world" || bad {
		t.Errorf("decodeBase64 = %q, %v", b, bad)
	}
	b, bad = decodeBase64([]byte("aGVs*bG8"))
	if string(b) != "hello" || !bad {
		t.Errorf("decodeBase64 of bad input = %q, %v", b, bad)
	}
}

func TestUnflow(t *testing.T) {
	in := "This is a \nflowed paragraph.\n> quoted \n> flowed\n>> deeper\nfixed line\n \nstuffed\n-- \nsig\n"
	want := "This is a flowed paragraph.\n> quoted flowed\n>> deeper\nfixed line\n\nstuffed\n-- \nsig\n"
	if got := unflow(in, false); got != want {
		t.Errorf("unflow =\n%q\nwant\n%q", got, want)
	}
	if got := unflow("split wo \nrd\n", true); got != "split word\n" {
		t.Errorf("unflow delsp = %q", got)
	}
}

func TestEnvelope(t *testing.T) {
	raw := "From: Ann <ann@example.org>\n" +
		"Date: Tue, 5 Mar 2024 10:15:00 +0100 (CET)\n" +
		"Message-ID: no-brackets@example.org\n" +
		"In-Reply-To: <a@example.org> (Ann's message of Monday)\n" +
		"References: <x@example.org>\n\t<y@example.org> <z@example.org>\n" +
		"Auto-Submitted: Auto-Replied; owner-email=\"ann@example.org\"\n" +
		"Precedence: Bulk\n" +
		"X-Loop: one@example.org\nX-Loop: two@example.org\n" +
		"List-ID: <dev.example.org>\n" +
		"\nbody\n"
	m, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Date.IsZero() || m.MessageID != "no-brackets@example.org" || strings.Join(m.InReplyTo, ",") != "a@example.org" ||
		strings.Join(m.References, ",") != "x@example.org,y@example.org,z@example.org" ||
		m.AutoSubmitted != `auto-replied; owner-email="ann@example.org"` || m.Precedence != "bulk" ||
		strings.Join(m.XLoop, ",") != "one@example.org,two@example.org" || m.ListID != "dev.example.org" || !m.IsAutoReply {
		t.Errorf("parsed %+v", m)
	}
}

func TestDates(t *testing.T) {
	cases := map[string]string{
		"Tue, 5 Mar 2024 10:15:00 +0100":        "2024-03-05T09:15:00Z",
		"Tue, 05 Mar 2024 10:15:00 +0100 (CET)": "2024-03-05T09:15:00Z",
		"5 Mar 2024 10:15:00 GMT":               "2024-03-05T10:15:00Z",
		"Tue,  5 Mar 2024 10:15 +0100":          "2024-03-05T09:15:00Z",
		"Tue Mar 5 10:15:00 2024":               "2024-03-05T10:15:00Z",
		"2024-03-05T10:15:00+01:00":             "2024-03-05T09:15:00Z",
		"next Tuesday":                          "0001-01-01T00:00:00Z",
	}
	for in, want := range cases {
		if got := parseDate(in).UTC().Format(time.RFC3339); got != want {
			t.Errorf("parseDate(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAutoReply(t *testing.T) {
	cases := []struct {
		header string
		want   bool
	}{
		{"Auto-Submitted: auto-replied", true},
		{"Auto-Submitted: auto-generated", true},
		{"Auto-Submitted: no", false},
		{"Precedence: auto_reply", true},
		{"Precedence: bulk", false},
		{"X-Autoreply: yes", true},
		{"X-Autorespond: Out of office", true},
		{"X-MS-Exchange-Inbox-Rules-Loop: ann@example.org", true},
		{"X-Apple-Action: VACATION", true},
		{"Subject: Out of Office: Release plan", true},
		{"Subject: Automatic reply: Release plan", true},
		{"Subject: Abwesenheitsnotiz: Release plan", true},
		{"Subject: Réponse automatique : Release plan", true},
		{"Subject: =?UTF-8?Q?R=C3=A9ponse_automatique_:_x?=", true},
		{"Subject: Re: how does the auto reply feature work?", false},
		{"Subject: Re: Release plan", false},
	}
	for _, c := range cases {
		m, err := Parse([]byte("From: a@example.org\n"+c.header+"\n\nbody\n"), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.IsAutoReply != c.want {
			t.Errorf("%s: IsAutoReply = %v, want %v", c.header, m.IsAutoReply, c.want)
		}
	}
}

func TestMalformedShapes(t *testing.T) {
	cases := []struct {
		name, raw, text, warning string
	}{
		{"header without blank line", "From: a@example.org\nSubject: x\nthis is the body\n", "this is the body\n", "no blank line"},
		{"broken header line", "From: a@example.org\nnot a header\nSubject: x\n\nbody", "body", "malformed header line"},
		{"mbox From line", "From a@example.org Tue Mar  5 10:15:00 2024\nFrom: a@example.org\n\nbody", "body", ""},
		{"boundary not found", "Content-Type: multipart/mixed; boundary=zz\n\nno parts here", "no parts here", "not found"},
		{"unknown transfer encoding", "Content-Transfer-Encoding: x-weird\n\nbody", "body", "transfer encoding"},
		{"invalid content type", "Content-Type: nonsense\n\nbody", "body", "invalid content type"},
		{"header only", "From: a@example.org\nSubject: x", "", ""},
		{"empty header", "\nbody", "body", "empty header"},
		{"nested without closes",
			"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=b\n\n--b\n\ninner text\n--b\nContent-Type: text/html\n\n<p>x</p>",
			"inner text", "missing final boundary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse([]byte(c.raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != c.text {
				t.Errorf("Text = %q, want %q", m.Text, c.text)
			}
			if c.warning != "" && !hasWarning(m, c.warning) {
				t.Errorf("warnings %q, want one about %q", m.Warnings, c.warning)
			}
		})
	}
}

func TestNothingToKeep(t *testing.T) {
	for _, raw := range []string{"", " \r\n\t", "\x00\x01\x02binary"} {
		if _, err := Parse([]byte(raw), Limits{}); !errors.Is(err, ErrNoMessage) {
			t.Errorf("Parse(%q) error = %v, want ErrNoMessage", raw, err)
		}
	}
}

func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=x\n\n")
	for i := 0; i < 10; i++ {
		b.WriteString("--x\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=f.bin\n\n0123456789\n")
	}
	b.WriteString("--x--\n")
	m, err := Parse([]byte(b.String()), Limits{MaxAttachmentBytes: 5, MaxParts: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 3 || m.Attachments[0].Data != nil || m.Attachments[0].Size != 10 {
		t.Errorf("attachments = %+v, want 3 without data", m.Attachments)
	}
	if !hasWarning(m, "over the limit") || !hasWarning(m, "more than 4 parts") {
		t.Errorf("warnings %q", m.Warnings)
	}
}

// TestLinearTime feeds shapes that make naive parsers quadratic.
func TestLinearTime(t *testing.T) {
	const n = 1 << 20
	deep := strings.Repeat("Content-Type: multipart/mixed; boundary=b\n\n--b\n", 5000)
	cases := map[string]string{
		"long folded header":  "Subject: x\n" + strings.Repeat(" folded\n", n/8) + "\nbody",
		"many fields":         strings.Repeat("X-A: b\n", n/7) + "\nbody",
		"encoded-word starts": "Subject: " + strings.Repeat("=?", n/2) + "\n\nbody",
		"deep nesting":        deep,
		"many boundaries":     "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n\nx\n", n/7),
		"many params":         "Content-Type: text/plain; " + strings.Repeat("a*1*=b;", n/7) + "\n\nbody",
		"html nesting":        "Content-Type: text/html\n\n" + strings.Repeat("<div><blockquote><a href=x>", n/28),
		"qp soup":             "Content-Transfer-Encoding: quoted-printable\n\n" + strings.Repeat("=\n=Z", n/4),
	}
	for name, raw := range cases {
		// Each must finish (a quadratic parser would not within the test
		// timeout) and must not fail; BenchmarkHostileParse measures speed.
		if _, err := Parse([]byte(raw), Limits{MaxParts: 10000}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func BenchmarkHostileParse(b *testing.B) {
	raw := []byte("Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n\nx\n", 1<<16))
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if _, err := Parse(raw, Limits{MaxParts: 100000}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"divs and br", "<div>One</div><div>Two<br>Three</div><div><br></div><div>Four</div>", "One\nTwo\nThree\n\nFour"},
		{"white space", "<p>  lots   of\n\n space </p>", "lots of space"},
		{"link", `<a href="https://example.org/x">the page</a>`, "the page (https://example.org/x)"},
		{"link that is its url", `<a href="https://example.org/">https://example.org</a>`, "https://example.org"},
		{"mailto", `<a href="mailto:a@example.org">a@example.org</a> or <a href="mailto:b@example.org">Bob</a>`, "a@example.org or Bob (b@example.org)"},
		{"anchor", `<a href="#top">top</a>`, "top"},
		{"lists", "<ul><li>one</li><li>two<ul><li>two.a</li></ul></li></ul><ol><li>first</li><li>second</li></ol>", "- one\n- two\n  - two.a\n\n1. first\n2. second"},
		{"script and style", "<style>p{color:red}</style><script>alert(1)</script><p>text</p><noscript>no</noscript>", "text"},
		{"hidden preheader", `<div style="display: none; max-height:0">preheader</div><p>body</p>`, "body"},
		{"blockquote", "<p>reply</p><blockquote><p>quoted</p><p>more</p></blockquote><p>after</p>", "reply\n\n> quoted\n>\n> more\n\nafter"},
		{"pre", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"entities", "<p>caf&eacute; &amp; &lt;tea&gt;&nbsp;&nbsp;</p>", "café & <tea>"},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a b\nc d"},
		{"image", `<p><img src="x.png" alt="chart"> see</p><img src="t.gif">`, "[image: chart] see"},
		{"outlook paragraphs", `<p class=MsoNormal>one<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>two</p>`, "one\n\ntwo"},
		{"broken html", "<p>unclosed <b>bold <i>both</p>text", "unclosed bold both\n\ntext"},
		{"headings", "<h1>Title</h1>text", "Title\n\ntext"},
		{"invisible characters", "<p>a\u200b\u034fb</p>", "ab"},
		{"empty", "", ""},
	}
	for _, c := range cases {
		if got := HTMLToText(c.in); got != c.want {
			t.Errorf("%s: HTMLToText(%q) =\n%q\nwant\n%q", c.name, c.in, got, c.want)
		}
	}
}

// TestNULAndInvalidUTF8AreCleaned: whatever the encoding that carried
// them, NUL bytes are dropped from the text Parse returns and invalid
// sequences become U+FFFD, while attachments keep their bytes.
func TestNULAndInvalidUTF8AreCleaned(t *testing.T) {
	raw := "From: =?utf-8?q?Ad=00a?= <ada@example.org>\r\nSubject: Hi\x00 there =?utf-8?b?4oKs?=\r\nMessage-ID: <a\x00b@example.org>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\none=00two caf=C3=A9\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+YQBiPC9wPg==\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"x\x00y.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n"
	m, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][2]string{
		"FromName": {m.FromName, "Ada"}, "Subject": {m.Subject, "Hi there €"}, "MessageID": {m.MessageID, "ab@example.org"},
		"Text": {m.Text, "onetwo café"}, "HTML": {m.HTML, "<p>ab</p>"},
	} {
		if got[0] != got[1] {
			t.Errorf("%s = %q, want %q", name, got[0], got[1])
		}
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "xy.bin" || string(m.Attachments[0].Data) != "\x00\x01\x02" {
		t.Fatalf("attachment: %+v", m.Attachments)
	}
}
