package inbound

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"
)

// NewMemoryBudget returns a Processor.Memory of n bytes. Processing holds
// a message whole, and several copies of parts of it (decoded
// attachments, the stored source), so the budget is what keeps thirty
// 24 MB messages from being worked on at once: a message takes its size
// from the budget (all of it, if larger), and small ones run side by side.
func NewMemoryBudget(n int64) *MemoryBudget {
	return &MemoryBudget{sem: semaphore.NewWeighted(n), size: n}
}

// MemoryBudget is a number of bytes shared by the processing jobs.
type MemoryBudget struct {
	sem  *semaphore.Weighted
	size int64
}

// reserve waits until a message of n bytes may be loaded; release gives
// the bytes back.
func (b *MemoryBudget) reserve(ctx context.Context, n int64) (release func(), err error) {
	n = min(max(n, 1), b.size)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("waiting for memory to process the message: %w", err)
	}
	return func() { b.sem.Release(n) }, nil
}

// DefaultMemoryBudget is the Processor.Memory a daemon uses: one message
// near MAX_MESSAGE_BYTES's default at a time, or many small ones.
const DefaultMemoryBudget = 32 << 20
