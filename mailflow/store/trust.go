package store

import "context"

// GroupTrustPosts returns how many first posts of a new member the group
// holds for moderation (0: none).
func (s *Store) GroupTrustPosts(ctx context.Context, groupID int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT trust_posts FROM groups WHERE id = $1`, groupID).Scan(&n)
	return n, mapErr(err, "get trust setting")
}

// SetGroupTrustPosts sets it.
func (s *Store) SetGroupTrustPosts(ctx context.Context, groupID int64, n int) error {
	_, err := s.db.Exec(ctx, `UPDATE groups SET trust_posts = $2 WHERE id = $1`, groupID, n)
	return mapErr(err, "set trust setting")
}

// TrustState returns the group's trust setting and how many of the
// member's posts to it were approved, in one round trip.
func (s *Store) TrustState(ctx context.Context, groupID, userID int64) (required, approved int, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT g.trust_posts,
		       CASE WHEN g.trust_posts = 0 THEN 0 ELSE
		         (SELECT count(*) FROM messages m WHERE m.group_id = g.id AND m.author_id = $2 AND m.status = 'approved') END
		FROM groups g WHERE g.id = $1`, groupID, userID).Scan(&required, &approved)
	return required, approved, mapErr(err, "get trust state")
}
