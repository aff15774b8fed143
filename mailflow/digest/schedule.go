package digest

import "time"

// Period is how often a member gets digests.
type Period string

const (
	Daily  Period = "daily"
	Weekly Period = "weekly"
)

// Schedule says when digests are due.
type Schedule struct {
	Hour    int          // DIGEST_HOUR, local
	Weekday time.Weekday // DIGEST_WEEKDAY, for weekly digests
}

// LastDue returns the latest digest time at or before now for a member in
// loc: today's (or the last weekday's) Hour o'clock local time, and that
// local date as the period's key. Local times are built with time.Date,
// so a daylight-saving change moves the instant, never the local hour;
// UTC+14, UTC−12 and half-hour offsets need nothing special.
func (s Schedule) LastDue(now time.Time, loc *time.Location, p Period) (due time.Time, key time.Time) {
	local := now.In(loc)
	y, m, d := local.Date()
	due = time.Date(y, m, d, s.Hour, 0, 0, 0, loc)
	if due.After(now) {
		y, m, d = local.AddDate(0, 0, -1).Date()
		due = time.Date(y, m, d, s.Hour, 0, 0, 0, loc)
	}
	if p == Weekly {
		for due.Weekday() != s.Weekday {
			y, m, d = due.AddDate(0, 0, -1).Date()
			due = time.Date(y, m, d, s.Hour, 0, 0, 0, loc)
		}
	}
	y, m, d = due.Date()
	return due, time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
