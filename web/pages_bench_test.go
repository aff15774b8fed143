package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// BenchmarkPages serves the three pages a member opens most, from a
// database the size of a busy site: 10,000 threads and 100,000 messages
// in the member's 20 groups, one thread of 200 messages, and one thread
// in twenty with every message flagged (hidden). It reports the
// server's time per page (handler, queries and template; no network).
//
//	go test -run XXX -bench Pages -benchtime 50x ./web/
func BenchmarkPages(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	seedPages(b, st)

	keys := sign.Keys{Current: "bench-email-key-0123456789"}
	origin, _ := url.Parse("http://lists.test")
	links, err := urls.New(origin, keys)
	if err != nil {
		b.Fatal(err)
	}
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		b.Fatal(err)
	}
	h, err := New(Deps{
		Store: st, Posting: posting.New(st, "lists.test", log, posting.Hooks{}), Metrics: metrics.New(), Log: log,
		Site:     Site{MailDomain: "lists.test", Origin: origin, BrandTitle: "Parley"},
		Guard:    Guard{SecretKey: "bench-secret-key-0123456789", Keys: keys, SessionIdle: time.Hour, SessionMax: time.Hour},
		Accounts: &accounts.Service{Store: st, Keys: keys, URLs: links, Notices: notices, Log: log}, Notices: notices,
	})
	if err != nil {
		b.Fatal(err)
	}
	var userID int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM users WHERE email = 'reader@example.org'`).Scan(&userID); err != nil {
		b.Fatal(err)
	}
	const sid = "benchmark-session-id-0123456789012345678901"
	sum := sha256.Sum256([]byte(sid))
	if err := st.CreateSession(ctx, store.Session{IDHash: sum[:], UserID: userID,
		IdleExpiresAt: time.Now().Add(time.Hour), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	var bigThread int64
	if err := st.Pool().QueryRow(ctx, `SELECT id FROM threads WHERE subject = 'The long one'`).Scan(&bigThread); err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"inbox", "/inbox"},
		{"group", "/g/group-1"},
		{"thread200", fmt.Sprintf("/g/group-1/t/%d", bigThread)},
	} {
		b.Run(p.name, func(b *testing.B) {
			get := func() int {
				req := httptest.NewRequest("GET", "http://lists.test"+p.path, nil)
				req.AddCookie(&http.Cookie{Name: "parley_session", Value: sid})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec.Code
			}
			if code := get(); code != http.StatusOK {
				b.Fatalf("GET %s: %d", p.path, code)
			}
			b.ResetTimer()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
		})
	}
}

// seedPages fills the database in a few statements.
func seedPages(b *testing.B, st *store.Store) {
	b.Helper()
	_, err := st.Pool().Exec(context.Background(), `
		INSERT INTO users (email, name, email_verified_at, terms_accepted_at)
		VALUES ('reader@example.org', 'Reader', now(), now()), ('writer@example.org', 'Writer', now(), now());
		INSERT INTO groups (slug, name, listed) SELECT 'group-' || i, 'Group ' || i, true FROM generate_series(1, 20) i;
		INSERT INTO memberships (group_id, user_id, role)
			SELECT g.id, u.id, CASE WHEN u.email = 'writer@example.org' THEN 'owner' ELSE 'member' END FROM groups g, users u;
		INSERT INTO threads (group_id, subject, message_count, created_at, last_message_at)
			SELECT (i % 20) + (SELECT min(id) FROM groups), 'Thread ' || i, 10,
			       now() - i * interval '1 minute', now() - i * interval '1 minute'
			FROM generate_series(1, 9999) i;
		INSERT INTO threads (group_id, subject, message_count) SELECT id, 'The long one', 200 FROM groups WHERE slug = 'group-1';
		INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at, approved_at)
			SELECT t.id, t.group_id, (SELECT id FROM users WHERE email = 'writer@example.org'),
			       'm' || t.id || '-' || n || '@lists.test', t.subject,
			       'Message ' || n || ' of the thread, with **some** markdown and a link https://example.org/' || n,
			       'web', 'approved', t.last_message_at - (10 - n) * interval '1 second', now()
			FROM threads t, generate_series(1, 10) n WHERE t.subject <> 'The long one';
		INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at, approved_at)
			SELECT t.id, t.group_id, (SELECT id FROM users WHERE email = 'writer@example.org'),
			       'long-' || n || '@lists.test', 'Re: The long one', 'Reply ' || n || E'\n\n> quoted text\n\nMore words here.',
			       'web', 'approved', now() - (200 - n) * interval '1 second', now()
			FROM threads t, generate_series(1, 200) n WHERE t.subject = 'The long one';
		-- One thread in twenty has every message under an open flag: the
		-- inbox and the badge must leave them out for the reader.
		INSERT INTO flags (message_id, flagged_by, reason)
			SELECT m.id, (SELECT id FROM users WHERE email = 'reader@example.org'), 'spam'
			FROM messages m JOIN threads t ON t.id = m.thread_id WHERE t.subject LIKE 'Thread %' AND t.id % 20 = 0;
		ANALYZE;`)
	if err != nil {
		b.Fatal(err)
	}
}
