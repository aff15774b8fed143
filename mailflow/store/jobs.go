package store

import (
	"context"
	"time"
)

// RescueAbandonedJobs makes the jobs of kind that have been running for
// longer than after available again at once, and returns how many. It is
// for idempotent jobs whose worker never runs that long (its timeout is
// shorter): a job still "running" then was left behind by a daemon that
// died. River's own rescuer does the same for every job, but only on the
// elected leader and at most every 30 seconds. A job whose attempts are
// spent is left to river's rescuer, which discards it.
func (s *Store) RescueAbandonedJobs(ctx context.Context, kind string, after time.Duration) (int64, error) {
	tag, err := s.db.Exec(ctx, `
		UPDATE river_job
		SET state = 'available', scheduled_at = now(),
		    errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
		        'error', 'abandoned by a daemon that stopped; taken up again', 'trace', ''))
		WHERE kind = $1 AND state = 'running' AND attempt < max_attempts
		  AND attempted_at < now() - make_interval(secs => $2)`,
		kind, after.Seconds())
	if err != nil {
		return 0, mapErr(err, "rescue abandoned jobs")
	}
	return tag.RowsAffected(), nil
}
