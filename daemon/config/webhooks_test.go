package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/bounce/webhook"
)

// Every provider's settings are read, checked by the provider, and shown
// by check-config with secrets masked.
func TestWebhookSettings(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "SNS_TOPIC_ARNS": "arn:aws:sns:eu-west-1:123456789012:bounces",
		"POSTMARK_WEBHOOK_USER": "pm", "POSTMARK_WEBHOOK_PASSWORD": "pm-secret-value", "MAILGUN_SIGNING_KEY": "mg-secret-value"}
	c, err := Load(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	printed := strings.Join(c.Describe(), "\n")
	for _, p := range webhook.Providers() {
		for _, s := range p.Settings() {
			if !strings.Contains(printed, "\n"+s.Name+"=") {
				t.Errorf("check-config does not show %s", s.Name)
			}
			if s.Secret && env[s.Name] != "" && strings.Contains(printed, env[s.Name]) {
				t.Errorf("check-config shows the secret %s", s.Name)
			}
		}
	}
	for _, want := range []string{"SNS_TOPIC_ARNS=arn:aws:sns:eu-west-1:123456789012:bounces", "SNS_AUTO_SUBSCRIBE=false", "POSTMARK_WEBHOOK_USER=pm"} {
		if !strings.Contains(printed, want) {
			t.Errorf("check-config does not show %s:\n%s", want, printed)
		}
	}

	for name, bad := range map[string]map[string]string{
		"SNS_TOPIC_ARNS":              {"SNS_TOPIC_ARNS": "bounces"},
		"SNS_AUTO_SUBSCRIBE":          {"SNS_AUTO_SUBSCRIBE": "perhaps"},
		"POSTMARK_WEBHOOK_USER":       {"POSTMARK_WEBHOOK_USER": "pm"},
		"SENDGRID_WEBHOOK_PUBLIC_KEY": {"SENDGRID_WEBHOOK_PUBLIC_KEY": "not a key"},
	} {
		bad["DATA_DIR"] = t.TempDir()
		_, err := Load(lookup(bad))
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != name {
			t.Errorf("%v: %v, want an error naming %s", bad, err, name)
		}
	}
}
