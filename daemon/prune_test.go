package main

import (
	"regexp"
	"strings"
	"testing"
)

// chartFigures is what the dashboard's charts say: each chart's total and
// every bar's day and count.
var chartFigures = regexp.MustCompile(`\d+ in the period shown|<title>[^<]*</title>`)

// TestPruneCommandKeepsTheDashboard: parleyd prune removes settled
// deliveries, processed received mail and bounce events older than their
// settings, leaves pending deliveries and failed mail, and the admin
// dashboard shows the same figures before and after.
func TestPruneCommandKeepsTheDashboard(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "root@example.org", "Root Admin", "correct horse battery", true)
	w.sql(t, `
		INSERT INTO groups (slug, name) VALUES ('garden', 'Garden');
		INSERT INTO threads (group_id, subject) SELECT id, 'Seeds' FROM groups WHERE slug = 'garden';
		INSERT INTO messages (thread_id, group_id, message_id, subject, body, source, status, created_at)
			SELECT t.id, t.group_id, 'seeds-' || n || '@x', 'Seeds', 'b', 'api', 'approved', now() - n * interval '1 day'
			FROM threads t, (VALUES (2), (12)) v(n);
		-- 12 days ago: 40 sent, 5 failed, and one still deferred (for later);
		-- 2 days ago: 20 sent.
		INSERT INTO deliveries (message_id, email, state, created_at, sent_at, next_attempt_at)
			SELECT m.id, 'r' || i || '@example.org',
			       CASE WHEN i > 45 THEN 'deferred' WHEN i > 40 THEN 'failed' ELSE 'sent' END,
			       m.created_at, CASE WHEN i <= 40 THEN m.created_at END, now() + interval '1 day'
			FROM messages m, generate_series(1, 46) i WHERE m.message_id = 'seeds-12@x';
		INSERT INTO deliveries (message_id, email, state, created_at, sent_at)
			SELECT m.id, 'r' || i || '@example.org', 'sent', m.created_at, m.created_at
			FROM messages m, generate_series(1, 20) i WHERE m.message_id = 'seeds-2@x';
		INSERT INTO bounce_events (email, kind, class, verified, received_at)
			SELECT 'r' || i || '@example.org', CASE WHEN i = 1 THEN 'complaint' ELSE 'hard' END, 'hard', true, now() - interval '12 days'
			FROM generate_series(1, 3) i;
		INSERT INTO inbound_messages (transport, rcpt_to, raw, size_bytes, sha256, state, received_at)
			SELECT 'smtp', ARRAY['garden@lists.test'], 'x', 1, sha256(convert_to(s, 'UTF8')), s, now() - interval '12 days'
			FROM unnest(ARRAY['processed', 'failed']) s;`)
	root := w.client(t)
	root.login("root@example.org", "correct horse battery")
	dashboard := func() []string {
		code, body := root.get("/admin/dashboard")
		if code != 200 {
			t.Fatalf("dashboard: %d", code)
		}
		return chartFigures.FindAllString(body, -1)
	}
	before := dashboard()
	if b := strings.Join(before, "\n"); !strings.Contains(b, "60 in the period shown") || !strings.Contains(b, "5 in the period shown") {
		t.Fatalf("the dashboard does not count the seeded deliveries: %q", before)
	}

	env := append(w.env, "DELIVERY_RETENTION_DAYS=7", "INBOUND_RETENTION_DAYS=7", "BOUNCE_EVENT_RETENTION_DAYS=7")
	out, stderr, code := runCmd(t, env, "", "prune")
	if code != 0 || !strings.Contains(out, "deliveries: 45 removed") || !strings.Contains(out, "inbound_messages: 1 removed") ||
		!strings.Contains(out, "bounce_events: 3 removed") {
		t.Fatalf("prune: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries`); n != 21 {
		t.Errorf("%d deliveries left, want the 20 recent ones and the deferred one", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries WHERE state = 'deferred'`); n != 1 {
		t.Error("the pending deferred delivery was removed")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM inbound_messages WHERE state = 'failed'`); n != 1 {
		t.Error("failed received mail was removed: an admin could no longer retry it")
	}
	after := dashboard()
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("the dashboard changed with pruning:\nbefore %q\nafter  %q", before, after)
	}
	// Nothing more is due: a second run removes nothing.
	if out, _, code := runCmd(t, env, "", "prune"); code != 0 || !strings.Contains(out, "deliveries: 0 removed") {
		t.Errorf("second prune: %d %s", code, out)
	}
}
