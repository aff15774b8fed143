package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// inboxDB seeds the inbox tests' rows with plain SQL.
type inboxDB struct {
	t    *testing.T
	st   *store.Store
	base time.Time // an hour ago: every seeded thread is older than now
	n    int
}

func newInboxDB(t *testing.T) *inboxDB {
	return &inboxDB{t: t, st: storetest.New(t), base: time.Now().Add(-time.Hour).Truncate(time.Second)}
}

func (d *inboxDB) exec(q string, args ...any) {
	d.t.Helper()
	if _, err := d.st.Pool().Exec(context.Background(), q, args...); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
}

func (d *inboxDB) id(q string, args ...any) int64 {
	d.t.Helper()
	var id int64
	if err := d.st.Pool().QueryRow(context.Background(), q, args...).Scan(&id); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (d *inboxDB) user(name string) int64 {
	d.t.Helper()
	return d.id(`INSERT INTO users (email, name, email_verified_at) VALUES ($1, $2, now()) RETURNING id`, name+"@example.org", name)
}

func (d *inboxDB) group(slug string) int64 {
	d.t.Helper()
	return d.id(`INSERT INTO groups (slug, name) VALUES ($1, $2) RETURNING id`, slug, "Group "+slug)
}

func (d *inboxDB) member(groupID, userID int64, role, status string) {
	d.t.Helper()
	d.exec(`INSERT INTO memberships (group_id, user_id, role, status) VALUES ($1, $2, $3, $4)`, groupID, userID, role, status)
}

// thread adds a thread whose last activity is minute minutes after
// base, with an approved message by author for each body (the last one
// at that minute). private is the member of a private thread, or 0.
func (d *inboxDB) thread(groupID, author int64, subject string, minute int, private int64, bodies ...string) int64 {
	d.t.Helper()
	at := d.base.Add(time.Duration(minute) * time.Minute)
	var pm *int64
	if private != 0 {
		pm = &private
	}
	id := d.id(`INSERT INTO threads (group_id, subject, created_by, message_count, created_at, last_message_at, private_member_id)
		VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`, groupID, subject, author, len(bodies), at, pm)
	for i, b := range bodies {
		d.message(id, groupID, author, b, "approved", at.Add(time.Duration(i-len(bodies)+1)*time.Second))
	}
	return id
}

func (d *inboxDB) message(threadID, groupID, author int64, body, status string, at time.Time) int64 {
	d.t.Helper()
	d.n++
	return d.id(`INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at)
		VALUES ($1, $2, $3, $4, 'subject', $5, 'web', $6, $7) RETURNING id`,
		threadID, groupID, author, fmt.Sprintf("m%d@test", d.n), body, status, at)
}

func (d *inboxDB) page(q store.InboxQuery) store.InboxPage {
	d.t.Helper()
	p, err := d.st.InboxPage(context.Background(), q)
	if err != nil {
		d.t.Fatalf("inbox page %+v: %v", q, err)
	}
	return p
}

// subjects lists the subjects of a view, every page of it.
func (d *inboxDB) subjects(userID int64, view store.InboxView, groupID int64) []string {
	d.t.Helper()
	var out []string
	q := store.InboxQuery{UserID: userID, View: view, GroupID: groupID, Limit: 2}
	for range 100 {
		p := d.page(q)
		for _, it := range p.Items {
			out = append(out, it.Subject)
		}
		if p.Next == nil {
			return out
		}
		q.Before = p.Next
	}
	d.t.Fatal("the inbox does not end")
	return nil
}

func (d *inboxDB) badge(userID int64) int {
	d.t.Helper()
	n, err := d.st.InboxBadge(context.Background(), userID)
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// TestInboxVisibility: the inbox lists the threads of the member's
// active groups that have an approved message, newest first; others'
// private threads only in groups the member owns.
func TestInboxVisibility(t *testing.T) {
	d := newInboxDB(t)
	me, other := d.user("me"), d.user("other")
	birds, owned, elsewhere, asked := d.group("birds"), d.group("owned"), d.group("elsewhere"), d.group("asked")
	d.member(birds, me, "member", "active")
	d.member(owned, me, "owner", "active")
	d.member(asked, me, "member", "requested")
	for _, g := range []int64{birds, owned, elsewhere, asked} {
		d.member(g, other, "member", "active")
	}
	d.thread(birds, other, "Owls", 1, 0, "Hoot")
	d.thread(birds, other, "Held only", 2, 0) // nothing approved yet
	d.thread(birds, other, "Their private word", 3, other, "Psst")
	d.thread(birds, other, "My private word", 4, me, "To the owners")
	d.thread(owned, other, "Private to me as owner", 5, other, "Dear owners")
	d.thread(owned, other, "Finches", 6, 0, "Tweet")
	d.thread(elsewhere, other, "Not my group", 7, 0, "Nope")
	d.thread(asked, other, "Not yet my group", 8, 0, "Soon")

	want := []string{"Finches", "Private to me as owner", "My private word", "Owls"}
	if got := d.subjects(me, store.ViewInbox, 0); !slices.Equal(got, want) {
		t.Errorf("inbox %q, want %q", got, want)
	}
	if got := d.subjects(me, store.ViewInbox, birds); !slices.Equal(got, []string{"My private word", "Owls"}) {
		t.Errorf("inbox of birds %q", got)
	}
	if got := d.subjects(me, store.ViewInbox, elsewhere); len(got) != 0 {
		t.Errorf("filtering by a group I am not in lists %q", got)
	}
	p := d.page(store.InboxQuery{UserID: me})
	if it := p.Items[0]; it.GroupSlug != "owned" || it.GroupName != "Group owned" || !it.Unread || it.Archived ||
		it.MessageCount != 1 || it.LastBody != "Tweet" || it.LastAuthor != "other" || it.Private {
		t.Errorf("first item %+v", it)
	}
	if !p.Items[1].Private {
		t.Error("a private thread is not marked private")
	}
	if _, err := d.st.InboxPage(context.Background(), store.InboxQuery{UserID: me, View: "bogus"}); !errors.Is(err, mailflow.ErrInvalid) {
		t.Errorf("unknown view: %v, want ErrInvalid", err)
	}
}

// TestInboxExcerpt: the excerpt is the latest message the member may
// see: approved, not under an open flag (unless theirs or they moderate
// the group), not by a member the group banned.
func TestInboxExcerpt(t *testing.T) {
	d := newInboxDB(t)
	me, mod, other, banned := d.user("me"), d.user("mod"), d.user("other"), d.user("banned")
	g := d.group("birds")
	d.member(g, me, "member", "active")
	d.member(g, mod, "moderator", "active")
	d.member(g, other, "member", "active")
	d.member(g, banned, "member", "banned")

	th := d.thread(g, other, "Owls", 10, 0, "First")
	flagged := d.message(th, g, other, "Flagged", "approved", d.base.Add(11*time.Minute))
	d.message(th, g, other, "Held", "held", d.base.Add(12*time.Minute))
	d.exec(`INSERT INTO flags (message_id, flagged_by, reason) VALUES ($1, $2, 'rude')`, flagged, me)
	excerpt := func(u int64) string {
		t.Helper()
		p := d.page(store.InboxQuery{UserID: u})
		if len(p.Items) != 1 {
			t.Fatalf("%d items", len(p.Items))
		}
		return p.Items[0].LastBody
	}
	if got := excerpt(me); got != "First" {
		t.Errorf("a member sees %q, want the message before the flagged one", got)
	}
	if got := excerpt(other); got != "Flagged" {
		t.Errorf("the author sees %q, want their flagged message", got)
	}
	if got := excerpt(mod); got != "Flagged" {
		t.Errorf("a moderator sees %q, want the flagged message", got)
	}
	d.exec(`UPDATE flags SET resolved_at = now(), resolution = 'approved'`)
	if got := excerpt(me); got != "Flagged" {
		t.Errorf("after the flag is resolved a member sees %q", got)
	}
	d.message(th, g, banned, "Spam", "approved", d.base.Add(13*time.Minute))
	if got := excerpt(me); got != "Flagged" {
		t.Errorf("a banned member's message shows: %q", got)
	}
}

// TestInboxStates: reading, archiving, a new message bringing a thread
// back, and bulk actions that touch only what the member may see.
func TestInboxStates(t *testing.T) {
	ctx := context.Background()
	d := newInboxDB(t)
	me, other := d.user("me"), d.user("other")
	birds, bees, elsewhere := d.group("birds"), d.group("bees"), d.group("elsewhere")
	d.member(birds, me, "member", "active")
	d.member(bees, me, "member", "active")
	owls := d.thread(birds, other, "Owls", 1, 0, "a")
	wrens := d.thread(birds, other, "Wrens", 2, 0, "b")
	d.thread(bees, other, "Hive", 3, 0, "c")
	secret := d.thread(birds, other, "Secret", 4, other, "d")
	foreign := d.thread(elsewhere, other, "Foreign", 5, 0, "e")

	if n := d.badge(me); n != 3 {
		t.Fatalf("badge %d, want 3 unread", n)
	}
	// Opening a thread.
	if err := d.st.MarkThreadRead(ctx, me, owls); err != nil {
		t.Fatal(err)
	}
	if got := d.subjects(me, store.ViewUnread, 0); !slices.Equal(got, []string{"Hive", "Wrens"}) {
		t.Errorf("unread after reading Owls: %q", got)
	}
	if n := d.badge(me); n != 2 {
		t.Errorf("badge %d, want 2", n)
	}

	// Archive two by id; forged ids of a private thread and of another
	// group are ignored, and so is one archived twice.
	n, err := d.st.InboxArchive(ctx, me, store.InboxSelection{ThreadIDs: []int64{owls, wrens, secret, foreign, 999999}})
	if err != nil || n != 2 {
		t.Fatalf("archive: %d, %v; want 2", n, err)
	}
	if n := d.id(`SELECT count(*) FROM thread_states WHERE thread_id IN ($1, $2)`, secret, foreign); n != 0 {
		t.Errorf("%d states written for threads the member may not see", n)
	}
	if n, _ := d.st.InboxArchive(ctx, me, store.InboxSelection{ThreadIDs: []int64{owls}}); n != 0 {
		t.Errorf("archiving an archived thread counted %d", n)
	}
	if got := d.subjects(me, store.ViewInbox, 0); !slices.Equal(got, []string{"Hive"}) {
		t.Errorf("inbox after archiving: %q", got)
	}
	if got := d.subjects(me, store.ViewArchive, 0); !slices.Equal(got, []string{"Wrens", "Owls"}) {
		t.Errorf("archive: %q", got)
	}
	if got := d.subjects(me, store.ViewUnread, 0); !slices.Equal(got, []string{"Hive"}) {
		t.Errorf("unread leaves out archived threads: %q", got)
	}
	if n := d.badge(me); n != 1 {
		t.Errorf("badge %d, want 1 (archived threads do not count)", n)
	}
	p := d.page(store.InboxQuery{UserID: me, View: store.ViewArchive})
	if !p.Items[0].Archived || !p.Items[0].Unread || p.Items[1].Unread {
		t.Errorf("archive items: %+v", p.Items)
	}

	// A new message brings Owls back, unread; archiving it again works
	// even with its last message stamped ahead of the clock.
	d.exec(`UPDATE threads SET last_message_at = now() + interval '1 minute' WHERE id = $1`, owls)
	if got := d.subjects(me, store.ViewUnread, 0); !slices.Equal(got, []string{"Owls", "Hive"}) {
		t.Errorf("unread after a new message: %q", got)
	}
	if got := d.subjects(me, store.ViewArchive, 0); !slices.Equal(got, []string{"Wrens"}) {
		t.Errorf("archive after a new message: %q", got)
	}
	if n, err := d.st.InboxArchive(ctx, me, store.InboxSelection{ThreadIDs: []int64{owls}}); err != nil || n != 1 {
		t.Fatalf("archive again: %d, %v", n, err)
	}
	if got := d.subjects(me, store.ViewArchive, 0); !slices.Equal(got, []string{"Owls", "Wrens"}) {
		t.Errorf("archive after archiving again: %q", got)
	}

	// Unarchive all of birds; then mark all read in the inbox of bees.
	n, err = d.st.InboxUnarchive(ctx, me, store.InboxSelection{All: true, View: store.ViewArchive, GroupID: birds})
	if err != nil || n != 2 {
		t.Fatalf("unarchive all of birds: %d, %v", n, err)
	}
	n, err = d.st.InboxMarkRead(ctx, me, store.InboxSelection{All: true, View: store.ViewInbox, GroupID: bees})
	if err != nil || n != 1 {
		t.Fatalf("mark all of bees read: %d, %v", n, err)
	}
	if got := d.subjects(me, store.ViewUnread, 0); !slices.Equal(got, []string{"Owls", "Wrens"}) {
		t.Errorf("unread after marking bees read: %q", got)
	}
	// Mark read works for a thread stamped ahead of the clock too.
	n, err = d.st.InboxMarkRead(ctx, me, store.InboxSelection{All: true, View: store.ViewUnread})
	if err != nil || n != 2 {
		t.Fatalf("mark all unread read: %d, %v", n, err)
	}
	if n := d.badge(me); n != 0 {
		t.Errorf("badge %d after reading everything", n)
	}
	// Select all of the inbox archives only what the member sees.
	n, err = d.st.InboxArchive(ctx, me, store.InboxSelection{All: true})
	if err != nil || n != 3 {
		t.Fatalf("archive all: %d, %v; want 3", n, err)
	}
	if n, _ := d.st.InboxArchive(ctx, me, store.InboxSelection{}); n != 0 {
		t.Errorf("an empty selection changed %d", n)
	}
	if _, err := d.st.InboxArchive(ctx, me, store.InboxSelection{All: true, View: "bogus"}); !errors.Is(err, mailflow.ErrInvalid) {
		t.Errorf("unknown view: %v", err)
	}
}

// TestInboxPagination walks the inbox a few threads at a time, with
// threads that share a timestamp, and checks no thread is lost or
// repeated, for every view.
func TestInboxPagination(t *testing.T) {
	d := newInboxDB(t)
	me, other := d.user("me"), d.user("other")
	a, b := d.group("a"), d.group("b")
	d.member(a, me, "member", "active")
	d.member(b, me, "member", "active")
	var want []string
	for i := range 9 {
		g := a
		if i%3 == 0 {
			g = b
		}
		subject := fmt.Sprintf("T%d", i)
		d.thread(g, other, subject, i/2, 0, "x") // pairs share a minute
		want = append(want, subject)
	}
	slices.Reverse(want)
	got := d.subjects(me, store.ViewInbox, 0)
	if !slices.Equal(got, want) {
		t.Errorf("pages %q, want %q", got, want)
	}
	p := d.page(store.InboxQuery{UserID: me, Limit: 9})
	if len(p.Items) != 9 || p.Next != nil {
		t.Errorf("a page exactly as long as the inbox: %d items, next %v", len(p.Items), p.Next)
	}
	p = d.page(store.InboxQuery{UserID: me})
	if len(p.Items) != 9 || p.Next != nil {
		t.Errorf("default page: %d items, next %v", len(p.Items), p.Next)
	}
	// Archive the odd ones: the views page just as well.
	var odd []int64
	for _, it := range d.page(store.InboxQuery{UserID: me}).Items {
		if it.ThreadID%2 == 1 {
			odd = append(odd, it.ThreadID)
		}
	}
	if _, err := d.st.InboxArchive(context.Background(), me, store.InboxSelection{ThreadIDs: odd}); err != nil {
		t.Fatal(err)
	}
	if n := len(d.subjects(me, store.ViewArchive, 0)) + len(d.subjects(me, store.ViewUnread, 0)); n != 9 {
		t.Errorf("archive and unread hold %d threads, want 9", n)
	}
}

func TestInboxCursor(t *testing.T) {
	c := store.InboxCursor{At: time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC), ID: 42}
	got, err := store.ParseInboxCursor(c.String())
	if err != nil || !got.At.Equal(c.At) || got.ID != 42 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "!!", "MTIz", "YS5i", "MTIzLi0x"} { // "", junk, "123", "a.b", "123.-1"
		if _, err := store.ParseInboxCursor(bad); !errors.Is(err, mailflow.ErrInvalid) {
			t.Errorf("ParseInboxCursor(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestInboxBadge: unread threads, plus held messages for moderators and
// owners (of every group for moderate_groups and superusers), plus join
// requests for owners.
func TestInboxBadge(t *testing.T) {
	d := newInboxDB(t)
	member, mod, owner, global, root, asker := d.user("member"), d.user("mod"), d.user("owner"), d.user("global"), d.user("root"), d.user("asker")
	d.exec(`UPDATE users SET permissions = '{moderate_groups}' WHERE id = $1`, global)
	d.exec(`UPDATE users SET is_superuser = true WHERE id = $1`, root)
	g, other := d.group("birds"), d.group("other")
	d.member(g, member, "member", "active")
	d.member(g, mod, "moderator", "active")
	d.member(g, owner, "owner", "active")
	d.member(g, asker, "member", "requested")
	d.member(other, asker, "member", "requested")
	th := d.thread(g, member, "Owls", 1, 0, "Hoot")
	for i := range 3 {
		d.message(th, g, member, "held", "held", d.base.Add(time.Duration(i)*time.Second))
	}
	oth := d.thread(other, asker, "Elsewhere", 1, 0, "x")
	d.message(oth, other, asker, "held", "held", d.base)

	for _, c := range []struct {
		name string
		user int64
		want int
	}{
		{"member: one unread thread", member, 1},
		{"moderator: unread and held", mod, 1 + 3},
		{"owner: unread, held and a request", owner, 1 + 3 + 1},
		{"moderate_groups: held everywhere", global, 4},
		{"superuser: held everywhere", root, 4},
		{"requester: nothing yet", asker, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := d.badge(c.user); got != c.want {
				t.Errorf("badge %d, want %d", got, c.want)
			}
		})
	}
}
