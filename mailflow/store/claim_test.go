package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store"
)

// No foreign key ties a delivery to its account and message (migration
// 0026), so a fan-out that read a member just before their account was
// deleted, or a message just before it went, can leave a queued copy
// behind. The claim settles such copies as skipped, with the reason, and
// nothing goes out to the deleted address.
func TestClaimSkipsCopiesOfDeletedAccountsAndMessages(t *testing.T) {
	ctx := context.Background()
	d := newInboxDB(t)
	g := d.group("kingfishers")
	owner, ada, bob := d.user("owner"), d.user("ada"), d.user("bob")
	for _, u := range []int64{owner, ada, bob} {
		d.member(g, u, "member", "active")
	}
	m1 := d.id(`SELECT id FROM messages WHERE thread_id = $1`, d.thread(g, owner, "A flash of blue", 1, 0, "By the weir."))
	m2 := d.id(`SELECT id FROM messages WHERE thread_id = $1`, d.thread(g, owner, "Nest bank", 2, 0, "Below the alders."))
	row := func(m, u int64) int64 {
		return d.id(`INSERT INTO deliveries (message_id, user_id, email) SELECT $1, id, email FROM users WHERE id = $2 RETURNING id`, m, u)
	}
	toAda, toBob, secondToBob := row(m1, ada), row(m1, bob), row(m2, bob)
	d.exec(`DELETE FROM users WHERE id = $1`, ada)
	d.exec(`DELETE FROM messages WHERE id = $1`, m2)

	cl, err := d.st.ClaimDeliveries(ctx, 50, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	claimed := cl.Deliveries
	if cl.Settled != 2 {
		t.Errorf("the claim settled %d copies, want 2 (Ada's and the deleted message's)", cl.Settled)
	}
	if len(claimed) != 1 || claimed[0].ID != toBob || claimed[0].Email != "bob@example.org" || claimed[0].Name != "bob" {
		t.Fatalf("claimed %+v, want only Bob's copy of the message still there", claimed)
	}
	for _, c := range []struct {
		id     int64
		reason string
	}{{toAda, "account deleted"}, {secondToBob, "message deleted"}} {
		var state, reason string
		if err := d.st.Pool().QueryRow(ctx, `SELECT state, skip_reason FROM deliveries WHERE id = $1`, c.id).Scan(&state, &reason); err != nil {
			t.Fatal(err)
		}
		if state != "skipped" || reason != c.reason {
			t.Errorf("delivery %d is %s (%q), want skipped (%q)", c.id, state, reason, c.reason)
		}
	}
	if more, err := d.st.ClaimDeliveries(ctx, 50, time.Minute, nil); err != nil || more.Took() {
		t.Errorf("a second claim took %+v (err %v), want nothing: the skipped ones are settled", more, err)
	}
}

// A sender's claims look from where its last claim stopped (QueueCursor),
// so that they do not step over the dead index entries of everything
// claimed before. A copy that becomes due behind that place (here, one
// due an hour ago, as a claim rolled back or a clock behind the
// database's would leave it) is not lost: the cursor looks from the front
// again within cursorRescan and takes it.
func TestClaimCursorFindsCopiesDueBehindIt(t *testing.T) {
	ctx := context.Background()
	d := newInboxDB(t)
	g := d.group("herons")
	owner, ada, bob, cy, dan := d.user("owner"), d.user("ada"), d.user("bob"), d.user("cy"), d.user("dan")
	for _, u := range []int64{owner, ada, bob, cy, dan} {
		d.member(g, u, "member", "active")
	}
	m := d.id(`SELECT id FROM messages WHERE thread_id = $1`, d.thread(g, owner, "Still water", 1, 0, "At dawn."))
	row := func(u int64, due string) int64 {
		return d.id(`INSERT INTO deliveries (message_id, user_id, email, next_attempt_at)
			SELECT $1, id, email, now() + $3::interval FROM users WHERE id = $2 RETURNING id`, m, u, due)
	}
	toAda, toBob, toCy := row(ada, "-2 minutes"), row(bob, "-1 minute"), row(cy, "-1 minute")
	claim := func(cur *store.QueueCursor) []int64 {
		t.Helper()
		cl, err := d.st.ClaimDeliveries(ctx, 10, time.Minute, cur)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range cl.Deliveries {
			ids = append(ids, c.ID)
		}
		return ids
	}
	var cur store.QueueCursor
	if got := claim(&cur); !slices.Equal(got, []int64{toAda, toBob, toCy}) {
		t.Fatalf("first claim took %v, want %v", got, []int64{toAda, toBob, toCy})
	}
	toDan := row(dan, "-1 hour")
	if got := claim(&cur); len(got) != 0 {
		t.Fatalf("a claim from the cursor took %v; want nothing, Dan's copy is due behind it", got)
	}
	if got := claim(nil); !slices.Equal(got, []int64{toDan}) {
		t.Fatalf("a claim from the front took %v, want Dan's copy %d", got, toDan)
	}
	d.exec(`UPDATE deliveries SET state = 'queued', next_attempt_at = now() - interval '1 hour' WHERE id = $1`, toDan)
	cur.Rescan()
	if got := claim(&cur); !slices.Equal(got, []int64{toDan}) {
		t.Fatalf("the cursor's rescan took %v, want Dan's copy %d", got, toDan)
	}
	// Copies due after the cursor's place are found at once.
	d.exec(`UPDATE deliveries SET state = 'queued', next_attempt_at = now() WHERE id = $1`, toBob)
	if got := claim(&cur); !slices.Equal(got, []int64{toBob}) {
		t.Fatalf("a claim from the cursor took %v, want Bob's copy %d", got, toBob)
	}
}
