package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// Private messages between members (issue 19): whether a member takes
// them ("Others may write to me privately", migration 0021).

// AcceptsPrivate says whether userID takes private messages from other
// members; an unknown user is mailflow.ErrNotFound.
func (s *Store) AcceptsPrivate(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := s.db.QueryRow(ctx, `SELECT private_messages FROM users WHERE id = $1`, userID).Scan(&on)
	return on, mapErr(err, fmt.Sprintf("read private messages setting of user %d", userID))
}

// SetAcceptsPrivate turns userID's private messages on or off.
func (s *Store) SetAcceptsPrivate(ctx context.Context, userID int64, on bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET private_messages = $2, updated_at = now() WHERE id = $1`, userID, on)
	if err != nil {
		return mapErr(err, "set private messages setting")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// RefusingPrivate returns which of ids have turned private messages off:
// the thread page leaves out "Write privately" beside their messages.
func (s *Store) RefusingPrivate(ctx context.Context, ids []int64) (map[int64]bool, error) {
	rows, _ := s.db.Query(ctx, `SELECT id FROM users WHERE id = ANY($1) AND NOT private_messages`, ids)
	off, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, mapErr(err, "read private messages settings")
	}
	m := make(map[int64]bool, len(off))
	for _, id := range off {
		m[id] = true
	}
	return m, nil
}
