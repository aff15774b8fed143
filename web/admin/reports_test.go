package admin

import (
	"strings"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store"
)

// An empty chart says so, rather than showing a peak of one.
func TestBarChartEmpty(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	empty := string(barChart("Bounces per day", []store.DailyCount{{Day: day}, {Day: day.AddDate(0, 0, 1)}}, false))
	if !strings.Contains(empty, "No data yet") || strings.Contains(empty, "peak") || strings.Contains(empty, `class="bar"`) {
		t.Errorf("a chart of zeros draws:\n%s\nwant \"No data yet\", no bars and no peak", empty)
	}
	full := string(barChart("Messages per day", []store.DailyCount{{Day: day, Count: 3}, {Day: day.AddDate(0, 0, 1), Count: 1}}, false))
	if !strings.Contains(full, "peak 3") || strings.Contains(full, "No data yet") || strings.Count(full, `class="bar"`) != 2 {
		t.Errorf("a chart of 3 and 1 draws:\n%s\nwant two bars and \"peak 3\"", full)
	}
}
