package importer_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/importer"
)

// readAll splits an mbox with the importer's reader.
func readAll(t *testing.T, mbox string, max int) []*importer.MboxMessage {
	t.Helper()
	r := importer.NewMboxReader(strings.NewReader(mbox), max)
	var out []*importer.MboxMessage
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	if r.Offset() != int64(len(mbox)) {
		t.Errorf("offset %d after the last message, want %d", r.Offset(), len(mbox))
	}
	return out
}

func TestMboxSplitting(t *testing.T) {
	mbox := "From alice@example.org Mon Jan  1 10:00:00 2024\n" + // line 1
		"From: alice@example.org\n" +
		"Subject: one\n" +
		"\n" +
		"From the garden, with love.\n" + // 5: after a blank line, so escaped below
		"\n" +
		">From here on, escaped once (mboxrd).\n" +
		">>From here, escaped twice.\n" +
		"> From a quote: not an escape.\n" +
		"From mid-paragraph lines are not separators\n" + // 10: not after a blank line
		"\n" +
		"From bob@example.org Tue Jan  2 11:00:00 2024\n" + // 12
		"From: bob@example.org\r\n" +
		"Subject: two\r\n" +
		"\r\n" +
		"Body two.\r\n" +
		"\r\n" +
		"\r\n" +
		"From cat@example.org Wed Jan  3 12:00:00 2024\n" + // 19
		"From: cat@example.org\n" +
		"\n" +
		"Last, without a final newline"

	// Line 5 follows a blank line, so by the mbox rule it starts a message:
	// mboxo writers escape it (">From the garden"), and so does this test
	// for everything but the separator check below.
	mbox = strings.Replace(mbox, "From the garden", ">From the garden", 1)
	msgs := readAll(t, mbox, 0)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, want := range []int{1, 12, 19} {
		if msgs[i].Line != want {
			t.Errorf("message %d starts at line %d, want %d", i, msgs[i].Line, want)
		}
	}
	if msgs[0].FromLine != "alice@example.org Mon Jan  1 10:00:00 2024" {
		t.Errorf("From line %q", msgs[0].FromLine)
	}
	want0 := "From: alice@example.org\nSubject: one\n\nFrom the garden, with love.\n\nFrom here on, escaped once (mboxrd).\n" +
		">From here, escaped twice.\n> From a quote: not an escape.\nFrom mid-paragraph lines are not separators\n"
	if got := string(msgs[0].Raw); got != want0 {
		t.Errorf("first message:\n%q\nwant\n%q", got, want0)
	}
	// The blank line before the separator is the separator's; the
	// message's own trailing blank line stays.
	if got, want := string(msgs[1].Raw), "From: bob@example.org\r\nSubject: two\r\n\r\nBody two.\r\n\r\n"; got != want {
		t.Errorf("second message %q, want %q", got, want)
	}
	if got, want := string(msgs[2].Raw), "From: cat@example.org\n\nLast, without a final newline"; got != want {
		t.Errorf("last message %q, want %q", got, want)
	}
}

func TestMboxStartAndLimits(t *testing.T) {
	// A file that does not start with "From " (a single message saved as
	// is): the whole file is one message, from its first line.
	msgs := readAll(t, "\nFrom: a@example.org\nSubject: x\n\nhello\n", 0)
	if len(msgs) != 1 || msgs[0].Line != 2 || msgs[0].FromLine != "" || !strings.HasPrefix(string(msgs[0].Raw), "From: a@example.org") {
		t.Fatalf("file without a From line: %+v", msgs)
	}
	if msgs := readAll(t, "", 0); len(msgs) != 0 {
		t.Fatalf("empty file: %d messages", len(msgs))
	}
	// A message over the limit is read through and marked, and the next
	// one is whole.
	big := "From x Mon Jan  1 00:00:00 2024\nFrom: a@example.org\n\n" + strings.Repeat("0123456789\n", 100) +
		"\nFrom y Mon Jan  1 00:00:00 2024\nFrom: b@example.org\n\nsmall\n"
	msgs = readAll(t, big, 500)
	if len(msgs) != 2 || !msgs[0].TooLarge || msgs[1].TooLarge || msgs[1].Line != 105 {
		t.Fatalf("limit: %d messages, %+v", len(msgs), msgs)
	}
	// Lines longer than the reader's buffer.
	long := strings.Repeat("x", 200_000)
	msgs = readAll(t, "From x Mon Jan  1 00:00:00 2024\nFrom: a@example.org\n\n"+long+"\n", 0)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Raw), long+"\n") {
		t.Fatal("a long line was not kept whole")
	}
}

func TestNormalizeSubject(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Tomatoes", "tomatoes"},
		{"Re: Tomatoes", "tomatoes"},
		{"RE: re: Fwd: Tomatoes", "tomatoes"},
		{"[garden] Re: [garden] Tomatoes", "tomatoes"},
		{"AW: SV: Fw: Tomatoes  in   June ", "tomatoes in june"},
		{"Re[2]: Tomatoes", "tomatoes"},
		{"Re^3: Tomatoes", "tomatoes"},
		{"Re : Tomatoes", "tomatoes"},
		{"Réf: Tomates", "tomates"},
		{"Regarding tomatoes", "regarding tomatoes"},
		{"Tree: planting", "tree: planting"},
		{"[unclosed tag", "[unclosed tag"},
		{"Re:", ""},
		{"", ""},
	} {
		if got := importer.NormalizeSubject(c.in); got != c.want {
			t.Errorf("NormalizeSubject(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
