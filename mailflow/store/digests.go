package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DigestMember is a member who takes at least one digest.
type DigestMember struct {
	UserID   int64
	Email    string
	Name     string
	Timezone string
	Daily    bool // has a group on the daily digest
	Weekly   bool // has a group on the weekly digest
	// PlainText: the digest is one text/plain part (issue 19).
	PlainText bool
}

// DigestMembers returns the next batch of active, verified users with
// digest memberships and ids above after, by id: the scan streams them.
// Members whose mail is paused at now are left out: their digests
// collect until the first digest time after the pause.
func (s *Store) DigestMembers(ctx context.Context, after int64, limit int, email string, now time.Time) ([]DigestMember, error) {
	rows, err := s.db.Query(ctx, `
		SELECT u.id, u.email, u.name, u.timezone,
		       bool_or(m.delivery = 'digest'), bool_or(m.delivery = 'weekly')
		FROM users u JOIN memberships m ON m.user_id = u.id
		WHERE u.id > $1 AND u.status = 'active' AND u.email_verified_at IS NOT NULL
		  AND m.status = 'active' AND m.delivery IN ('digest', 'weekly')
		  AND ($3 = '' OR lower(u.email) = lower($3))
		  AND NOT coalesce(u.paused_until > $4, false)
		GROUP BY u.id
		ORDER BY u.id
		LIMIT $2`, after, limit, email, now)
	if err != nil {
		return nil, mapErr(err, "list digest members")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DigestMember, error) {
		var m DigestMember
		err := r.Scan(&m.UserID, &m.Email, &m.Name, &m.Timezone, &m.Daily, &m.Weekly)
		return m, err
	})
	return out, mapErr(err, "list digest members")
}

// NewDigest is a digest that has come due.
type NewDigest struct {
	UserID   int64
	Period   string
	Key      time.Time // the member's local date
	DueAt    time.Time
	OnDemand bool // asked for now (send-digests --now), not scheduled: never a duplicate
}

// CreateDigests records the digests that are due and returns the ids of
// those that were not recorded before; after runs in the same
// transaction with those ids (to enqueue their sending). A digest
// recorded once is never recorded again, whoever scans.
func (s *Store) CreateDigests(ctx context.Context, ds []NewDigest, after func(tx *Store, ids []int64) error) ([]int64, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	users := make([]int64, len(ds))
	periods := make([]string, len(ds))
	keys := make([]time.Time, len(ds))
	dues := make([]time.Time, len(ds))
	demand := make([]bool, len(ds))
	for i, d := range ds {
		users[i], periods[i], keys[i], dues[i], demand[i] = d.UserID, d.Period, d.Key, d.DueAt, d.OnDemand
	}
	var ids []int64
	err := s.Tx(ctx, func(tx *Store) error {
		rows, err := tx.db.Query(ctx, `
			INSERT INTO digests (user_id, period, period_key, due_at, on_demand)
			SELECT * FROM unnest($1::bigint[], $2::text[], $3::date[], $4::timestamptz[], $5::boolean[])
			ON CONFLICT (user_id, period, period_key) WHERE NOT on_demand DO NOTHING
			RETURNING id`, users, periods, keys, dues, demand)
		if err != nil {
			return mapErr(err, "create digests")
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return mapErr(err, "create digests")
		}
		if after != nil && len(ids) > 0 {
			return after(tx, ids)
		}
		return nil
	})
	return ids, err
}

// Digest is a recorded digest.
type Digest struct {
	ID     int64
	UserID int64
	Period string
	Key    time.Time
	DueAt  time.Time
	State  string
}

// DigestByID loads a digest.
func (s *Store) DigestByID(ctx context.Context, id int64) (Digest, error) {
	var d Digest
	err := s.db.QueryRow(ctx, `SELECT id, user_id, period, period_key, due_at, state FROM digests WHERE id = $1`, id).
		Scan(&d.ID, &d.UserID, &d.Period, &d.Key, &d.DueAt, &d.State)
	return d, mapErr(err, fmt.Sprintf("get digest %d", id))
}

// PreviousDigestDue returns when the member's previous digest of a period
// was due (zero when this is the first).
func (s *Store) PreviousDigestDue(ctx context.Context, userID int64, period string, before time.Time) (time.Time, error) {
	var t *time.Time
	err := s.db.QueryRow(ctx, `SELECT max(due_at) FROM digests WHERE user_id = $1 AND period = $2 AND due_at < $3`, userID, period, before).Scan(&t)
	if err != nil || t == nil {
		return time.Time{}, mapErr(err, "previous digest")
	}
	return *t, nil
}

// FinishDigest records a digest's outcome.
func (s *Store) FinishDigest(ctx context.Context, id int64, state string, messages int) error {
	_, err := s.db.Exec(ctx, `UPDATE digests SET state = $2, messages = $3, sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1`, id, state, messages)
	return mapErr(err, "finish digest")
}

// DigestItem is one message in a digest, with its group and thread.
type DigestItem struct {
	GroupID    int64
	GroupSlug  string
	GroupName  string
	ThreadID   int64
	Subject    string
	MessageID  int64
	AuthorName string
	CreatedAt  time.Time
	Body       string
	Files      []ListedResource // the message's files (MessageAttachments), added by the digest service
	// PrivateTo is the author when they take private messages (issue 19:
	// the digest offers "Reply privately"), else 0.
	PrivateTo int64
}

// StopDigests switches every digest membership of a user to no email
// and returns how many changed (the digest's own List-Unsubscribe).
func (s *Store) StopDigests(ctx context.Context, userID int64) (int64, error) {
	tag, err := s.db.Exec(ctx, `UPDATE memberships SET delivery = 'none', updated_at = now() WHERE user_id = $1 AND delivery IN ('digest', 'weekly')`, userID)
	if err != nil {
		return 0, mapErr(err, "stop digests")
	}
	return tag.RowsAffected(), nil
}

// SeedDigestBench fills a throwaway database for the digest benchmark:
// members m1…mN@domain on the daily digest of every group in groupIDs,
// and perGroup messages posted by author in each group at postedAt.
func (s *Store) SeedDigestBench(ctx context.Context, groupIDs []int64, members int, domain string, author int64, perGroup int, postedAt time.Time) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO users (email, name, email_verified_at)
			SELECT 'm' || i || '@' || $2, 'Member ' || i, now()
			FROM generate_series(1, $1) i`, members, domain); err != nil {
			return mapErr(err, "seed users")
		}
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO memberships (group_id, user_id, delivery, created_at)
			SELECT g, u.id, 'digest', $3::timestamptz - interval '30 days' FROM unnest($1::bigint[]) g, users u
			WHERE u.email LIKE 'm%@' || $2`, groupIDs, domain, postedAt); err != nil {
			return mapErr(err, "seed memberships")
		}
		_, err := tx.db.Exec(ctx, `
			WITH t AS (
				INSERT INTO threads (group_id, subject, created_by, message_count, created_at, last_message_at)
				SELECT g, 'Thread ' || k || ' of group ' || g, $2, 8, $4, $4
				FROM unnest($1::bigint[]) g, generate_series(1, greatest($3 / 8, 1)) k
				RETURNING id, group_id
			)
			INSERT INTO messages (thread_id, group_id, author_id, message_id, subject, body, source, status, created_at, approved_at)
			SELECT t.id, t.group_id, $2, 'bench.' || t.id || '.' || j || '@bench.test', 'Re: thread ' || t.id,
			       'This is benchmark message ' || j || ' in thread ' || t.id || '. ' || repeat('Some words to read. ', 20),
			       'api', 'approved', $4 + j * interval '1 second', $4
			FROM t, generate_series(1, 8) j`, groupIDs, author, perGroup, postedAt)
		return mapErr(err, "seed messages")
	})
}

// DigestJob is what sending one digest needs, read in one query.
type DigestJob struct {
	Digest
	Email, Name, Timezone string
	Suppressed            string    // the suppression reason, "" if none
	PreviousDue           time.Time // zero for a first digest: the digest covers (PreviousDue, DueAt]
	// Covered: a digest on demand recorded before this scheduled one is
	// due later, so it sent everything this one would (it began at the
	// digest before this one, which did not exist yet).
	Covered bool
	// Pausing mail (issue 19): the member's pause (zero: none), and
	// their choice of plain-text-only email.
	PausedUntil, PausedAt time.Time
	PlainText             bool
}

// digestJobSQL reads a DigestJob for the digest d, a row of digests or
// one not yet recorded (the dry run's), by the same query.
const digestJobSQL = `
	SELECT d.id, d.user_id, d.period, d.period_key, d.due_at, d.state, u.email, u.name, u.timezone,
	       coalesce((SELECT reason FROM suppressions s WHERE lower(s.email) = lower(u.email)), ''),
	       (SELECT max(p.due_at) FROM digests p WHERE p.user_id = d.user_id AND p.period = d.period AND p.due_at < d.due_at),
	       NOT d.on_demand AND EXISTS (SELECT 1 FROM digests p WHERE p.user_id = d.user_id AND p.period = d.period
	                                   AND p.on_demand AND p.id < d.id AND p.due_at >= d.due_at),
	       u.paused_until, u.paused_at, u.plain_text_email
	FROM %s d JOIN users u ON u.id = d.user_id`

func scanDigestJob(row pgx.Row) (DigestJob, error) {
	var j DigestJob
	var prev, pausedUntil, pausedAt *time.Time
	err := row.Scan(&j.ID, &j.UserID, &j.Period, &j.Key, &j.DueAt, &j.State, &j.Email, &j.Name, &j.Timezone, &j.Suppressed, &prev, &j.Covered,
		&pausedUntil, &pausedAt, &j.PlainText)
	if prev != nil {
		j.PreviousDue = *prev
	}
	if pausedUntil != nil && pausedAt != nil {
		j.PausedUntil, j.PausedAt = *pausedUntil, *pausedAt
	}
	return j, err
}

// ForgetDigestsOnDemand deletes digests on demand that were recorded but
// not sent (their run failed part-way), so that the member's next digest
// starts from their last one again instead of after a digest never sent.
func (s *Store) ForgetDigestsOnDemand(ctx context.Context, ids []int64) error {
	_, err := s.db.Exec(ctx, `DELETE FROM digests WHERE id = ANY($1) AND on_demand AND state = 'queued'`, ids)
	return mapErr(err, "forget digests on demand")
}

// DigestForSend loads a digest with its member, the member's suppression
// and when their previous digest of the period was due.
func (s *Store) DigestForSend(ctx context.Context, id int64) (DigestJob, error) {
	j, err := scanDigestJob(s.db.QueryRow(ctx, fmt.Sprintf(digestJobSQL, "digests")+` WHERE d.id = $1`, id))
	return j, mapErr(err, fmt.Sprintf("get digest %d", id))
}

// DigestOnDemand is DigestForSend for a digest on demand that is not
// recorded: what recording nd and sending it at once would read (the
// dry run of send-digests --now).
func (s *Store) DigestOnDemand(ctx context.Context, nd NewDigest) (DigestJob, error) {
	j, err := scanDigestJob(s.db.QueryRow(ctx, fmt.Sprintf(digestJobSQL,
		`(SELECT 0::bigint AS id, $1::bigint AS user_id, $2::text AS period, $3::date AS period_key,
		         $4::timestamptz AS due_at, 'queued'::text AS state, true AS on_demand)`), nd.UserID, nd.Period, nd.Key, nd.DueAt))
	return j, mapErr(err, "digest on demand")
}

// DigestMembership is one group a member takes a digest of.
type DigestMembership struct {
	GroupID  int64
	Name     string
	JoinedAt time.Time
}

// DigestMemberships lists the groups a member takes this digest of, in
// the order digests show groups.
func (s *Store) DigestMemberships(ctx context.Context, userID int64, delivery string) ([]DigestMembership, error) {
	rows, err := s.db.Query(ctx, `
		SELECT g.id, g.name, m.created_at FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1 AND m.status = 'active' AND m.delivery = $2
		ORDER BY lower(g.name), g.id`, userID, delivery)
	if err != nil {
		return nil, mapErr(err, "digest memberships")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DigestMembership, error) {
		var m DigestMembership
		err := r.Scan(&m.GroupID, &m.Name, &m.JoinedAt)
		return m, err
	})
	return out, mapErr(err, "digest memberships")
}

// GroupDigestItems returns a group's messages for digests of (from, to]:
// approved, not under an open flag, not by banned authors, not in private
// threads (a member and the owners, mailed to them at once); by thread and
// time. It is the same for every member who joined before from, so the
// digest code reads it once per group and window.
func (s *Store) GroupDigestItems(ctx context.Context, groupID int64, from, to time.Time, limit int) ([]DigestItem, error) {
	rows, err := s.db.Query(ctx, `
		SELECT g.id, g.slug, g.name, t.id, t.subject, msg.id, coalesce(au.name, msg.from_email), msg.created_at, left(msg.body, 2000),
		       CASE WHEN au.private_messages THEN au.id ELSE 0 END
		FROM messages msg
		JOIN groups g ON g.id = msg.group_id
		JOIN threads t ON t.id = msg.thread_id
		LEFT JOIN users au ON au.id = msg.author_id
		WHERE msg.group_id = $1 AND msg.status = 'approved' AND msg.created_at > $2 AND msg.created_at <= $3
		  AND t.private_member_id IS NULL
		  AND (au.id IS NULL OR au.status <> 'banned')
		  AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.message_id = msg.id AND f.resolved_at IS NULL)
		ORDER BY t.last_message_at DESC, t.id, msg.created_at, msg.id
		LIMIT $4`, groupID, from, to, limit)
	if err != nil {
		return nil, mapErr(err, "group digest items")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DigestItem, error) {
		var it DigestItem
		err := r.Scan(&it.GroupID, &it.GroupSlug, &it.GroupName, &it.ThreadID, &it.Subject, &it.MessageID, &it.AuthorName, &it.CreatedAt, &it.Body, &it.PrivateTo)
		return it, err
	})
	return out, mapErr(err, "group digest items")
}
