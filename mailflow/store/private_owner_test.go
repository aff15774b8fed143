package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// A thread written to one owner is the writer's and that owner's: the
// group's other owners neither get its mail nor find it in their inbox
// or in search, and neither do the members.
func TestPrivateThreadToOneOwner(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "one-owner")
	// bob becomes the group's second owner.
	if _, _, err := f.st.SetMembership(ctx, mailflow.Membership{GroupID: f.g.ID, UserID: f.bob.ID, Role: mailflow.RoleOwner,
		Status: mailflow.MemberActive}); err != nil {
		t.Fatal(err)
	}
	th, err := f.st.CreateThread(ctx, f.g.ID, "For you alone", &f.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.SetThreadPrivate(ctx, th.ID, mailflow.Private{MemberID: f.ann.ID, OwnerID: f.owner.ID}); err != nil {
		t.Fatal(err)
	}
	m := f.post(t, th, f.ann, mailflow.MessageApproved, "a quiet word about pelicans")

	if _, _, err := f.st.ExpandBatch(ctx, m, 0, 1000, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := queuedRecipients(t, f.st, m.ID)
	if want := []int64{f.owner.ID, f.ann.ID}; !slices.Equal(got, want) {
		t.Fatalf("mailed to %v, want the writer and the one owner %v", got, want)
	}

	wt, err := f.st.ThreadWithPrivacy(ctx, th.ID)
	if err != nil || wt.Private() == nil || *wt.Private() != (mailflow.Private{MemberID: f.ann.ID, OwnerID: f.owner.ID}) {
		t.Fatalf("thread privacy: %+v, %v", wt.Private(), err)
	}

	for _, c := range []struct {
		name  string
		who   mailflow.User
		sees  bool
		badge int // the writer's own post is not news to them
	}{
		{"the writer", f.ann, true, 0},
		{"the owner written to", f.owner, true, 1},
		{"another owner", f.bob, false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, err := f.st.InboxPage(ctx, store.InboxQuery{UserID: c.who.ID})
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.ContainsFunc(page.Items, func(it store.InboxItem) bool { return it.ThreadID == th.ID })
			if listed != c.sees {
				t.Errorf("listed in the inbox: %v, want %v", listed, c.sees)
			}
			badge, err := f.st.InboxBadge(ctx, c.who.ID)
			if err != nil {
				t.Fatal(err)
			}
			if badge != c.badge {
				t.Errorf("badge %d, want %d", badge, c.badge)
			}
			u := c.who
			hits, err := f.st.SearchMessages(ctx, "pelicans", mailflow.ScopeOf(&u), 0, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if found := len(hits) == 1; found != c.sees {
				t.Errorf("found by search: %v, want %v", found, c.sees)
			}
		})
	}
}
