package threads

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store"
)

func TestMboxQuotingIsMboxrd(t *testing.T) {
	date := time.Date(2026, 3, 7, 9, 5, 1, 0, time.FixedZone("X", 3600))
	msg := "Subject: hi\r\n\r\nFrom the start\r\n>From once quoted\r\n>>From twice\r\nFromage\r\n From indented\r\n"
	var b bytes.Buffer
	if err := writeMbox(&b, "owls@lists.test", date, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	want := "From owls@lists.test Sat Mar  7 08:05:01 2026\n" +
		"Subject: hi\n\n" +
		">From the start\n>>From once quoted\n>>>From twice\nFromage\n From indented\n\n"
	if b.String() != want {
		t.Fatalf("mbox:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestMboxBuiltMessage(t *testing.T) {
	id := int64(7)
	m := store.MboxMessage{
		MessageID: "abc@lists.test", InReplyTo: "parent@lists.test", Subject: "Ça va\r\nBcc: evil@example.org",
		Body: "Hello\nFrom here on", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		AuthorID: &id, AuthorName: "Zoë Owl", FromEmail: "zoe@private.example",
	}
	raw := mboxSource(m, "owls@lists.test")
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("built message does not parse: %v\n%s", err, raw)
	}
	from, err := mail.ParseAddress(parsed.Header.Get("From"))
	if err != nil || from.Name != "Zoë Owl" || from.Address != "owls@lists.test" {
		t.Fatalf("From = %v (%v), want the author's name at the group's address", from, err)
	}
	if strings.Contains(string(raw), "private.example") {
		t.Fatal("the member's own address is in the download")
	}
	if parsed.Header.Get("Bcc") != "" {
		t.Fatal("a subject added a header")
	}
	for k, v := range map[string]string{"Message-Id": "<abc@lists.test>", "In-Reply-To": "<parent@lists.test>",
		"Content-Type": "text/plain; charset=utf-8", "Date": "Fri, 02 Jan 2026 03:04:05 +0000"} {
		if got := parsed.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	m.AuthorID, m.FromEmail = nil, ""
	if raw := mboxSource(m, "owls@lists.test"); !bytes.Contains(raw, []byte(`"Deleted member" <owls@lists.test>`)) {
		t.Fatalf("deleted author:\n%s", raw)
	}
	m.Raw = []byte("From: someone\r\n\r\nas received")
	if raw := mboxSource(m, "owls@lists.test"); string(raw) != string(m.Raw) {
		t.Fatal("a message received by mail is not kept as received")
	}
}

func TestSearchHighlightEscapesFirst(t *testing.T) {
	in := "an " + store.HighlightStart + "owl" + store.HighlightStop + ` <script>alert(1)</script> <img src=x onerror=alert(1)> & "q"`
	got := string(highlight(in))
	want := `an <mark>owl</mark> &amp; &#34;q&#34;`
	if got != want {
		t.Fatalf("highlight:\n%s\nwant\n%s", got, want)
	}
	// A snippet is cut from Markdown: it shows as plain text, entities
	// decoded once, and a mark the cut leaves open is closed.
	in = "we need **" + store.HighlightStart + "seeds" + store.HighlightStop + "** &amp; <b onclick=\"x()\">soil</b> \ue000 " + store.HighlightStart + "water"
	if got, want := string(highlight(in)), `we need <mark>seeds</mark> &amp; soil <mark>water</mark>`; got != want {
		t.Fatalf("highlight:\n%s\nwant\n%s", got, want)
	}
	// A long message shows a window around its first match.
	in = strings.Repeat("before ", 100) + "**" + store.HighlightStart + "owl" + store.HighlightStop + "** " + strings.Repeat("after ", 100)
	got = string(highlight(in))
	if !strings.HasPrefix(got, "…before") || !strings.Contains(got, "before <mark>owl</mark> after") || !strings.HasSuffix(got, "after…") || len(got) > 400 {
		t.Fatalf("highlight of a long message:\n%s", got)
	}
}

func TestThreadAuthorNames(t *testing.T) {
	id := int64(3)
	head := []byte("Received: x\r\nFrom: =?utf-8?q?Andr=C3=A9?= <andre@example.org>\r\nSubject: s\r\n\r\nbody")
	bare := []byte("From: andre@example.org\r\n\r\n")
	cases := []struct {
		name      string
		id        *int64
		from      string
		head      []byte
		moderator bool
		want      string
	}{
		{"member", &id, "ann@example.org", nil, false, "Ann"},
		{"deleted", nil, "", nil, false, "Deleted member"},
		{"no account, moderator", nil, "andre@example.org", head, true, "andre@example.org"},
		{"no account, named", nil, "andre@example.org", head, false, "André"},
		{"no account, no name", nil, "andre@example.org", bare, false, "Non-member"},
		{"no account, no source", nil, "andre@example.org", nil, false, "Non-member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := authorOf(tc.id, "Ann", "", tc.from, tc.head, tc.moderator, true)
			if a.Name != tc.want {
				t.Fatalf("name = %q, want %q", a.Name, tc.want)
			}
			if a.Link != (tc.id != nil) {
				t.Fatalf("link = %v", a.Link)
			}
		})
	}
}

func TestArchiveMonthParsing(t *testing.T) {
	from, to, ok := parseMonth("2026-02")
	if !ok || from != time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) || to != time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("2026-02 = %v %v %v", from, to, ok)
	}
	for _, bad := range []string{"2026-2", "2026-13", "26-02", "2026-02-01", ""} {
		if _, _, ok := parseMonth(bad); ok {
			t.Errorf("%q parsed as a month", bad)
		}
	}
}
