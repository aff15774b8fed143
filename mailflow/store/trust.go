package store

import "context"

// ApprovedPosts counts the member's approved posts in the group: how far
// they are through the group's first-posts moderation (Group.TrustPosts).
func (s *Store) ApprovedPosts(ctx context.Context, groupID, userID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM messages WHERE group_id = $1 AND author_id = $2 AND status = 'approved'`,
		groupID, userID).Scan(&n)
	return n, mapErr(err, "count approved posts")
}
