package config

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// loadRetention reads how long old rows are kept (see mailflow/retention)
// and when they are pruned. 0 keeps that kind of row forever.
func (c *Config) loadRetention(get func(name, def string) string) error {
	days := func(name, def string, lo int) (time.Duration, error) {
		v := get(name, def)
		if v == "0" {
			return 0, nil
		}
		n, err := intIn(name, v, lo, 3650)
		if err != nil {
			return 0, &Error{name, fmt.Sprintf("must be 0 (keep forever) or a number of days from %d to 3650, not %q", lo, v)}
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	var err error
	// A report about a delivery proves itself by naming it (VERP, tokens):
	// deliveries are kept at least a week, for the reports that come late.
	if c.DeliveryRetention, err = days("DELIVERY_RETENTION_DAYS", "30", 7); err != nil {
		return err
	}
	if c.InboundRetention, err = days("INBOUND_RETENTION_DAYS", "30", 1); err != nil {
		return err
	}
	// Providers retry webhook events for days: a bounce event is kept
	// a week at least, so that one delivered twice still counts once.
	if c.BounceEventRetention, err = days("BOUNCE_EVENT_RETENTION_DAYS", "180", 7); err != nil {
		return err
	}
	c.RetentionCron = get("RETENTION_CRON", "30 3 * * *")
	if _, err := cron.ParseStandard(c.RetentionCron); err != nil {
		return &Error{"RETENTION_CRON", fmt.Sprintf("%q is not a cron schedule: %v", c.RetentionCron, err)}
	}
	return nil
}
