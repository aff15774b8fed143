package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Retention: rows of the hot tables that nothing needs any more are
// removed a batch at a time, each batch one short statement of its own
// (its row locks last only as long as it), so that senders, intake and
// pages never wait behind a long delete. mailflow/retention decides when
// and how much; these are its statements.

// settledStates are the delivery states that never change again: only
// these are ever removed (queued, deferred and sending rows are the
// outbound queue).
const settledStates = `('sent', 'failed', 'suppressed', 'skipped')`

// PruneBatch is what one batch did.
type PruneBatch struct {
	Deleted int64
	Last    int64 // deliveries: the highest id looked at (the next batch starts after it)
	More    bool  // another batch may find more to remove
}

// PruneDeliveries removes, from the deliveries with ids above after (at
// most limit looked at, in id order), the settled ones created before
// before. The sent and failed ones are first added to daily_counts, in the
// same statement, for the dashboard. Ids grow with creation time, so the
// walk ends with the first batch that holds no row created before before;
// the rare row still pending is left, and looked at again next run.
// So are two kinds of settled rows: a copy sent after before (retried for
// days, then sent: a bounce report for it may still come, and must find
// it), and every row of a message whose fan-out job is still live,
// because the fan-out resumes after the highest member it finds among
// its message's rows (ExpandedUpTo): with them gone, a fan-out retried
// days later would mail the whole group again. The
// rows are deleted by primary key (= ANY of an array), never by a join
// the planner could turn into a scan of the whole table.
//
// The walk follows the primary key rather than an index on created_at:
// such an index would cost every fan-out insert, and retention is the
// only reader that would use it.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time, after int64, limit int) (PruneBatch, error) {
	var b PruneBatch
	var older bool
	var scanned int
	err := s.db.QueryRow(ctx, `
		WITH scan AS MATERIALIZED (
			SELECT id, message_id, created_at, state, sent_at FROM deliveries WHERE id > $1 ORDER BY id LIMIT $3
		), fanning AS MATERIALIZED (
			SELECT (args->>'message_id')::bigint AS message_id FROM river_job
			WHERE kind = 'fanout' AND state IN ('available', 'pending', 'retryable', 'running', 'scheduled')
		), gone AS (
			DELETE FROM deliveries d
			WHERE d.id = ANY (ARRAY(SELECT id FROM scan WHERE created_at < $2 AND state IN `+settledStates+`
			                          AND (sent_at IS NULL OR sent_at < $2)
			                          AND message_id NOT IN (SELECT message_id FROM fanning)))
			  AND d.created_at < $2 AND d.state IN `+settledStates+` AND (d.sent_at IS NULL OR d.sent_at < $2)
			RETURNING d.state, d.created_at, d.sent_at
		), counted AS (
			INSERT INTO daily_counts (series, day, count)
			SELECT series, day, count(*) FROM (
				SELECT 'deliveries' AS series, (sent_at AT TIME ZONE 'UTC')::date AS day FROM gone WHERE state = 'sent' AND sent_at IS NOT NULL
				UNION ALL
				SELECT 'failures', (created_at AT TIME ZONE 'UTC')::date FROM gone WHERE state = 'failed'
			) x GROUP BY series, day
			ON CONFLICT (series, day) DO UPDATE SET count = daily_counts.count + excluded.count
		)
		SELECT coalesce(max(id), $1), count(*), coalesce(bool_or(created_at < $2), false), (SELECT count(*) FROM gone)
		FROM scan`, after, before, limit).Scan(&b.Last, &scanned, &older, &b.Deleted)
	if err != nil {
		return b, mapErr(err, "prune deliveries")
	}
	b.More = scanned == limit && older
	return b, nil
}

// PruneInbound removes up to limit received messages processed before
// before, with their bytes (inbound_message_chunks cascade). Failed and
// unprocessed ones stay: an admin may still retry them. What became of a
// message lives on in the message it became; its raw copy only served
// processing.
func (s *Store) PruneInbound(ctx context.Context, before time.Time, limit int) (PruneBatch, error) {
	return s.pruneOldest(ctx, "prune received messages", `
		WITH gone AS (
			DELETE FROM inbound_messages WHERE id = ANY (ARRAY(
				SELECT id FROM inbound_messages
				WHERE state = 'processed' AND received_at < $1
				ORDER BY received_at LIMIT $2))
			RETURNING 1
		)
		SELECT count(*) FROM gone`, before, limit)
}

// PruneBounceEvents removes up to limit bounce events (reports by mail and
// provider webhook events) received before before. The verified bounces
// and complaints are first added to daily_counts, in the same statement.
func (s *Store) PruneBounceEvents(ctx context.Context, before time.Time, limit int) (PruneBatch, error) {
	return s.pruneOldest(ctx, "prune bounce events", `
		WITH gone AS (
			DELETE FROM bounce_events WHERE id = ANY (ARRAY(
				SELECT id FROM bounce_events WHERE received_at < $1
				ORDER BY received_at, id LIMIT $2))
			RETURNING kind, verified, received_at
		), counted AS (
			INSERT INTO daily_counts (series, day, count)
			SELECT CASE WHEN kind = 'complaint' THEN 'complaints' ELSE 'bounces' END,
			       (received_at AT TIME ZONE 'UTC')::date, count(*)
			FROM gone WHERE verified AND kind IN ('hard', 'soft', 'complaint')
			GROUP BY 1, 2
			ON CONFLICT (series, day) DO UPDATE SET count = daily_counts.count + excluded.count
		)
		SELECT count(*) FROM gone`, before, limit)
}

// pruneOldest runs a batch statement q that removes at most limit of the
// oldest rows from before before and answers how many it removed.
func (s *Store) pruneOldest(ctx context.Context, what, q string, before time.Time, limit int) (PruneBatch, error) {
	var b PruneBatch
	if err := s.db.QueryRow(ctx, q, before, limit).Scan(&b.Deleted); err != nil {
		return b, mapErr(err, what)
	}
	b.More = b.Deleted == int64(limit)
	return b, nil
}

// Vacuum runs VACUUM (ANALYZE) on one of the tables retention prunes, so
// that the space of removed rows is reused by the next days' rows and the
// planner's statistics follow the table. VACUUM (never FULL) takes no
// lock that blocks reads or writes.
func (s *Store) Vacuum(ctx context.Context, table string) error {
	switch table {
	case "deliveries", "inbound_messages", "inbound_message_chunks", "bounce_events":
	default:
		return fmt.Errorf("vacuum: %q is not a table retention prunes", table)
	}
	_, err := s.db.Exec(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{table}.Sanitize())
	return mapErr(err, "vacuum "+table)
}

// TableSize is a table's rows (the planner's estimate) and bytes on disk.
type TableSize struct {
	Name       string
	Rows       int64
	TableBytes int64 // heap and TOAST
	IndexBytes int64
}

// TableSizes reports the size of the tables retention prunes, for the
// growth bench and operators.
func (s *Store) TableSizes(ctx context.Context) ([]TableSize, error) {
	rows, err := s.db.Query(ctx, `
		SELECT c.relname, coalesce(st.n_live_tup, greatest(c.reltuples, 0)::bigint), pg_table_size(c.oid), pg_indexes_size(c.oid)
		FROM pg_class c LEFT JOIN pg_stat_user_tables st ON st.relid = c.oid
		WHERE c.relname IN ('deliveries', 'inbound_messages', 'inbound_message_chunks', 'bounce_events', 'daily_counts')
		  AND c.relnamespace = current_schema()::regnamespace
		ORDER BY c.relname`)
	if err != nil {
		return nil, mapErr(err, "table sizes")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TableSize, error) {
		var t TableSize
		return t, r.Scan(&t.Name, &t.Rows, &t.TableBytes, &t.IndexBytes)
	})
	return out, mapErr(err, "table sizes")
}
