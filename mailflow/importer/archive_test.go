package importer_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/importer"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// mbox joins lines with LF.
func mbox(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

type storedMessage struct {
	Thread           int64
	Parent           *int64
	Author           *int64
	From, Subject    string
	Body             string
	Created, Approve time.Time
}

func messagesByID(t *testing.T, st *store.Store, groupID int64) map[string]storedMessage {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `
		SELECT message_id, thread_id, parent_id, author_id, from_email, subject, body, created_at, approved_at
		FROM messages WHERE group_id = $1 AND status = 'approved' AND source = 'email'`, groupID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]storedMessage{}
	for rows.Next() {
		var id string
		var m storedMessage
		if err := rows.Scan(&id, &m.Thread, &m.Parent, &m.Author, &m.From, &m.Subject, &m.Body, &m.Created, &m.Approve); err != nil {
			t.Fatal(err)
		}
		out[id] = m
	}
	return out
}

type storedThread struct {
	Subject       string
	Count         int
	Created, Last time.Time
}

func thread(t *testing.T, st *store.Store, id int64) storedThread {
	t.Helper()
	var th storedThread
	if err := st.Pool().QueryRow(context.Background(), `SELECT subject, message_count, created_at, last_message_at FROM threads WHERE id = $1`, id).
		Scan(&th.Subject, &th.Count, &th.Created, &th.Last); err != nil {
		t.Fatal(err)
	}
	return th
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestImportMailmanArchive: a Mailman archive has no In-Reply-To, hides
// addresses ("alice at example.org") and escapes "From " lines: replies
// find their thread by subject within 30 days.
func TestImportMailmanArchive(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	g := newGroup(t, st, "garden")
	alice, err := st.CreateUser(ctx, store.NewUser{Email: "Alice@example.org", Name: "Alice Archer", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	// An account nobody confirmed is not trusted with Bob's history.
	if _, err := st.CreateUser(ctx, store.NewUser{Email: "bob@example.org", Name: "Not Bob"}); err != nil {
		t.Fatal(err)
	}
	archive := mbox(
		"From alice at example.org  Mon Jan  1 10:00:00 2024",
		"From: alice at example.org (Alice Archer)",
		"Date: Mon, 01 Jan 2024 10:00:00 +0000",
		"Subject: [garden] Tomatoes",
		"Message-ID: <t1@example.org>",
		"",
		"Who grows tomatoes?",
		"",
		">From the seed catalogue: plenty.",
		">>From here: still quoted once.",
		"",
		"From bob at example.org  Tue Jan  2 09:00:00 2024",
		"From: bob at example.org (Bob Builder)",
		"Date: Tue, 02 Jan 2024 09:00:00 +0000",
		"Subject: Re: [garden] Tomatoes",
		"Message-ID: <t2@example.org>",
		"",
		"I do.",
		"",
		"From cat at example.org  Fri Jan 26 12:00:00 2024",
		"From: cat at example.org (Cat)",
		"Date: Fri, 26 Jan 2024 12:00:00 +0000",
		"Subject: RE: tomatoes",
		"Message-ID: <t3@example.org>",
		"",
		"Me too, 24 days after Bob.",
		"",
		"From dan at example.org  Mon Apr  1 12:00:00 2024",
		"From: dan at example.org (Dan)",
		"Date: Mon, 01 Apr 2024 12:00:00 +0000",
		"Subject: Re: [garden] Tomatoes",
		"Message-ID: <t4@example.org>",
		"",
		"Two months later: a new thread.",
		"",
		"From eve at example.org  Tue Jan  2 12:00:00 2024",
		"From: eve at example.org (Eve)",
		"Date: Tue, 02 Jan 2024 12:00:00 +0000",
		"Subject: [garden] Roses",
		"Message-ID: <r1@example.org>",
		"",
		"Roses, not tomatoes.",
	)
	im := &importer.Importer{Store: st}
	res, err := im.ImportMbox(ctx, g, strings.NewReader(archive), importer.MboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 5 messages in 3 threads, skipped 0 (already there: 0, unreadable: 0)"; got != want {
		t.Errorf("summary %q, want %q (problems %v)", got, want, res.Problems)
	}
	ms := messagesByID(t, st, g.ID)
	t1, t2, t3, t4, r1 := ms["t1@example.org"], ms["t2@example.org"], ms["t3@example.org"], ms["t4@example.org"], ms["r1@example.org"]
	if t1.Thread == 0 || t2.Thread != t1.Thread || t3.Thread != t1.Thread {
		t.Errorf("replies by subject did not join the thread: %d %d %d", t1.Thread, t2.Thread, t3.Thread)
	}
	if t4.Thread == t1.Thread || r1.Thread == t1.Thread || t4.Thread == r1.Thread {
		t.Errorf("a reply two months later, or another subject, joined the thread")
	}
	if t2.Parent == nil || t3.Parent == nil || t1.Parent != nil {
		t.Errorf("parents: %v %v %v", t1.Parent, t2.Parent, t3.Parent)
	}
	if t1.Author == nil || *t1.Author != alice.ID || t1.From != "alice@example.org" {
		t.Errorf("Alice's message: author %v from %q", t1.Author, t1.From)
	}
	if t2.Author != nil || t2.From != "bob@example.org" {
		t.Errorf("Bob's message: author %v from %q; want no author", t2.Author, t2.From)
	}
	if n := queryInt(t, st, `SELECT count(*) FROM users`); n != 3 {
		t.Errorf("%d users: the import made accounts", n)
	}
	if want := "Who grows tomatoes?\n\nFrom the seed catalogue: plenty.\n>From here: still quoted once."; strings.TrimSpace(t1.Body) != want {
		t.Errorf("body %q, want %q", t1.Body, want)
	}
	th := thread(t, st, t1.Thread)
	if want := (storedThread{Subject: "[garden] Tomatoes", Count: 3, Created: utc("2024-01-01 10:00"), Last: utc("2024-01-26 12:00")}); !th.Created.Equal(want.Created) ||
		!th.Last.Equal(want.Last) || th.Subject != want.Subject || th.Count != want.Count {
		t.Errorf("thread %+v, want %+v", th, want)
	}
	if !t3.Created.Equal(utc("2024-01-26 12:00")) || !t3.Approve.Equal(t3.Created) {
		t.Errorf("dates of a message: created %v approved %v", t3.Created, t3.Approve)
	}
}

// TestImportGoogleGroupsArchive: Google Groups' export has Message-IDs
// and References: replies follow them whatever their subject, and a
// reply met before its parent starts a thread of its own.
func TestImportGoogleGroupsArchive(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	g := newGroup(t, st, "seeds")
	ann, err := st.CreateUser(ctx, store.NewUser{Email: "ann@example.org", Name: "Ann", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id, from, date, subject, inReplyTo, refs, body string) []string {
		l := []string{"From 17099000000000" + id + " Mon Mar  4 10:00:00 +0000 2024",
			"X-Received: by 10.0.0.1 with SMTP id " + id,
			"Message-ID: <" + id + "@groups.example>",
			"Date: " + date,
			"From: " + from,
			"Subject: " + subject,
			"MIME-Version: 1.0",
			"Content-Type: text/plain; charset=\"UTF-8\"",
			"Content-Transfer-Encoding: quoted-printable"}
		if inReplyTo != "" {
			l = append(l, "In-Reply-To: <"+inReplyTo+"@groups.example>")
		}
		if refs != "" {
			l = append(l, "References: "+refs)
		}
		return append(append(l, "", body), "")
	}
	var lines []string
	for _, m := range [][]string{
		msg("a", "Ann <ann@example.org>", "Mon, 4 Mar 2024 10:00:00 +0000", "Seed swap in April", "", "", "Bring seeds=2C please."),
		// c answers b, which comes later; its References name a too.
		msg("c", "Cat <cat@example.org>", "Tue, 5 Mar 2024 08:00:00 +0000", "Different subject entirely", "b",
			"<a@groups.example>\n <b@groups.example>", "Agreed with Bob."),
		msg("b", "Bob <bob@example.org>", "Mon, 4 Mar 2024 18:00:00 +0000", "Re: Seed swap in April", "a", "<a@groups.example>", "I'll bring beans."),
		// d answers x, which comes later and has another subject.
		msg("d", "Dan <dan@example.org>", "Fri, 8 Mar 2024 09:00:00 +0000", "Re: Worm bins", "x", "<x@groups.example>", "Mine is in the shed."),
		msg("x", "Ann <ann@example.org>", "Thu, 7 Mar 2024 09:00:00 +0000", "Worms", "", "", "Who keeps worms?"),
	} {
		lines = append(lines, m...)
	}
	res, err := (&importer.Importer{Store: st}).ImportMbox(ctx, g, strings.NewReader(strings.Join(lines, "\n")), importer.MboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 5 messages in 3 threads, skipped 0 (already there: 0, unreadable: 0)"; got != want {
		t.Errorf("summary %q, want %q (problems %v)", got, want, res.Problems)
	}
	ms := messagesByID(t, st, g.ID)
	a, b, c, d, x := ms["a@groups.example"], ms["b@groups.example"], ms["c@groups.example"], ms["d@groups.example"], ms["x@groups.example"]
	if b.Thread != a.Thread || c.Thread != a.Thread || b.Parent == nil || c.Parent == nil {
		t.Errorf("References not followed: a %d, b %d (parent %v), c %d (parent %v)", a.Thread, b.Thread, b.Parent, c.Thread, c.Parent)
	}
	var aID int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM messages WHERE message_id = 'a@groups.example'`).Scan(&aID); err != nil {
		t.Fatal(err)
	}
	if *c.Parent != aID || *b.Parent != aID {
		t.Errorf("parents: b %d, c %d, want %d", *b.Parent, *c.Parent, aID)
	}
	if d.Thread == x.Thread {
		t.Error("a parent imported after its reply joined the reply's thread although the subjects differ")
	}
	if c.Body != "Agreed with Bob." || a.Body != "Bring seeds, please." {
		t.Errorf("bodies %q %q", c.Body, a.Body)
	}
	if a.Author == nil || *a.Author != ann.ID || x.Author == nil || c.Author != nil || c.From != "cat@example.org" {
		t.Errorf("authors: a %v, x %v, c %v %q", a.Author, x.Author, c.Author, c.From)
	}
	th := thread(t, st, a.Thread)
	if th.Count != 3 || !th.Created.Equal(utc("2024-03-04 10:00")) || !th.Last.Equal(utc("2024-03-05 08:00")) || th.Subject != "Seed swap in April" {
		t.Errorf("thread %+v", th)
	}
}

// TestImportMboxBadMessagesAndAgain: bad messages are reported with the
// line they start on and skipped; messages without a Message-ID or Date
// still import; a second run imports nothing; and nothing is mailed.
func TestImportMboxBadMessagesAndAgain(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	g := newGroup(t, st, "birds")
	// Members who would get every message if these were posts.
	for _, e := range []string{"m1@example.org", "m2@example.org"} {
		u, err := st.CreateUser(ctx, store.NewUser{Email: e, Name: e, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: u.ID, Status: mailflow.MemberActive, Delivery: mailflow.DeliveryImmediate}); err != nil {
			t.Fatal(err)
		}
	}
	archive := mbox(
		"From ann@example.org Mon Jan  1 00:00:00 2024", // 1
		"From: Ann <ann@example.org>",
		"Date: Mon, 1 Jan 2024 08:00:00 +0100",
		"Subject: Owls",
		"Message-ID: <owls@example.org>",
		"",
		"An owl at dusk.",
		"",
		"From nobody Mon Jan  1 00:00:00 2024", // 9: no From header
		"Subject: Who sent this?",
		"Message-ID: <anon@example.org>",
		"",
		"No sender.",
		"",
		"From bob@example.org Tue Jan  2 07:30:00 2024", // 15: no Message-ID, no Date
		"From: bob@example.org",
		"Subject: Re: Owls",
		"",
		"Two owls here.",
		"",
		"From empty Wed Jan  3 00:00:00 2024", // 21: nothing at all
		"",
		"From cat@example.org Thu Jan  4 00:00:00 2024", // 23
		"From: cat@example.org",
		"Date: Thu, 4 Jan 2024 12:00:00 +0000",
		"Subject: Herons",
		"Message-ID: <herons@example.org>",
		"",
		"A heron.",
	)
	im := &importer.Importer{Store: st}
	var progress []int
	res, err := im.ImportMbox(ctx, g, strings.NewReader(archive), importer.MboxOptions{Progress: func(n int, read int64) {
		progress = append(progress, n)
		if read > int64(len(archive)) {
			t.Errorf("progress: %d bytes read of %d", read, len(archive))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 3 messages in 2 threads, skipped 2 (already there: 0, unreadable: 2)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var lines []int
	for _, p := range res.Problems {
		lines = append(lines, p.Line)
	}
	if !reflect.DeepEqual(lines, []int{9, 21}) || !strings.Contains(res.Problems[0].Msg, "no From address") {
		t.Errorf("problems %v, want lines 9 and 21", res.Problems)
	}
	if !reflect.DeepEqual(progress, []int{1, 2, 3, 4, 5}) {
		t.Errorf("progress calls %v", progress)
	}

	ms := messagesByID(t, st, g.ID)
	owls := ms["owls@example.org"]
	if !owls.Created.Equal(utc("2024-01-01 07:00")) || !owls.Approve.Equal(owls.Created) {
		t.Errorf("the Date header was not kept: %v / %v", owls.Created, owls.Approve)
	}
	// The message without a Message-ID gets one from its bytes, and
	// without a Date the "From " line's; it joins Owls by subject.
	var synthetic string
	var created time.Time
	var thread int64
	if err := st.Pool().QueryRow(ctx, `SELECT message_id, created_at, thread_id FROM messages
		WHERE message_id = encode(sha256(raw_source), 'hex') || '@import.invalid'`).Scan(&synthetic, &created, &thread); err != nil {
		t.Fatalf("no message with a Message-ID made from its bytes: %v", err)
	}
	if !created.Equal(utc("2024-01-02 07:30")) || thread != owls.Thread {
		t.Errorf("message without Date: created %v in thread %d, want the From line's date in %d", created, thread, owls.Thread)
	}
	if n := queryInt(t, st, `SELECT count(*) FROM messages WHERE raw_source IS NULL OR octet_length(raw_source) = 0`); n != 0 {
		t.Errorf("%d messages without their raw source", n)
	}

	// Nothing was mailed, or queued to be.
	if n := queryInt(t, st, `SELECT count(*) FROM deliveries`); n != 0 {
		t.Errorf("%d deliveries", n)
	}
	if n := queryInt(t, st, `SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("%d jobs queued (fan-out would mail the members)", n)
	}

	// Again: everything is there already, and nothing changes.
	snapshot := func() string {
		return queryString(t, st, `SELECT concat((SELECT count(*) FROM messages), '/', (SELECT count(*) FROM threads), '/',
			(SELECT sum(message_count) FROM threads), '/', (SELECT max(last_message_at) FROM threads))`)
	}
	before := snapshot()
	res, err = im.ImportMbox(ctx, g, strings.NewReader(archive), importer.MboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 0 messages in 0 threads, skipped 5 (already there: 3, unreadable: 2)"; got != want {
		t.Errorf("second run: %q, want %q", got, want)
	}
	if after := snapshot(); after != before {
		t.Errorf("the second run changed messages or threads: %s → %s", before, after)
	}
}
