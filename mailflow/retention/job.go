package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"
)

// Args is the periodic pruning job. River's leader schedules it, so with
// several daemons on one database it runs once per period.
type Args struct{}

// Kind names the job.
func (Args) Kind() string { return "retention_prune" }

// Worker runs a Service's prune.
type Worker struct {
	river.WorkerDefaults[Args]
	Service *Service
}

// Work prunes what is due now. A run whose budget ended first (a backlog,
// such as the first run on a database that kept everything) is snoozed
// and continues a minute later, until nothing due is left.
func (w *Worker) Work(ctx context.Context, _ *river.Job[Args]) error {
	_, err := w.Service.Run(ctx, time.Now())
	if errors.Is(err, ErrUnfinished) {
		return river.JobSnooze(time.Minute)
	}
	return err
}

// Periodic is the pruning's schedule: RETENTION_CRON (robfig/cron syntax,
// e.g. "30 3 * * *"), run by river's leader only.
func Periodic(spec string) (*river.PeriodicJob, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("RETENTION_CRON %q: %w", spec, err)
	}
	return river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
		return Args{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
	}, nil), nil
}
