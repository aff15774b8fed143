package bounce

import (
	"testing"
	"time"
)

func TestScorePolicy(t *testing.T) {
	s := DefaultSettings()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var sc Score
	var stop bool
	// Two hard bounces on one day count once; a soft one adds a half.
	sc, _ = s.Apply(sc, "hard", t0)
	sc, _ = s.Apply(sc, "hard", t0.Add(time.Hour))
	sc, _ = s.Apply(sc, "soft", t0.Add(2*time.Hour))
	if sc.Score != 1.5 {
		t.Fatalf("score %.1f, want 1.5", sc.Score)
	}
	// Four more days of hard bounces reach 5.5: delivery stops on the day
	// the threshold is crossed, and only once.
	for d := 1; d <= 4; d++ {
		sc, stop = s.Apply(sc, "hard", t0.Add(time.Duration(d)*24*time.Hour))
		if want := d == 4; stop != want {
			t.Fatalf("day %d: stop=%v, score %.1f", d, stop, sc.Score)
		}
	}
	if sc.DisabledAt.IsZero() {
		t.Fatal("disabled time not set")
	}
	if _, stop = s.Apply(sc, "hard", t0.Add(5*24*time.Hour)); stop {
		t.Fatal("delivery stops once")
	}
	// A quiet fortnight resets the score.
	var fresh Score
	fresh, _ = s.Apply(fresh, "hard", t0)
	fresh, _ = s.Apply(fresh, "hard", t0.Add(14*24*time.Hour))
	if fresh.Score != 1 {
		t.Fatalf("stale information should reset: %.1f", fresh.Score)
	}
}
