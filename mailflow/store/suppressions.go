package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Suppress puts an address on the suppression list (Connect's Unsubscribe
// table): it gets no mail at all until the entry is removed. An address
// already listed keeps its first reason.
func (s *Store) Suppress(ctx context.Context, email, reason, source, detail string) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO suppressions (email, reason, source, detail) VALUES ($1, $2, $3, $4)
		ON CONFLICT ((lower(email))) DO NOTHING`, email, reason, source, detail)
	return mapErr(err, "suppress address")
}

// Unsuppress removes an address from the suppression list; it reports
// whether it was there.
func (s *Store) Unsuppress(ctx context.Context, email string) (bool, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM suppressions WHERE lower(email) = lower($1)`, email)
	if err != nil {
		return false, mapErr(err, "unsuppress address")
	}
	return tag.RowsAffected() > 0, nil
}

// Suppression returns the reason an address is suppressed, or "" when it is not.
func (s *Store) Suppression(ctx context.Context, email string) (string, error) {
	var reason string
	err := s.db.QueryRow(ctx, `SELECT reason FROM suppressions WHERE lower(email) = lower($1)`, email).Scan(&reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return reason, mapErr(err, "get suppression")
}
