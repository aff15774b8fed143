package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// A muted thread is mailed to nobody who muted it, a followed one to a
// digest member at once, and the digest of that member then leaves out
// what was mailed; the default changes nothing.
func TestThreadPrefsChooseRecipients(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "prefs")
	if _, err := f.st.SetDelivery(ctx, f.g.ID, f.bob.ID, mailflow.DeliveryDigest); err != nil {
		t.Fatal(err)
	}
	th, err := f.st.CreateThread(ctx, f.g.ID, "Herons", &f.owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if prev, err := f.st.SetThreadPref(ctx, f.ann.ID, th.ID, mailflow.ThreadMuted); err != nil || prev != mailflow.ThreadDefault {
		t.Fatalf("mute: previous %q, %v", prev, err)
	}
	if _, err := f.st.SetThreadPref(ctx, f.bob.ID, th.ID, mailflow.ThreadFollowed); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Minute)
	m := f.post(t, th, f.owner, mailflow.MessageApproved, "the herons are back")
	if _, _, err := f.st.ExpandBatch(ctx, m, 0, 1000, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := queuedRecipients(t, f.st, m.ID)
	if want := []int64{f.owner.ID, f.bob.ID}; !slices.Equal(got, want) {
		t.Fatalf("mailed to %v, want the owner (every message) and bob (digest, following) %v; not ann (muted)", got, want)
	}

	// bob's own reply is not mailed to him for following: following
	// brings others' messages.
	own := f.post(t, th, f.bob, mailflow.MessageApproved, "I saw six")
	if _, _, err := f.st.ExpandBatch(ctx, own, 0, 1000, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := queuedRecipients(t, f.st, own.ID); !slices.Equal(got, []int64{f.owner.ID}) {
		t.Fatalf("bob's own reply mailed to %v, want the owner only", got)
	}

	ch, err := f.st.DigestChoicesFor(ctx, f.bob.ID, before, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Keep(th.ID, m.ID) {
		t.Error("bob's digest repeats a message mailed to him at once")
	}
	if !ch.Keep(th.ID, m.ID+1000) || !ch.Keep(th.ID+1000, m.ID+1000) {
		t.Error("bob's digest leaves out what was not mailed to him")
	}
	ach, err := f.st.DigestChoicesFor(ctx, f.ann.ID, before, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ach.Keep(th.ID, m.ID+1000) {
		t.Error("ann's digest shows a thread she muted")
	}

	list, err := f.st.ChosenThreads(ctx, f.ann.ID, 50)
	if err != nil || len(list) != 1 || list[0].Pref != mailflow.ThreadMuted || list[0].Subject != "Herons" {
		t.Fatalf("ann's chosen threads: %+v, %v", list, err)
	}
	// Undo: back to the default, and the row is gone.
	if prev, err := f.st.SetThreadPref(ctx, f.ann.ID, th.ID, mailflow.ThreadDefault); err != nil || prev != mailflow.ThreadMuted {
		t.Fatalf("undo: previous %q, %v", prev, err)
	}
	if p, err := f.st.ThreadPref(ctx, f.ann.ID, th.ID); err != nil || p != mailflow.ThreadDefault {
		t.Fatalf("after undo: %q, %v", p, err)
	}
	// Following one's own thread never overrides a choice.
	if _, err := f.st.SetThreadPref(ctx, f.bob.ID, th.ID, mailflow.ThreadMuted); err != nil {
		t.Fatal(err)
	}
	if err := f.st.FollowThreadUnlessChosen(ctx, f.bob.ID, th.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.st.ThreadPref(ctx, f.bob.ID, th.ID); p != mailflow.ThreadMuted {
		t.Fatalf("auto-follow overrode a mute: %q", p)
	}
}

// queuedRecipients lists the users a message's fan-out queued mail for.
func queuedRecipients(t *testing.T, st *store.Store, messageID int64) []int64 {
	t.Helper()
	rows, _ := st.Pool().Query(context.Background(), `SELECT user_id FROM deliveries WHERE message_id = $1 AND state = 'queued' ORDER BY user_id`, messageID)
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return got
}
