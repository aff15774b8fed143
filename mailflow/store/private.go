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

// PrivateAddressees returns which of ids may be written to privately in
// groupID: active members of it who take private messages. The thread
// page offers "Write privately" beside their messages only.
func (s *Store) PrivateAddressees(ctx context.Context, groupID int64, ids []int64) (map[int64]bool, error) {
	rows, _ := s.db.Query(ctx, `SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE m.group_id = $1 AND m.status = 'active' AND u.id = ANY($2) AND u.private_messages`, groupID, ids)
	on, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, mapErr(err, "read private messages settings")
	}
	m := make(map[int64]bool, len(on))
	for _, id := range on {
		m[id] = true
	}
	return m, nil
}
