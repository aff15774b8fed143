package store_test

import (
	"context"
	"testing"
	"time"
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

	claimed, err := d.st.ClaimDeliveries(ctx, 50, time.Minute)
	if err != nil {
		t.Fatal(err)
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
	if more, err := d.st.ClaimDeliveries(ctx, 50, time.Minute); err != nil || len(more) != 0 {
		t.Errorf("a second claim took %d copies (err %v), want none: the skipped ones are settled", len(more), err)
	}
}
