package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store/storetest"
)

// Only jobs of the kind, running for longer than the limit, with attempts
// left, are made available again.
func TestRescueAbandonedJobs(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	insert := func(kind, state string, ran time.Duration, attempt int) int64 {
		t.Helper()
		var id int64
		err := st.Pool().QueryRow(ctx, `
			INSERT INTO river_job (kind, state, attempt, max_attempts, attempted_at, args)
			VALUES ($1, $2::river_job_state, $3, 5, now() - make_interval(secs => $4), '{}') RETURNING id`,
			kind, state, attempt, ran.Seconds()).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	abandoned := insert("fanout", "running", time.Minute, 1)
	live := insert("fanout", "running", time.Second, 1)
	spent := insert("fanout", "running", time.Minute, 5)
	other := insert("digest_send", "running", time.Minute, 1)
	n, err := st.RescueAbandonedJobs(ctx, "fanout", 10*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("rescued %d (err %v), want 1", n, err)
	}
	for id, want := range map[int64]string{abandoned: "available", live: "running", spent: "running", other: "running"} {
		var state string
		var errs int
		if err := st.Pool().QueryRow(ctx, `SELECT state, coalesce(array_length(errors, 1), 0) FROM river_job WHERE id = $1`, id).Scan(&state, &errs); err != nil {
			t.Fatal(err)
		}
		if state != want {
			t.Errorf("job %d: %s, want %s", id, state, want)
		}
		if want == "available" && errs != 1 {
			t.Errorf("the rescued job records %d errors, want 1 saying why", errs)
		}
	}
}
