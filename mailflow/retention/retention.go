// Package retention keeps the hot tables bounded: settled deliveries, the
// raw copies of processed received mail and old bounce events (reports by
// mail and provider webhook events) are removed once older than the
// operator's settings, in batches of short statements, so that no sender,
// intake or page waits behind a long delete. The dashboard's per-day
// figures survive the rows they were counted from (store.PruneDeliveries
// and store.PruneBounceEvents keep them in daily_counts).
//
// Pending deliveries (queued, deferred, sending) are never removed,
// whatever their age: they are the outbound queue.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleymail/parley/mailflow/store"
)

// Policy says how long each kind of row is kept; zero keeps it forever.
type Policy struct {
	Deliveries   time.Duration // settled deliveries, from their creation
	Inbound      time.Duration // processed received messages, from their arrival
	BounceEvents time.Duration // bounce events, from their arrival
}

// Defaults of a Service.
const (
	// DefaultBatch rows per statement: a batch of deliveries took 0.3 s
	// (median; up to 1.5 s) on the shared 2-core machine under a load of
	// 20 (parleyd bench growth), and its row locks, on settled rows no
	// one else touches, last only that long.
	DefaultBatch = 5000
	// DefaultBudget bounds one run's deleting, below the job queue's
	// 5-minute job timeout; a run that did not finish continues in the
	// next one (the periodic job snoozes for a minute).
	DefaultBudget = 3 * time.Minute
)

// Service prunes.
type Service struct {
	Store  *store.Store
	Policy Policy
	Batch  int           // rows per statement; 0: DefaultBatch
	Budget time.Duration // deleting time per run; 0: DefaultBudget
	Log    *slog.Logger
}

// Result is what a run did to one table.
type Result struct {
	Table   string
	Cutoff  time.Time // rows from before this were due
	Deleted int64
	Batches int
	Longest time.Duration // the longest batch: the longest any row lock was held
	Took    time.Duration // deleting, all batches
	Vacuum  time.Duration // the VACUUM (ANALYZE) after
	Done    bool          // false: the run's budget ended first
}

// ErrUnfinished says a run's budget ended before every due row was removed.
var ErrUnfinished = errors.New("retention: more rows are due than one run removes")

// Run removes what is due at now, table by table, then vacuums each table
// that lost rows. It returns ErrUnfinished (with the results) when its
// budget ended first.
func (s *Service) Run(ctx context.Context, now time.Time) ([]Result, error) {
	batch, budget := s.Batch, s.Budget
	if batch <= 0 {
		batch = DefaultBatch
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	deadline := time.Now().Add(budget)
	var after int64 // the deliveries' walk position
	steps := []struct {
		table  string
		keep   time.Duration
		vacuum []string
		prune  func(cut time.Time) (store.PruneBatch, error)
	}{
		{"deliveries", s.Policy.Deliveries, []string{"deliveries"}, func(cut time.Time) (store.PruneBatch, error) {
			b, err := s.Store.PruneDeliveries(ctx, cut, after, batch)
			after = b.Last
			return b, err
		}},
		{"inbound_messages", s.Policy.Inbound, []string{"inbound_messages", "inbound_message_chunks"}, func(cut time.Time) (store.PruneBatch, error) {
			return s.Store.PruneInbound(ctx, cut, batch/10+1) // rows of up to 25 MB each
		}},
		{"bounce_events", s.Policy.BounceEvents, []string{"bounce_events"}, func(cut time.Time) (store.PruneBatch, error) {
			return s.Store.PruneBounceEvents(ctx, cut, batch)
		}},
	}
	var out []Result
	unfinished := false
	for _, st := range steps {
		if st.keep <= 0 {
			continue
		}
		if len(out) > 0 && time.Now().After(deadline) {
			unfinished = true // the tables before took the budget
			continue
		}
		r := Result{Table: st.table, Cutoff: now.Add(-st.keep)}
		start := time.Now()
		for {
			t := time.Now()
			b, err := st.prune(r.Cutoff)
			if err != nil {
				return out, err
			}
			r.Batches++
			r.Deleted += b.Deleted
			r.Longest = max(r.Longest, time.Since(t))
			if !b.More {
				r.Done = true
				break
			}
			if time.Now().After(deadline) {
				break
			}
		}
		r.Took = time.Since(start)
		if r.Deleted > 0 {
			t := time.Now()
			for _, table := range st.vacuum {
				if err := s.Store.Vacuum(ctx, table); err != nil {
					return out, err
				}
			}
			r.Vacuum = time.Since(t)
		}
		out = append(out, r)
		if s.Log != nil && r.Deleted > 0 {
			s.Log.Info("retention pruned", "table", r.Table, "deleted", r.Deleted, "batches", r.Batches,
				"longest_batch", r.Longest.Round(time.Millisecond), "took", r.Took.Round(time.Millisecond),
				"vacuum", r.Vacuum.Round(time.Millisecond), "done", r.Done)
		}
		unfinished = unfinished || !r.Done
	}
	if unfinished {
		return out, fmt.Errorf("%w (budget %s)", ErrUnfinished, budget)
	}
	return out, nil
}
