package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// FanoutArgs is the job "deliver message M": enqueued in the transaction
// that accepts M, so the message and the promise to deliver it commit
// together.
type FanoutArgs struct {
	MessageID int64 `json:"message_id"`
}

// Kind names the job in the queue.
func (FanoutArgs) Kind() string { return "fanout" }

// InsertOpts makes the job unique per message while it is pending, so a
// message approved twice is not fanned out twice (the delivery rows'
// uniqueness would catch that too).
func (FanoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// fanoutBatch is how many members one statement expands.
const fanoutBatch = 1000

// FanoutWorker expands a message's recipients into delivery rows, batch
// by batch, then wakes the senders.
type FanoutWorker struct {
	river.WorkerDefaults[FanoutArgs]
	Store *store.Store
	Wake  func() // tells this daemon's senders there is work; may be nil
	Log   *slog.Logger
	// Lease is DELIVERY_LEASE_SECONDS. A fan-out holds its job for at most
	// this long, so that one still running after it was left behind by a
	// daemon that died, and RescueAbandoned takes it up again. Zero: 2
	// minutes.
	Lease time.Duration
	// Now is the clock a member's pause is judged by (issue 19); nil:
	// time.Now. The daemon passes its clock, which tests can move.
	Now func() time.Time
}

// rescueGrace is how long past the lease a fan-out must have run before
// it counts as abandoned: time for a live worker, cancelled at the lease,
// to record its result.
const rescueGrace = time.Second

func (w *FanoutWorker) lease() time.Duration {
	if w.Lease <= 0 {
		return 2 * time.Minute
	}
	return w.Lease
}

// Timeout is the job's own timeout (river cancels its context then).
func (w *FanoutWorker) Timeout(*river.Job[FanoutArgs]) time.Duration { return w.lease() }

// RescueAbandoned makes fan-outs left running by a daemon that died
// available again once they have run for the lease, checking ten times
// per lease until ctx ends. Recipients not yet expanded when a daemon is
// killed thus wait about DELIVERY_LEASE_SECONDS, like the deliveries it
// had claimed. Every daemon runs it; the update is atomic, so they do not
// collide.
func (w *FanoutWorker) RescueAbandoned(ctx context.Context) {
	every := min(max(w.lease()/10, 250*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := w.Store.RescueAbandonedJobs(ctx, FanoutArgs{}.Kind(), w.lease()+rescueGrace)
		switch {
		case err != nil && ctx.Err() == nil:
			w.Log.Warn("looking for abandoned fan-outs", "err", err)
		case n > 0:
			w.Log.Warn("taking up fan-outs left unfinished by a daemon that stopped", "jobs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Work runs one fan-out. It is idempotent: after a crash it runs again and
// adds only the rows still missing. A fan-out that takes longer than half
// the lease hands its job back (to be continued at once, here or by
// another daemon) rather than run into its timeout.
func (w *FanoutWorker) Work(ctx context.Context, job *river.Job[FanoutArgs]) error {
	m, err := w.Store.MessageByID(ctx, job.Args.MessageID)
	if errors.Is(err, mailflow.ErrNotFound) {
		return nil // deleted since: nothing to deliver
	}
	if err != nil {
		return err
	}
	if m.Status != mailflow.MessageApproved {
		return nil // held messages are fanned out when approved
	}
	start := time.Now()
	// A fan-out taken up again (after a slice, a crash or a timeout)
	// continues after the members already expanded.
	after, err := w.Store.ExpandedUpTo(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("fan-out of message %d: %w", m.ID, err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	total := 0
	for {
		last, n, err := w.Store.ExpandBatch(ctx, m, after, fanoutBatch, now())
		if err != nil {
			return fmt.Errorf("fan-out of message %d: %w", m.ID, err)
		}
		total += n
		if n > 0 {
			// Senders, here and in every other daemon, start on the first
			// batch while later ones expand.
			if w.Wake != nil {
				w.Wake()
			}
			if err := w.Store.NotifyDeliveries(ctx); err != nil {
				w.Log.Warn("notifying senders (they will find the work at their next poll)", "err", err)
			}
		}
		if n < fanoutBatch {
			break
		}
		if time.Since(start) > w.lease()/2 {
			w.Log.Info("fan-out continues in a new slice", "message_id", m.ID, "members", total)
			return river.JobSnooze(0)
		}
		after = last
	}
	w.Log.Info("fan-out done", "message_id", m.ID, "members", total, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// EnqueueFanout is the posting hook that records "deliver this message"
// in the transaction accepting it. Held messages get theirs when a
// moderator approves them.
func EnqueueFanout(ctx context.Context, tx *store.Store, _ mailflow.Group, _ mailflow.Thread, m mailflow.Message) error {
	if m.Status != mailflow.MessageApproved {
		return nil
	}
	return tx.Enqueue(ctx, FanoutArgs{MessageID: m.ID})
}
