package store

import (
	"context"
	"time"
)

// UseWebhookToken records that provider's one-time token was used, to be
// remembered for keep, and reports whether it had been used before (a
// replay). Every daemon on the database shares the record, and it outlives
// restarts.
func (s *Store) UseWebhookToken(ctx context.Context, provider, token string, keep time.Duration) (replay bool, err error) {
	tag, err := s.db.Exec(ctx, `
		INSERT INTO webhook_tokens (provider, token, expires_at)
		VALUES ($1, $2, now() + make_interval(secs => $3))
		ON CONFLICT (provider, token) DO NOTHING`, provider, token, keep.Seconds())
	if err != nil {
		return false, mapErr(err, "record webhook token")
	}
	return tag.RowsAffected() == 0, nil
}

// PruneWebhookTokens forgets the tokens whose time has passed (their
// signatures are refused as too old anyway) and returns how many.
func (s *Store) PruneWebhookTokens(ctx context.Context) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM webhook_tokens WHERE expires_at < now()`)
	if err != nil {
		return 0, mapErr(err, "prune webhook tokens")
	}
	return tag.RowsAffected(), nil
}
