package inbound_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail/smtp"

	"github.com/parleymail/parley/mailflow/inbound"
	"github.com/parleymail/parley/mailflow/store"
)

// TestNULMailIsPosted: NUL bytes in a post (raw in the body, =00 in
// quoted-printable, raw in the Subject) no longer make its processing
// fail forever: it is posted, its stored text has no NUL and is valid
// UTF-8, and the stored raw copy keeps the bytes as received.
func TestNULMailIsPosted(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("nul", owner)
	mails := []string{
		"From: owner@example.org\nTo: nul@lists.test\nSubject: Raw NUL\nMessage-ID: <raw.nul@example.org>\n\nbefore\x00after \xff\xfe end\n",
		"From: owner@example.org\nTo: nul@lists.test\nSubject: QP NUL\nMessage-ID: <qp.nul@example.org>\nMIME-Version: 1.0\n" +
			"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nbefore=00after caf=C3=A9 =FF\n",
		"From: owner@example.org\nTo: nul@lists.test\nSubject: Subject\x00with NUL\nMessage-ID: <subject.nul@example.org>\n\nplain body\n",
	}
	for _, m := range mails {
		if err := r.send("owner@example.org", []string{"nul@lists.test"}, m); err != nil {
			t.Fatal(err)
		}
	}
	out := r.waitInbound(len(mails))
	for i, o := range out {
		if !strings.Contains(o, "posted") {
			t.Errorf("message %d: %q, want posted", i, o)
		}
	}
	rows, err := r.st.Pool().Query(ctx, `SELECT subject, body FROM messages WHERE group_id = $1 ORDER BY id`, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		var subject, body string
		if err := rows.Scan(&subject, &body); err != nil {
			t.Fatal(err)
		}
		n++
		for _, s := range []string{subject, body} {
			if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
				t.Errorf("stored text %q has NUL or invalid UTF-8", s)
			}
		}
		if strings.HasPrefix(body, "before") && !strings.HasPrefix(body, "beforeafter") {
			t.Errorf("body %q: the NUL should be dropped, the text kept", body)
		}
	}
	rows.Close()
	if n != len(mails) {
		t.Fatalf("%d posted, want %d", n, len(mails))
	}
	// The raw copies keep every NUL: two raw ones and the literal "=00".
	var rawNUL, qp int
	if err := r.st.Pool().QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE position('\x00'::bytea IN c.data) > 0),
		count(*) FILTER (WHERE position('before=00after'::bytea IN c.data) > 0)
		FROM inbound_message_chunks c`).Scan(&rawNUL, &qp); err != nil {
		t.Fatal(err)
	}
	if rawNUL != 2 || qp != 1 {
		t.Fatalf("raw copies: %d with a NUL (want 2), %d with =00 (want 1)", rawNUL, qp)
	}
	in, err := r.st.InboundByID(ctx, 1)
	if err != nil || !strings.Contains(string(in.Raw), "before\x00after \xff\xfe end") {
		t.Fatalf("raw copy as loaded for processing: %q %v", in.Raw, err)
	}
}

// TestLoopsAreNeitherPostedNorAnswered: mail carrying one of our groups'
// List-Id, or sent from one of Parley's own addresses, is recorded as a
// loop; nothing is posted and nothing is sent.
func TestLoopsAreNeitherPostedNorAnswered(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	member := r.user("member@example.org", true)
	r.group("garden", owner, member)
	r.group("other", owner)
	cases := []struct{ from, to, raw string }{
		{"member@example.org", "garden@lists.test", "From: Member <member@example.org>\nTo: garden@lists.test\nSubject: Re: seeds\n" +
			"List-Id: Group garden <garden.lists.test>\nMessage-ID: <listid.loop@example.org>\n\nLooped text\n"},
		{"garden@lists.test", "garden@lists.test", "From: \"Someone via Group garden\" <garden@lists.test>\nTo: garden@lists.test\nSubject: own address\n" +
			"Message-ID: <own.loop@example.org>\n\nFrom the group itself\n"},
		{"owner@example.org", "garden+help@lists.test", "From: other+owner@lists.test\nTo: garden+help@lists.test\nSubject: help\n" +
			"Message-ID: <other.loop@example.org>\n\nhelp\n"},
		{"bounces+abc@lists.test", "garden@lists.test", "From: Stranger <stranger@example.net>\nTo: garden@lists.test\nSubject: verp sender\n" +
			"Message-ID: <verp.loop@example.org>\n\nHello\n"},
		{"no-reply@lists.test", "garden@lists.test", "From: Parley <no-reply@lists.test>\nTo: garden@lists.test\nSubject: system mail\n" +
			"Message-ID: <system.loop@example.org>\n\nWelcome\n"},
	}
	for _, c := range cases {
		if err := r.send(c.from, []string{c.to}, c.raw); err != nil {
			t.Fatal(err)
		}
	}
	out := r.waitInbound(len(cases))
	for i, o := range out {
		if !strings.Contains(o, "dropped: loop:") {
			t.Errorf("message %d: %q, want recorded as a loop", i, o)
		}
	}
	var posted int
	_ = r.st.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&posted)
	if posted != 0 {
		t.Errorf("%d messages posted, want none", posted)
	}
	// A message that is not a loop, sent after them, is answered: when its
	// answer has arrived, any answer to the loops would have too.
	if err := r.send("stranger@example.net", []string{"garden+help@lists.test"}, "From: stranger@example.net\nTo: garden+help@lists.test\nSubject: help\n\nhelp\n"); err != nil {
		t.Fatal(err)
	}
	r.waitInbound(len(cases) + 1)
	if !r.sink.WaitFor(1, 15*time.Second) {
		t.Fatal("the help answer to a stranger was not sent")
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range r.sink.Envelopes() {
		for _, to := range m.To {
			if !strings.EqualFold(to, "stranger@example.net") {
				t.Errorf("mail sent to %s; loops must not be answered", to)
			}
		}
	}
}

// TestMaxConnectionsAcrossAddresses: SMTP_MAX_CONNECTIONS counts every
// connection whatever its address; one more gets 421, and a place frees
// when a connection ends.
func TestMaxConnectionsAcrossAddresses(t *testing.T) {
	r := newRig(t, func(c *inbound.Config) { c.MaxConns = 2; c.MaxConnsPerIP = 10 })
	var open []*smtp.Client
	for range 2 {
		c, err := smtp.Dial(r.addr)
		if err != nil {
			t.Fatalf("connection within the cap: %v", err)
		}
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
	}
	_, err := smtp.Dial(r.addr)
	if smtpCode(err) != 421 || strings.Contains(err.Error(), "from your address") {
		t.Fatalf("third connection: %v, want 421 for too many connections in all", err)
	}
	_ = open[0].Quit()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := smtp.Dial(r.addr)
		if err == nil {
			_ = c.Quit()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after one connection closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = open[1].Quit()
}

// TestFailedProcessingIsRecordedAndRetried: a message whose processing
// fails every time (PostgreSQL refuses its post, through a trigger) ends
// "failed" with the reason within the retry budget, is counted, and is
// processed again by a retry once the cause is gone.
func TestFailedProcessingIsRecordedAndRetried(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	g := r.group("poison", owner)
	if _, err := r.st.Pool().Exec(ctx, `
		CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'disk on fire'; END $$;
		CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW
			WHEN (NEW.subject = 'Poison') EXECUTE FUNCTION refuse_poison();`); err != nil {
		t.Fatal(err)
	}
	if err := r.send("owner@example.org", []string{"poison@lists.test"}, "From: owner@example.org\nTo: poison@lists.test\nSubject: Poison\nMessage-ID: <poison@example.org>\n\nHello\n"); err != nil {
		t.Fatal(err)
	}
	out := r.waitInbound(1)
	var state string
	_ = r.st.Pool().QueryRow(ctx, `SELECT state FROM inbound_messages`).Scan(&state)
	if state != "failed" || !strings.Contains(out[0], "failed after 5 attempts") || !strings.Contains(out[0], "disk on fire") {
		t.Fatalf("state %q, outcome %q: want failed with the reason", state, out[0])
	}
	list, err := r.st.InboundNeedingAttention(ctx, 10)
	if err != nil || len(list) != 1 || list[0].MailFrom != "owner@example.org" || list[0].RcptTo[0] != "poison@lists.test" {
		t.Fatalf("listed for admins: %+v %v", list, err)
	}
	if _, err := r.st.Pool().Exec(ctx, `DROP TRIGGER refuse_poison ON messages`); err != nil {
		t.Fatal(err)
	}
	if err := r.st.RetryInbound(ctx, list[0].ID, func(tx *store.Store) error {
		return tx.Enqueue(ctx, inbound.ProcessArgs{InboundID: list[0].ID})
	}); err != nil {
		t.Fatal(err)
	}
	out = r.waitInbound(1)
	if !strings.Contains(out[0], "posted") {
		t.Fatalf("after the retry: %q", out[0])
	}
	threads, _ := r.st.ListThreads(ctx, g.ID, 0, true, 10, 0)
	if len(threads) != 1 {
		t.Fatalf("%d threads after the retry, want 1", len(threads))
	}
	if list, _ := r.st.InboundNeedingAttention(ctx, 10); len(list) != 0 {
		t.Fatalf("still listed after a successful retry: %+v", list)
	}
}
