package store

import (
	"context"
	"time"
)

// SetPause pauses all of a user's mail until until; now is when the
// pause was set, from which the first digest after it starts if the
// member had none before. A pause set again while one runs keeps its
// start, so the digest still covers the whole time away.
func (s *Store) SetPause(ctx context.Context, userID int64, until, now time.Time) error {
	_, err := s.db.Exec(ctx, `
		UPDATE users SET paused_until = $2,
		       paused_at = CASE WHEN paused_until > $3 THEN paused_at ELSE $3 END,
		       updated_at = now()
		WHERE id = $1`, userID, until, now)
	return mapErr(err, "pause mail")
}

// EndPause ends a user's pause now: mail resumes with the next message
// and the next digest morning.
func (s *Store) EndPause(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET paused_until = NULL, paused_at = NULL, updated_at = now() WHERE id = $1`, userID)
	return mapErr(err, "end pause")
}

// SetPlainTextEmail chooses whether a user's group mail and digests are
// one text/plain part.
func (s *Store) SetPlainTextEmail(ctx context.Context, userID int64, on bool) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET plain_text_email = $2, updated_at = now() WHERE id = $1`, userID, on)
	return mapErr(err, "set plain-text email")
}

// ForgetPausedDigest deletes a scheduled digest that came due but found
// its member paused, so that the member's next digest starts where the
// one before it ended and loses nothing of the pause.
func (s *Store) ForgetPausedDigest(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `DELETE FROM digests WHERE id = $1 AND state = 'queued'`, id)
	return mapErr(err, "forget paused digest")
}
