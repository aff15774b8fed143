package retention_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/retention"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// seedList makes a group of n members, a day of its traffic 40 days ago
// and another 2 days ago (deliveries sent, failed and skipped, bounce
// events, received messages).
func seedList(t *testing.T, st *store.Store, n int) mailflow.Group {
	t.Helper()
	ctx := context.Background()
	owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "garden", Name: "Garden", JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SeedMembers(ctx, g.ID, n, "example.org"); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for _, ago := range []int{40, 2} {
		if _, err := st.SeedGrowthDay(ctx, store.GrowthDay{GroupID: g.ID, Day: today.AddDate(0, 0, -ago), Posts: 3, Deliver: true, Inbound: 4}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func count(t *testing.T, st *store.Store, q string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, st *store.Store, q string) {
	t.Helper()
	if _, err := st.Pool().Exec(context.Background(), q); err != nil {
		t.Fatal(err)
	}
}

var dashboard = []string{"deliveries", "failures", "bounces", "complaints"}

func series(t *testing.T, st *store.Store) map[string][]store.DailyCount {
	t.Helper()
	out := map[string][]store.DailyCount{}
	for _, s := range dashboard {
		got, err := st.Series(context.Background(), s, 60)
		if err != nil {
			t.Fatal(err)
		}
		out[s] = got
	}
	return out
}

// The dashboard's figures are the same before and after the rows they
// count are removed; rows newer than the settings, pending deliveries
// however old, and received mail an admin may still retry all stay.
func TestPruneKeepsDashboardFiguresAndPendingWork(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	seedList(t, st, 200)
	// An old delivery still waiting to be retried, and one being sent:
	// the outbound queue, never removed.
	exec(t, st, `UPDATE deliveries SET state = 'deferred' WHERE id = (SELECT min(id) FROM deliveries WHERE state = 'sent')`)
	exec(t, st, `UPDATE deliveries SET state = 'sending' WHERE id = (SELECT max(id) FROM deliveries WHERE created_at < now() - interval '30 days' AND state = 'sent')`)
	// Old received mail that failed, and one never processed: an admin
	// may still retry them.
	exec(t, st, `UPDATE inbound_messages SET state = 'failed' WHERE id = (SELECT min(id) FROM inbound_messages)`)
	exec(t, st, `UPDATE inbound_messages SET state = 'received' WHERE id = (SELECT min(id) + 1 FROM inbound_messages)`)

	before := series(t, st)
	if slices.IndexFunc(before["deliveries"], func(d store.DailyCount) bool { return d.Count > 0 && d.Day.Before(time.Now().AddDate(0, 0, -30)) }) < 0 {
		t.Fatalf("no deliveries counted 40 days ago before pruning: %v", before["deliveries"])
	}
	oldDeliveries := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at < now() - interval '30 days'`)
	newDeliveries := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at > now() - interval '30 days'`)

	svc := &retention.Service{Store: st, Batch: 97, Policy: retention.Policy{Deliveries: 30 * 24 * time.Hour, Inbound: 30 * 24 * time.Hour, BounceEvents: 30 * 24 * time.Hour}}
	res, err := svc.Run(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].Table != "deliveries" || res[0].Deleted != int64(oldDeliveries-2) || res[0].Batches < 2 || !res[0].Done {
		t.Fatalf("deliveries pruned: %+v, want %d removed over several batches", res, oldDeliveries-2)
	}

	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at < now() - interval '30 days'`); n != 2 {
		t.Errorf("%d old deliveries left, want the 2 pending ones", n)
	}
	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at < now() - interval '30 days' AND state IN ('deferred', 'sending')`); n != 2 {
		t.Errorf("the pending old deliveries are gone: %d left", n)
	}
	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at > now() - interval '30 days'`); n != newDeliveries {
		t.Errorf("%d recent deliveries left, want all %d", n, newDeliveries)
	}
	if n := count(t, st, `SELECT count(*) FROM inbound_messages WHERE received_at < now() - interval '30 days'`); n != 2 {
		t.Errorf("%d old received messages left, want the failed and the unprocessed one", n)
	}
	if n := count(t, st, `SELECT count(*) FROM inbound_message_chunks c JOIN inbound_messages m ON m.id = c.inbound_id`); n != count(t, st, `SELECT count(*) FROM inbound_message_chunks`) {
		t.Error("raw bytes of removed received messages are left behind")
	}
	if n := count(t, st, `SELECT count(*) FROM bounce_events WHERE received_at < now() - interval '30 days'`); n != 0 {
		t.Errorf("%d old bounce events left", n)
	}
	if n := count(t, st, `SELECT count(*) FROM bounce_events WHERE received_at > now() - interval '30 days'`); n == 0 {
		t.Error("recent bounce events were removed")
	}

	after := series(t, st)
	for _, s := range dashboard {
		if !slices.Equal(before[s], after[s]) {
			t.Errorf("%s per day changed with pruning:\nbefore %v\nafter  %v", s, before[s], after[s])
		}
	}

	// A second run finds nothing, and the figures still hold.
	res, err = svc.Run(ctx, time.Now())
	if err != nil || res[0].Deleted != 0 || res[1].Deleted != 0 || res[2].Deleted != 0 {
		t.Fatalf("second run: %v %+v", err, res)
	}
	again := series(t, st)
	for _, s := range dashboard {
		if !slices.Equal(before[s], again[s]) {
			t.Errorf("%s per day changed with a second run:\nbefore %v\nafter  %v", s, before[s], again[s])
		}
	}
}

// A run stops at its budget and says so; the next run goes on. A zero
// setting keeps that kind of row forever.
func TestPruneBudgetAndKeepForever(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	seedList(t, st, 50)
	inbound := count(t, st, `SELECT count(*) FROM inbound_messages`)
	svc := &retention.Service{Store: st, Batch: 10, Budget: time.Nanosecond, Policy: retention.Policy{Deliveries: 30 * 24 * time.Hour, BounceEvents: 30 * 24 * time.Hour}}
	res, err := svc.Run(ctx, time.Now())
	if !errors.Is(err, retention.ErrUnfinished) || len(res) != 1 || res[0].Batches != 1 || res[0].Done {
		t.Fatalf("first run with no budget: %v %+v, want one batch and ErrUnfinished", err, res)
	}
	svc.Budget = 0
	for err = retention.ErrUnfinished; errors.Is(err, retention.ErrUnfinished); {
		_, err = svc.Run(ctx, time.Now())
	}
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE created_at < now() - interval '30 days'`); n != 0 {
		t.Errorf("%d old deliveries left after the runs that followed", n)
	}
	if n := count(t, st, `SELECT count(*) FROM inbound_messages`); n != inbound {
		t.Errorf("received messages kept forever: %d left of %d", n, inbound)
	}
}

// Two kinds of old settled deliveries stay: those of a message whose
// fan-out is still to be retried (it resumes after the highest member it
// finds among its rows; with them gone it would mail the whole group
// again), and a copy retried for weeks and sent only yesterday (a bounce
// report for it may still come, and must find it).
func TestPruneKeepsUnfinishedFanoutAndLateSends(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	seedList(t, st, 40)
	old := `created_at < now() - interval '30 days'`
	msgs := `SELECT DISTINCT message_id FROM deliveries WHERE ` + old + ` ORDER BY message_id`
	var retried, others int64
	if err := st.Pool().QueryRow(ctx, `SELECT min(message_id), max(message_id) FROM (`+msgs+`) m`).Scan(&retried, &others); err != nil || retried == others {
		t.Fatalf("want two old messages: %v", err)
	}
	// The first old message's fan-out failed part-way and waits for its
	// next attempt.
	exec(t, st, `INSERT INTO river_job (kind, state, args, scheduled_at) VALUES ('fanout', 'retryable', '{"message_id": `+
		itoa(retried)+`}', now() + interval '2 days')`)
	// One copy of the last old message was deferred until yesterday.
	exec(t, st, `UPDATE deliveries SET sent_at = now() - interval '1 day' WHERE id = (SELECT max(id) FROM deliveries WHERE message_id = `+itoa(others)+` AND state = 'sent')`)
	rowsOf := func(id int64) int {
		return count(t, st, `SELECT count(*) FROM deliveries WHERE message_id = `+itoa(id))
	}
	kept := rowsOf(retried)
	if kept == 0 {
		t.Fatal("no rows for the retried message")
	}

	svc := &retention.Service{Store: st, Batch: 13, Policy: retention.Policy{Deliveries: 30 * 24 * time.Hour}}
	if _, err := svc.Run(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(retried); n != kept {
		t.Errorf("the unfinished fan-out's rows were pruned: %d of %d left", n, kept)
	}
	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE sent_at > now() - interval '2 days' AND `+old); n != 1 {
		t.Errorf("the copy sent yesterday was pruned (%d left)", n)
	}
	if n := count(t, st, `SELECT count(*) FROM deliveries WHERE `+old); n != kept+1 {
		t.Errorf("%d old deliveries left, want the retried message's %d and the late copy", n, kept)
	}

	// Once the fan-out has finished, its rows go with the next run.
	exec(t, st, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE kind = 'fanout'`)
	if _, err := svc.Run(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(retried); n != 0 {
		t.Errorf("%d rows of the finished fan-out left", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
