package bounce

import "time"

// Settings are the bounce policy's numbers (README.md lists them).
type Settings struct {
	Threshold       float64       // BOUNCE_SCORE_THRESHOLD: delivery stops here (5.0)
	StaleAfter      time.Duration // BOUNCE_INFO_STALE_DAYS: a quiet address starts again from zero (7 days)
	DisableWarnings int           // BOUNCE_DISABLE_WARNINGS: notices after delivery stops, then removal (3)
	WarningInterval time.Duration // BOUNCE_WARNINGS_INTERVAL_DAYS between notices (7 days)
}

// DefaultSettings are Mailman 3's numbers.
func DefaultSettings() Settings {
	return Settings{Threshold: 5, StaleAfter: 7 * 24 * time.Hour, DisableWarnings: 3, WarningInterval: 7 * 24 * time.Hour}
}

// Score is an address's bounce record.
type Score struct {
	Email      string
	Score      float64
	LastHardOn time.Time // the day (UTC) of the last counted hard bounce; zero if none
	LastSoftOn time.Time
	LastBounce time.Time
	DisabledAt time.Time // zero while delivery goes on
}

// Weights of a counted bounce.
const (
	HardWeight = 1.0
	SoftWeight = 0.5
)

// Apply counts one scoring bounce of class "hard" or "soft" at now and
// returns the new record and whether delivery must stop now (the
// threshold was crossed by this bounce). It is pure: the caller stores
// the result under a row lock.
func (s Settings) Apply(sc Score, class string, now time.Time) (Score, bool) {
	now = now.UTC()
	day := now.Truncate(24 * time.Hour)
	if !sc.LastBounce.IsZero() && now.Sub(sc.LastBounce) > s.StaleAfter {
		// Old bounces say nothing about the mailbox today (Mailman's
		// bounce_info_stale_after).
		sc.Score, sc.LastHardOn, sc.LastSoftOn = 0, time.Time{}, time.Time{}
	}
	sc.LastBounce = now
	switch class {
	case "hard":
		if !sc.LastHardOn.Equal(day) {
			sc.Score += HardWeight
			sc.LastHardOn = day
		}
	case "soft":
		if !sc.LastSoftOn.Equal(day) {
			sc.Score += SoftWeight
			sc.LastSoftOn = day
		}
	}
	if sc.DisabledAt.IsZero() && sc.Score >= s.Threshold {
		sc.DisabledAt = now
		return sc, true
	}
	return sc, false
}
