package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// A thread whose every message is hidden from a member (under an open
// flag, or by an author banned from the group or the site) is neither
// listed in their inbox nor counted by their badge; its author and the
// group's moderators still have it. Lifting what hid it brings it back.
func TestInboxHidesThreadsWithNothingVisible(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "hidden-inbox")
	dave, err := f.st.CreateUser(ctx, store.NewUser{Email: "dave@hidden-inbox.example", Name: "dave", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	f.join(t, dave, mailflow.MemberActive)
	mk := func(subject string, by mailflow.User) (mailflow.Thread, mailflow.Message) {
		t.Helper()
		th, err := f.st.CreateThread(ctx, f.g.ID, subject, &by.ID)
		if err != nil {
			t.Fatal(err)
		}
		return th, f.post(t, th, by, mailflow.MessageApproved, subject+" text")
	}
	flagged, flaggedMsg := mk("Flagged", f.ann)
	mixed, _ := mk("Mixed", f.ann)
	f.post(t, mixed, f.owner, mailflow.MessageApproved, "a visible answer")
	mixedFlag := f.post(t, mixed, f.ann, mailflow.MessageApproved, "flagged answer")
	banned, _ := mk("By dave", dave)
	for _, id := range []int64{flaggedMsg.ID, mixedFlag.ID} {
		if err := f.st.FlagMessage(ctx, id, f.bob.ID, "rude"); err != nil {
			t.Fatal(err)
		}
	}
	f.join(t, dave, mailflow.MemberBanned)

	listed := func(who mailflow.User) []string {
		t.Helper()
		page, err := f.st.InboxPage(ctx, store.InboxQuery{UserID: who.ID})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range page.Items {
			out = append(out, it.Subject)
		}
		slices.Sort(out)
		return out
	}
	badge := func(who mailflow.User) int {
		t.Helper()
		n, err := f.st.InboxBadge(ctx, who.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	expect := func(when string, who mailflow.User, want []string) {
		t.Helper()
		if got := listed(who); !slices.Equal(got, want) {
			t.Errorf("%s, %s's inbox lists %q, want %q", when, who.Name, got, want)
		}
	}

	expect("flagged and banned", f.bob, []string{"Mixed"})
	if n := badge(f.bob); n != 1 {
		t.Errorf("bob's badge counts %d threads, want 1 (Mixed)", n)
	}
	expect("flagged and banned", f.ann, []string{"Flagged", "Mixed"}) // her own messages, flagged or not
	// The owner moderates: flagged messages show to them, a banned
	// author's to no one but the author.
	expect("flagged and banned", f.owner, []string{"Flagged", "Mixed"})
	if n := badge(f.owner); n != 2 {
		t.Errorf("the owner's badge counts %d, want 2 (dave's ban removed his thread)", n)
	}

	// The inbox's bulk actions reach only the threads it lists.
	if n, err := f.st.InboxMarkRead(ctx, f.bob.ID, store.InboxSelection{ThreadIDs: []int64{flagged.ID, banned.ID}}); err != nil || n != 0 {
		t.Errorf("marking hidden threads read touched %d (%v), want 0", n, err)
	}

	// The flag kept, the ban lifted: both come back.
	if _, err := f.st.ResolveFlags(ctx, flaggedMsg.ID, f.owner.ID, "approved"); err != nil {
		t.Fatal(err)
	}
	f.join(t, dave, mailflow.MemberActive)
	expect("after the flag was kept and the ban lifted", f.bob, []string{"By dave", "Flagged", "Mixed"})
	if n := badge(f.bob); n != 3 {
		t.Errorf("bob's badge counts %d, want 3", n)
	}

	// Banned from the whole site, and back.
	if err := f.st.SetUserStatus(ctx, dave.ID, mailflow.UserBanned); err != nil {
		t.Fatal(err)
	}
	expect("dave banned from the site", f.bob, []string{"Flagged", "Mixed"})
	if err := f.st.SetUserStatus(ctx, dave.ID, mailflow.UserActive); err != nil {
		t.Fatal(err)
	}
	expect("dave's account restored", f.bob, []string{"By dave", "Flagged", "Mixed"})

	// A flagged message removed: its thread shows what is left.
	if _, err := f.st.ResolveFlags(ctx, mixedFlag.ID, f.owner.ID, "removed"); err != nil {
		t.Fatal(err)
	}
	expect("after a removal", f.bob, []string{"By dave", "Flagged", "Mixed"})
}
