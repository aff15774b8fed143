package store

// The queries of the group pages: Explore's search, categories, a group's
// settings beyond mailflow.Group (owners, whitelist, public archive), its
// page (threads, messages, popular links) and the owners' work on
// memberships (requests, invitations, moderation records). Each list is
// one query.

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// ExploreQuery is a search of Explore.
type ExploreQuery struct {
	ViewerID   int64
	All        bool   // unlisted groups too (superusers)
	Keyword    string // name, description and location words; prefixes match
	Location   string // part of the location or display location
	CategoryID *int64
	Limit      int
	Offset     int
}

// groupSearchDoc is the expression of the groups_search_idx GIN index
// (migration 0006); a query must repeat it exactly for the index to serve.
const groupSearchDoc = `to_tsvector('english', g.name || ' ' || g.description || ' ' || g.location || ' ' || g.display_location)`

var wordRE = regexp.MustCompile(`[\pL\pN]+`)

// prefixQuery turns what someone typed into a to_tsquery text in which
// every word must match as a prefix ("astro" finds "astronomy"): only
// letters and digits pass, so no input can break the query syntax. ""
// when nothing searchable was typed.
func prefixQuery(s string) string {
	words := wordRE.FindAllString(s, 8)
	for i, w := range words {
		words[i] = w + ":*"
	}
	return strings.Join(words, " & ")
}

// ExploreGroups returns one page of the groups q asks for, with member
// counts and the viewer's membership: listed groups (every group with
// All), official ones first, then by relevance to the keyword or by name.
// Words are found through the full-text GIN index (English stemming, so
// "gardens" finds "garden"); the location matches any part, case aside,
// because people type "Lond" or "london, uk".
func (s *Store) ExploreGroups(ctx context.Context, q ExploreQuery) ([]GroupListing, error) {
	args := []any{q.ViewerID, q.All}
	where := []string{`($2 OR g.listed)`}
	order := `g.official DESC, lower(g.name), g.id`
	if tq := prefixQuery(q.Keyword); tq != "" {
		args = append(args, tq)
		n := len(args)
		where = append(where, fmt.Sprintf(`%s @@ to_tsquery('english', $%d)`, groupSearchDoc, n))
		order = fmt.Sprintf(`g.official DESC, ts_rank(%s, to_tsquery('english', $%d)) DESC, lower(g.name), g.id`, groupSearchDoc, n)
	}
	if loc := strings.TrimSpace(q.Location); loc != "" {
		args = append(args, "%"+escapeLike(loc)+"%")
		n := len(args)
		where = append(where, fmt.Sprintf(`(g.location ILIKE $%d OR g.display_location ILIKE $%d)`, n, n))
	}
	if q.CategoryID != nil {
		args = append(args, *q.CategoryID)
		where = append(where, fmt.Sprintf(`g.category_id = $%d`, len(args)))
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("g", groupCols)+`,
			(SELECT count(*) FROM memberships c WHERE c.group_id = g.id AND c.status = 'active'),
			m.role, m.delivery, m.status, m.whitelisted, m.echo_own_posts, m.created_at, m.updated_at
		FROM groups g
		LEFT JOIN memberships m ON m.group_id = g.id AND m.user_id = $1
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY `+order+fmt.Sprintf(`
		LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, mapErr(err, "explore groups")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (GroupListing, error) {
		return scanListing(row, q.ViewerID)
	})
	return out, mapErr(err, "explore groups")
}

// scanListing reads a group, its member count and the viewer's
// (left-joined, so possibly absent) membership.
func scanListing(row pgx.Row, viewerID int64) (GroupListing, error) {
	var l GroupListing
	g := &l.Group
	var role, delivery, status *string
	var wl *bool
	var mc, mu *time.Time
	m := mailflow.Membership{}
	err := row.Scan(append(groupDest(g), &l.MemberCount, &role, &delivery, &status, &wl, &m.SendOwnPosts, &mc, &mu)...)
	if err == nil && role != nil {
		m.GroupID, m.UserID = g.ID, viewerID
		m.Role, m.Delivery, m.Status, m.Whitelisted = mailflow.Role(*role), mailflow.Delivery(*delivery), mailflow.MemberStatus(*status), *wl
		m.CreatedAt, m.UpdatedAt = *mc, *mu
		l.Membership = &m
	}
	return l, err
}

// CategoryListing is a category with the number of groups in it.
type CategoryListing struct {
	mailflow.Category
	Groups int
}

// CategoriesWithCounts returns every category by name, with its groups.
func (s *Store) CategoriesWithCounts(ctx context.Context) ([]CategoryListing, error) {
	rows, err := s.db.Query(ctx, `
		SELECT c.id, c.slug, c.name, c.color, (SELECT count(*) FROM groups g WHERE g.category_id = c.id)
		FROM categories c ORDER BY lower(c.name), c.id`)
	if err != nil {
		return nil, mapErr(err, "list categories")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CategoryListing, error) {
		var c CategoryListing
		err := r.Scan(&c.ID, &c.Slug, &c.Name, &c.Color, &c.Groups)
		return c, err
	})
	return out, mapErr(err, "list categories")
}

// CategoryByID finds a category.
func (s *Store) CategoryByID(ctx context.Context, id int64) (mailflow.Category, error) {
	var c mailflow.Category
	err := s.db.QueryRow(ctx, `SELECT id, slug, name, color FROM categories WHERE id = $1`, id).
		Scan(&c.ID, &c.Slug, &c.Name, &c.Color)
	return c, mapErr(err, fmt.Sprintf("get category %d", id))
}

// UpdateCategory changes a category's slug, name and colour. A slug
// another category has is ErrDuplicate on field "slug".
func (s *Store) UpdateCategory(ctx context.Context, c mailflow.Category) (mailflow.Category, error) {
	tag, err := s.db.Exec(ctx, `UPDATE categories SET slug = $2, name = $3, color = $4 WHERE id = $1`, c.ID, c.Slug, c.Name, c.Color)
	if err != nil {
		return c, mapErr(err, "update category")
	}
	if tag.RowsAffected() == 0 {
		return c, mailflow.ErrNotFound
	}
	return c, nil
}

// DeleteCategory removes a category; its groups keep going without one
// (the foreign key sets their category_id to NULL).
func (s *Store) DeleteCategory(ctx context.Context, id int64) (mailflow.Category, error) {
	var c mailflow.Category
	err := s.db.QueryRow(ctx, `DELETE FROM categories WHERE id = $1 RETURNING id, slug, name, color`, id).
		Scan(&c.ID, &c.Slug, &c.Name, &c.Color)
	return c, mapErr(err, "delete category")
}

// UsersByEmails returns the accounts of the given addresses, whatever
// their case, in one query; addresses without an account are absent.
func (s *Store) UsersByEmails(ctx context.Context, emails []string) ([]mailflow.User, error) {
	if len(emails) == 0 {
		return nil, nil
	}
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(e)
	}
	rows, err := s.db.Query(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = ANY($1) ORDER BY id`, lower)
	if err != nil {
		return nil, mapErr(err, "find users")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mailflow.User, error) { return scanUser(r) })
	return out, mapErr(err, "find users")
}

// SetOwners makes exactly userIDs the group's owners: each becomes an
// active owner (joining if need be, keeping their delivery), and every
// other owner becomes a member. An empty list is ErrConflict, like any
// change that leaves a group without an owner.
func (s *Store) SetOwners(ctx context.Context, groupID int64, userIDs []int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM groups WHERE id = $1 FOR UPDATE`, groupID); err != nil {
			return mapErr(err, "lock group")
		}
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO memberships AS m (group_id, user_id, role, status, delivery)
			SELECT $1, u.id, 'owner', 'active', u.default_delivery FROM users u WHERE u.id = ANY($2)
			ON CONFLICT (group_id, user_id) DO UPDATE SET role = 'owner', status = 'active', updated_at = now()
			WHERE m.role <> 'owner' OR m.status <> 'active'`, groupID, userIDs); err != nil {
			return mapErr(err, "add owners")
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE memberships SET role = 'member', updated_at = now()
			WHERE group_id = $1 AND role = 'owner' AND NOT (user_id = ANY($2))`, groupID, userIDs); err != nil {
			return mapErr(err, "demote owners")
		}
		return tx.requireOwner(ctx, groupID)
	})
}

// SetWhitelist makes exactly userIDs the group's whitelisted members,
// whose posts skip moderation. Someone named who is not in the group
// joins it (an owner's explicit act, as adding a member is); a ban stays.
func (s *Store) SetWhitelist(ctx context.Context, groupID int64, userIDs []int64) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO memberships AS m (group_id, user_id, status, delivery, whitelisted)
			SELECT $1, u.id, 'active', u.default_delivery, true FROM users u WHERE u.id = ANY($2)
			ON CONFLICT (group_id, user_id) DO UPDATE SET whitelisted = true, updated_at = now()
			WHERE NOT m.whitelisted`, groupID, userIDs); err != nil {
			return mapErr(err, "whitelist members")
		}
		_, err := tx.db.Exec(ctx, `
			UPDATE memberships SET whitelisted = false, updated_at = now()
			WHERE group_id = $1 AND whitelisted AND NOT (user_id = ANY($2))`, groupID, userIDs)
		return mapErr(err, "unwhitelist members")
	})
}

// GroupCounts returns a group's number of active members and of pending
// requests to join.
func (s *Store) GroupCounts(ctx context.Context, groupID int64) (members, requests int, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE status = 'requested')
		FROM memberships WHERE group_id = $1`, groupID).Scan(&members, &requests)
	return members, requests, mapErr(err, "count members")
}

// ThreadSummary is a thread as a group's page lists it, with the latest
// message anyone may see (for the excerpt).
type ThreadSummary struct {
	mailflow.Thread
	LastAuthor string
	LastBody   string
}

// visibleToAll is the SQL condition of a message everyone who reads the
// group sees: approved, under no open flag, and not by an author banned
// from the group or the site (mailflow.CanSeeGroupMessage, for the general case).
const visibleToAll = `m.status = 'approved'
	AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.message_id = m.id AND f.resolved_at IS NULL)
	AND NOT ` + authorBanned

// GroupThreadSummaries returns a page of a group's threads, most recently
// active first: not the private ones (a member and the owners), not
// those without an approved message, and not those of which the viewer
// sees no message (threadVisibleTo). The excerpt is of the latest
// message the viewer sees.
func (s *Store) GroupThreadSummaries(ctx context.Context, groupID int64, v MessageViewer, limit, offset int) ([]ThreadSummary, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("t", threadCols)+`, coalesce(lm.author, ''), coalesce(lm.body, '')
		FROM threads t
		LEFT JOIN LATERAL (
			SELECT coalesce(u.name, '') AS author, m.body
			FROM messages m LEFT JOIN users u ON u.id = m.author_id
			WHERE m.thread_id = t.id AND `+visibleSQL("$4", "$5")+`
			ORDER BY m.created_at DESC, m.id DESC LIMIT 1) lm ON true
		WHERE t.group_id = $1 AND t.private_member_id IS NULL AND t.message_count > 0 AND `+threadVisibleTo("$4", "$5")+`
		ORDER BY t.last_message_at DESC, t.id DESC
		LIMIT $2 OFFSET $3`, groupID, limit, offset, v.ID, v.Moderator)
	if err != nil {
		return nil, mapErr(err, "list thread summaries")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadSummary, error) {
		var x ThreadSummary
		t := &x.Thread
		err := r.Scan(&t.ID, &t.GroupID, &t.Subject, &t.CreatedBy, &t.MessageCount, &t.CreatedAt, &t.LastMessageAt, &x.LastAuthor, &x.LastBody)
		return x, err
	})
	return out, mapErr(err, "list thread summaries")
}

// GroupMessage is a message with what decides who sees it besides its
// status (mailflow.CanSeeGroupMessage).
type GroupMessage struct {
	mailflow.Message
	mailflow.MessageState
}

// ThreadMessagesWithState returns every message of a thread, oldest
// first, with whether a flag on it is open and whether its author is
// banned from the group; the caller filters with CanSeeGroupMessage. The
// raw source is left out: pages never show it.
func (s *Store) ThreadMessagesWithState(ctx context.Context, threadID int64) ([]GroupMessage, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.thread_id, m.group_id, m.parent_id, m.author_id, coalesce(u.name, ''), m.from_email,
			m.message_id, m.in_reply_to, m.subject, m.body, m.source, m.status, m.created_at,
			EXISTS (SELECT 1 FROM flags f WHERE f.message_id = m.id AND f.resolved_at IS NULL),
			`+authorBanned+`
		FROM messages m LEFT JOIN users u ON u.id = m.author_id
		WHERE m.thread_id = $1
		ORDER BY m.created_at, m.id`, threadID)
	if err != nil {
		return nil, mapErr(err, "list thread messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (GroupMessage, error) {
		var x GroupMessage
		m := &x.Message
		err := r.Scan(&m.ID, &m.ThreadID, &m.GroupID, &m.ParentID, &m.AuthorID, &m.AuthorName, &m.FromEmail,
			&m.MessageID, &m.InReplyTo, &m.Subject, &m.Body, &m.Source, &m.Status, &m.CreatedAt,
			&x.OpenFlag, &x.AuthorBanned)
		return x, err
	})
	return out, mapErr(err, "list thread messages")
}

// LinkCount is a URL and the number of messages that posted it.
type LinkCount struct {
	URL   string
	Count int
}

// linkPattern finds http(s) URLs as mailflow/markup.Links does (the same
// expression, in PostgreSQL's regular expression syntax).
const linkPattern = `https?://[^\s<>()"'\]\[]+[^\s<>()"'\]\[.,;:!?]`

// PopularLinks returns the links most often posted in the group's latest
// 1000 messages that everyone who reads the group sees (never private
// threads), most posted first; a message that repeats a link counts once.
// groupID 0 means the whole site (the admin dashboard).
func (s *Store) PopularLinks(ctx context.Context, groupID int64, limit int) ([]LinkCount, error) {
	rows, err := s.db.Query(ctx, `
		WITH recent AS (
			SELECT m.id, m.body FROM messages m JOIN threads t ON t.id = m.thread_id
			WHERE ($1 = 0 OR m.group_id = $1) AND t.private_member_id IS NULL AND `+visibleToAll+`
			ORDER BY m.created_at DESC, m.id DESC
			LIMIT 1000),
		links AS (
			SELECT DISTINCT r.id, x.match[1] AS url
			FROM recent r, LATERAL regexp_matches(r.body, $2, 'g') AS x(match))
		SELECT url, count(*) FROM links
		GROUP BY url ORDER BY count(*) DESC, url
		LIMIT $3`, groupID, "("+linkPattern+")", limit)
	if err != nil {
		return nil, mapErr(err, "popular links")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LinkCount, error) {
		var l LinkCount
		err := r.Scan(&l.URL, &l.Count)
		return l, err
	})
	return out, mapErr(err, "popular links")
}

// ApproveRequest makes a pending request to join an active membership.
// ErrNotFound when there is no such request (already decided, or
// withdrawn), so two owners deciding at once cannot both act.
func (s *Store) ApproveRequest(ctx context.Context, groupID, userID int64) error {
	tag, err := s.db.Exec(ctx, `
		UPDATE memberships SET status = 'active', updated_at = now()
		WHERE group_id = $1 AND user_id = $2 AND status = 'requested'`, groupID, userID)
	if err != nil {
		return mapErr(err, "approve request")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// DenyRequest removes a pending request to join (the person may ask
// again). ErrNotFound when there is no such request.
func (s *Store) DenyRequest(ctx context.Context, groupID, userID int64) error {
	tag, err := s.db.Exec(ctx, `DELETE FROM memberships WHERE group_id = $1 AND user_id = $2 AND status = 'requested'`, groupID, userID)
	if err != nil {
		return mapErr(err, "deny request")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// ModerationAction is one row of the moderation record.
type ModerationAction struct {
	GroupID     int64
	MessageID   *int64
	TargetUser  *int64
	ModeratorID *int64
	Action      string // approve_member, reject_member, …
	Reason      string
}

// RecordModeration adds to the group's moderation record.
func (s *Store) RecordModeration(ctx context.Context, a ModerationAction) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO moderation_actions (group_id, message_id, target_user, moderator_id, action, reason)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.GroupID, a.MessageID, a.TargetUser, a.ModeratorID, a.Action, a.Reason)
	return mapErr(err, "record moderation")
}

// InviteUsers gives each of userIDs an invited membership of the group,
// so it shows among their groups until they accept. Someone who already
// has a membership (a member, a requester, a ban) keeps it.
func (s *Store) InviteUsers(ctx context.Context, groupID int64, userIDs []int64) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO memberships (group_id, user_id, status, delivery)
		SELECT $1, u.id, 'invited', u.default_delivery FROM users u WHERE u.id = ANY($2)
		ON CONFLICT (group_id, user_id) DO NOTHING`, groupID, userIDs)
	return mapErr(err, "invite users")
}
