package webhook

import (
	"strings"
	"testing"
	"time"
)

func TestEnhancedStatus(t *testing.T) {
	for in, want := range map[string]string{
		"5.1.1": "5.1.1",
		"smtp; 550 5.1.1 <a@b.c>... User unknown": "5.1.1",
		"smtp;452 4.2.2 over quota.":              "4.2.2",
		"ends with 5.7.1.":                        "5.7.1",
		"host 10.2.5.1 said no":                   "",
		"version 1.5.1.2":                         "",
		"2.6.0":                                   "2.6.0",
		"5.1":                                     "",
		"6.1.1":                                   "",
		"5.1234.1":                                "",
		"(5.1.10)":                                "5.1.10",
		"":                                        "",
	} {
		if got := enhancedStatus(in); got != want {
			t.Errorf("enhancedStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusScores(t *testing.T) {
	for status, want := range map[string]bool{
		"": true, "5.1.1": true, "5.2.2": true, "4.4.1": true, "5.0.0": true,
		"5.7.1": false, "5.6.0": false, "5.3.4": false, "5.3.0": true,
	} {
		if got := statusScores(status); got != want {
			t.Errorf("statusScores(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestNormEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Gone@Example.NET":         "gone@example.net",
		" gone@example.net ":       "gone@example.net",
		`"Jane Doe" <Jane@Ex.com>`: "jane@ex.com",
		"":                         "",
		"no-at-sign":               "",
		"two words@example.com":    "",
		"<>":                       "",
		"bad\xffutf8@example.com":  "badutf8@example.com",
	} {
		if got := normEmail(in); got != want {
			t.Errorf("normEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalID(t *testing.T) {
	a := canonicalID([]byte(`{"b": 1, "a": [1.50, "x"]}`))
	b := canonicalID([]byte("{\n  \"a\":[1.50,\"x\"],\"b\":1}"))
	if a != b || !sha256Hex.MatchString(a) {
		t.Errorf("layouts give %s and %s", a, b)
	}
	if c := canonicalID([]byte(`{"a":[1.5,"x"],"b":1}`)); c == a {
		t.Error("1.5 and 1.50 hash alike; numbers should stay as written")
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", maxDiagnostic)
	got := clip(long)
	if len(got) > maxDiagnostic+len("…") || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "é") {
		t.Errorf("clip gave %d bytes", len(got))
	}
}

func TestUnixTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		`1741082395.5`: time.Unix(1741082395, 5e8).UTC(),
		`"1741082395"`: time.Unix(1741082395, 0).UTC(),
		`1e300`:        {},
		`"soon"`:       {},
		`null`:         {},
		`{}`:           {},
	} {
		var u unixTime
		if err := u.UnmarshalJSON([]byte(in)); err != nil || !u.time().Equal(want) {
			t.Errorf("%s: %v, %v; want %v", in, u.time(), err, want)
		}
	}
}
