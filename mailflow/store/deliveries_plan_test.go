package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// TestClaimPlanIgnoresStaleStatistics reproduces the plan cliff: the
// deliveries table is analysed while small (a first send to 10, then to
// 1,000 members), then a large send adds many rows before any new
// ANALYZE. The claim and the "sent" record must still find their rows
// through the indexes, both as the store runs them and from generic plans
// cached while the table was small (what pgx's statement cache reuses):
// a scan of the whole deliveries or users table per claim or record is
// the cliff.
func TestClaimPlanIgnoresStaleStatistics(t *testing.T) {
	const tiny, small, large = 10, 1000, 20000
	ctx := context.Background()
	f := newThreadsFixture(t, "cliff")
	st := f.st
	conn, err := st.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	rec, err := st.AsyncPool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	exec := func(c *pgxpool.Conn, sql string) {
		t.Helper()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	explain := func(c *pgxpool.Conn, sql string) string {
		t.Helper()
		var plan string
		if err := c.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		return plan
	}

	// A first, tiny send: the "sent" record's plan cached then.
	f.expandSeeded(t, "tiny.example", tiny)
	exec(conn, `ANALYZE deliveries; ANALYZE users; ANALYZE memberships`)
	exec(rec, `SET plan_cache_mode = force_generic_plan`)
	exec(rec, `PREPARE cached_mark(bigint[]) AS `+store.MarkSentSQL)
	assertIndexed(t, `generic plan of the "sent" record, tiny table`, explain(rec, `EXECUTE cached_mark('{1,2}')`))

	// The small send: expanded, analysed while queued, claimed and sent.
	m1 := f.expandSeeded(t, "small.example", small)
	exec(conn, `ANALYZE deliveries; ANALYZE users; ANALYZE memberships`)
	exec(conn, `SET plan_cache_mode = force_generic_plan`)
	exec(conn, `PREPARE cached_claim(int, interval, timestamptz) AS `+store.ClaimSQL)
	cachedPlan := func() string { return explain(conn, `EXECUTE cached_claim(50, '2 minutes', '-infinity')`) }
	assertIndexed(t, "generic plan, small table", cachedPlan())
	for {
		cl, err := st.ClaimDeliveries(ctx, 50, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds := cl.Deliveries
		if len(ds) == 0 {
			break
		}
		ids := make([]int64, len(ds))
		for i, d := range ds {
			ids[i] = d.ID
		}
		if err := st.MarkSent(ctx, ids...); err != nil {
			t.Fatal(err)
		}
	}
	// The members and the author (a post from the web reaches its author).
	if counts, err := st.DeliveryCounts(ctx, m1.ID); err != nil || counts[store.DeliverySent] != small+1 {
		t.Fatalf("small send: %v, %v", counts, err)
	}

	// The large send, with no ANALYZE in between.
	f.expandSeeded(t, "large.example", large)
	assertIndexed(t, "generic plan cached while the table was small, table now large", cachedPlan())
	var plan string
	if err := conn.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+store.ClaimSQL, pgx.QueryExecModeExec, 50, 2*time.Minute, time.Time{}).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	assertIndexed(t, "plan as the store runs it, table now large", plan)

	cl, err := st.ClaimDeliveries(ctx, 50, time.Minute, nil)
	ds := cl.Deliveries
	if err != nil || len(ds) != 50 {
		t.Fatalf("claiming from the large send: %v, %d claimed, want 50", err, len(ds))
	}
	for i := 1; i < len(ds); i++ {
		if ds[i].ID <= ds[i-1].ID || ds[i].Name == "" {
			t.Fatalf("claimed %+v after %+v: want ascending ids with the members' names", ds[i], ds[i-1])
		}
	}
}

// expandSeeded adds n members (m1@domain …) to a new group of the
// fixture's owner, posts there and expands the post's deliveries.
func (f *threadsFixture) expandSeeded(t *testing.T, domain string, n int) mailflow.Message {
	t.Helper()
	ctx := context.Background()
	g := newGroup(t, f.st, f.owner, domain[:len(domain)-len(".example")])
	if err := f.st.SeedMembers(ctx, g.ID, n, domain); err != nil {
		t.Fatal(err)
	}
	th, err := f.st.CreateThread(ctx, g.ID, "Everyone", &f.owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.n++
	m, err := f.st.InsertMessage(ctx, mailflow.Message{ThreadID: th.ID, GroupID: g.ID, AuthorID: &f.owner.ID,
		MessageID: domain + "-post@cliff", Subject: th.Subject, Body: "hello", Source: mailflow.SourceWeb, Status: mailflow.MessageApproved})
	if err != nil {
		t.Fatal(err)
	}
	if _, k, err := f.st.ExpandBatch(ctx, m, 0, n+1, time.Now()); err != nil || k != n+1 {
		t.Fatalf("expanding %s: %v, %d recipients, want %d", domain, err, k, n+1)
	}
	return m
}

// assertIndexed fails if an EXPLAIN (FORMAT JSON) plan reads the whole
// deliveries or users table.
func assertIndexed(t *testing.T, what, plan string) {
	t.Helper()
	var doc []struct{ Plan planNode }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("%s: reading the plan: %v\n%s", what, err, plan)
	}
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.NodeType == "Seq Scan" && (n.Relation == "deliveries" || n.Relation == "users") {
			t.Errorf("%s: a sequential scan of %s:\n%s", what, n.Relation, plan)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(doc[0].Plan)
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Plans    []planNode `json:"Plans"`
}

// TestExpansionReadsOnlyItsBatch: a group just imported has no
// statistics, and a batch of its fan-out must still read its members in
// order and stop at the batch's end, not read and sort every member after
// the batch's start (which made expanding a fresh group quadratic: a
// quarter of the rate on an aged database). The plan is the one the
// store runs, on the senders' pool's sessions.
func TestExpansionReadsOnlyItsBatch(t *testing.T) {
	const members, batch = 3000, 100
	ctx := context.Background()
	f := newThreadsFixture(t, "fresh")
	g := newGroup(t, f.st, f.owner, "imported")
	if err := f.st.SeedMembers(ctx, g.ID, members, "imported.example"); err != nil {
		t.Fatal(err)
	}
	th, err := f.st.CreateThread(ctx, g.ID, "Hello", &f.owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.st.InsertMessage(ctx, mailflow.Message{ThreadID: th.ID, GroupID: g.ID, AuthorID: &f.owner.ID,
		MessageID: "fresh-post@cliff", Subject: th.Subject, Body: "hello", Source: mailflow.SourceWeb, Status: mailflow.MessageApproved})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := f.st.AsyncPool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// No statistics, whatever autovacuum did meanwhile.
	for _, table := range []string{"memberships", "users"} {
		if _, err := conn.Exec(ctx, `UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE relname = '`+table+`'`); err != nil {
			t.Skipf("cannot reset statistics here: %v", err)
		}
		if _, err := conn.Exec(ctx, `DELETE FROM pg_statistic WHERE starelid = '`+table+`'::regclass`); err != nil {
			t.Fatal(err)
		}
	}
	var plan string
	if err := conn.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+store.ExpandSQL, store.ExpandArgs(m, 0, batch, time.Now())...).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	var doc []struct{ Plan analysedNode }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil || len(doc) != 1 {
		t.Fatalf("reading the plan: %v\n%s", err, plan)
	}
	read := 0.0
	var walk func(n analysedNode)
	walk = func(n analysedNode) {
		if n.Relation == "memberships" {
			read += n.Rows * n.Loops
		}
		if n.NodeType == "Sort" {
			t.Errorf("the batch sorts %v rows:\n%s", n.Rows, plan)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(doc[0].Plan)
	if read == 0 || read > 2*batch {
		t.Errorf("a batch of %d read %v memberships of %d:\n%s", batch, read, members, plan)
	}
}

type analysedNode struct {
	NodeType string         `json:"Node Type"`
	Relation string         `json:"Relation Name"`
	Rows     float64        `json:"Actual Rows"`
	Loops    float64        `json:"Actual Loops"`
	Plans    []analysedNode `json:"Plans"`
}
