package digest

import (
	"testing"
	"time"
)

// TestLastDueOverAWeek steps a clock through a week in 15-minute scans
// (as DIGEST_CRON does) and counts the distinct periods that become due,
// and when: each zone gets exactly one daily digest per day at 07:00
// local, across daylight-saving changes and odd offsets.
func TestLastDueOverAWeek(t *testing.T) {
	s := Schedule{Hour: 7, Weekday: time.Monday}
	zones := []string{"Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Asia/Kolkata", "Europe/London"}
	// Weeks that contain the US DST changes (8 March and 1 November 2026).
	starts := []time.Time{time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC)}
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatal(err)
		}
		for _, start := range starts {
			for _, p := range []Period{Daily, Weekly} {
				seen := map[time.Time]time.Time{} // key → first scan time it was due
				for now := start; now.Before(start.Add(7 * 24 * time.Hour)); now = now.Add(15 * time.Minute) {
					due, key := s.LastDue(now, loc, p)
					if due.After(now) {
						t.Fatalf("%s: due %v after now %v", z, due, now)
					}
					if _, ok := seen[key]; !ok {
						seen[key] = now
						if l := due.In(loc); l.Hour() != 7 || l.Minute() != 0 {
							t.Errorf("%s %s: due at %v local, want 07:00", z, p, l)
						}
						if p == Weekly && due.In(loc).Weekday() != time.Monday {
							t.Errorf("%s: weekly digest due on %v", z, due.In(loc).Weekday())
						}
					}
				}
				// The first key may be a day due before the week began.
				want := 8
				if p == Weekly {
					want = 2
				}
				if n := len(seen); n < want-1 || n > want {
					t.Errorf("%s %s from %s: %d periods in a week", z, p, start.Format("2006-01-02"), n)
				}
			}
		}
	}
}
