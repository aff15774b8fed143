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
}

func (d *inboxDB) count(q string, args ...any) int64 {
	d.t.Helper()
	return d.id(q, args...)
}
