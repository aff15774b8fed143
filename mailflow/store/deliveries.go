package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// Delivery states.
const (
	DeliveryQueued     = "queued"
	DeliverySending    = "sending"
	DeliverySent       = "sent"
	DeliveryDeferred   = "deferred"
	DeliveryFailed     = "failed"
	DeliverySuppressed = "suppressed"
	DeliverySkipped    = "skipped"
)

// ExpandBatch records the deliveries of message m to the next batch of at
// most limit members of its group who want every message, with user ids
// above after. It returns the last user id seen and how many members the
// batch held; fewer than limit means the group is done. It is idempotent
// (a member who already has a delivery row keeps it), so a fan-out job
// that died half-way simply runs again. Members are streamed batch by
// batch: memory does not grow with the group.
//
// A recipient's row is 'queued', or 'skipped' with a reason (account
// banned or deactivated, address unverified, their own post) or
// 'suppressed' (the address is on the suppression list).
//
// A message of a private thread goes only to the thread's member and the
// group's owners (or its one owner). Who of them is mailed, as of an
// ordinary thread's members, is mailflow.MailedAtOnce of their delivery
// mode and their choice for the thread (thread_prefs: muted, followed),
// which the query applies through mailflow.MailedAtOnceKeys; for the
// message's own author, following counts as mailflow.PrefForOwnPost says.
//
// A member whose mail is paused at now (issue 19) gets a 'skipped' row:
// never sent, so nothing floods them when the pause ends.
func (s *Store) ExpandBatch(ctx context.Context, m mailflow.Message, after int64, limit int, now time.Time) (last int64, n int, err error) {
	var lastP *int64
	// On the async pool: its sessions keep the planner on the indexes
	// (see poolConfigs). A group just imported has no statistics yet, and
	// planned without them this query read and sorted every member after
	// the batch's start, for every batch: a fan-out to 50,000 members of
	// a fresh database expanded at a quarter of the rate of an aged one.
	// With those settings a batch reads memberships in order and stops at
	// its limit. A crash of PostgreSQL that lost a batch's asynchronous
	// commit loses the fan-out job's later progress with it (the WAL is
	// one sequence), and the job expands it again.
	err = s.async.QueryRow(ctx, expandSQL, expandArgs(m, after, limit, now)...).Scan(&lastP, &n)
	if err != nil {
		return after, 0, mapErr(err, "expand recipients")
	}
	if lastP != nil {
		last = *lastP
	}
	return last, n, nil
}

// expandArgs are expandSQL's parameters for a batch of m's recipients.
func expandArgs(m mailflow.Message, after int64, limit int, now time.Time) []any {
	var author int64
	if m.AuthorID != nil {
		author = *m.AuthorID
	}
	// Posts by email already sit in the author's mailbox; others do not.
	echoDefault := m.Source != mailflow.SourceEmail
	return []any{m.GroupID, after, limit, m.ID, author, echoDefault, m.ThreadID, mailflow.MailedAtOnceKeys(),
		mailflow.ThreadFollowed, mailflow.PrefForOwnPost(mailflow.ThreadFollowed), now}
}

// expandSQL inserts the deliveries of a batch of a message's recipients
// (see ExpandBatch and expandArgs). The batch's start bounds users as
// well as memberships (u.id > $2): PostgreSQL does not carry a range
// across the join's equality, and without it the merge join read users
// from the first one for every batch, 20 ms of a 1,000-row batch starting
// at the 50,000th member; with it, expanding 100,000 members went from
// about 26,000 to 52,000–58,000 rows a second.
const expandSQL = `
		WITH th AS (
			SELECT private_member_id, private_owner_id FROM threads WHERE id = $7
		), batch AS (
			SELECT ms.user_id, u.email, u.status, u.email_verified_at, ms.echo_own_posts,
			       coalesce(u.paused_until > $11, false) AS paused,
			       EXISTS (SELECT 1 FROM suppressions s WHERE lower(s.email) = lower(u.email)) AS suppressed
			FROM memberships ms JOIN users u ON u.id = ms.user_id
			LEFT JOIN th ON true
			LEFT JOIN thread_prefs tp ON tp.user_id = ms.user_id AND tp.thread_id = $7
			WHERE ms.group_id = $1 AND ms.status = 'active' AND ms.user_id > $2 AND u.id > $2
			  AND ms.delivery || '|' || CASE WHEN ms.user_id = $5 AND tp.pref = $9 THEN $10 ELSE coalesce(tp.pref, '') END
			      || '|' || (th.private_member_id IS NOT NULL)::text = ANY($8::text[])
			  AND (th.private_member_id IS NULL OR ms.user_id = th.private_member_id OR ms.user_id = th.private_owner_id
			       OR (th.private_owner_id IS NULL AND ms.role = 'owner'))
			ORDER BY ms.user_id
			LIMIT $3
		), ins AS (
			INSERT INTO deliveries (message_id, user_id, email, state, skip_reason)
			SELECT $4, user_id, email,
				CASE WHEN status <> 'active' OR email_verified_at IS NULL THEN 'skipped'
				     WHEN suppressed THEN 'suppressed'
				     WHEN user_id = $5 AND NOT coalesce(echo_own_posts, $6) THEN 'skipped'
				     WHEN paused THEN 'skipped'
				     ELSE 'queued' END,
				CASE WHEN status <> 'active' THEN 'account ' || status
				     WHEN email_verified_at IS NULL THEN 'address not verified'
				     WHEN suppressed THEN 'address suppressed'
				     WHEN user_id = $5 AND NOT coalesce(echo_own_posts, $6) THEN 'own post'
				     WHEN paused THEN 'mail paused'
				     ELSE '' END
			FROM batch
			ON CONFLICT (message_id, user_id) DO NOTHING
		)
		SELECT max(user_id), count(*) FROM batch`

// ExpandedUpTo returns the highest user id expanded for message id (0 when
// none): ExpandBatch commits batches in user id order, so a fan-out that
// resumes continues after it.
func (s *Store) ExpandedUpTo(ctx context.Context, messageID int64) (int64, error) {
	var last int64
	err := s.db.QueryRow(ctx, `SELECT coalesce(max(user_id), 0) FROM deliveries WHERE message_id = $1`, messageID).Scan(&last)
	return last, mapErr(err, "read fan-out progress")
}

// Claimed is a delivery a sender has claimed, with what it needs to send.
type Claimed struct {
	ID        int64
	MessageID int64
	UserID    int64
	Email     string
	Name      string
	Attempts  int // including this one
	CreatedAt time.Time
	PlainText bool // the member takes plain-text-only email (issue 19)
	// ThreadPref is the recipient's choice for the message's thread
	// (issue 19): a follower's copy offers to stop following.
	ThreadPref mailflow.ThreadPref
}

// claimSQL claims due deliveries ($1: how many, $2: the lease, $3: the
// earliest due time looked at; see QueueCursor). Its shape keeps the
// claim's cost independent of the table's statistics: the due rows come
// from deliveries_due_idx in its order, and the UPDATE finds them again
// by primary key from an array (id = ANY (ARRAY(…))) rather than by a
// join, whose plan, made while the table was small, would be a hash join
// over a scan of the whole table; a cached plan of that kind cost 36 ms
// per claim on the first large send after a small one, until the table
// was analysed. Every row taken is returned, the ones settled at the
// claim too (state other than 'sending'), with the latest due time taken
// (the cursor's next place).
const claimSQL = `
	WITH due AS MATERIALIZED (
		SELECT id, next_attempt_at FROM deliveries
		WHERE state IN ('queued', 'deferred', 'sending') AND next_attempt_at <= now() AND next_attempt_at >= $3
		ORDER BY next_attempt_at, id
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), claimed AS (
		UPDATE deliveries d SET
			(state, skip_reason) = (
				SELECT CASE w.why WHEN '' THEN 'sending' WHEN 'address suppressed' THEN 'suppressed' ELSE 'skipped' END,
				       CASE w.why WHEN '' THEN d.skip_reason ELSE w.why END
				FROM (SELECT CASE
					WHEN NOT EXISTS (SELECT 1 FROM users u WHERE u.id = d.user_id) THEN 'account deleted'
					WHEN NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = d.message_id) THEN 'message deleted'
					WHEN EXISTS (SELECT 1 FROM suppressions s WHERE lower(s.email) = lower(d.email)) THEN 'address suppressed'
					ELSE '' END AS why) w),
			attempts = d.attempts + 1,
			next_attempt_at = now() + $2::interval
		WHERE d.id = ANY (ARRAY(SELECT id FROM due))
		RETURNING d.id, d.message_id, d.user_id, d.email, d.state, d.attempts, d.created_at
	)
	SELECT c.id, c.message_id, coalesce(c.user_id, 0), c.email, c.state,
	       coalesce(u.name, ''), c.attempts, c.created_at, coalesce(u.plain_text_email, false),
	       coalesce((SELECT tp.pref FROM thread_prefs tp JOIN messages msg ON msg.id = c.message_id
	                 WHERE tp.user_id = c.user_id AND tp.thread_id = msg.thread_id), ''),
	       (SELECT max(next_attempt_at) FROM due)
	FROM claimed c
	-- One lookup of the recipient for both columns. LIMIT 1 keeps the
	-- subquery from being flattened into a join the planner could make a
	-- hash join over the whole users table: it stays a primary-key probe
	-- per claimed row.
	LEFT JOIN LATERAL (SELECT u.name, u.plain_text_email FROM users u WHERE u.id = c.user_id LIMIT 1) u ON true
	ORDER BY c.id`

// Claim is what one claim took from the outbound queue.
type Claim struct {
	Deliveries []Claimed // to send now
	// Settled counts the rows the claim settled instead of leasing
	// (suppressed, or skipped since their account or message is gone):
	// a claim that took only those found work all the same, and the next
	// one may find more.
	Settled int
}

// Taken counts the rows the claim took, to send or settled: a claim that
// took its whole limit may have left more due behind it.
func (c Claim) Taken() int { return len(c.Deliveries) + c.Settled }

// Took reports whether the claim took any row, to send or settled.
func (c Claim) Took() bool { return c.Taken() > 0 }

// A QueueCursor is where one sender's claims look for due deliveries.
//
// Why: a claim moves a row out of the queue's place in
// deliveries_due_idx, but the B-tree keeps the old entry, dead, until
// VACUUM removes it, and the dead entries gather at the front of the
// index, where every claim that starts at the front steps over them.
// Autovacuum clears them soon on a small table; on one of tens of
// millions of rows it waits for a fifth of them to be dead (days), and
// each claim walked more pages round after round: on a scratch table
// without vacuum, a claim of 50 took 0.86, 1.30, 1.71 and 2.58 ms over
// four sends of 100,000; starting after the last claimed place it took
// 0.64–1.08 ms over six, as on a vacuumed table.
//
// A claim starts at the latest due time the cursor's last claim took, less
// cursorLag (a row can commit a little after its due time: a fan-out batch
// commits at the end of its statement, stamped with its start). Rows
// the cursor may have passed still (a claim rolled back, a due time set
// from a clock behind the database's) are found by a claim from the front
// every cursorRescan. The zero QueueCursor starts at the front.
type QueueCursor struct {
	from   time.Time // claims look at rows due from here on
	rescan time.Time // the next claim from the front, at the latest
}

const (
	cursorLag    = time.Second
	cursorRescan = 10 * time.Second
)

// start returns where the next claim looks from.
func (c *QueueCursor) start(now time.Time) time.Time {
	if !now.Before(c.rescan) {
		c.rescan = now.Add(cursorRescan)
		return time.Time{}
	}
	return c.from
}

// ClaimDeliveries takes up to limit due deliveries for this sender: queued
// ones, deferred ones whose retry time has come, and 'sending' ones whose
// lease ran out (their sender died). SKIP LOCKED lets several senders, in
// one daemon or many, claim side by side without ever taking the same
// row. Each claimed row is leased for lease: if it is not settled by then,
// another sender may take it. A delivery whose recipient has been
// suppressed since fan-out is settled as suppressed here, before it could
// be sent; one whose account or message has been deleted since (no
// foreign key ties the rows: see migration 0026) is settled as skipped.
// The claim looks from cur's place and moves it on; a nil cur looks from
// the front of the queue.
//
// The claim runs on the async pool: a claim lost with a crash of
// PostgreSQL itself returns its rows to the queue, as a lost "sent"
// record does (see Store.async). Its statement is cached prepared like
// any other; TestClaimPlanIgnoresStaleStatistics checks that its generic
// plan, made while the table was small, still goes through the indexes.
// Planning it afresh at every call, as it once was, cost PostgreSQL a
// fifth of its time in the fan-out.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration, cur *QueueCursor) (Claim, error) {
	var from time.Time
	if cur != nil {
		from = cur.start(time.Now())
	}
	var cl Claim
	var last time.Time
	rows, err := s.async.Query(ctx, claimSQL, limit, lease, from)
	if err != nil {
		return cl, mapErr(err, "claim deliveries")
	}
	for rows.Next() {
		var c Claimed
		var state, pref string
		if err := rows.Scan(&c.ID, &c.MessageID, &c.UserID, &c.Email, &state, &c.Name, &c.Attempts, &c.CreatedAt, &c.PlainText, &pref, &last); err != nil {
			rows.Close()
			return Claim{}, mapErr(err, "claim deliveries")
		}
		if state != DeliverySending {
			cl.Settled++
			continue
		}
		c.ThreadPref = mailflow.ThreadPref(pref)
		cl.Deliveries = append(cl.Deliveries, c)
	}
	if err := rows.Err(); err != nil {
		return Claim{}, mapErr(err, "claim deliveries")
	}
	if cur != nil && cl.Took() {
		cur.from = last.Add(-cursorLag)
	}
	return cl, nil
}

// markSentSQL records deliveries $1 as sent.
const markSentSQL = `UPDATE deliveries SET state = 'sent', sent_at = now(), last_error = '', smtp_code = NULL WHERE id = ANY($1)`

// MarkSent records deliveries as sent. It commits asynchronously (see
// Store.async): a crash of parleyd right after cannot lose it.
func (s *Store) MarkSent(ctx context.Context, ids ...int64) error {
	_, err := s.async.Exec(ctx, markSentSQL, ids)
	return mapErr(err, "mark delivery sent")
}

// MarkDeferred schedules another attempt at retryAt after a temporary failure.
func (s *Store) MarkDeferred(ctx context.Context, id int64, retryAt time.Time, code int, msg string) error {
	_, err := s.async.Exec(ctx, `UPDATE deliveries SET state = 'deferred', next_attempt_at = $2, smtp_code = nullif($3, 0), last_error = $4 WHERE id = $1`,
		id, retryAt, code, truncate(msg, 1000))
	return mapErr(err, "defer delivery")
}

// MarkFailed records a permanent failure with the server's reply.
func (s *Store) MarkFailed(ctx context.Context, id int64, code int, msg string) error {
	_, err := s.async.Exec(ctx, `UPDATE deliveries SET state = 'failed', smtp_code = nullif($2, 0), last_error = $3 WHERE id = $1`,
		id, code, truncate(msg, 1000))
	return mapErr(err, "fail delivery")
}

// ReleaseDeliveries hands claimed but unsent deliveries back at once (on
// shutdown), so another sender need not wait for their lease to end.
func (s *Store) ReleaseDeliveries(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx, `UPDATE deliveries SET state = 'queued', next_attempt_at = now(), attempts = greatest(attempts - 1, 0)
		WHERE id = ANY($1) AND state = 'sending'`, ids)
	return mapErr(err, "release deliveries")
}

// DeliveryCounts returns how many deliveries of a message are in each state.
func (s *Store) DeliveryCounts(ctx context.Context, messageID int64) (map[string]int, error) {
	rows, err := s.db.Query(ctx, `SELECT state, count(*) FROM deliveries WHERE message_id = $1 GROUP BY state`, messageID)
	if err != nil {
		return nil, mapErr(err, "count deliveries")
	}
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, mapErr(err, "count deliveries")
		}
		out[st] = n
	}
	return out, mapErr(rows.Err(), "count deliveries")
}

// PendingDeliveries counts deliveries not yet settled: the outbound queue depth.
func (s *Store) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE state IN ('queued', 'deferred', 'sending')`).Scan(&n)
	return n, mapErr(err, "count pending deliveries")
}

// DeliveryByID returns one delivery's state, for tests and the admin pages.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (state string, attempts int, code *int, lastErr string, err error) {
	err = s.db.QueryRow(ctx, `SELECT state, attempts, smtp_code, last_error FROM deliveries WHERE id = $1`, id).Scan(&state, &attempts, &code, &lastErr)
	return state, attempts, code, lastErr, mapErr(err, fmt.Sprintf("get delivery %d", id))
}

// ThreadReferences returns the Message-IDs of a thread's approved messages
// before message id, oldest first, at most max (the first and the latest
// ones, as RFC 5322 §3.6.4 suggests for long threads).
func (s *Store) ThreadReferences(ctx context.Context, threadID, before int64, max int) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT message_id FROM messages WHERE thread_id = $1 AND id < $2 AND status = 'approved' ORDER BY id`, threadID, before)
	if err != nil {
		return nil, mapErr(err, "thread references")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr(err, "thread references")
	}
	if len(ids) > max && max > 1 {
		ids = append(ids[:1], ids[len(ids)-(max-1):]...)
	}
	return ids, nil
}

// truncate makes s fit a text column: valid UTF-8 without NUL bytes
// (PostgreSQL refuses both), cut to at most n bytes at a character
// boundary. Servers' replies and reports are quoted from mail, so they
// can hold anything.
func truncate(s string, n int) string {
	s = mailflow.CleanText(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// JobsWaiting counts job queue entries waiting to run, for the queue
// depth metric.
func (s *Store) JobsWaiting(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable')`).Scan(&n)
	return n, mapErr(err, "count waiting jobs")
}

// deliveriesChannel is the LISTEN/NOTIFY channel that says "deliveries are
// due", so every daemon on the database starts sending at once rather
// than at its next poll.
const deliveriesChannel = "parley_deliveries"

// NotifyDeliveries tells every listening daemon that deliveries are due.
func (s *Store) NotifyDeliveries(ctx context.Context) error {
	_, err := s.db.Exec(ctx, `SELECT pg_notify($1, '')`, deliveriesChannel)
	return mapErr(err, "notify deliveries")
}

// ListenDeliveries calls wake whenever any daemon notifies that deliveries
// are due, until ctx ends. It holds one connection of the pool, and
// reconnects after errors.
func (s *Store) ListenDeliveries(ctx context.Context, wake func(), log interface{ Warn(string, ...any) }) {
	for ctx.Err() == nil {
		err := s.listen(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		log.Warn("listening for due deliveries; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, wake func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection stays in LISTEN state: take it out of the pool for good.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+deliveriesChannel); err != nil {
		return err
	}
	for {
		if _, err := pc.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
