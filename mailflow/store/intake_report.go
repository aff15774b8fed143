package store

import (
	"context"
	"time"
)

// IntakeReport is how far a burst of received mail has come, for
// `parleyd bench intake`: how many messages received since a moment are
// processed, and how many posts a group has and when the first and last
// of them were made.
type IntakeReport struct {
	Received, Processed, Failed int
	Posts                       int
	FirstPost, LastPost         time.Time // zero when there are no posts
}

// IntakeProgress reports on the mail received since since and the posts
// of group groupID. It reads timestamps rather than being polled at a
// high rate: a post's created_at is when it was made.
func (s *Store) IntakeProgress(ctx context.Context, since time.Time, groupID int64) (IntakeReport, error) {
	var r IntakeReport
	var first, last *time.Time
	err := s.db.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM inbound_messages WHERE received_at >= $1),
		       (SELECT count(*) FROM inbound_messages WHERE received_at >= $1 AND state = 'processed'),
		       (SELECT count(*) FROM inbound_messages WHERE received_at >= $1 AND state = 'failed'),
		       count(*), min(created_at), max(created_at)
		FROM messages WHERE group_id = $2`, since, groupID).Scan(&r.Received, &r.Processed, &r.Failed, &r.Posts, &first, &last)
	if first != nil {
		r.FirstPost, r.LastPost = *first, *last
	}
	return r, mapErr(err, "intake progress")
}
