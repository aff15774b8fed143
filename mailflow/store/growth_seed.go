package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// GrowthDay is one simulated day of a busy list, for parleyd bench growth:
// rows made directly (never sent), as they would be left behind once the
// day's mail had gone out.
type GrowthDay struct {
	GroupID int64
	Day     time.Time // the day's start; its posts are spread over it
	Posts   int       // messages posted that day
	// Deliver makes one settled delivery per post and member: 98% sent,
	// 1% failed (each with a verified bounce event, a fifth of them
	// complaints), 1% skipped. False leaves the posts undelivered.
	Deliver bool
	Inbound int // processed received messages, each with a 4 KB raw copy
}

// SeedGrowthDay writes one simulated day and returns its posts.
func (s *Store) SeedGrowthDay(ctx context.Context, d GrowthDay) ([]mailflow.Message, error) {
	var out []mailflow.Message
	err := s.Tx(ctx, func(tx *Store) error {
		rows, err := tx.db.Query(ctx, `
			WITH th AS (
				INSERT INTO threads (group_id, subject, created_at, last_message_at)
				VALUES ($1, 'Growth day', $2, $2) RETURNING id
			)
			INSERT INTO messages (thread_id, group_id, message_id, subject, body, source, status, created_at, approved_at)
			SELECT th.id, $1, 'growth-' || (extract(epoch FROM $2::timestamptz) * 1000000)::bigint || '-' || i || '@bench.test', 'Growth day', 'A post.',
			       'api', 'approved', $2::timestamptz + i * ($4::interval / ($3 + 1)), $2::timestamptz + i * ($4::interval / ($3 + 1))
			FROM th, generate_series(1, $3) i
			RETURNING id, thread_id`, d.GroupID, d.Day, d.Posts, 24*time.Hour)
		if err != nil {
			return mapErr(err, "seed growth posts")
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Message, error) {
			m := mailflow.Message{GroupID: d.GroupID, Source: mailflow.SourceAPI}
			return m, r.Scan(&m.ID, &m.ThreadID)
		})
		if err != nil {
			return mapErr(err, "seed growth posts")
		}
		ids := make([]int64, len(out))
		for i, m := range out {
			ids[i] = m.ID
		}
		if d.Deliver {
			if err := tx.seedGrowthDeliveries(ctx, d.GroupID, ids); err != nil {
				return err
			}
		}
		return tx.seedGrowthInbound(ctx, d)
	})
	return out, err
}

func (s *Store) seedGrowthDeliveries(ctx context.Context, groupID int64, ids []int64) error {
	if _, err := s.db.Exec(ctx, `
		INSERT INTO deliveries (message_id, user_id, email, state, skip_reason, attempts, next_attempt_at, smtp_code, last_error, created_at, sent_at)
		SELECT m.id, u.id, u.email, x.state, CASE WHEN x.state = 'skipped' THEN 'own post' ELSE '' END,
		       1, m.created_at, CASE WHEN x.state = 'failed' THEN 550 END,
		       CASE WHEN x.state = 'failed' THEN '5.1.1 user unknown' ELSE '' END,
		       m.created_at, CASE WHEN x.state = 'sent' THEN m.created_at + interval '1 minute' END
		FROM messages m
		CROSS JOIN memberships ms JOIN users u ON u.id = ms.user_id
		CROSS JOIN LATERAL (SELECT CASE (u.id + m.id) % 100 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' ELSE 'sent' END AS state) x
		WHERE m.id = ANY($2) AND ms.group_id = $1`, groupID, ids); err != nil {
		return mapErr(err, "seed growth deliveries")
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO bounce_events (email, delivery_id, kind, class, status_code, provider, received_at, verified, scored)
		SELECT email, id, CASE WHEN id % 5 = 0 THEN 'complaint' ELSE 'hard' END, CASE WHEN id % 5 = 0 THEN '' ELSE 'hard' END,
		       '5.1.1', 'bench', created_at + interval '5 minutes', true, true
		FROM deliveries WHERE message_id = ANY($1) AND state = 'failed'`, ids)
	return mapErr(err, "seed growth bounce events")
}

func (s *Store) seedGrowthInbound(ctx context.Context, d GrowthDay) error {
	if d.Inbound == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `
		WITH ins AS (
			INSERT INTO inbound_messages (received_at, transport, rcpt_to, raw, size_bytes, sha256, state, processed_at)
			SELECT $1::timestamptz + i * ($3::interval / ($2 + 1)), 'smtp', ARRAY['bench@bench.test'], '', 4096,
			       sha256(convert_to('growth ' || $1::timestamptz || ' ' || i, 'UTF8')), 'processed', $1::timestamptz + i * ($3::interval / ($2 + 1))
			FROM generate_series(1, $2) i
			RETURNING id
		)
		INSERT INTO inbound_message_chunks (inbound_id, seq, data)
		SELECT id, 0, convert_to((SELECT string_agg(md5(random()::text || id || g), '') FROM generate_series(1, 128) g), 'UTF8')
		FROM ins`, d.Day, d.Inbound, 24*time.Hour)
	return mapErr(err, "seed growth received messages")
}

// Checkpoint writes every dirty buffer out now, so that a measurement
// that follows does not share the machine with the writing of the rows
// seeded before it.
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `CHECKPOINT`)
	return mapErr(err, "checkpoint")
}
