package groups

import (
	"context"
	"sync"
	"time"

	"github.com/parleymail/parley/mailflow/store"
)

// linkTTL is how long a group's popular links are reused. Finding them
// reads the group's last thousand messages, too much for every page view,
// and a list of most-posted links need not change by the second.
const linkTTL = 5 * time.Minute

// linkCache keeps each group's popular links for linkTTL.
type linkCache struct {
	mu      sync.Mutex
	entries map[int64]linkEntry
}

type linkEntry struct {
	links []store.LinkCount
	at    time.Time
}

func (lc *linkCache) get(ctx context.Context, st *store.Store, groupID int64, limit int) ([]store.LinkCount, error) {
	lc.mu.Lock()
	e, ok := lc.entries[groupID]
	lc.mu.Unlock()
	if ok && time.Since(e.at) < linkTTL {
		return e.links, nil
	}
	links, err := st.PopularLinks(ctx, groupID, limit)
	if err != nil {
		return nil, err
	}
	lc.mu.Lock()
	if lc.entries == nil || len(lc.entries) > 10000 {
		lc.entries = map[int64]linkEntry{} // bounded: start over rather than grow without end
	}
	lc.entries[groupID] = linkEntry{links: links, at: time.Now()}
	lc.mu.Unlock()
	return links, nil
}
