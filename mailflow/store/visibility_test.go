package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// TestVisibilityMatchesPolicy holds the SQL of every list that decides
// who sees a message (the thread page, search, the inbox, the resources
// page, and the recipients of a message's mail) to the policy functions
// (CanReadThread, CanSeeGroupMessage, CanFindMessage, CanAccessResource):
// for each person in each role and each kind of message, the list shows
// it exactly when the policy says so.
func TestVisibilityMatchesPolicy(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "matrix") // owner, ann, bob: members; carol: banned from the group
	st := f.st
	mk := func(name string, super bool) mailflow.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: name + "@matrix.example", Name: name, Verified: true, Superuser: super})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	owner2, mod, erin, dave, root := mk("owner2", false), mk("mod", false), mk("erin", false), mk("dave", false), mk("root", true)
	for _, m := range []mailflow.Membership{
		{UserID: owner2.ID, Role: mailflow.RoleOwner}, {UserID: mod.ID, Role: mailflow.RoleModerator}, {UserID: erin.ID, Role: mailflow.RoleMember},
	} {
		m.GroupID, m.Status = f.g.ID, mailflow.MemberActive
		if _, _, err := st.SetMembership(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// One message a thread, each of a kind that some may see and others
	// not, each with a file attached.
	type item struct {
		name    string
		msg     mailflow.Message
		private *mailflow.Private
		state   mailflow.MessageState
		word    string
	}
	var items []*item
	add := func(name string, by mailflow.User, status mailflow.MessageStatus, p *mailflow.Private, word string) *item {
		th, err := st.CreateThread(ctx, f.g.ID, name, &by.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			if err := st.SetThreadPrivate(ctx, th.ID, *p); err != nil {
				t.Fatal(err)
			}
		}
		it := &item{name: name, msg: f.post(t, th, by, status, "about the "+word), private: p, word: word}
		if _, _, _, err := st.CreateResource(ctx, store.NewResource{GroupID: f.g.ID, UploaderID: &by.ID, MessageID: &it.msg.ID,
			Name: word + ".txt", Filename: word + ".txt", ContentType: "text/plain", Kind: mailflow.ResourceKind("document"),
			Size: 3, ContentHash: fmt.Sprintf("%064x", it.msg.ID), BlobKey: "files/" + word}); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
		return it
	}
	add("approved", f.ann, mailflow.MessageApproved, nil, "pelican")
	add("held", f.ann, mailflow.MessageHeld, nil, "heron")
	flagged := add("flagged", f.ann, mailflow.MessageApproved, nil, "osprey")
	groupBanned := add("by a member the group banned", f.carol, mailflow.MessageApproved, nil, "puffin")
	siteBanned := add("by a member the site banned", erin, mailflow.MessageApproved, nil, "gannet")
	add("removed", f.ann, mailflow.MessageRemoved, nil, "plover")
	add("to the owners", f.ann, mailflow.MessageApproved, &mailflow.Private{MemberID: f.ann.ID}, "curlew")
	add("to one owner", f.ann, mailflow.MessageApproved, &mailflow.Private{MemberID: f.ann.ID, OwnerID: owner2.ID}, "avocet")
	add("from the moderator to the owners", mod, mailflow.MessageApproved, &mailflow.Private{MemberID: mod.ID}, "dunlin")
	if err := st.FlagMessage(ctx, flagged.msg.ID, f.bob.ID, "rude"); err != nil {
		t.Fatal(err)
	}
	flagged.state.OpenFlag = true
	groupBanned.state.AuthorBanned = true
	if err := st.SetUserStatus(ctx, erin.ID, mailflow.UserBanned); err != nil {
		t.Fatal(err)
	}
	siteBanned.state.AuthorBanned = true

	// The mail of an approved message goes to the members who may read
	// its thread (the recipients are chosen as it is posted, before any
	// flag or ban, so only the untroubled messages are asked about).
	recipients := map[int64][]int64{}
	for _, it := range items {
		if it.msg.Status != mailflow.MessageApproved || it.state != (mailflow.MessageState{}) {
			continue
		}
		if _, _, err := st.ExpandBatch(ctx, it.msg, 0, 1000, time.Now()); err != nil {
			t.Fatal(err)
		}
		rows, err := st.Pool().Query(ctx, `SELECT user_id FROM deliveries WHERE message_id = $1`, it.msg.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			recipients[it.msg.ID] = append(recipients[it.msg.ID], id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}

	for _, who := range []struct {
		name string
		u    *mailflow.User
	}{
		{"owner", &f.owner}, {"second owner", &owner2}, {"moderator", &mod}, {"the writer", &f.ann}, {"a member", &f.bob},
		{"a member the group banned", &f.carol}, {"a non-member", &dave}, {"a superuser", &root}, {"signed out", nil},
	} {
		t.Run(who.name, func(t *testing.T) {
			var u *mailflow.User
			var m *mailflow.Membership
			if who.u != nil {
				fresh, err := st.UserByID(ctx, who.u.ID)
				if err != nil {
					t.Fatal(err)
				}
				u = &fresh
				if m, err = st.Membership(ctx, f.g.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			viewer := store.MessageViewer{Moderator: mailflow.IsGroupModerator(u, m)}
			var inbox []int64
			if u != nil {
				viewer.ID = u.ID
				page, err := st.InboxPage(ctx, store.InboxQuery{UserID: u.ID})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					inbox = append(inbox, it.ThreadID)
				}
			}
			files, err := st.ListResources(ctx, store.ResourceQuery{Viewer: store.ResourceViewerOf(u), GroupID: &f.g.ID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				readsThread := mailflow.CanReadThread(u, f.g, m, false, it.private) == nil
				seesMessage := readsThread && mailflow.CanSeeGroupMessage(u, it.msg, m, it.state)
				check := func(surface string, listed, want bool) {
					t.Helper()
					if listed != want {
						t.Errorf("%s: the message %s: listed %v, the policy says %v", surface, it.name, listed, want)
					}
				}

				if readsThread {
					shown, err := st.VisibleThreadMessages(ctx, it.msg.ThreadID, viewer)
					if err != nil {
						t.Fatal(err)
					}
					check("thread page", len(shown) == 1, seesMessage)
				}

				hits, err := st.SearchMessages(ctx, it.word, mailflow.ScopeOf(u), 0, 10, 0)
				if err != nil {
					t.Fatal(err)
				}
				check("search", slices.ContainsFunc(hits, func(h store.SearchHit) bool { return h.MessageID == it.msg.ID }),
					readsThread && mailflow.CanFindMessage(u, it.msg, it.state))

				if u != nil {
					// The inbox lists the threads of the member's groups
					// with an approved message they see: a held post
					// waits in the moderation queue.
					check("inbox", slices.Contains(inbox, it.msg.ThreadID),
						m.Active() && seesMessage && it.msg.Status == mailflow.MessageApproved)
				}

				att := &mailflow.AttachedTo{Message: it.msg, State: it.state, Private: it.private}
				check("resources", slices.ContainsFunc(files, func(r store.ListedResource) bool { return r.MessageID != nil && *r.MessageID == it.msg.ID }),
					mailflow.CanAccessResource(u, m, att) == nil)

				if got, asked := recipients[it.msg.ID]; asked && u != nil {
					check("mail recipients", slices.Contains(got, u.ID), m.Active() && readsThread)
				}
			}
		})
	}
}
