package store_test

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/migrations"
)

// firstRelease is the frozen schema of the first release (migrations
// 0001 to 0011) with a small dataset; see the file's head.
const (
	firstRelease     = "testdata/first_release_0011.sql"
	firstReleaseLast = "0011_trust"
)

// TestUpgradeFirstRelease loads a database as the first release left it,
// rows and all, runs the current migrations over it, and checks that the
// rows survived and that the store, and what later migrations added, work
// on them.
func TestUpgradeFirstRelease(t *testing.T) {
	ctx := context.Background()
	frozen, err := os.ReadFile(firstRelease)
	if err != nil {
		t.Fatal(err)
	}
	conn := storetest.ConnString(t)
	loadFrozen(t, conn, string(frozen))
	before := tableCounts(t, conn)

	st, err := store.Open(ctx, conn, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	applied, err := st.Migrate(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("upgrading the first release: %v", err)
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		if m.Version > firstReleaseLast {
			want = append(want, m.Version)
		}
	}
	if !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want the migrations after the first release %v", applied, want)
	}
	after := tableCounts(t, conn)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows before the upgrade, %d after", table, n, after[table])
		}
	}
	if before["messages"] != 6 || before["deliveries"] != 7 || before["digests"] != 3 {
		t.Fatalf("the frozen dataset is not what this test expects: %v", before)
	}

	t.Run("old rows read through the store", func(t *testing.T) { checkOldRows(t, st) })
	t.Run("new features on old rows", func(t *testing.T) { checkNewFeatures(t, st) })

	again, err := st.Migrate(ctx, slog.New(slog.DiscardHandler))
	if err != nil || len(again) != 0 {
		t.Fatalf("migrating the upgraded database again: applied %v, %v", again, err)
	}
}

// loadFrozen empties the test's database (storetest gives it migrated)
// and loads the frozen dump on one connection of its own: the dump sets
// session settings.
func loadFrozen(t *testing.T, connString, sql string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, sql); err != nil {
		t.Fatalf("loading %s: %v", firstRelease, err)
	}
}

// tableCounts counts the rows of the first release's tables.
func tableCounts(t *testing.T, connString string) map[string]int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	out := map[string]int{}
	for _, table := range []string{"users", "api_tokens", "categories", "groups", "memberships", "threads", "messages",
		"thread_states", "moderation_actions", "deliveries", "inbound_messages", "bounce_events", "bounce_scores",
		"suppressions", "digests", "audit_log", "schema_migrations"} {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM public.`+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		if table == "schema_migrations" {
			n = 0 // it grows by design
		}
		out[table] = n
	}
	return out
}

func checkOldRows(t *testing.T, st *store.Store) {
	ctx := context.Background()
	g, err := st.GroupBySlug(ctx, "garden")
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "Garden Club" || !g.ArchivePublic || g.TrustPosts != 2 || !g.Official || g.CategoryID == nil {
		t.Errorf("garden after the upgrade: %+v", g)
	}
	if g.DMARCFailure != mailflow.DMARCHold {
		t.Errorf("an old group's DMARC setting is %q, want the default hold", g.DMARCFailure)
	}
	board, err := st.GroupBySlug(ctx, "board")
	if err != nil || board.JoinPolicy != mailflow.JoinInvite || !board.Moderated || board.Listed {
		t.Errorf("board after the upgrade: %+v, %v", board, err)
	}
	members, err := st.ListMembers(ctx, g.ID)
	if err != nil || len(members) != 4 {
		t.Errorf("garden's members: %d, %v; want 4", len(members), err)
	}
	m, err := st.Membership(ctx, board.ID, 2)
	if err != nil || m == nil || m.Role != mailflow.RoleModerator || m.Delivery != mailflow.Delivery("weekly") {
		t.Errorf("bob on the board: %+v, %v", m, err)
	}
	threads, err := st.ListThreads(ctx, g.ID, 1, true, 10, 0)
	if err != nil || len(threads) != 2 || threads[0].Subject != "Tomato blight" {
		t.Errorf("garden's threads: %+v, %v", threads, err)
	}
	msgs, err := st.ThreadMessages(ctx, 1)
	if err != nil || len(msgs) != 3 || msgs[1].MessageID != "<CAB0b-reply@mail.example.org>" {
		t.Errorf("the seed-swap thread: %d messages, %v", len(msgs), err)
	}
	hits, err := st.SearchMessages(ctx, "runner beans", mailflow.ReadScope{All: true}, 0, 10, 0)
	if err != nil || len(hits) != 1 {
		t.Errorf("searching the old messages: %d hits, %v; want 1", len(hits), err)
	}
	u, err := st.UserByEmail(ctx, "CAROL@example.org")
	if err != nil || u.Timezone != "America/New_York" {
		t.Errorf("carol: %+v, %v", u, err)
	}
	events, err := st.BounceEvents(ctx, "dave@bounce.example.net", 10)
	if err != nil || len(events) != 2 {
		t.Fatalf("dave's bounces: %d, %v; want 2", len(events), err)
	}
	for _, ev := range events {
		// 0012 added proof: reports recorded before it acted, so they
		// count as verified.
		if !ev.Verified {
			t.Errorf("an old bounce event reads unverified: %+v", ev)
		}
	}
	sc, err := st.BounceScoreOf(ctx, "dave@bounce.example.net")
	if err != nil || sc.Score != 2 {
		t.Errorf("dave's score: %+v, %v", sc, err)
	}
	counts, err := st.DeliveryCounts(ctx, 1)
	if err != nil || counts["sent"] != 1 || counts["failed"] != 1 || counts["skipped"] != 1 {
		t.Errorf("deliveries of the first message: %v, %v", counts, err)
	}
	d, err := st.DigestByID(ctx, 1)
	if err != nil || d.State != "sent" {
		t.Errorf("carol's sent digest: %+v, %v", d, err)
	}
}

func checkNewFeatures(t *testing.T, st *store.Store) {
	ctx := context.Background()
	// 0018: a digest on demand beside the scheduled one of the same day.
	key := time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC)
	ids, err := st.CreateDigests(ctx, []store.NewDigest{{UserID: 3, Period: "daily", Key: key, DueAt: time.Now(), OnDemand: true}}, nil)
	if err != nil || len(ids) != 1 {
		t.Errorf("a digest on demand for an old member: %v, %v", ids, err)
	}
	// 0015: Mailgun's used tokens.
	if replay, err := st.UseWebhookToken(ctx, "mailgun", "tok-after-upgrade", time.Minute); err != nil || replay {
		t.Errorf("first use of a webhook token: replay %v, %v", replay, err)
	}
	// The identity sequences continue past the old rows.
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "orchard", Name: "Orchard", JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup, DMARCFailure: mailflow.DMARCRefuse}, 1)
	if err != nil || g.ID <= 2 || g.DMARCFailure != mailflow.DMARCRefuse {
		t.Fatalf("a new group beside the old ones: %+v, %v", g, err)
	}
	th, err := st.CreateThread(ctx, g.ID, "Pruning", nil)
	if err != nil || th.ID <= 3 {
		t.Errorf("a new thread: %+v, %v", th, err)
	}
}
