package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// BounceEvent is one report about one address.
type BounceEvent struct {
	ID              int64  `json:"id"`
	Email           string `json:"email"`
	DeliveryID      *int64 `json:"delivery_id"`
	InboundID       *int64 `json:"inbound_id,omitempty"`
	Kind            string `json:"kind"` // hard, soft, complaint, delayed, unparsed
	Class           string `json:"class"`
	Status          string `json:"status"`
	Reason          string `json:"reason"`
	Diagnostic      string `json:"diagnostic"`
	Provider        string `json:"provider"`
	ProviderEventID string `json:"provider_event_id,omitempty"`
	Scored          bool   `json:"scored"`
	// Verified: the report proved it is about mail Parley sent to Email
	// (a signed token); an unverified one changed nothing.
	Verified   bool      `json:"verified"`
	Proof      string    `json:"proof"` // how it was proven, or why it was not
	ReceivedAt time.Time `json:"received_at"`
}

// RecordBounceEvent stores a report. A provider event already recorded
// (same provider and event id) is not stored again: created is false.
func (s *Store) RecordBounceEvent(ctx context.Context, e BounceEvent) (created bool, err error) {
	var eventID *string
	if e.ProviderEventID != "" {
		eventID = &e.ProviderEventID
	}
	tag, err := s.db.Exec(ctx, `
		INSERT INTO bounce_events (email, delivery_id, inbound_id, kind, class, status_code, reason, diagnostic, provider, provider_event_id, scored, verified, proof)
		VALUES (lower($1), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (provider, provider_event_id) WHERE provider_event_id IS NOT NULL DO NOTHING`,
		truncate(e.Email, 320), e.DeliveryID, e.InboundID, e.Kind, e.Class, truncate(e.Status, 32), truncate(e.Reason, 200), truncate(e.Diagnostic, 1000), e.Provider, eventID, e.Scored, e.Verified, truncate(e.Proof, 1000))
	if err != nil {
		return false, mapErr(err, "record bounce")
	}
	return tag.RowsAffected() == 1, nil
}

// BounceScore is an address's bounce record as stored.
type BounceScore struct {
	Email        string     `json:"email"`
	Score        float64    `json:"score"`
	LastHardOn   *time.Time `json:"last_hard_on"`
	LastSoftOn   *time.Time `json:"last_soft_on"`
	LastBounceAt *time.Time `json:"last_bounce_at"`
	DisabledAt   *time.Time `json:"disabled_at"`
	WarningsSent int        `json:"warnings_sent"`
}

// UpdateBounceScore reads an address's score under a row lock, lets fn
// compute the new one, and stores it: concurrent reports about one
// address are counted one after the other.
func (s *Store) UpdateBounceScore(ctx context.Context, email string, fn func(BounceScore) (BounceScore, error)) (BounceScore, error) {
	var out BounceScore
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `INSERT INTO bounce_scores (email) VALUES (lower($1)) ON CONFLICT DO NOTHING`, email); err != nil {
			return mapErr(err, "create bounce score")
		}
		cur, err := scanScore(tx.db.QueryRow(ctx, `SELECT `+scoreCols+` FROM bounce_scores WHERE email = lower($1) FOR UPDATE`, email))
		if err != nil {
			return mapErr(err, "read bounce score")
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		_, err = tx.db.Exec(ctx, `UPDATE bounce_scores SET score = $2, last_hard_on = $3, last_soft_on = $4, last_bounce_at = $5,
			disabled_at = $6, warnings_sent = $7, updated_at = now() WHERE email = lower($1)`,
			email, next.Score, next.LastHardOn, next.LastSoftOn, next.LastBounceAt, next.DisabledAt, next.WarningsSent)
		out = next
		return mapErr(err, "store bounce score")
	})
	return out, err
}

const scoreCols = `email, score::float8, last_hard_on, last_soft_on, last_bounce_at, disabled_at, warnings_sent`

func scanScore(row pgx.Row) (BounceScore, error) {
	var b BounceScore
	var hard, soft pgtype.Date
	err := row.Scan(&b.Email, &b.Score, &hard, &soft, &b.LastBounceAt, &b.DisabledAt, &b.WarningsSent)
	if hard.Valid {
		b.LastHardOn = &hard.Time
	}
	if soft.Valid {
		b.LastSoftOn = &soft.Time
	}
	return b, err
}

// BounceScoreOf returns an address's score (zero when it never bounced).
func (s *Store) BounceScoreOf(ctx context.Context, email string) (BounceScore, error) {
	b, err := scanScore(s.db.QueryRow(ctx, `SELECT `+scoreCols+` FROM bounce_scores WHERE email = lower($1)`, email))
	if errors.Is(err, pgx.ErrNoRows) {
		return BounceScore{Email: email}, nil
	}
	return b, mapErr(err, "read bounce score")
}

// ResetBounceScore clears an address's score and lifts a bounce-score
// suppression (an admin's or the member's re-enable).
func (s *Store) ResetBounceScore(ctx context.Context, email string) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM bounce_scores WHERE email = lower($1)`, email); err != nil {
			return mapErr(err, "reset bounce score")
		}
		_, err := tx.db.Exec(ctx, `DELETE FROM suppressions WHERE lower(email) = lower($1) AND reason = 'bounce_score'`, email)
		return mapErr(err, "lift bounce suppression")
	})
}

// BounceEvents returns an address's reports, newest first.
func (s *Store) BounceEvents(ctx context.Context, email string, limit int) ([]BounceEvent, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+bounceEventCols+`
		FROM bounce_events WHERE lower(email) = lower($1) ORDER BY received_at DESC, id DESC LIMIT $2`, email, limit)
	if err != nil {
		return nil, mapErr(err, "list bounces")
	}
	out, err := pgx.CollectRows(rows, scanBounceEvent)
	return out, mapErr(err, "list bounces")
}

// RecentBounceEvents lists every address's reports, newest first: all
// of them, or only the verified (verified true) or unverified (false)
// ones.
func (s *Store) RecentBounceEvents(ctx context.Context, verified *bool, limit, offset int) ([]BounceEvent, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+bounceEventCols+`
		FROM bounce_events WHERE $1::boolean IS NULL OR verified = $1
		ORDER BY received_at DESC, id DESC LIMIT $2 OFFSET $3`, verified, limit, offset)
	if err != nil {
		return nil, mapErr(err, "list recent bounces")
	}
	out, err := pgx.CollectRows(rows, scanBounceEvent)
	return out, mapErr(err, "list recent bounces")
}

const bounceEventCols = `id, email, delivery_id, inbound_id, kind, class, status_code, reason, diagnostic, provider,
		coalesce(provider_event_id, ''), scored, verified, proof, received_at`

func scanBounceEvent(r pgx.CollectableRow) (BounceEvent, error) {
	var e BounceEvent
	err := r.Scan(&e.ID, &e.Email, &e.DeliveryID, &e.InboundID, &e.Kind, &e.Class, &e.Status, &e.Reason, &e.Diagnostic, &e.Provider,
		&e.ProviderEventID, &e.Scored, &e.Verified, &e.Proof, &e.ReceivedAt)
	return e, err
}

// DeliveryRecipient returns the address and message of a delivery (how a
// VERP bounce finds its recipient).
func (s *Store) DeliveryRecipient(ctx context.Context, id int64) (email string, messageID int64, err error) {
	err = s.db.QueryRow(ctx, `SELECT email, message_id FROM deliveries WHERE id = $1`, id).Scan(&email, &messageID)
	return email, messageID, mapErr(err, "get delivery")
}

// DigestRecipient returns the address a digest was sent to (how a
// report that returns a digest finds its recipient).
func (s *Store) DigestRecipient(ctx context.Context, id int64) (email string, err error) {
	err = s.db.QueryRow(ctx, `SELECT u.email FROM digests d JOIN users u ON u.id = d.user_id WHERE d.id = $1`, id).Scan(&email)
	return email, mapErr(err, "get digest recipient")
}

// Suppression is one entry of the suppression list.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Source    string    `json:"source"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}

// Suppressions lists the suppression list, optionally filtered by a part
// of the address, newest first.
func (s *Store) Suppressions(ctx context.Context, search string, limit, offset int) ([]Suppression, error) {
	rows, err := s.db.Query(ctx, `
		SELECT email, reason, source, detail, created_at FROM suppressions
		WHERE $1 = '' OR strpos(lower(email), lower($1)) > 0
		ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`, search, limit, offset)
	if err != nil {
		return nil, mapErr(err, "list suppressions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Suppression, error) {
		var x Suppression
		err := r.Scan(&x.Email, &x.Reason, &x.Source, &x.Detail, &x.CreatedAt)
		return x, err
	})
	return out, mapErr(err, "list suppressions")
}

// SuppressedCount counts the suppression list, for the metrics.
func (s *Store) SuppressedCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM suppressions`).Scan(&n)
	return n, mapErr(err, "count suppressions")
}

// DisabledAddress is an address whose delivery stopped for bounces.
type DisabledAddress struct {
	Email         string
	DisabledAt    time.Time
	WarningsSent  int
	LastWarningAt *time.Time
}

// DisabledAddresses lists the addresses whose delivery stopped for bounces
// and that are still suppressed for it.
func (s *Store) DisabledAddresses(ctx context.Context) ([]DisabledAddress, error) {
	rows, err := s.db.Query(ctx, `
		SELECT b.email, b.disabled_at, b.warnings_sent, b.last_warning_at FROM bounce_scores b
		WHERE b.disabled_at IS NOT NULL
		  AND EXISTS (SELECT 1 FROM suppressions s WHERE lower(s.email) = b.email AND s.reason = 'bounce_score')
		ORDER BY b.disabled_at`)
	if err != nil {
		return nil, mapErr(err, "list disabled addresses")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DisabledAddress, error) {
		var d DisabledAddress
		err := r.Scan(&d.Email, &d.DisabledAt, &d.WarningsSent, &d.LastWarningAt)
		return d, err
	})
	return out, mapErr(err, "list disabled addresses")
}

// NoteWarning records that another notice went to a disabled address.
func (s *Store) NoteWarning(ctx context.Context, email string, at time.Time) error {
	_, err := s.db.Exec(ctx, `UPDATE bounce_scores SET warnings_sent = warnings_sent + 1, last_warning_at = $2 WHERE email = lower($1)`, email, at)
	return mapErr(err, "note bounce warning")
}

// LeaveAllGroups ends every membership of the account with this address,
// except where it is a group's last owner (a group must keep one), and
// returns how many ended.
func (s *Store) LeaveAllGroups(ctx context.Context, email string) (int64, error) {
	tag, err := s.db.Exec(ctx, `
		DELETE FROM memberships m USING users u
		WHERE u.id = m.user_id AND lower(u.email) = lower($1)
		  AND NOT (m.role = 'owner' AND m.status = 'active' AND (
		      SELECT count(*) FROM memberships o WHERE o.group_id = m.group_id AND o.role = 'owner' AND o.status = 'active') = 1)`, email)
	if err != nil {
		return 0, mapErr(err, "leave all groups")
	}
	return tag.RowsAffected(), nil
}
