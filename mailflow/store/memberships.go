package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const membershipCols = `group_id, user_id, role, delivery, status, whitelisted, echo_own_posts, created_at, updated_at`

func scanMembership(row pgx.Row) (mailflow.Membership, error) {
	var m mailflow.Membership
	err := row.Scan(&m.GroupID, &m.UserID, &m.Role, &m.Delivery, &m.Status, &m.Whitelisted, &m.SendOwnPosts, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

// Membership returns userID's membership of groupID, or nil when there is
// none (not an error: most users are not members of most groups).
func (s *Store) Membership(ctx context.Context, groupID, userID int64) (*mailflow.Membership, error) {
	m, err := scanMembership(s.db.QueryRow(ctx, `SELECT `+membershipCols+` FROM memberships WHERE group_id = $1 AND user_id = $2`, groupID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr(err, "get membership")
	}
	return &m, nil
}

// SetMembership creates or updates a membership and reports whether it
// was created. Role and Delivery may be empty: a new membership then gets
// role member and the user's default delivery; an existing one keeps its
// own. A change that would leave an active group without an owner is
// ErrConflict: the group row is locked so two demotions cannot race.
func (s *Store) SetMembership(ctx context.Context, m mailflow.Membership) (mailflow.Membership, bool, error) {
	var out mailflow.Membership
	var created bool
	err := s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, m.GroupID); err != nil {
			return mapErr(err, "lock group")
		}
		var err error
		row := tx.db.QueryRow(ctx, `
			INSERT INTO memberships AS m (group_id, user_id, role, delivery, status, echo_own_posts)
			SELECT $1, u.id, coalesce(nullif($3, ''), 'member'), coalesce(nullif($4, ''), u.default_delivery), $5, $6
			FROM users u WHERE u.id = $2
			ON CONFLICT (group_id, user_id) DO UPDATE SET
				role = coalesce(nullif($3, ''), m.role),
				delivery = coalesce(nullif($4, ''), m.delivery),
				status = $5,
				echo_own_posts = coalesce($6, m.echo_own_posts),
				updated_at = now()
			RETURNING `+membershipCols+`, (xmax = 0)`,
			m.GroupID, m.UserID, string(m.Role), string(m.Delivery), string(m.Status), m.SendOwnPosts)
		err = row.Scan(&out.GroupID, &out.UserID, &out.Role, &out.Delivery, &out.Status, &out.Whitelisted, &out.SendOwnPosts, &out.CreatedAt, &out.UpdatedAt, &created)
		if err != nil {
			return mapErr(err, "set membership")
		}
		return tx.requireOwner(ctx, m.GroupID)
	})
	return out, created, err
}

// DeleteMembership removes a membership; removing the last owner is
// ErrConflict, and a missing one ErrNotFound.
func (s *Store) DeleteMembership(ctx context.Context, groupID, userID int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, groupID); err != nil {
			return mapErr(err, "lock group")
		}
		tag, err := tx.db.Exec(ctx, `DELETE FROM memberships WHERE group_id = $1 AND user_id = $2`, groupID, userID)
		if err != nil {
			return mapErr(err, "delete membership")
		}
		if tag.RowsAffected() == 0 {
			return mailflow.ErrNotFound
		}
		return tx.requireOwner(ctx, groupID)
	})
}

// OwnerCount is the number of a group's active owners.
func (s *Store) OwnerCount(ctx context.Context, groupID int64) (int, error) {
	var owners int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM memberships WHERE group_id = $1 AND role = 'owner' AND status = 'active'`, groupID).Scan(&owners)
	return owners, mapErr(err, "count owners")
}

func (s *Store) requireOwner(ctx context.Context, groupID int64) error {
	owners, err := s.OwnerCount(ctx, groupID)
	if err != nil {
		return err
	}
	if owners == 0 {
		return mailflow.Conflict("a group needs at least one owner: make someone else an owner first")
	}
	return nil
}

// ListMembers returns a group's memberships with names and addresses,
// owners first, then by name.
func (s *Store) ListMembers(ctx context.Context, groupID int64) ([]mailflow.Member, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("m", membershipCols)+`, u.email, u.name
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = $1
		ORDER BY (m.role = 'owner') DESC, (m.role = 'moderator') DESC, lower(u.name), u.id`, groupID)
	if err != nil {
		return nil, mapErr(err, "list members")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (mailflow.Member, error) {
		var x mailflow.Member
		m := &x.Membership
		err := row.Scan(&m.GroupID, &m.UserID, &m.Role, &m.Delivery, &m.Status, &m.Whitelisted, &m.SendOwnPosts, &m.CreatedAt, &m.UpdatedAt, &x.Email, &x.Name)
		return x, err
	})
	return out, mapErr(err, "list members")
}

// prefix qualifies a comma-separated column list with a table alias.
func prefix(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// SetDelivery changes one member's delivery mode for a group and returns
// the mode it had. ErrNotFound when there is no such membership.
func (s *Store) SetDelivery(ctx context.Context, groupID, userID int64, d mailflow.Delivery) (mailflow.Delivery, error) {
	var prev mailflow.Delivery
	err := s.db.QueryRow(ctx, `
		UPDATE memberships m SET delivery = $3, updated_at = now()
		FROM memberships old
		WHERE m.group_id = $1 AND m.user_id = $2 AND old.group_id = m.group_id AND old.user_id = m.user_id
		RETURNING old.delivery`, groupID, userID, string(d)).Scan(&prev)
	if err != nil {
		return "", mapErr(err, "set delivery")
	}
	return prev, nil
}

// GroupsOwnedWith returns the groups ownerID is an active owner of and
// viewerID an active member of, by name: those where the viewer may
// write to that owner alone (mailflow.CanWriteToOwner decides, with the
// two memberships).
func (s *Store) GroupsOwnedWith(ctx context.Context, ownerID, viewerID int64) ([]mailflow.Group, error) {
	rows, err := s.db.Query(ctx, `SELECT `+groupCols+` FROM groups WHERE id IN (
		SELECT o.group_id FROM memberships o
		JOIN memberships v ON v.group_id = o.group_id AND v.user_id = $2 AND v.status = 'active'
		WHERE o.user_id = $1 AND o.role = 'owner' AND o.status = 'active')
		ORDER BY name, id`, ownerID, viewerID)
	if err != nil {
		return nil, mapErr(err, "list groups owned with")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Group, error) { return scanGroup(r) })
	return out, mapErr(err, "list groups owned with")
}
