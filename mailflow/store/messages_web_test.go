package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// threadsFixture is a group with an owner, two members and a member the
// group banned.
type threadsFixture struct {
	st                     *store.Store
	g                      mailflow.Group
	owner, ann, bob, carol mailflow.User // carol is banned
	n                      int
}

func newThreadsFixture(t *testing.T, slug string) *threadsFixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.New(t)
	f := &threadsFixture{st: st}
	mk := func(name string) mailflow.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: name + "@" + slug + ".example", Name: name, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.owner, f.ann, f.bob, f.carol = mk("owner"), mk("ann"), mk("bob"), mk("carol")
	f.g = newGroup(t, st, f.owner, slug)
	for _, u := range []mailflow.User{f.ann, f.bob, f.carol} {
		f.join(t, u, mailflow.MemberActive)
	}
	f.join(t, f.carol, mailflow.MemberBanned)
	return f
}

func (f *threadsFixture) join(t *testing.T, u mailflow.User, status mailflow.MemberStatus) {
	t.Helper()
	if _, _, err := f.st.SetMembership(context.Background(), mailflow.Membership{GroupID: f.g.ID, UserID: u.ID, Status: status}); err != nil {
		t.Fatal(err)
	}
}

func (f *threadsFixture) post(t *testing.T, th mailflow.Thread, by mailflow.User, st mailflow.MessageStatus, body string) mailflow.Message {
	t.Helper()
	f.n++
	m, err := f.st.InsertMessage(context.Background(), mailflow.Message{ThreadID: th.ID, GroupID: f.g.ID, AuthorID: &by.ID,
		MessageID: strings.Repeat("x", f.n) + "@" + f.g.Slug, Subject: th.Subject, Body: body, Source: mailflow.SourceWeb, Status: st})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func bodies(ms []store.ListedMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

func TestThreadVisibleMessages(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "visible")
	th, err := f.st.CreateThread(ctx, f.g.ID, "Owls", &f.ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.post(t, th, f.ann, mailflow.MessageApproved, "approved")
	f.post(t, th, f.ann, mailflow.MessageHeld, "held")
	flagged := f.post(t, th, f.ann, mailflow.MessageApproved, "flagged")
	f.post(t, th, f.carol, mailflow.MessageApproved, "banned author")
	f.post(t, th, f.ann, mailflow.MessageRemoved, "removed")
	if err := f.st.FlagMessage(ctx, flagged.ID, f.bob.ID, "rude"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.FlagMessage(ctx, flagged.ID, f.bob.ID, "again"); err != nil {
		t.Fatalf("flagging twice: %v", err)
	}

	cases := []struct {
		name   string
		viewer store.MessageViewer
		want   []string
	}{
		{"another member", store.MessageViewer{ID: f.bob.ID}, []string{"approved"}},
		{"a visitor", store.MessageViewer{}, []string{"approved"}},
		{"the author", store.MessageViewer{ID: f.ann.ID}, []string{"approved", "held", "flagged"}},
		{"a moderator", store.MessageViewer{ID: f.owner.ID, Moderator: true}, []string{"approved", "held", "flagged", "removed"}},
		{"the banned author", store.MessageViewer{ID: f.carol.ID}, []string{"approved", "banned author"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.st.VisibleThreadMessages(ctx, th.ID, tc.viewer)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bodies(got), tc.want) {
				t.Fatalf("sees %q, want %q", bodies(got), tc.want)
			}
		})
	}

	lm, err := f.st.ListedMessageByID(ctx, flagged.ID)
	if err != nil || !lm.State.OpenFlag || lm.State.AuthorBanned {
		t.Fatalf("flagged message's state: %+v, %v", lm.State, err)
	}
	months, err := f.st.ArchiveMonths(ctx, f.g.ID, store.MessageViewer{ID: f.bob.ID})
	if err != nil || len(months) != 1 || months[0].Threads != 1 {
		t.Fatalf("archive months: %+v, %v", months, err)
	}
	mts, err := f.st.ArchiveMonthThreads(ctx, f.g.ID, months[0].Month, months[0].Month.AddDate(0, 1, 0), store.MessageViewer{ID: f.bob.ID}, 10, 0)
	if err != nil || len(mts) != 1 || mts[0].Visible != 1 || mts[0].StarterName != "ann" {
		t.Fatalf("archive threads: %+v, %v", mts, err)
	}
	var mbox []string
	err = f.st.EachMboxMessage(ctx, f.g.ID, store.MboxFilter{ThreadID: th.ID}, store.MessageViewer{ID: f.owner.ID, Moderator: true},
		func(m store.MboxMessage) error { mbox = append(mbox, m.Body); return nil })
	if err != nil || !slices.Equal(mbox, []string{"approved", "flagged"}) {
		t.Fatalf("a moderator's mbox holds %q (%v), want the approved messages only", mbox, err)
	}
}

func TestPrivateThreadFanOut(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "fanout")
	// The owner reads the group in a digest: a private message must
	// still reach them, by itself, since digests are the whole group's.
	if _, err := f.st.SetDelivery(ctx, f.g.ID, f.owner.ID, mailflow.DeliveryDigest); err != nil {
		t.Fatal(err)
	}
	recipients := func(m mailflow.Message) []int64 {
		t.Helper()
		if _, _, err := f.st.ExpandBatch(ctx, m, 0, 1000, time.Now()); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		rows, err := f.st.Pool().Query(ctx, `SELECT user_id FROM deliveries WHERE message_id = $1 AND state = 'queued' ORDER BY user_id`, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}

	open, _ := f.st.CreateThread(ctx, f.g.ID, "Open", &f.bob.ID)
	m := f.post(t, open, f.bob, mailflow.MessageApproved, "to all")
	if got, want := recipients(m), []int64{f.ann.ID, f.bob.ID}; !slices.Equal(got, want) {
		t.Fatalf("an ordinary thread goes to %v, want the immediate members %v", got, want)
	}

	private, _ := f.st.CreateThread(ctx, f.g.ID, "To the owners", &f.ann.ID)
	if err := f.st.SetThreadPrivate(ctx, private.ID, mailflow.Private{MemberID: f.ann.ID}); err != nil {
		t.Fatal(err)
	}
	m = f.post(t, private, f.ann, mailflow.MessageApproved, "just you")
	if got, want := recipients(m), []int64{f.owner.ID, f.ann.ID}; !slices.Equal(got, want) {
		t.Fatalf("a private thread goes to %v, want only its member and the owner %v", got, want)
	}
	wt, err := f.st.ThreadWithPrivacy(ctx, private.ID)
	if err != nil || wt.PrivateMemberID == nil || *wt.PrivateMemberID != f.ann.ID {
		t.Fatalf("thread privacy: %+v, %v", wt, err)
	}
}

func TestSearchMessagesScope(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "open-owls")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.st.Pool().Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	outsider, _ := f.st.CreateUser(ctx, store.NewUser{Email: "out@example.org", Name: "Out", Verified: true})
	secret := newGroup(t, f.st, f.owner, "secret-owls")
	archive := newGroup(t, f.st, f.owner, "archive-owls")
	exec(`UPDATE groups SET listed = false, join_policy = 'invite' WHERE id = ANY($1)`, []int64{secret.ID, archive.ID})
	exec(`UPDATE groups SET archive_public = true WHERE id = $1`, archive.ID)

	post := func(g mailflow.Group, subject, body string, private bool) {
		t.Helper()
		th, err := f.st.CreateThread(ctx, g.ID, subject, &f.owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if private {
			if err := f.st.SetThreadPrivate(ctx, th.ID, mailflow.Private{MemberID: f.ann.ID}); err != nil {
				t.Fatal(err)
			}
		}
		f.n++
		if _, err := f.st.InsertMessage(ctx, mailflow.Message{ThreadID: th.ID, GroupID: g.ID, AuthorID: &f.owner.ID,
			MessageID: strings.Repeat("s", f.n) + "@search", Subject: subject, Body: body, Source: mailflow.SourceWeb,
			Status: mailflow.MessageApproved}); err != nil {
			t.Fatal(err)
		}
	}
	post(f.g, "open", "A barn owl \x01 hooted", false)
	post(secret, "secret", "The owl council meets", false)
	post(archive, "archive", "Owl pellets explained", false)
	post(f.g, "private", "An owl between us", true)

	find := func(scope mailflow.ReadScope, groupID int64) []string {
		t.Helper()
		hits, err := f.st.SearchMessages(ctx, "owls", scope, groupID, 20, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.ThreadSubject)
			if !strings.Contains(h.Snippet, store.HighlightStart+"owl") && !strings.Contains(h.Snippet, store.HighlightStart+"Owl") {
				t.Errorf("snippet %q has no highlighted match", h.Snippet)
			}
			if strings.Count(h.Snippet, store.HighlightStart) != strings.Count(h.Snippet, store.HighlightStop) {
				t.Errorf("snippet %q has unbalanced marks (the body's own control characters must go)", h.Snippet)
			}
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name  string
		scope mailflow.ReadScope
		group int64
		want  []string
	}{
		{"visitor", mailflow.ReadScope{}, 0, []string{"archive"}},
		{"outsider", mailflow.ReadScope{ViewerID: outsider.ID, Public: true}, 0, []string{"archive", "open"}},
		{"other member", mailflow.ReadScope{ViewerID: f.bob.ID, Public: true}, 0, []string{"archive", "open"}},
		{"private thread's member", mailflow.ReadScope{ViewerID: f.ann.ID, Public: true}, 0, []string{"archive", "open", "private"}},
		{"owner", mailflow.ReadScope{ViewerID: f.owner.ID, Public: true}, 0, []string{"archive", "open", "private", "secret"}},
		{"owner, one group", mailflow.ReadScope{ViewerID: f.owner.ID, Public: true}, secret.ID, []string{"secret"}},
		{"superuser", mailflow.ReadScope{ViewerID: outsider.ID, Public: true, All: true}, 0, []string{"archive", "open", "private", "secret"}},
		{"banned member", mailflow.ReadScope{ViewerID: f.carol.ID, Public: true}, f.g.ID, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := find(tc.scope, tc.group); !slices.Equal(got, tc.want) {
				t.Fatalf("finds %q, want %q", got, tc.want)
			}
		})
	}
}
