package outbound_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// A fan-out longer than half the lease hands its job back between batches
// and, taken up again, continues after the members already expanded: a
// large group is never stuck re-expanding its first batches.
func TestFanoutSlicesAndResumes(t *testing.T) {
	const n = 2500 // three batches
	ctx := context.Background()
	st := storetest.New(t)
	owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "big", Name: "Big", JoinPolicy: mailflow.JoinOpen,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `
		WITH u AS (INSERT INTO users (email, name, email_verified_at)
			SELECT 'm' || i || '@example.org', 'M' || i, now() FROM generate_series(1, $2::int) i RETURNING id)
		INSERT INTO memberships (group_id, user_id, delivery) SELECT $1, id, 'immediate' FROM u`, g.ID, n); err != nil {
		t.Fatal(err)
	}
	acc, err := posting.New(st, "lists.test", slog.New(slog.DiscardHandler), posting.Hooks{}).Accept(ctx, posting.Submission{
		Author: &owner, GroupID: g.ID, Subject: "Hi", Body: "Hello", Source: mailflow.SourceAPI})
	if err != nil {
		t.Fatal(err)
	}
	// A lease so short that every batch ends a slice.
	w := &outbound.FanoutWorker{Store: st, Log: slog.New(slog.DiscardHandler), Lease: time.Nanosecond}
	job := &river.Job[outbound.FanoutArgs]{JobRow: &rivertype.JobRow{}, Args: outbound.FanoutArgs{MessageID: acc.Message.ID}}
	slices := 0
	for {
		err := w.Work(ctx, job)
		if err == nil {
			break
		}
		var snooze *river.JobSnoozeError
		if !errors.As(err, &snooze) {
			t.Fatalf("slice %d: %v", slices, err)
		}
		if slices++; slices > 5 {
			t.Fatal("the fan-out does not progress")
		}
	}
	if slices != 2 {
		t.Errorf("%d slices handed back, want 2 (after the first and second batch)", slices)
	}
	counts, err := st.DeliveryCounts(ctx, acc.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if total := counts["queued"] + counts["skipped"]; total != n+1 && total != n {
		t.Fatalf("deliveries %v, want %d members", counts, n)
	}
}
