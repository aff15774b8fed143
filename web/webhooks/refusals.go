package webhooks

import (
	"log/slog"
	"sync"
	"time"
)

// refusalLogEvery is the least time between two log lines about refused
// webhook calls.
const refusalLogEvery = 10 * time.Second

// refusalLog writes WARN lines about refused calls, at most one per
// interval: the first of each interval is logged with how many were left
// out before it, so a flood of forgeries costs a line every few seconds.
type refusalLog struct {
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	last    time.Time
	omitted int
}

func (r *refusalLog) warn(msg string, args ...any) {
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.omitted++
		r.mu.Unlock()
		return
	}
	omitted := r.omitted
	r.last, r.omitted = now, 0
	r.mu.Unlock()
	if omitted > 0 {
		args = append(args, "refusals_not_logged", omitted)
	}
	r.log.Warn(msg, args...)
}
