package store

// The queries of resources: files shared with a group, their tags, and
// the search over names, tags and extracted text. Lists apply
// mailflow.CanAccessResource in SQL (resourceVisible), so a page and its
// counts are right and no row costs a query of its own.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const resourceCols = `r.id, r.group_id, r.uploader_id, r.message_id, r.name, r.filename, r.content_type, r.kind,
	r.size_bytes, r.content_hash, r.blob_key, r.thumb_key, r.created_at, r.updated_at`

// resourceTags is a resource's tags as a JSON array, by name.
const resourceTags = `coalesce((SELECT json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name) ORDER BY lower(t.name), t.id)
	FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resource_id = r.id), '[]'::json)`

const listedResourceCols = resourceCols + `, ` + resourceTags + `, g.slug, g.name, coalesce(u.name, ''), msg.thread_id`

const listedResourceFrom = ` FROM resources r
	JOIN groups g ON g.id = r.group_id
	LEFT JOIN users u ON u.id = r.uploader_id
	LEFT JOIN messages msg ON msg.id = r.message_id `

// ListedResource is a resource with what pages show beside it.
type ListedResource struct {
	mailflow.Resource
	GroupSlug    string
	GroupName    string
	UploaderName string // "" when the account is gone
	ThreadID     *int64 // the thread of the message it came attached to
}

func scanListedResource(row pgx.Row) (ListedResource, error) {
	var l ListedResource
	r := &l.Resource
	err := row.Scan(&r.ID, &r.GroupID, &r.UploaderID, &r.MessageID, &r.Name, &r.Filename, &r.ContentType, &r.Kind,
		&r.Size, &r.ContentHash, &r.BlobKey, &r.ThumbKey, &r.CreatedAt, &r.UpdatedAt, &r.Tags,
		&l.GroupSlug, &l.GroupName, &l.UploaderName, &l.ThreadID)
	return l, err
}

// NewResource is a resource to record; its content is in the blob store
// already.
type NewResource struct {
	GroupID     int64
	UploaderID  *int64
	MessageID   *int64
	Name        string
	Filename    string
	ContentType string
	Kind        mailflow.ResourceKind
	Size        int64
	ContentHash string
	BlobKey     string
	ThumbKey    string
	ContentText string         // extracted text, for search
	Tags        []mailflow.Tag // by slug and name: found, or created
}

// CreateResource records a resource with its tags, in one transaction,
// and returns it with the tags it made (for the audit log). A file
// attached to a message is recorded once per message: when the same
// content under the same name is there already, created is false and
// nothing changes.
func (s *Store) CreateResource(ctx context.Context, n NewResource) (r mailflow.Resource, newTags []mailflow.Tag, created bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		var tags []mailflow.Tag
		if tags, newTags, err = tx.ensureTags(ctx, n.Tags); err != nil {
			return err
		}
		err := tx.db.QueryRow(ctx, `
			INSERT INTO resources (group_id, uploader_id, message_id, name, filename, content_type, kind, size_bytes,
				content_hash, blob_key, thumb_key, content_text)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (message_id, content_hash, filename) WHERE message_id IS NOT NULL DO NOTHING
			RETURNING id, created_at, updated_at`,
			n.GroupID, n.UploaderID, n.MessageID, n.Name, n.Filename, n.ContentType, n.Kind, n.Size,
			n.ContentHash, n.BlobKey, n.ThumbKey, n.ContentText).Scan(&r.ID, &r.CreatedAt, &r.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			newTags = nil
			return nil // attached to this message already
		}
		if err != nil {
			return mapErr(err, "create resource")
		}
		created = true
		r.GroupID, r.UploaderID, r.MessageID, r.Name, r.Filename = n.GroupID, n.UploaderID, n.MessageID, n.Name, n.Filename
		r.ContentType, r.Kind, r.Size, r.ContentHash, r.BlobKey, r.ThumbKey = n.ContentType, n.Kind, n.Size, n.ContentHash, n.BlobKey, n.ThumbKey
		r.Tags = tags
		return tx.setResourceTags(ctx, r.ID, tags)
	})
	if err != nil || !created {
		return mailflow.Resource{}, nil, false, err
	}
	return r, newTags, true, nil
}

// ensureTags finds each tag by slug, or by name whatever the case, and
// creates those that do not exist. It returns them all, and the new ones.
func (s *Store) ensureTags(ctx context.Context, want []mailflow.Tag) (all, created []mailflow.Tag, err error) {
	for _, w := range want {
		t, err := s.findTag(ctx, w)
		if err == nil {
			all = append(all, t)
			continue
		}
		if !errors.Is(err, mailflow.ErrNotFound) {
			return nil, nil, err
		}
		err = s.db.QueryRow(ctx, `INSERT INTO tags (slug, name) VALUES ($1, $2) ON CONFLICT DO NOTHING
			RETURNING id, slug, name, created_at, updated_at`, w.Slug, w.Name).Scan(&t.ID, &t.Slug, &t.Name, &t.CreatedAt, &t.UpdatedAt)
		switch {
		case err == nil:
			created = append(created, t)
		case errors.Is(err, pgx.ErrNoRows): // made at the same moment by someone else
			if t, err = s.findTag(ctx, w); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, mapErr(err, "create tag")
		}
		all = append(all, t)
	}
	return all, created, nil
}

func (s *Store) findTag(ctx context.Context, w mailflow.Tag) (mailflow.Tag, error) {
	var t mailflow.Tag
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, created_at, updated_at FROM tags
		WHERE slug = $1 OR lower(name) = lower($2) ORDER BY slug = $1 DESC LIMIT 1`, w.Slug, w.Name).
		Scan(&t.ID, &t.Slug, &t.Name, &t.CreatedAt, &t.UpdatedAt)
	return t, mapErr(err, "find tag")
}

// setResourceTags replaces a resource's tags.
func (s *Store) setResourceTags(ctx context.Context, id int64, tags []mailflow.Tag) error {
	ids := make([]int64, len(tags))
	for i, t := range tags {
		ids[i] = t.ID
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM resource_tags WHERE resource_id = $1 AND NOT (tag_id = ANY($2))`, id, ids); err != nil {
		return mapErr(err, "set resource tags")
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO resource_tags (resource_id, tag_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, id, ids); err != nil {
		return mapErr(err, "set resource tags")
	}
	return s.refreshTagText(ctx, `r.id = $1`, id)
}

// refreshTagText rewrites the searchable tag text of the resources where
// cond holds (over resources r), after their tags changed.
func (s *Store) refreshTagText(ctx context.Context, cond string, args ...any) error {
	_, err := s.db.Exec(ctx, `UPDATE resources r SET tag_text = coalesce((SELECT string_agg(t.name || ' ' || t.slug, ' ' ORDER BY t.id)
		FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id WHERE rt.resource_id = r.id), '')
		WHERE `+cond, args...)
	return mapErr(err, "index resource tags")
}

// ResourceByID returns a resource, whoever asks: the caller decides with
// mailflow.CanAccessResource.
func (s *Store) ResourceByID(ctx context.Context, id int64) (ListedResource, error) {
	l, err := scanListedResource(s.db.QueryRow(ctx, `SELECT `+listedResourceCols+listedResourceFrom+`WHERE r.id = $1`, id))
	return l, mapErr(err, fmt.Sprintf("get resource %d", id))
}

// ResourceChange is a resource's new name, group and tags.
type ResourceChange struct {
	Name    string
	GroupID int64
	Tags    []mailflow.Tag // by slug and name: found, or created
}

// UpdateResource renames, moves and retags a resource, and returns the
// tags it made.
func (s *Store) UpdateResource(ctx context.Context, id int64, ch ResourceChange) (newTags []mailflow.Tag, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		var tags []mailflow.Tag
		if tags, newTags, err = tx.ensureTags(ctx, ch.Tags); err != nil {
			return err
		}
		tag, err := tx.db.Exec(ctx, `UPDATE resources SET name = $2, group_id = $3, updated_at = now() WHERE id = $1`, id, ch.Name, ch.GroupID)
		if err != nil {
			return mapErr(err, "update resource")
		}
		if tag.RowsAffected() == 0 {
			return mailflow.ErrNotFound
		}
		return tx.setResourceTags(ctx, id, tags)
	})
	return newTags, err
}

// DeleteResource removes a resource and returns it. Its blob is the
// caller's: delete it only when ContentUsers says no other resource
// shares it, under LockContent.
func (s *Store) DeleteResource(ctx context.Context, id int64) (mailflow.Resource, error) {
	var r mailflow.Resource
	err := s.db.QueryRow(ctx, `DELETE FROM resources r WHERE r.id = $1 RETURNING `+resourceCols, id).Scan(
		&r.ID, &r.GroupID, &r.UploaderID, &r.MessageID, &r.Name, &r.Filename, &r.ContentType, &r.Kind,
		&r.Size, &r.ContentHash, &r.BlobKey, &r.ThumbKey, &r.CreatedAt, &r.UpdatedAt)
	return r, mapErr(err, fmt.Sprintf("delete resource %d", id))
}

// LockContent serialises, until the transaction ends, everything that
// stores or deletes the blob of this content: an upload that finds the
// blob there already must not race the deletion of its last resource.
// Only inside Tx.
func (s *Store) LockContent(ctx context.Context, contentHash string) error {
	if s.tx == nil {
		return fmt.Errorf("lock content: not in a transaction")
	}
	_, err := s.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('resource-content:' || $1, 0))`, contentHash)
	return mapErr(err, "lock content")
}

// ContentUsers counts the resources whose content has this hash.
func (s *Store) ContentUsers(ctx context.Context, contentHash string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM resources WHERE content_hash = $1`, contentHash).Scan(&n)
	return n, mapErr(err, "count content users")
}

// ResourceViewer is whose eyes a resource list is for.
type ResourceViewer struct {
	ID          int64
	Admin       bool // a superuser: every group's resources, and owners' rights everywhere
	ModerateAll bool // moderates every group (superusers too): sees held and flagged messages' files
}

// ResourceViewerOf describes u for resource lists.
func ResourceViewerOf(u *mailflow.User) ResourceViewer {
	if u == nil {
		return ResourceViewer{}
	}
	return ResourceViewer{ID: u.ID, Admin: u.IsSuperuser && u.Status == mailflow.UserActive,
		ModerateAll: u.Has(mailflow.PermModerateGroups) && u.Status == mailflow.UserActive}
}

// ResourceQuery is a search of the resources page.
type ResourceQuery struct {
	Viewer  ResourceViewer
	GroupID *int64 // nil: every group the viewer is an active member of
	Kind    mailflow.ResourceKind
	TagSlug string
	Keyword string // words of the name, tags or text (prefixes match), or part of the name
	// AllGroups: every group's, for a superuser (the admin gallery);
	// ignored for anyone else.
	AllGroups bool
	Limit     int
	Offset    int
}

// activeMember is "the viewer ($1) is an active member of r's group".
const activeMember = `EXISTS (SELECT 1 FROM memberships am WHERE am.group_id = r.group_id AND am.user_id = $1 AND am.status = 'active')`

// resourceVisible is mailflow.CanAccessResource's rule for a file that
// came attached to a message, over resources r, for the viewer $1 with
// Admin $2 and ModerateAll $3: visible while the viewer sees the message
// (visibleSQL) and, in a private thread, reads that thread.
var resourceVisible = `(r.message_id IS NULL OR EXISTS (SELECT 1 FROM messages m JOIN threads th ON th.id = m.thread_id
	WHERE m.id = r.message_id
	AND (th.private_member_id IS NULL OR th.private_member_id = $1 OR th.private_owner_id = $1 OR $2
		OR (th.private_owner_id IS NULL AND EXISTS (SELECT 1 FROM memberships om
			WHERE om.group_id = r.group_id AND om.user_id = $1 AND om.status = 'active' AND om.role = 'owner')))
	AND ` + visibleSQL("$1", `($3 OR $2 OR EXISTS (SELECT 1 FROM memberships mm WHERE mm.group_id = r.group_id AND mm.user_id = $1
		AND mm.status = 'active' AND mm.role IN ('owner', 'moderator')))`) + `))`

// ListResources returns one page of the resources q asks for, newest
// first, each as the viewer may see it (mailflow.CanAccessResource).
func (s *Store) ListResources(ctx context.Context, q ResourceQuery) ([]ListedResource, error) {
	args := []any{q.Viewer.ID, q.Viewer.Admin, q.Viewer.ModerateAll}
	where := []string{resourceVisible}
	if q.GroupID == nil {
		if !(q.AllGroups && q.Viewer.Admin) {
			where = append(where, activeMember)
		}
	} else {
		args = append(args, *q.GroupID)
		where = append(where, fmt.Sprintf(`r.group_id = $%d AND ($2 OR %s)`, len(args), activeMember))
	}
	if q.Kind != "" {
		args = append(args, q.Kind)
		where = append(where, fmt.Sprintf(`r.kind = $%d`, len(args)))
	}
	if q.TagSlug != "" {
		args = append(args, q.TagSlug)
		where = append(where, fmt.Sprintf(`EXISTS (SELECT 1 FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id
			WHERE rt.resource_id = r.id AND t.slug = $%d)`, len(args)))
	}
	if kw := strings.TrimSpace(q.Keyword); kw != "" {
		args = append(args, "%"+escapeLike(kw)+"%")
		cond := fmt.Sprintf(`r.name ILIKE $%[1]d OR r.filename ILIKE $%[1]d`, len(args))
		if tq := prefixQuery(kw); tq != "" {
			args = append(args, tq)
			cond += fmt.Sprintf(` OR r.search @@ to_tsquery('english', $%d)`, len(args))
		}
		where = append(where, "("+cond+")")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit, q.Offset)
	rows, err := s.db.Query(ctx, `SELECT `+listedResourceCols+listedResourceFrom+`
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(`
		ORDER BY r.created_at DESC, r.id DESC
		LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, mapErr(err, "list resources")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListedResource, error) { return scanListedResource(row) })
	return out, mapErr(err, "list resources")
}

// MessageAttachments returns the resources that came attached to each of
// the messages, by message id. The caller shows them only with messages
// the viewer may see.
func (s *Store) MessageAttachments(ctx context.Context, messageIDs []int64) (map[int64][]ListedResource, error) {
	out := map[int64][]ListedResource{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT `+listedResourceCols+listedResourceFrom+`
		WHERE r.message_id = ANY($1) ORDER BY r.id`, messageIDs)
	if err != nil {
		return nil, mapErr(err, "list attachments")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ListedResource, error) { return scanListedResource(row) })
	if err != nil {
		return nil, mapErr(err, "list attachments")
	}
	for _, l := range list {
		out[*l.MessageID] = append(out[*l.MessageID], l)
	}
	return out, nil
}
