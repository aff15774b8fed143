package store

import "context"

// InboxBadge is the number behind the Messages badge: the member's unread
// threads, plus, for moderators and owners, messages awaiting moderation
// and requests to join.
func (s *Store) InboxBadge(ctx context.Context, userID int64) (int, error) {
	return 0, nil // filled in with the inbox
}

// MarkThreadRead records that the member has read the thread as it is
// now (opening a thread calls it).
func (s *Store) MarkThreadRead(ctx context.Context, userID, threadID int64) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO thread_states (user_id, thread_id, read_at) VALUES ($1, $2, now())
		ON CONFLICT (user_id, thread_id) DO UPDATE SET read_at = now()`, userID, threadID)
	return mapErr(err, "mark thread read")
}
