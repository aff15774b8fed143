package config

import (
	"errors"
	"testing"
	"time"
)

func TestRetentionSettings(t *testing.T) {
	day := 24 * time.Hour
	c, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeliveryRetention != 30*day || c.InboundRetention != 30*day || c.BounceEventRetention != 180*day || c.RetentionCron != "30 3 * * *" {
		t.Fatalf("retention defaults: %v %v %v %q", c.DeliveryRetention, c.InboundRetention, c.BounceEventRetention, c.RetentionCron)
	}
	c, err = Load(lookup(map[string]string{"DATA_DIR": t.TempDir(), "DELIVERY_RETENTION_DAYS": "0", "INBOUND_RETENTION_DAYS": "1",
		"BOUNCE_EVENT_RETENTION_DAYS": "7", "RETENTION_CRON": "@hourly"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DeliveryRetention != 0 || c.InboundRetention != day || c.BounceEventRetention != 7*day || c.RetentionCron != "@hourly" {
		t.Fatalf("retention settings: %v %v %v %q", c.DeliveryRetention, c.InboundRetention, c.BounceEventRetention, c.RetentionCron)
	}
	for name, v := range map[string]string{
		"DELIVERY_RETENTION_DAYS":     "6", // bounce reports naming a delivery come for days
		"INBOUND_RETENTION_DAYS":      "-1",
		"BOUNCE_EVENT_RETENTION_DAYS": "a week",
		"RETENTION_CRON":              "every night",
	} {
		_, err := Load(lookup(map[string]string{"DATA_DIR": t.TempDir(), name: v}))
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != name {
			t.Errorf("%s=%q: got %v, want an error naming the setting", name, v, err)
		}
	}
}
