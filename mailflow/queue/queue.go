// Package queue owns Parley's job queue: river on the same PostgreSQL as
// everything else, so a job is enqueued in the same transaction as the
// rows it serves (a message and "deliver this message" commit together),
// and several daemons on one database share the work, with retries,
// unique jobs and one leader for periodic work.
package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow/store"
)

// Inbound is the queue received mail is processed on, apart from the
// others: a processing job holds its message whole (parsing needs it), so
// these jobs wait on a memory budget (see inbound.Processor.Memory), and
// while they wait they must not take the workers of fan-out and mail.
const (
	Inbound        = "inbound"
	InboundWorkers = 16
)

// fetchCooldown is the least time between two fetches of one queue.
// River's 100 ms default caps a queue at MaxWorkers jobs per 100 ms, and
// a post needs two jobs (processing, then fan-out) on two queues: a burst
// of mail committed at a thousand posts a second then became posts at a
// hundred. A fetch is one indexed query, so a few hundred a second while
// a burst lasts cost PostgreSQL little; when the queues are idle,
// fetches follow inserts (LISTEN/NOTIFY) and the poll interval only.
const fetchCooldown = 5 * time.Millisecond

// Queue is a river client: it inserts jobs and, when it has workers, works them.
type Queue struct {
	client *river.Client[pgx.Tx]
}

// Options configure the queue.
type Options struct {
	Workers    *river.Workers // nil: insert only (commands, tests)
	MaxWorkers int            // parallel jobs in this daemon
	Periodic   []*river.PeriodicJob
	Log        *slog.Logger
	// Lease is DELIVERY_LEASE_SECONDS: how long work claimed by a daemon
	// that died waits before another takes it up. A job still running
	// this long after its timeout is rescued. Zero: 2 minutes.
	Lease time.Duration
}

// jobTimeout is how long a job may run before its context is cancelled,
// unless its worker sets its own Timeout (the fan-out sets the lease).
// Parley's jobs are short (a fan-out of 20,000 takes seconds), so minutes,
// not river's default hour.
const jobTimeout = 5 * time.Minute

// New returns a queue on st's database.
func New(st *store.Store, o Options) (*Queue, error) {
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	cfg := &river.Config{
		Logger:       o.Log,
		PeriodicJobs: o.Periodic,
		JobTimeout:   jobTimeout,
		// A job whose daemon died mid-run is taken up again by river's
		// rescuer once it has run for this long. River requires it to
		// exceed JobTimeout (a live job is cancelled first); the lease on
		// top is the same grace a claimed delivery gets. The rescuer runs
		// only on the elected leader, every 30 seconds, so the fan-out,
		// which recipients wait on, has a faster path of its own
		// (outbound.FanoutWorker.RescueAbandoned).
		RescueStuckJobsAfter: jobTimeout + o.Lease,
	}
	if o.Workers != nil {
		if o.MaxWorkers <= 0 {
			o.MaxWorkers = 10
		}
		cfg.Workers = o.Workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.MaxWorkers}, Inbound: {MaxWorkers: InboundWorkers}}
		cfg.FetchPollInterval = 500 * time.Millisecond
		cfg.FetchCooldown = fetchCooldown
	}
	c, err := st.QueueClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Queue{client: c}, nil
}

// Start starts working jobs (when the queue has workers).
func (q *Queue) Start(ctx context.Context) error { return q.client.Start(ctx) }

// Stop stops fetching new jobs and waits for running ones until ctx ends;
// then it cancels them (their jobs run again later, elsewhere or here).
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return q.client.StopAndCancel(cctx)
	}
	return err
}
