package store

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ClaimSQL and MarkSentSQL are the claim's and the "sent" record's
// queries, for tests that look at their plans.
const (
	ClaimSQL    = claimSQL
	MarkSentSQL = markSentSQL
	ExpandSQL   = expandSQL
)

// ExpandArgs are ExpandSQL's parameters.
var ExpandArgs = expandArgs

// AsyncPool is the pool that records outcomes, for tests that look at
// its plans.
func (s *Store) AsyncPool() *pgxpool.Pool { return s.async }

// Rescan makes the cursor's next claim look from the front of the
// queue, as it does every cursorRescan.
func (c *QueueCursor) Rescan() { c.rescan = time.Time{} }
