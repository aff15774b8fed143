package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const groupCols = `id, slug, name, description, category_id, picture_key, official, join_policy,
	listed, moderated, member_list_visibility, reply_to, location, display_location,
	created_by, created_at, updated_at, archive_public, trust_posts, dmarc_failure, attach_max_kb, subject_tag`

// groupDest are the scan targets of groupCols, for queries that read
// more columns after them.
func groupDest(g *mailflow.Group) []any {
	return []any{&g.ID, &g.Slug, &g.Name, &g.Description, &g.CategoryID, &g.PictureKey, &g.Official,
		&g.JoinPolicy, &g.Listed, &g.Moderated, &g.MemberListVisibility, &g.ReplyTo, &g.Location,
		&g.DisplayLocation, &g.CreatedBy, &g.CreatedAt, &g.UpdatedAt, &g.ArchivePublic, &g.TrustPosts, &g.DMARCFailure, &g.AttachMaxKB, &g.SubjectTag}
}

func scanGroup(row pgx.Row) (mailflow.Group, error) {
	var g mailflow.Group
	err := row.Scan(groupDest(&g)...)
	return g, err
}

// CreateGroup inserts a group and makes its creator the first owner, in
// one transaction.
func (s *Store) CreateGroup(ctx context.Context, g mailflow.Group, ownerID int64) (mailflow.Group, error) {
	var out mailflow.Group
	err := s.Tx(ctx, func(tx *Store) error {
		var err error
		out, err = scanGroup(tx.db.QueryRow(ctx, `
			INSERT INTO groups (slug, name, description, category_id, picture_key, official, join_policy,
				listed, moderated, member_list_visibility, reply_to, location, display_location, created_by,
				archive_public, trust_posts, dmarc_failure, attach_max_kb, subject_tag)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, coalesce(nullif($17, ''), 'hold'), $18, $19)
			RETURNING `+groupCols,
			g.Slug, g.Name, g.Description, g.CategoryID, g.PictureKey, g.Official, g.JoinPolicy,
			g.Listed, g.Moderated, g.MemberListVisibility, g.ReplyTo, g.Location, g.DisplayLocation, ownerID,
			g.ArchivePublic, g.TrustPosts, string(g.DMARCFailure), g.AttachMaxKB, g.SubjectTag))
		if err != nil {
			return mapErr(err, "create group")
		}
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO memberships (group_id, user_id, role, status, delivery)
			SELECT $1, id, 'owner', 'active', default_delivery FROM users WHERE id = $2`, out.ID, ownerID); err != nil {
			return mapErr(err, "add group owner")
		}
		return tx.Audit(ctx, AuditEntry{ActorID: &ownerID, Action: "group.create", TargetType: "group", TargetID: out.Slug})
	})
	return out, err
}

// GroupBySlug finds a group by its slug.
func (s *Store) GroupBySlug(ctx context.Context, slug string) (mailflow.Group, error) {
	g, err := scanGroup(s.db.QueryRow(ctx, `SELECT `+groupCols+` FROM groups WHERE slug = $1`, slug))
	if err != nil {
		return g, mapErr(err, fmt.Sprintf("get group %q", slug))
	}
	return g, nil
}

// GroupByID finds a group by id.
func (s *Store) GroupByID(ctx context.Context, id int64) (mailflow.Group, error) {
	g, err := scanGroup(s.db.QueryRow(ctx, `SELECT `+groupCols+` FROM groups WHERE id = $1`, id))
	if err != nil {
		return g, mapErr(err, fmt.Sprintf("get group %d", id))
	}
	return g, nil
}

// UpdateGroup writes every setting of g (the caller merged the changes).
func (s *Store) UpdateGroup(ctx context.Context, g mailflow.Group) (mailflow.Group, error) {
	out, err := scanGroup(s.db.QueryRow(ctx, `
		UPDATE groups SET name = $2, description = $3, category_id = $4, picture_key = $5, official = $6,
			join_policy = $7, listed = $8, moderated = $9, member_list_visibility = $10, reply_to = $11,
			location = $12, display_location = $13, archive_public = $14, trust_posts = $15,
			dmarc_failure = coalesce(nullif($16, ''), 'hold'), attach_max_kb = $17, subject_tag = $18, updated_at = now()
		WHERE id = $1
		RETURNING `+groupCols,
		g.ID, g.Name, g.Description, g.CategoryID, g.PictureKey, g.Official, g.JoinPolicy, g.Listed,
		g.Moderated, g.MemberListVisibility, g.ReplyTo, g.Location, g.DisplayLocation, g.ArchivePublic, g.TrustPosts,
		string(g.DMARCFailure), g.AttachMaxKB, g.SubjectTag))
	if err != nil {
		return out, mapErr(err, "update group")
	}
	return out, nil
}

// GroupListing is a group as a list shows it.
type GroupListing struct {
	mailflow.Group
	MemberCount int                  `json:"member_count"`
	Membership  *mailflow.Membership `json:"membership"`
}

// ListGroups returns the groups viewer may see (listed ones, and those
// they have a non-banned membership in; every group when all is set),
// with member counts and the viewer's membership, by name.
func (s *Store) ListGroups(ctx context.Context, viewerID int64, all bool, limit, offset int) ([]GroupListing, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("g", groupCols)+`,
			(SELECT count(*) FROM memberships c WHERE c.group_id = g.id AND c.status = 'active'),
			m.role, m.delivery, m.status, m.whitelisted, m.echo_own_posts, m.created_at, m.updated_at
		FROM groups g
		LEFT JOIN memberships m ON m.group_id = g.id AND m.user_id = $1
		WHERE $2 OR g.listed OR (m.status IS NOT NULL AND m.status <> 'banned')
		ORDER BY lower(g.name), g.id
		LIMIT $3 OFFSET $4`, viewerID, all, limit, offset)
	if err != nil {
		return nil, mapErr(err, "list groups")
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (GroupListing, error) {
		var l GroupListing
		g := &l.Group
		var role, delivery, status *string
		var wl *bool
		var mc, mu *time.Time
		m := mailflow.Membership{}
		err := row.Scan(append(groupDest(g), &l.MemberCount, &role, &delivery, &status, &wl, &m.SendOwnPosts, &mc, &mu)...)
		if role != nil {
			m.GroupID, m.UserID = g.ID, viewerID
			m.Role, m.Delivery, m.Status, m.Whitelisted = mailflow.Role(*role), mailflow.Delivery(*delivery), mailflow.MemberStatus(*status), *wl
			m.CreatedAt, m.UpdatedAt = *mc, *mu
			l.Membership = &m
		}
		return l, err
	})
}

// CategoryBySlug finds a category.
func (s *Store) CategoryBySlug(ctx context.Context, slug string) (mailflow.Category, error) {
	var c mailflow.Category
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, color FROM categories WHERE slug = $1`, slug).
		Scan(&c.ID, &c.Slug, &c.Name, &c.Color)
	if err != nil {
		return c, mapErr(err, fmt.Sprintf("get category %q", slug))
	}
	return c, nil
}

// CreateCategory inserts a category.
func (s *Store) CreateCategory(ctx context.Context, c mailflow.Category) (mailflow.Category, error) {
	err := s.db.QueryRow(ctx, `INSERT INTO categories (slug, name, color) VALUES ($1, $2, $3) RETURNING id`,
		c.Slug, c.Name, c.Color).Scan(&c.ID)
	return c, mapErr(err, "create category")
}

// Categories returns every category by name.
func (s *Store) Categories(ctx context.Context) ([]mailflow.Category, error) {
	rows, err := s.db.Query(ctx, `SELECT id, slug, name, color FROM categories ORDER BY lower(name)`)
	if err != nil {
		return nil, mapErr(err, "list categories")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.Category, error) {
		var c mailflow.Category
		err := r.Scan(&c.ID, &c.Slug, &c.Name, &c.Color)
		return c, err
	})
	return out, mapErr(err, "list categories")
}
