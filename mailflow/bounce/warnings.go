package bounce

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow/store"
)

// WarningsArgs is the periodic job that follows up on addresses whose
// delivery stopped: BOUNCE_DISABLE_WARNINGS more notices, one every
// BOUNCE_WARNINGS_INTERVAL_DAYS, then the address leaves its groups (as
// Mailman 3 does). River's leader runs it, so with several daemons it
// runs once.
type WarningsArgs struct{}

// Kind names the job.
func (WarningsArgs) Kind() string { return "bounce_warnings" }

// WarningsWorker runs the follow-up.
type WarningsWorker struct {
	river.WorkerDefaults[WarningsArgs]
	Service *Service
}

// Work sends the notices that are due and removes addresses whose
// notices ran out.
func (w *WarningsWorker) Work(ctx context.Context, _ *river.Job[WarningsArgs]) error {
	s := w.Service
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	list, err := s.Store.DisabledAddresses(ctx)
	if err != nil {
		return err
	}
	for _, d := range list {
		last := d.DisabledAt
		if d.LastWarningAt != nil {
			last = *d.LastWarningAt
		}
		if now.Sub(last) < s.Settings.WarningInterval {
			continue
		}
		err := s.Store.Tx(ctx, func(tx *store.Store) error {
			if d.WarningsSent < s.Settings.DisableWarnings {
				if err := tx.NoteWarning(ctx, d.Email, now); err != nil {
					return err
				}
				return s.notify(ctx, tx, d.Email, "disabled")
			}
			n, err := tx.LeaveAllGroups(ctx, d.Email)
			if err != nil {
				return err
			}
			s.Log.Info("address removed from its groups after bounce notices", "email", d.Email, "memberships", n)
			return tx.Audit(ctx, store.AuditEntry{Action: "bounce.remove_from_groups", TargetType: "email", TargetID: d.Email,
				Details: map[string]any{"memberships": n, "warnings": d.WarningsSent}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// PeriodicWarnings is the schedule: hourly, and once at start.
func PeriodicWarnings() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return WarningsArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
