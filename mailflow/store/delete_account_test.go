package store_test

import (
	"context"
	"testing"
)

// A member who wrote to a group's owners can still delete their account:
// the private conversation goes with it, and their group posts stay
// without an author.
func TestDeleteAccountWithPrivateConversation(t *testing.T) {
	d := newInboxDB(t)
	g := d.group("otters")
	owner, ada := d.user("owner"), d.user("ada")
	d.member(g, owner, "owner", "active")
	d.member(g, ada, "member", "active")
	public := d.thread(g, ada, "Otters below the mill", 1, 0, "Two otters.")
	private := d.thread(g, ada, "A holt on private land", 2, ada, "May we survey it?")
	d.exec(`INSERT INTO thread_states (user_id, thread_id) VALUES ($1, $2), ($3, $2)`, ada, private, owner)
	// Both were mailed the private conversation and Ada's public post;
	// Ada's own copy of the post is still queued.
	d.exec(`INSERT INTO deliveries (message_id, user_id, email, state)
		SELECT m.id, u.id, u.email, CASE WHEN u.id = $3 AND m.thread_id = $2 THEN 'queued' ELSE 'sent' END
		FROM messages m, users u WHERE m.thread_id IN ($1, $2) AND u.id IN ($3, $4)`, private, public, ada, owner)

	if _, err := d.st.DeleteAccount(context.Background(), ada); err != nil {
		t.Fatalf("deleting an account with a private conversation: %v", err)
	}
	if n := d.count(`SELECT count(*) FROM threads WHERE id = $1`, private); n != 0 {
		t.Errorf("the private conversation is still there after its member deleted their account")
	}
	if n := d.count(`SELECT count(*) FROM messages WHERE thread_id = $1 AND author_id IS NULL`, public); n != 1 {
		t.Errorf("%d authorless messages in the public thread, want its one message kept without an author", n)
	}
	if n := d.count(`SELECT count(*) FROM users WHERE id = $1`, ada); n != 0 {
		t.Errorf("the account is still there")
	}
	// No foreign key ties deliveries to messages and users (migration
	// 0026): what the cascades did, the deletion does.
	if n := d.count(`SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.thread_id = $1`, private); n != 0 {
		t.Errorf("%d copies of the deleted private conversation are still recorded", n)
	}
	if n := d.count(`SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = d.message_id)`); n != 0 {
		t.Errorf("%d deliveries name a message that is gone", n)
	}
	if n := d.count(`SELECT count(*) FROM deliveries WHERE user_id = $1 OR email ILIKE 'ada%'`, ada); n != 0 {
		t.Errorf("%d deliveries still name the deleted account or its address", n)
	}
	if n := d.count(`SELECT count(*) FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.thread_id = $1 AND d.user_id = $2 AND d.state = 'sent'`, public, owner); n != 1 {
		t.Errorf("the owner's copy of Ada's public post: %d rows, want it kept", n)
	}
}

func (d *inboxDB) count(q string, args ...any) int64 {
	d.t.Helper()
	return d.id(q, args...)
}
