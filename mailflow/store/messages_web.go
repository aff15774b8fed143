package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// The queries of the web's thread pages: threads with their privacy,
// messages as a given viewer may see them, flags, the archive by month,
// mbox downloads and full-text search. Every list is one query: the
// visibility rule (mailflow.CanSeeGroupMessage) is applied in SQL, so
// pages and counts are right and no row costs a query of its own.

// extraScan scans the columns a query adds after a shared column list, so
// scanGroup and scanThread stay the one place that knows theirs.
type extraScan struct {
	pgx.Row
	extra []any
}

func (r extraScan) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// WebThread is a thread with its privacy.
type WebThread struct {
	mailflow.Thread
	// PrivateMemberID is set on a private thread between that member and
	// the group's owners, or, with PrivateOwnerID set, that one owner.
	PrivateMemberID *int64
	PrivateOwnerID  *int64
}

// Private is whom the thread is between; nil for an ordinary thread.
func (t WebThread) Private() *mailflow.Private {
	if t.PrivateMemberID == nil {
		return nil
	}
	p := mailflow.Private{MemberID: *t.PrivateMemberID}
	if t.PrivateOwnerID != nil {
		p.OwnerID = *t.PrivateOwnerID
	}
	return &p
}

// ThreadWithPrivacy finds a thread and, for a private one, whom it is
// between.
func (s *Store) ThreadWithPrivacy(ctx context.Context, id int64) (WebThread, error) {
	var t WebThread
	var err error
	t.Thread, err = scanThread(extraScan{s.db.QueryRow(ctx, `SELECT `+threadCols+`, private_member_id, private_owner_id FROM threads WHERE id = $1`, id),
		[]any{&t.PrivateMemberID, &t.PrivateOwnerID}})
	return t, mapErr(err, fmt.Sprintf("get thread %d", id))
}

// SetThreadPrivate makes a new thread private between p's member and the
// group's owners, or p's one owner. The posting service calls it in the
// transaction that creates the thread, before the fan-out job is queued.
func (s *Store) SetThreadPrivate(ctx context.Context, threadID int64, p mailflow.Private) error {
	_, err := s.db.Exec(ctx, `UPDATE threads SET private_member_id = $2, private_owner_id = nullif($3, 0) WHERE id = $1`,
		threadID, p.MemberID, p.OwnerID)
	return mapErr(err, "make thread private")
}

// MessageViewer is whose eyes a message list is for.
type MessageViewer struct {
	ID        int64 // 0: signed out
	Moderator bool  // mailflow.IsGroupModerator of the list's group
}

// visibleSQL is mailflow.CanSeeGroupMessage in SQL, over messages m,
// for the viewer id and moderator flag in the given placeholders.
func visibleSQL(viewer, moderator string) string {
	return `(CASE
		WHEN ` + authorBanned + ` THEN m.author_id = ` + viewer + `::bigint AND m.status <> 'removed'
		WHEN m.author_id = ` + viewer + `::bigint AND m.status <> 'removed' THEN true
		WHEN ` + moderator + `::boolean THEN true
		ELSE m.status = 'approved' AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.message_id = m.id AND f.resolved_at IS NULL)
	END)`
}

// ListedMessage is a message with what its display and its visibility
// depend on.
type ListedMessage struct {
	mailflow.Message
	AuthorPicture string
	HasRaw        bool
	// FromHead is the start of the raw source of a message with no
	// account behind it (its From header names the sender); nil otherwise.
	FromHead []byte
	// State says whether a flag is open and whether the group banned
	// the author: mailflow.CanSeeGroupMessage decides with it.
	State mailflow.MessageState
}

const listedCols = `m.id, m.thread_id, m.group_id, m.parent_id, m.author_id, coalesce(u.name, ''), coalesce(u.picture_key, ''),
	m.from_email, m.message_id, m.in_reply_to, m.subject, m.body, m.source, m.status, m.created_at,
	m.raw_source IS NOT NULL,
	CASE WHEN m.author_id IS NULL AND m.from_email <> '' THEN substring(m.raw_source FROM 1 FOR 8192) END,
	EXISTS (SELECT 1 FROM flags f WHERE f.message_id = m.id AND f.resolved_at IS NULL),
	` + authorBanned

func scanListed(row pgx.Row) (ListedMessage, error) {
	var l ListedMessage
	m := &l.Message
	err := row.Scan(&m.ID, &m.ThreadID, &m.GroupID, &m.ParentID, &m.AuthorID, &m.AuthorName, &l.AuthorPicture,
		&m.FromEmail, &m.MessageID, &m.InReplyTo, &m.Subject, &m.Body, &m.Source, &m.Status, &m.CreatedAt,
		&l.HasRaw, &l.FromHead, &l.State.OpenFlag, &l.State.AuthorBanned)
	return l, err
}

// VisibleThreadMessages returns the messages of a thread the viewer may
// see, oldest first. The caller has checked that the viewer reads the
// thread (mailflow.CanReadThread).
func (s *Store) VisibleThreadMessages(ctx context.Context, threadID int64, v MessageViewer) ([]ListedMessage, error) {
	rows, err := s.db.Query(ctx, `SELECT `+listedCols+messageFrom+`
		WHERE m.thread_id = $1 AND `+visibleSQL("$2", "$3")+`
		ORDER BY m.created_at, m.id`, threadID, v.ID, v.Moderator)
	if err != nil {
		return nil, mapErr(err, "list visible messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ListedMessage, error) { return scanListed(r) })
	return out, mapErr(err, "list visible messages")
}

// ListedMessageByID returns one message with its flag and ban facts,
// whoever asks: the caller decides with mailflow.CanSeeGroupMessage.
func (s *Store) ListedMessageByID(ctx context.Context, id int64) (ListedMessage, error) {
	l, err := scanListed(s.db.QueryRow(ctx, `SELECT `+listedCols+messageFrom+`WHERE m.id = $1`, id))
	return l, mapErr(err, fmt.Sprintf("get message %d", id))
}

// FlagMessage records that userID asks the moderators to review a
// message; until one resolves the flag the message shows only to its
// author and the moderators. Flagging a message twice changes nothing,
// and neither does flagging again what a moderator has already cleared
// of that member's flag.
func (s *Store) FlagMessage(ctx context.Context, messageID, userID int64, reason string) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO flags (message_id, flagged_by, reason) VALUES ($1, $2, $3)
		ON CONFLICT (message_id, flagged_by) DO NOTHING`, messageID, userID, reason)
	return mapErr(err, "flag message")
}

// ArchiveMonth is one month of a group's archive.
type ArchiveMonth struct {
	Month   time.Time // the first instant of the month, UTC
	Threads int       // threads started that month with a message the viewer sees
}

// threadVisibleSQL is true for a thread t with at least one message the
// viewer ($2, $3) sees.
var threadVisibleSQL = threadVisibleTo("$2", "$3")

// ArchiveMonths returns the months in which the group's threads (not the
// private ones) were started, newest first, counting those the viewer
// sees a message of. Months are UTC months: the archive is the same for
// every reader.
func (s *Store) ArchiveMonths(ctx context.Context, groupID int64, v MessageViewer) ([]ArchiveMonth, error) {
	rows, err := s.db.Query(ctx, `
		SELECT date_trunc('month', t.created_at AT TIME ZONE 'UTC') AS month, count(*)
		FROM threads t
		WHERE t.group_id = $1 AND t.private_member_id IS NULL AND `+threadVisibleSQL+`
		GROUP BY 1 ORDER BY 1 DESC`, groupID, v.ID, v.Moderator)
	if err != nil {
		return nil, mapErr(err, "archive months")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ArchiveMonth, error) {
		var a ArchiveMonth
		err := r.Scan(&a.Month, &a.Threads)
		a.Month = time.Date(a.Month.Year(), a.Month.Month(), 1, 0, 0, 0, 0, time.UTC)
		return a, err
	})
	return out, mapErr(err, "archive months")
}

// MonthThread is a thread in a month of the archive.
type MonthThread struct {
	mailflow.Thread
	Visible     int    // messages the viewer sees
	StarterName string // the account that started it; "" once deleted
}

// ArchiveMonthThreads returns the group's threads (not the private ones)
// started in [from, to) of which the viewer sees a message, oldest first.
func (s *Store) ArchiveMonthThreads(ctx context.Context, groupID int64, from, to time.Time, v MessageViewer, limit, offset int) ([]MonthThread, error) {
	rows, err := s.db.Query(ctx, `
		SELECT * FROM (
			SELECT `+prefix("t", threadCols)+`, coalesce(u.name, ''),
				(SELECT count(*) FROM messages m WHERE m.thread_id = t.id AND `+visibleSQL("$2", "$3")+`) AS visible
			FROM threads t LEFT JOIN users u ON u.id = t.created_by
			WHERE t.group_id = $1 AND t.private_member_id IS NULL AND t.created_at >= $4 AND t.created_at < $5
		) x WHERE visible > 0
		ORDER BY created_at, id
		LIMIT $6 OFFSET $7`, groupID, v.ID, v.Moderator, from, to, limit, offset)
	if err != nil {
		return nil, mapErr(err, "archive threads")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MonthThread, error) {
		var a MonthThread
		var err error
		a.Thread, err = scanThread(extraScan{r, []any{&a.StarterName, &a.Visible}})
		return a, err
	})
	return out, mapErr(err, "archive threads")
}

// MboxMessage is an approved message as an mbox download holds it.
type MboxMessage struct {
	ID         int64
	MessageID  string
	InReplyTo  string
	Subject    string
	Body       string
	Raw        []byte // the message as received, when it came by mail
	CreatedAt  time.Time
	AuthorID   *int64
	AuthorName string
	FromEmail  string
}

// MboxFilter chooses the messages of a download: one thread's, or the
// group's ordinary (not private) threads' posted in [From, To).
type MboxFilter struct {
	ThreadID int64
	From, To time.Time
}

// EachMboxMessage calls fn for each approved message of the group that
// the viewer sees and the filter selects, oldest first. Rows are
// streamed: a month of a busy group is never held in memory at once.
func (s *Store) EachMboxMessage(ctx context.Context, groupID int64, f MboxFilter, v MessageViewer, fn func(MboxMessage) error) error {
	where, args := `t.id = $4`, []any{groupID, v.ID, v.Moderator, f.ThreadID}
	if f.ThreadID == 0 {
		where, args = `t.private_member_id IS NULL AND m.created_at >= $4 AND m.created_at < $5`, []any{groupID, v.ID, v.Moderator, f.From, f.To}
	}
	rows, err := s.db.Query(ctx, `
		SELECT m.id, m.message_id, m.in_reply_to, m.subject, m.body, m.raw_source, m.created_at, m.author_id,
			coalesce(u.name, ''), m.from_email
		FROM messages m JOIN threads t ON t.id = m.thread_id LEFT JOIN users u ON u.id = m.author_id 
		WHERE m.group_id = $1 AND m.status = 'approved' AND `+visibleSQL("$2", "$3")+` AND `+where+`
		ORDER BY m.created_at, m.id`, args...)
	if err != nil {
		return mapErr(err, "mbox messages")
	}
	defer rows.Close()
	for rows.Next() {
		var mm MboxMessage
		if err := rows.Scan(&mm.ID, &mm.MessageID, &mm.InReplyTo, &mm.Subject, &mm.Body, &mm.Raw, &mm.CreatedAt, &mm.AuthorID,
			&mm.AuthorName, &mm.FromEmail); err != nil {
			return mapErr(err, "mbox messages")
		}
		if err := fn(mm); err != nil {
			return err
		}
	}
	return mapErr(rows.Err(), "mbox messages")
}

// SearchHit is one message found by search.
type SearchHit struct {
	MessageID     int64
	ThreadID      int64
	GroupSlug     string
	GroupName     string
	ThreadSubject string
	Subject       string
	AuthorID      *int64
	AuthorName    string
	FromEmail     string
	CreatedAt     time.Time
	// Snippet is the body (its first SnippetSource characters) with each
	// match between HighlightStart and HighlightStop (control characters
	// that cannot come from the body, which has them removed): the page
	// makes a plain-text preview of it around the first match, escapes
	// it, then turns those into marks. The whole Markdown, not a
	// fragment of it, so that the preview is made from its rendering.
	Snippet string
}

// Highlight delimiters of SearchHit.Snippet.
const (
	HighlightStart = "\x01"
	HighlightStop  = "\x02"
)

// headlineOptions are ts_headline's: every match marked, in the whole text.
const headlineOptions = "StartSel=" + HighlightStart + ", StopSel=" + HighlightStop + ", HighlightAll=true"

// SnippetSource is how much of a body a search hit carries.
const SnippetSource = 20_000

// SearchMessages finds messages matching q (websearch_to_tsquery syntax,
// English stemming: "owls" finds "owl"), best first (ts_rank, then the
// newest), in groupID (0: every group) among the groups the scope reads,
// and only the messages mailflow.CanFindMessage allows.
//
// The scope's conditions are mailflow.CanReadThreads, CanReadArchive and
// CanReadPrivateThread in SQL. ts_headline, which reads whole bodies, runs
// only on the page's rows.
func (s *Store) SearchMessages(ctx context.Context, q string, scope mailflow.ReadScope, groupID int64, limit, offset int) ([]SearchHit, error) {
	rows, err := s.db.Query(ctx, `
		WITH q AS (SELECT websearch_to_tsquery('english', $1) AS q),
		hits AS (
			SELECT m.id, ts_rank(m.search, q.q) AS rank, m.created_at
			FROM q CROSS JOIN messages m
			JOIN threads t ON t.id = m.thread_id
			JOIN groups g ON g.id = m.group_id
			LEFT JOIN memberships vm ON vm.group_id = m.group_id AND vm.user_id = $2 
			WHERE m.search @@ q.q
			  AND ($5::bigint = 0 OR m.group_id = $5)
			  AND ($4::boolean OR vm.status = 'active' OR g.archive_public
			       OR ($3::boolean AND g.listed AND g.join_policy = 'open' AND vm.status IS DISTINCT FROM 'banned'))
			  AND (t.private_member_id IS NULL OR $4 OR t.private_member_id = $2 OR t.private_owner_id = $2
			       OR (t.private_owner_id IS NULL AND vm.status = 'active' AND vm.role = 'owner'))
			  AND `+visibleSQL("$2", "false")+`
			ORDER BY rank DESC, m.created_at DESC, m.id DESC
			LIMIT $6 OFFSET $7
		)
		SELECT m.id, m.thread_id, g.slug, g.name, t.subject, m.subject, m.author_id, coalesce(u.name, ''), m.from_email, m.created_at,
			ts_headline('english', translate(left(m.body, $10), $9, ''), q.q, $8)
		FROM hits JOIN messages m ON m.id = hits.id
		JOIN threads t ON t.id = m.thread_id
		JOIN groups g ON g.id = m.group_id
		LEFT JOIN users u ON u.id = m.author_id
		CROSS JOIN q
		ORDER BY hits.rank DESC, hits.created_at DESC, hits.id DESC`,
		q, scope.ViewerID, scope.Public, scope.All, groupID, limit, offset, headlineOptions, HighlightStart+HighlightStop, SnippetSource)
	if err != nil {
		return nil, mapErr(err, "search messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SearchHit, error) {
		var h SearchHit
		err := r.Scan(&h.MessageID, &h.ThreadID, &h.GroupSlug, &h.GroupName, &h.ThreadSubject, &h.Subject, &h.AuthorID,
			&h.AuthorName, &h.FromEmail, &h.CreatedAt, &h.Snippet)
		return h, err
	})
	return out, mapErr(err, "search messages "+strconv.Quote(q))
}
