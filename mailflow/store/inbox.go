package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// The inbox is every thread of the groups a member is active in, minus
// other members' private threads (a private thread is seen by its member
// and the group's owners, or its one owner), minus threads with nothing
// approved yet or nothing the member may see (inboxVisible). Its
// per-member state is one thread_states row: a thread is unread while it
// has a message newer than read_at, and archived until it gets a message
// newer than archived_at.
//
// Every query below joins the member's own memberships row (aliased m),
// the thread (t) and the member's state (ts; no row means unread and not
// archived), and $1 is always the member's id. The same
// fragments decide what the page lists and what a bulk action may touch,
// so ids sent by a form can never reach a thread the page would not show.
const (
	inboxMember = `m.user_id = $1 AND m.status = 'active'`
	inboxState  = `LEFT JOIN thread_states ts ON ts.user_id = $1 AND ts.thread_id = t.id`

	condUnread   = `(ts.read_at IS NULL OR ts.read_at < t.last_message_at)`
	condInInbox  = `(ts.archived_at IS NULL OR ts.archived_at < t.last_message_at)`
	condArchived = `ts.archived_at >= t.last_message_at`
)

// inboxVisible is the threads the member may see: not another member's
// private thread, and with an approved message the member sees. Most
// threads show one to everyone (more approved messages than hidden ones:
// threads.hidden_count, kept by triggers, migration 0017), which the
// index the inbox walks answers alone; only a thread whose every approved
// message is hidden from ordinary readers (flagged, or by a banned
// author) is looked into, for the member's own messages and, for the
// group's moderators, flagged ones (visibleSQL, as the thread page).
var inboxVisible = `t.message_count > 0 AND ` + inboxPrivacy + ` AND (t.message_count > t.hidden_count OR ` + inboxOwnLook + `)`

const inboxPrivacy = `(t.private_member_id IS NULL OR t.private_member_id = $1 OR t.private_owner_id = $1
		OR (t.private_owner_id IS NULL AND m.role = 'owner'))`

// inboxOwnLook is whether the member sees an approved message of t.
var inboxOwnLook = `EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND m.status = 'approved' AND ` +
	visibleSQL("$1", `(EXISTS (SELECT 1 FROM memberships vm WHERE vm.group_id = t.group_id AND vm.user_id = $1
		AND vm.status = 'active' AND vm.role IN ('moderator', 'owner')))`) + `)`

// InboxView is one of the inbox's tabs.
type InboxView string

const (
	ViewInbox   InboxView = "inbox"   // everything not archived
	ViewUnread  InboxView = "unread"  // unread and not archived
	ViewArchive InboxView = "archive" // archived, with nothing newer since
)

// Valid reports whether v is a known view.
func (v InboxView) Valid() bool { return v == ViewInbox || v == ViewUnread || v == ViewArchive }

// cond is the SQL condition of the view.
func (v InboxView) cond() string {
	switch v {
	case ViewUnread:
		return condUnread + ` AND ` + condInInbox
	case ViewArchive:
		return condArchived
	}
	return condInInbox
}

// InboxCursor is where a page of the inbox ends: the next page starts
// with the threads older than it (keyset pagination, so a deep page costs
// what the first does).
type InboxCursor struct {
	At time.Time // the thread's last_message_at
	ID int64     // the thread's id, which breaks ties
}

// String encodes the cursor for a URL; it is opaque to people.
func (c InboxCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)))
}

// ParseInboxCursor decodes what InboxCursor.String made.
func ParseInboxCursor(s string) (InboxCursor, error) {
	bad := mailflow.Invalid("before", "is not a valid page position")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return InboxCursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	if !ok {
		return InboxCursor{}, bad
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 {
		return InboxCursor{}, bad
	}
	return InboxCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}

// InboxQuery asks for one page of a member's inbox.
type InboxQuery struct {
	UserID  int64
	View    InboxView    // empty: ViewInbox
	GroupID int64        // only this group's threads; 0: all the member's groups
	Before  *InboxCursor // nil: the first page
	Limit   int          // 0: 50
}

// InboxItem is one thread as the inbox lists it.
type InboxItem struct {
	ThreadID      int64
	GroupID       int64
	GroupSlug     string
	GroupName     string
	Subject       string
	MessageCount  int
	LastMessageAt time.Time
	Private       bool // a private thread with the group's owners
	Unread        bool
	Archived      bool
	// The latest approved message the member may see: theirs, or one
	// neither hidden by an open flag (but from the group's moderators) nor
	// by its author's ban from the group, as the thread page shows them.
	// Body is cut to a few hundred characters, enough for an excerpt.
	LastAuthor string
	LastBody   string
}

// InboxPage is a page of the inbox.
type InboxPage struct {
	Items []InboxItem
	Next  *InboxCursor // where the next (older) page starts; nil on the last page
}

// InboxPage returns one page of the member's inbox, newest activity
// first, with the excerpt of each thread's latest message, in one query
// (the excerpts by a LATERAL join on the page's threads only).
func (s *Store) InboxPage(ctx context.Context, q InboxQuery) (InboxPage, error) {
	if q.View == "" {
		q.View = ViewInbox
	}
	if !q.View.Valid() {
		return InboxPage{}, mailflow.Invalid("view", "is not a view of the inbox")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	args := []any{q.UserID, q.Limit + 1, q.GroupID}
	if q.Before != nil {
		args = append(args, q.Before.At, q.Before.ID)
	}
	rows, err := s.db.Query(ctx, inboxPageSQL(q.View, q.Before != nil), args...)
	if err != nil {
		return InboxPage{}, mapErr(err, "list inbox")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboxItem, error) {
		var it InboxItem
		err := r.Scan(&it.ThreadID, &it.GroupID, &it.GroupSlug, &it.GroupName, &it.Subject, &it.MessageCount,
			&it.LastMessageAt, &it.Private, &it.Unread, &it.Archived, &it.LastAuthor, &it.LastBody)
		return it, err
	})
	if err != nil {
		return InboxPage{}, mapErr(err, "list inbox")
	}
	var out InboxPage
	if len(items) > q.Limit {
		items = items[:q.Limit]
		last := items[len(items)-1]
		out.Next = &InboxCursor{At: last.LastMessageAt, ID: last.ThreadID}
	}
	out.Items = items
	return out, nil
}

// inboxPageSQL is the statement of InboxPage: $1 the member, $2 the
// limit, $3 the group (0: all), $4 and $5 the cursor when before is set.
//
// The inbox and unread views walk each of the member's groups through
// threads_group_recent_id_idx from the cursor, a page at most from each,
// and merge those: the cost is the number of groups times a page, not
// the number of threads, however deep the page. Archived threads are few
// and scattered, so the archive view starts instead from the member's
// archived states (thread_states_archived_idx).
func inboxPageSQL(v InboxView, before bool) string {
	cursor := ""
	if before {
		cursor = ` AND (t.last_message_at, t.id) < ($4, $5)`
	}
	cols := `t.id, t.group_id, t.subject, t.message_count, t.last_message_at,
		t.private_member_id IS NOT NULL AS private,
		` + condUnread + ` AS unread,
		coalesce(` + condArchived + `, false) AS archived`
	inner := `
			SELECT t.*, m.role IN ('moderator', 'owner') AS moderator
			FROM memberships m
			CROSS JOIN LATERAL (
				SELECT ` + cols + `
				FROM threads t ` + inboxState + `
				WHERE t.group_id = m.group_id AND ` + inboxVisible + cursor + ` AND ` + v.cond() + `
				ORDER BY t.last_message_at DESC, t.id DESC
				LIMIT $2
			) t
			WHERE ` + inboxMember + ` AND ($3::bigint = 0 OR m.group_id = $3)
			ORDER BY t.last_message_at DESC, t.id DESC
			LIMIT $2`
	if v == ViewArchive {
		inner = `
			SELECT ` + cols + `, m.role IN ('moderator', 'owner') AS moderator
			FROM thread_states ts
			JOIN threads t ON t.id = ts.thread_id
			JOIN memberships m ON m.group_id = t.group_id
			WHERE ts.user_id = $1 AND ts.archived_at IS NOT NULL AND ` + condArchived + `
			  AND ` + inboxMember + ` AND ` + inboxVisible + cursor + ` AND ($3::bigint = 0 OR t.group_id = $3)
			ORDER BY t.last_message_at DESC, t.id DESC
			LIMIT $2`
	}
	return `
		SELECT p.id, p.group_id, g.slug, g.name, p.subject, p.message_count, p.last_message_at,
		       p.private, p.unread, p.archived, coalesce(lm.author, ''), coalesce(lm.body, '')
		FROM (` + inner + `
		) p
		JOIN groups g ON g.id = p.group_id
		LEFT JOIN LATERAL (
			SELECT coalesce(u.name, '') AS author, left(msg.body, 600) AS body
			FROM messages msg
			LEFT JOIN users u ON u.id = msg.author_id
			LEFT JOIN memberships am ON am.group_id = msg.group_id AND am.user_id = msg.author_id
			WHERE msg.thread_id = p.id AND msg.status = 'approved'
			  AND (msg.author_id = $1 OR (am.status IS DISTINCT FROM 'banned' AND (p.moderator OR NOT EXISTS (
			        SELECT 1 FROM flags f WHERE f.message_id = msg.id AND f.resolved_at IS NULL))))
			ORDER BY msg.created_at DESC, msg.id DESC
			LIMIT 1
		) lm ON true
		ORDER BY p.last_message_at DESC, p.id DESC`
}

// InboxSelection names the threads a bulk action is about: the ids a
// member ticked, or (All) every thread of a view, in one group or all.
// Either way only threads the member's inbox would list are touched.
type InboxSelection struct {
	ThreadIDs []int64
	All       bool
	View      InboxView // with All: the view whose threads are meant
	GroupID   int64     // with All: only this group's threads; 0: every group
}

// where returns the selection's SQL condition and its arguments, from $2.
func (sel InboxSelection) where() (string, []any, error) {
	if !sel.All {
		return `t.id = ANY ($2::bigint[])`, []any{sel.ThreadIDs}, nil
	}
	v := sel.View
	if v == "" {
		v = ViewInbox
	}
	if !v.Valid() {
		return "", nil, mailflow.Invalid("view", "is not a view of the inbox")
	}
	return `($2::bigint = 0 OR m.group_id = $2) AND ` + v.cond(), []any{sel.GroupID}, nil
}

// InboxArchive archives the selected threads that are in the inbox
// and returns how many it archived. A thread comes back to the inbox
// with its next message.
func (s *Store) InboxArchive(ctx context.Context, userID int64, sel InboxSelection) (int64, error) {
	// greatest(): a thread whose last message is stamped ahead of this
	// server's clock is archived all the same.
	return s.setThreadState(ctx, userID, sel, condInInbox, `
		INSERT INTO thread_states (user_id, thread_id, archived_at)
		SELECT $1, t.id, greatest(now(), t.last_message_at) %s
		ON CONFLICT (user_id, thread_id) DO UPDATE SET archived_at = EXCLUDED.archived_at`)
}

// InboxMarkRead marks the selected unread threads read and returns how
// many there were.
func (s *Store) InboxMarkRead(ctx context.Context, userID int64, sel InboxSelection) (int64, error) {
	return s.setThreadState(ctx, userID, sel, condUnread, `
		INSERT INTO thread_states (user_id, thread_id, read_at)
		SELECT $1, t.id, greatest(now(), t.last_message_at) %s
		ON CONFLICT (user_id, thread_id) DO UPDATE SET read_at = EXCLUDED.read_at`)
}

// InboxUnarchive moves the selected archived threads back to the inbox
// and returns how many it moved.
func (s *Store) InboxUnarchive(ctx context.Context, userID int64, sel InboxSelection) (int64, error) {
	return s.setThreadState(ctx, userID, sel, condArchived, `
		UPDATE thread_states SET archived_at = NULL
		WHERE user_id = $1 AND thread_id IN (SELECT t.id %s)`)
}

// setThreadState runs stmt, whose %s is given the FROM and WHERE of the
// threads the member may see, that are selected, and that need the change.
func (s *Store) setThreadState(ctx context.Context, userID int64, sel InboxSelection, need, stmt string) (int64, error) {
	if !sel.All && len(sel.ThreadIDs) == 0 {
		return 0, nil
	}
	where, args, err := sel.where()
	if err != nil {
		return 0, err
	}
	from := `
		FROM memberships m
		JOIN threads t ON t.group_id = m.group_id
		` + inboxState + `
		WHERE ` + inboxMember + ` AND ` + inboxVisible + ` AND ` + where + ` AND ` + need
	tag, err := s.db.Exec(ctx, fmt.Sprintf(stmt, from), append([]any{userID}, args...)...)
	if err != nil {
		return 0, mapErr(err, "change thread states")
	}
	return tag.RowsAffected(), nil
}

// InboxBadge is the number behind the Messages badge: the member's unread
// threads in the inbox, plus messages awaiting moderation in the groups
// they moderate or own (in every group, for holders of moderate_groups
// and superusers), plus requests to join the groups they own.
//
// It runs on every page a member opens, so it is one statement whose
// parts are cheap: the unread threads are the member's groups' threads
// less those a state row says are read or archived as they are now (an
// anti-join, a quarter faster than filtering a LEFT JOIN), threads with
// nothing the member sees are left out (inboxBadgeSQL), and held
// messages and join requests each have a partial index.
func (s *Store) InboxBadge(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, inboxBadgeSQL, userID).Scan(&n)
	if err != nil {
		return 0, mapErr(err, "count inbox badge")
	}
	return n, nil
}

// badgeRead: the member read or archived thread t as it is now.
const badgeRead = `SELECT 1 FROM thread_states ts WHERE ts.user_id = $1 AND ts.thread_id = t.id
		                     AND (ts.read_at >= t.last_message_at OR ts.archived_at >= t.last_message_at)`

// inboxBadgeSQL is InboxBadge's statement; $1 is the member. Its unread
// threads are counted in two parts, as inboxVisible decides: those that
// show a message to everyone (from the index alone), and the few whose
// every message is hidden (threads_all_hidden_idx) that show the member
// one of their own or, to a moderator, a flagged one. One OR of the two
// led the planner to probe the read states thread by thread, 2.5 times
// slower.
var inboxBadgeSQL = `
		SELECT
		  (SELECT count(*)
		   FROM memberships m
		   JOIN threads t ON t.group_id = m.group_id
		   WHERE ` + inboxMember + ` AND ` + inboxPrivacy + ` AND t.message_count > t.hidden_count
		     AND NOT EXISTS (` + badgeRead + `))
		+ (SELECT count(*)
		   FROM memberships m
		   JOIN threads t ON t.group_id = m.group_id
		   WHERE ` + inboxMember + ` AND ` + inboxPrivacy + ` AND t.message_count > 0 AND t.hidden_count >= t.message_count
		     AND ` + inboxOwnLook + ` AND NOT EXISTS (` + badgeRead + `))
		+ (SELECT count(*) FROM messages h
		   WHERE h.status = 'held' AND (
		         h.group_id IN (SELECT group_id FROM memberships
		                        WHERE user_id = $1 AND status = 'active' AND role IN ('moderator', 'owner'))
		      OR EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status = 'active'
		                 AND (u.is_superuser OR 'moderate_groups' = ANY (u.permissions)))))
		+ (SELECT count(*) FROM memberships r
		   WHERE r.status = 'requested' AND r.group_id IN (
		         SELECT group_id FROM memberships WHERE user_id = $1 AND status = 'active' AND role = 'owner'))`

// MarkThreadRead records that the member has read the thread as it is
// now (opening a thread calls it).
func (s *Store) MarkThreadRead(ctx context.Context, userID, threadID int64) error {
	// Only when there is something new: a thread opened again costs a
	// read, not a write and its commit flush, on every view.
	_, err := s.db.Exec(ctx, `
		INSERT INTO thread_states (user_id, thread_id, read_at)
		SELECT $1, $2, now()
		WHERE NOT EXISTS (SELECT 1 FROM thread_states st JOIN threads t ON t.id = st.thread_id
			WHERE st.user_id = $1 AND st.thread_id = $2 AND st.read_at >= t.last_message_at)
		ON CONFLICT (user_id, thread_id) DO UPDATE SET read_at = now()`, userID, threadID)
	return mapErr(err, "mark thread read")
}
