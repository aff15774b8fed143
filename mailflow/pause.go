package mailflow

import (
	"strings"
	"time"
)

// PauseDateLayout is how a pause's end date is written in forms (the
// value of an HTML date input).
const PauseDateLayout = "2006-01-02"

// PauseEnd reads the date a member pauses all their mail until, a date
// in their own timezone loc, and returns the instant mail resumes: the
// start of that day there, so the first digest morning of that day
// brings what collected. The date must be after today (a pause that ends
// at once pauses nothing) and at most a year ahead (a forgotten pause
// must not silence a member for ever).
func PauseEnd(date string, loc *time.Location, now time.Time) (time.Time, error) {
	d, err := time.ParseInLocation(PauseDateLayout, strings.TrimSpace(date), loc)
	if err != nil {
		return time.Time{}, Invalid("until", "give the date mail should resume (year-month-day)")
	}
	y, m, day := now.In(loc).Date()
	today := time.Date(y, m, day, 0, 0, 0, 0, loc)
	if !d.After(today) {
		return time.Time{}, Invalid("until", "choose a day after today")
	}
	if d.After(today.AddDate(1, 0, 0)) {
		return time.Time{}, Invalid("until", "choose a day at most a year from today")
	}
	return d, nil
}

// PausedAt reports whether mail to u is paused at now.
func (u User) PausedAt(now time.Time) bool {
	return u.PausedUntil != nil && now.Before(*u.PausedUntil)
}

// ResumeDay names the day paused mail resumes, in the member's timezone,
// for pages and flash messages.
func ResumeDay(until time.Time, loc *time.Location) string {
	return until.In(loc).Format("Monday 2 January 2006")
}
