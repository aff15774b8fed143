package store

// The queries of Admin › Tags: tags with their use, adding, editing and
// deleting them, and a tag's history from the audit log.

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const tagCols = `t.id, t.slug, t.name, t.created_at, t.updated_at`

func scanTag(row pgx.Row) (mailflow.Tag, error) {
	var t mailflow.Tag
	err := row.Scan(&t.ID, &t.Slug, &t.Name, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// TagListing is a tag with the number of resources it labels.
type TagListing struct {
	mailflow.Tag
	Resources int
}

// TagsWithCounts returns every tag by name, with its resources.
func (s *Store) TagsWithCounts(ctx context.Context) ([]TagListing, error) {
	rows, err := s.db.Query(ctx, `SELECT `+tagCols+`, (SELECT count(*) FROM resource_tags rt WHERE rt.tag_id = t.id)
		FROM tags t ORDER BY lower(t.name), t.id`)
	if err != nil {
		return nil, mapErr(err, "list tags")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TagListing, error) {
		var l TagListing
		err := row.Scan(&l.ID, &l.Slug, &l.Name, &l.CreatedAt, &l.UpdatedAt, &l.Resources)
		return l, err
	})
	return out, mapErr(err, "list tags")
}

// TagByID finds a tag.
func (s *Store) TagByID(ctx context.Context, id int64) (mailflow.Tag, error) {
	t, err := scanTag(s.db.QueryRow(ctx, `SELECT `+tagCols+` FROM tags t WHERE t.id = $1`, id))
	return t, mapErr(err, fmt.Sprintf("get tag %d", id))
}

// CreateTag adds a tag (checked with mailflow.ValidateTag). A slug or a
// name (whatever the case) in use is ErrDuplicate on that field.
func (s *Store) CreateTag(ctx context.Context, t mailflow.Tag) (mailflow.Tag, error) {
	out, err := scanTag(s.db.QueryRow(ctx, `INSERT INTO tags AS t (slug, name) VALUES ($1, $2) RETURNING `+tagCols, t.Slug, t.Name))
	return out, mapErr(err, "create tag")
}

// UpdateTag changes a tag's slug and name; its resources are found by the
// new words from then on.
func (s *Store) UpdateTag(ctx context.Context, t mailflow.Tag) (mailflow.Tag, error) {
	var out mailflow.Tag
	err := s.Tx(ctx, func(tx *Store) error {
		var err error
		out, err = scanTag(tx.db.QueryRow(ctx, `UPDATE tags t SET slug = $2, name = $3, updated_at = now() WHERE t.id = $1
			RETURNING `+tagCols, t.ID, t.Slug, t.Name))
		if err != nil {
			return mapErr(err, "update tag")
		}
		return tx.refreshTagText(ctx, `EXISTS (SELECT 1 FROM resource_tags x WHERE x.resource_id = r.id AND x.tag_id = $1)`, t.ID)
	})
	return out, err
}

// DeleteTags deletes tags, removing them from their resources, and
// returns those it deleted (ids that do not exist are skipped).
func (s *Store) DeleteTags(ctx context.Context, ids []int64) ([]TagListing, error) {
	var out []TagListing
	err := s.Tx(ctx, func(tx *Store) error {
		rows, err := tx.db.Query(ctx, `SELECT DISTINCT resource_id FROM resource_tags WHERE tag_id = ANY($1)`, ids)
		if err != nil {
			return mapErr(err, "delete tags")
		}
		affected, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return mapErr(err, "delete tags")
		}
		rows, err = tx.db.Query(ctx, `DELETE FROM tags t WHERE t.id = ANY($1)
			RETURNING `+tagCols+`, (SELECT count(*) FROM resource_tags rt WHERE rt.tag_id = t.id)`, ids)
		if err != nil {
			return mapErr(err, "delete tags")
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (TagListing, error) {
			var l TagListing
			err := row.Scan(&l.ID, &l.Slug, &l.Name, &l.CreatedAt, &l.UpdatedAt, &l.Resources)
			return l, err
		})
		if err != nil {
			return mapErr(err, "delete tags")
		}
		if affected == nil {
			affected = []int64{}
		}
		return tx.refreshTagText(ctx, `r.id = ANY($1)`, affected)
	})
	return out, err
}

// AuditRecord is one line of the audit log as a history shows it.
type AuditRecord struct {
	At               time.Time
	ActorID          *int64
	ActorName        string // "" when the account is gone
	ImpersonatorName string
	Action           string
	Details          map[string]any
}

// AuditHistory returns what the audit log holds about one target, newest
// first (at most limit lines).
func (s *Store) AuditHistory(ctx context.Context, targetType string, targetID int64, limit int) ([]AuditRecord, error) {
	rows, err := s.db.Query(ctx, `
		SELECT a.created_at, a.actor_id, coalesce(u.name, ''), coalesce(i.name, ''), a.action, a.details
		FROM audit_log a
		LEFT JOIN users u ON u.id = a.actor_id
		LEFT JOIN users i ON i.id = a.impersonator_id
		WHERE a.target_type = $1 AND a.target_id = $2
		ORDER BY a.created_at DESC, a.id DESC
		LIMIT $3`, targetType, strconv.FormatInt(targetID, 10), limit)
	if err != nil {
		return nil, mapErr(err, "read audit history")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditRecord, error) {
		var a AuditRecord
		err := row.Scan(&a.At, &a.ActorID, &a.ActorName, &a.ImpersonatorName, &a.Action, &a.Details)
		return a, err
	})
	return out, mapErr(err, "read audit history")
}
