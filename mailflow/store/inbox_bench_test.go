package store_test

import (
	"context"
	"testing"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// inboxBenchSeed fills a new database with the inbox of a busy member:
// 10,000 threads and 100,000 messages in the 20 groups they are in
// (owner of one, moderator of another), about 30% of the threads read and
// 10% archived, some private threads (theirs and others'), held messages
// and join requests; and, beside it, 20,000 threads of groups they are
// not in, and the read state of 20 other members. It returns the
// member's id.
func inboxBenchSeed(tb testing.TB, st *store.Store) int64 {
	tb.Helper()
	ctx := context.Background()
	steps := []string{
		`INSERT INTO users (email, name, email_verified_at)
		 SELECT 'bench' || i || '@example.org', 'Bench ' || i, now() FROM generate_series(0, 100) i`,
		`INSERT INTO groups (slug, name, join_policy)
		 SELECT 'bench-' || i, 'Bench group ' || i, 'request' FROM generate_series(1, 22) i`,
		// The member (bench0) in groups 1-20: owner of 1, moderator of 2.
		`INSERT INTO memberships (group_id, user_id, role)
		 SELECT g.id, u.id, CASE g.slug WHEN 'bench-1' THEN 'owner' WHEN 'bench-2' THEN 'moderator' ELSE 'member' END
		 FROM groups g, users u
		 WHERE u.email = 'bench0@example.org' AND g.slug NOT IN ('bench-21', 'bench-22')`,
		// Other members everywhere, and 50 requests to join group 1.
		`INSERT INTO memberships (group_id, user_id, status)
		 SELECT g.id, u.id, CASE WHEN g.slug = 'bench-1' AND u.id % 2 = 0 THEN 'requested' ELSE 'active' END
		 FROM groups g, users u WHERE u.email <> 'bench0@example.org'`,
		// 10,000 threads in groups 1-20, one every 37 seconds back in
		// time; 1 in 50 private (half the member's own, half others').
		// hashint4 spreads states over the groups where i % n would not.
		`INSERT INTO threads (group_id, subject, created_by, message_count, created_at, last_message_at, private_member_id)
		 SELECT g.id, 'Bench thread ' || i, u.id, 10,
		        now() - i * interval '37 seconds' - interval '1 hour', now() - i * interval '37 seconds',
		        CASE WHEN abs(hashint4(i)) % 100 = 0 THEN (SELECT id FROM users WHERE email = 'bench0@example.org')
		             WHEN abs(hashint4(i)) % 100 = 1 THEN u.id END
		 FROM generate_series(1, 10000) i
		 JOIN groups g ON g.slug = 'bench-' || (1 + abs(hashint4(i + 1)) % 20)
		 JOIN users u ON u.email = 'bench' || (1 + i % 100) || '@example.org'`,
		// 20,000 threads, with a message each, in groups 21 and 22.
		`INSERT INTO threads (group_id, subject, message_count, last_message_at)
		 SELECT g.id, 'Elsewhere ' || i, 1, now() - i * interval '11 seconds'
		 FROM generate_series(1, 20000) i JOIN groups g ON g.slug = 'bench-' || (21 + i % 2)`,
		`INSERT INTO messages (thread_id, group_id, message_id, subject, body, source, status, created_at, approved_at)
		 SELECT t.id, t.group_id, 'else-' || t.id || '@bench.test', t.subject, 'Elsewhere.', 'email', 'approved',
		        t.last_message_at, t.last_message_at
		 FROM threads t WHERE t.message_count = 1`,
		// Ten approved messages a thread, the last at last_message_at.
		`INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at, approved_at)
		 SELECT t.id, t.group_id, t.created_by, 'bench-' || t.id || '-' || k || '@bench.test', t.subject,
		        'Message ' || k || ' of ' || t.subject || E'.\n\nSome words about birds, gardens and the weather this week.',
		        'web', 'approved', t.last_message_at - (10 - k) * interval '1 minute', t.last_message_at
		 FROM threads t, generate_series(1, 10) k WHERE t.message_count = 10`,
		// 200 held messages, 40 of them in groups the member moderates.
		`INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status)
		 SELECT t.id, t.group_id, t.created_by, 'held-' || t.id || '@bench.test', t.subject, 'Held.', 'email', 'held'
		 FROM threads t WHERE t.message_count = 10 AND t.id % 50 = 7`,
		// Open flags on 1 in 100 last messages.
		`INSERT INTO flags (message_id, reason)
		 SELECT id, 'spam' FROM messages WHERE message_id LIKE 'bench-%-10@bench.test' AND thread_id % 100 = 3`,
		// The member read 30% and archived 10% of the threads.
		`INSERT INTO thread_states (user_id, thread_id, read_at, archived_at)
		 SELECT u.id, t.id,
		        CASE WHEN abs(hashint8(t.id)) % 10 < 3 THEN t.last_message_at + interval '1 second' END,
		        CASE WHEN abs(hashint8(t.id)) % 10 = 9 THEN t.last_message_at + interval '1 second' END
		 FROM threads t, users u
		 WHERE u.email = 'bench0@example.org' AND t.message_count = 10 AND abs(hashint8(t.id)) % 10 IN (0, 1, 2, 9)`,
		// Twenty other members read 30% of the threads too.
		`INSERT INTO thread_states (user_id, thread_id, read_at)
		 SELECT u.id, t.id, t.last_message_at
		 FROM threads t, users u
		 WHERE u.id IN (SELECT id FROM users WHERE email <> 'bench0@example.org' ORDER BY id LIMIT 20)
		   AND abs(hashint8(t.id + u.id)) % 10 < 3`,
		`VACUUM ANALYZE`,
	}
	for _, q := range steps {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			tb.Fatalf("seeding: %v\n%s", err, q)
		}
	}
	var id int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM users WHERE email = 'bench0@example.org'`).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// BenchmarkInbox measures the inbox's queries on a member with 10,000
// threads: each should take a few milliseconds, whatever the depth of
// the page.
func BenchmarkInbox(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b)
	me := inboxBenchSeed(b, st)

	// A cursor about 100 pages deep.
	var deep store.InboxCursor
	if err := st.Pool().QueryRow(ctx, `
		SELECT t.last_message_at, t.id FROM threads t
		JOIN memberships m ON m.group_id = t.group_id AND m.user_id = $1
		ORDER BY t.last_message_at DESC, t.id DESC OFFSET 5000 LIMIT 1`, me).Scan(&deep.At, &deep.ID); err != nil {
		b.Fatal(err)
	}

	page := func(q store.InboxQuery) func(*testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				p, err := st.InboxPage(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != 50 || p.Next == nil {
					b.Fatalf("%d items, next %v; want a full page and more", len(p.Items), p.Next)
				}
			}
		}
	}
	b.Run("FirstPage", page(store.InboxQuery{UserID: me}))
	b.Run("DeepPage", page(store.InboxQuery{UserID: me, Before: &deep}))
	b.Run("Unread", page(store.InboxQuery{UserID: me, View: store.ViewUnread}))
	b.Run("Archive", page(store.InboxQuery{UserID: me, View: store.ViewArchive}))
	b.Run("OneGroup", page(store.InboxQuery{UserID: me, GroupID: inboxGroupID(b, st, "bench-7")}))
	b.Run("Badge", func(b *testing.B) {
		for b.Loop() {
			n, err := st.InboxBadge(ctx, me)
			if err != nil {
				b.Fatal(err)
			}
			if n < 5000 {
				b.Fatalf("badge %d, want the ~6,000 unread threads and more", n)
			}
		}
	})
}

func inboxGroupID(tb testing.TB, st *store.Store, slug string) int64 {
	tb.Helper()
	g, err := st.GroupBySlug(context.Background(), slug)
	if err != nil {
		tb.Fatal(err)
	}
	return g.ID
}
