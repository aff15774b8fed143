package digest_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// TestSendNowAndItsDryRunAgree: send-digests --now --dry-run reports,
// member by member, exactly what the real --now then sends (the same
// messages up to the same cut-off, not a message posted after it), and
// records and sends nothing itself. After --now, the next scheduled
// digest starts where it ended, and a scheduled digest that came due
// before it but was recorded only after is found empty rather than
// sending the same messages again.
func TestSendNowAndItsDryRunAgree(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	g := group(t, st, "now", owner)
	member(t, st, "alice@example.org", "UTC", g, mailflow.DeliveryDigest)
	member(t, st, "bob@example.org", "UTC", g, mailflow.DeliveryWeekly)
	carol := member(t, st, "carol@example.org", "UTC", g, mailflow.DeliveryDigest)
	st.Pool().Exec(ctx, `UPDATE memberships SET created_at = now() - interval '1 day'`)

	// The run's cut-off: at a quarter to an hour, in the past, so that
	// the hour's scheduled digest falls between the posts below.
	now := time.Now().Add(-2 * time.Hour).Truncate(time.Hour).Add(45 * time.Minute)
	post := posting.New(st, "lists.test", log, posting.Hooks{})
	for i, ago := range []time.Duration{3 * time.Hour, 2 * time.Hour, time.Hour, 20 * time.Minute} {
		acc, err := post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Topic " + strconv.Itoa(i),
			Body: "Message " + strconv.Itoa(i), Source: mailflow.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		// At 2h30, 1h30 and 0h30 before the cut-off, and 10 minutes after.
		mustExec(t, st, `UPDATE messages SET created_at = $2 WHERE id = $1`, acc.Message.ID, now.Add(30*time.Minute-ago))
	}
	// Carol's last digest went out two hours before the cut-off: hers
	// holds the two messages since.
	mustExec(t, st, `INSERT INTO digests (user_id, period, period_key, due_at, state) VALUES ($1, 'daily', $2::date - 1, $3, 'sent')`,
		carol.ID, now, now.Add(-2*time.Hour))

	newSvc, sink := sinkServices(t, st, log)
	svc := func(hour int) *digest.Service { return newSvc(digest.Schedule{Hour: hour, Weekday: time.Monday}) }
	digests := func() int { return count(t, st, `SELECT count(*) FROM digests`) }
	type got struct {
		Email, Period string
		Messages      int
		Sent          bool
	}
	summary := func(out []digest.Outcome) []got {
		var g []got
		for _, o := range out {
			g = append(g, got{o.Email, o.Period, o.Messages, o.Sent})
		}
		slices.SortFunc(g, func(a, b got) int { return strings.Compare(a.Email+a.Period, b.Email+b.Period) })
		return g
	}
	want := []got{{"alice@example.org", "daily", 3, true}, {"bob@example.org", "weekly", 3, true}, {"carol@example.org", "daily", 2, true}}

	dry, err := svc(7).SendNow(ctx, now, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := summary(dry); !slices.Equal(g, want) {
		t.Fatalf("dry run reports %+v, want %+v", g, want)
	}
	if sink.Count() != 0 || digests() != 1 {
		t.Fatalf("the dry run sent %d emails and left %d digests recorded, want none and Carol's old one", sink.Count(), digests())
	}

	real, err := svc(7).SendNow(ctx, now, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := summary(real); !slices.Equal(g, summary(dry)) {
		t.Fatalf("the real run sent %+v, the dry run promised %+v", g, summary(dry))
	}
	if sink.Count() != 3 {
		t.Fatalf("%d digest emails, want 3", sink.Count())
	}
	for _, e := range sink.Envelopes() {
		if e.To[0] == "carol@example.org" && (!strings.Contains(string(e.Data), "Message 2") || strings.Contains(string(e.Data), "Message 0")) {
			t.Errorf("Carol's digest does not hold just what came since her last one:\n%s", e.Data)
		}
		if strings.Contains(string(e.Data), "Message 3") {
			t.Errorf("the digest to %s holds the message posted after the cut-off", e.To[0])
		}
	}

	// Carol's scheduled digest due at the hour before the cut-off (after
	// her last digest and the second post), found only now: --now sent
	// what it holds.
	late := svc(now.Hour())
	res, err := late.Scan(ctx, now, "carol@example.org")
	if err != nil || len(res.Created) != 1 {
		t.Fatalf("scan for Carol: %+v %v", res, err)
	}
	if out, err := late.Send(ctx, res.Created[0], false); err != nil || !strings.HasPrefix(out, "nothing new") {
		t.Fatalf("Carol's late scheduled digest: %q %v, want nothing new", out, err)
	}

	// Alice's next scheduled digest, due a quarter of an hour after the
	// cut-off, starts there: it holds only the message posted after it.
	next := now.Add(2 * time.Hour)
	sched := svc(next.Add(-time.Hour).Hour())
	res, err = sched.Scan(ctx, next, "alice@example.org")
	if err != nil || len(res.Created) != 1 {
		t.Fatalf("scan for Alice: %+v %v", res, err)
	}
	sink.Reset()
	if out, err := sched.Send(ctx, res.Created[0], false); err != nil || !strings.HasPrefix(out, "sent 1 messages") {
		t.Fatalf("Alice's next digest: %q %v, want the one message since --now", out, err)
	}
	if envs := sink.Envelopes(); len(envs) != 1 || !strings.Contains(string(envs[0].Data), "Message 3") {
		t.Fatalf("Alice's next digest does not hold the message posted after --now")
	}
}

func mustExec(t *testing.T, st *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := st.Pool().Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func count(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
