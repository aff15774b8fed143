package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// SetThreadPref records userID's choice for a thread (mute, follow, or
// the default, which removes the row) and returns the choice before it,
// which an undo restores.
func (s *Store) SetThreadPref(ctx context.Context, userID, threadID int64, p mailflow.ThreadPref) (mailflow.ThreadPref, error) {
	if !p.Valid() {
		return "", mailflow.Invalid("pref", "must be mute, follow or empty")
	}
	var prev mailflow.ThreadPref
	err := s.Tx(ctx, func(tx *Store) error {
		var old *string
		err := tx.db.QueryRow(ctx, `SELECT pref FROM thread_prefs WHERE user_id = $1 AND thread_id = $2 FOR UPDATE`, userID, threadID).Scan(&old)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapErr(err, "read thread preference")
		}
		if old != nil {
			prev = mailflow.ThreadPref(*old)
		}
		if p == mailflow.ThreadDefault {
			_, err = tx.db.Exec(ctx, `DELETE FROM thread_prefs WHERE user_id = $1 AND thread_id = $2`, userID, threadID)
		} else {
			_, err = tx.db.Exec(ctx, `
				INSERT INTO thread_prefs (user_id, thread_id, pref) VALUES ($1, $2, $3)
				ON CONFLICT (user_id, thread_id) DO UPDATE SET pref = excluded.pref, updated_at = now()`, userID, threadID, string(p))
		}
		return mapErr(err, "set thread preference")
	})
	return prev, err
}

// ThreadPref returns userID's choice for a thread (the default when none).
func (s *Store) ThreadPref(ctx context.Context, userID, threadID int64) (mailflow.ThreadPref, error) {
	var p string
	err := s.db.QueryRow(ctx, `SELECT coalesce((SELECT pref FROM thread_prefs WHERE user_id = $1 AND thread_id = $2), '')`, userID, threadID).Scan(&p)
	return mailflow.ThreadPref(p), mapErr(err, "read thread preference")
}

// FollowThreadUnlessChosen makes userID follow a thread they posted in
// (mailflow.AutoFollows), unless they already chose for it: a member who
// muted a thread and replies once stays muted.
func (s *Store) FollowThreadUnlessChosen(ctx context.Context, userID, threadID int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO thread_prefs (user_id, thread_id, pref) VALUES ($1, $2, 'follow')
		ON CONFLICT (user_id, thread_id) DO NOTHING`, userID, threadID)
	return mapErr(err, "follow own thread")
}

// ChosenThread is one conversation a member muted or follows, as the
// account page lists it.
type ChosenThread struct {
	ThreadID  int64
	Subject   string
	GroupSlug string
	GroupName string
	Pref      mailflow.ThreadPref
	UpdatedAt time.Time
}

// ChosenThreads lists the conversations userID muted or follows, most
// recent choice first, in groups they are still an active member of (or
// in private threads they are one of the people of).
func (s *Store) ChosenThreads(ctx context.Context, userID int64, limit int) ([]ChosenThread, error) {
	rows, err := s.db.Query(ctx, `
		SELECT t.id, t.subject, g.slug, g.name, tp.pref, tp.updated_at
		FROM thread_prefs tp JOIN threads t ON t.id = tp.thread_id JOIN groups g ON g.id = t.group_id
		WHERE tp.user_id = $1
		  AND (t.private_member_id = $1 OR t.private_owner_id = $1
		       OR EXISTS (SELECT 1 FROM memberships m WHERE m.group_id = g.id AND m.user_id = $1 AND m.status = 'active'))
		ORDER BY tp.updated_at DESC, t.id DESC
		LIMIT $2`, userID, limit)
	if err != nil {
		return nil, mapErr(err, "list chosen threads")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ChosenThread, error) {
		var c ChosenThread
		var p string
		err := r.Scan(&c.ThreadID, &c.Subject, &c.GroupSlug, &c.GroupName, &p, &c.UpdatedAt)
		c.Pref = mailflow.ThreadPref(p)
		return c, err
	})
	return out, mapErr(err, "list chosen threads")
}

// DigestChoices is what a member's choices do to their digest of one
// window: each chosen thread's choice, and which of its messages were
// already mailed to them at once (a followed thread's).
type DigestChoices struct {
	Pref   map[int64]mailflow.ThreadPref // by thread id
	Mailed map[int64]bool                // by message id
}

// Keep reports whether the digest shows a message (mailflow.InDigest).
func (c DigestChoices) Keep(threadID, messageID int64) bool {
	return mailflow.InDigest(c.Pref[threadID], c.Mailed[messageID])
}

// DigestChoicesFor reads userID's choices for the threads active after
// from, and the messages of (from, to] in the followed ones that have a
// delivery to them (mailed, or on the way): one query per digest.
func (s *Store) DigestChoicesFor(ctx context.Context, userID int64, from, to time.Time) (DigestChoices, error) {
	out := DigestChoices{Pref: map[int64]mailflow.ThreadPref{}, Mailed: map[int64]bool{}}
	rows, err := s.db.Query(ctx, `
		SELECT tp.thread_id, tp.pref, coalesce(array_agg(d.message_id) FILTER (WHERE d.message_id IS NOT NULL), '{}')
		FROM thread_prefs tp
		JOIN threads t ON t.id = tp.thread_id
		LEFT JOIN messages m ON tp.pref = 'follow' AND m.thread_id = tp.thread_id AND m.created_at > $2 AND m.created_at <= $3
		LEFT JOIN deliveries d ON d.message_id = m.id AND d.user_id = tp.user_id AND d.state NOT IN ('skipped', 'suppressed')
		WHERE tp.user_id = $1 AND t.last_message_at > $2
		GROUP BY tp.thread_id, tp.pref`, userID, from, to)
	if err != nil {
		return out, mapErr(err, "read digest choices")
	}
	defer rows.Close()
	for rows.Next() {
		var tid int64
		var p string
		var mailed []int64
		if err := rows.Scan(&tid, &p, &mailed); err != nil {
			return out, mapErr(err, "read digest choices")
		}
		out.Pref[tid] = mailflow.ThreadPref(p)
		for _, id := range mailed {
			out.Mailed[id] = true
		}
	}
	return out, mapErr(rows.Err(), "read digest choices")
}

// FollowsOwnThreads reports userID's account setting "follow
// conversations I start or reply to".
func (s *Store) FollowsOwnThreads(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := s.db.QueryRow(ctx, `SELECT follow_own_threads FROM users WHERE id = $1`, userID).Scan(&on)
	return on, mapErr(err, fmt.Sprintf("get user %d", userID))
}

// SetFollowsOwnThreads changes that setting.
func (s *Store) SetFollowsOwnThreads(ctx context.Context, userID int64, on bool) error {
	tag, err := s.db.Exec(ctx, `UPDATE users SET follow_own_threads = $2 WHERE id = $1`, userID, on)
	if err == nil && tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return mapErr(err, "set follow own threads")
}
