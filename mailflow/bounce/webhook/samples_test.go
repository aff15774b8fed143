package webhook

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// want is what a test expects of one event; id is checked when set.
type want struct {
	email  string
	kind   Kind
	status string
	scores bool
	id     string
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

func compare(t *testing.T, provider string, got []Event, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(wants))
	}
	for i, w := range wants {
		e := got[i]
		if e.Provider != provider || e.Email != w.email || e.Kind != w.kind || e.Status != w.status || e.Scores != w.scores {
			t.Errorf("event %d: got {%s %s %s %q scores=%v}, want {%s %s %s %q scores=%v}",
				i, e.Provider, e.Email, e.Kind, e.Status, e.Scores, provider, w.email, w.kind, w.status, w.scores)
		}
		switch {
		case w.id == "hash" && !sha256Hex.MatchString(e.ID):
			t.Errorf("event %d: ID %q, want a SHA-256 hex", i, e.ID)
		case w.id != "" && w.id != "hash" && e.ID != w.id:
			t.Errorf("event %d: ID %q, want %q", i, e.ID, w.id)
		}
		if e.At.IsZero() {
			t.Errorf("event %d: no time", i)
		}
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every testdata sample is listed here: a new file without expectations
// fails the test.
func checkAllListed(t *testing.T, dir string, listed map[string][]want) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	for _, f := range files {
		name := dir + "/" + filepath.Base(f)
		if _, ok := listed[name]; !ok {
			t.Errorf("%s has no expectations", name)
		}
	}
}

func TestSESSamples(t *testing.T) {
	f := newSNSFixture(t)
	const mid = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324/"
	samples := map[string][]want{
		"ses/bounce-permanent.json": {
			{"gone@example.net", KindHard, "5.1.1", true, mid + "gone@example.net"},
			{"blocked@example.com", KindHard, "5.7.1", false, mid + "blocked@example.com"},
		},
		"ses/bounce-suppressed.json":                {{"suppressed@example.net", KindHard, "5.1.1", true, ""}},
		"ses/bounce-transient-mailboxfull.json":     {{"full@example.org", KindSoft, "4.2.2", true, ""}},
		"ses/bounce-transient-contentrejected.json": {{"picky@example.org", KindSoft, "5.0.0", false, ""}},
		"ses/bounce-transient-toolarge.json":        {{"small@example.org", KindSoft, "5.3.4", false, ""}},
		"ses/bounce-undetermined.json":              {{"unknown@example.org", KindSoft, "", true, ""}},
		"ses/complaint.json":                        {{"angry@example.com", KindComplaint, "", false, mid + "angry@example.com"}},
		"ses/complaint-not-spam.json":               nil,
		"ses/delivery.json": {
			{"one@example.com", KindDelivery, "2.6.0", false, ""},
			{"two@example.com", KindDelivery, "2.6.0", false, ""},
		},
		"ses/subscription-succeeded.json": nil,
		"ses/event-bounce.json":           {{"nobody@example.net", KindHard, "5.1.1", true, ""}},
		"ses/event-complaint.json":        {{"spam-button@example.com", KindComplaint, "", false, ""}},
		"ses/event-delivery.json":         {{"reader@example.com", KindDelivery, "", false, ""}},
		"ses/event-deliverydelay.json":    {{"slow@example.com", KindDelayed, "4.2.2", false, ""}},
		"ses/event-subscription.json":     {{"leaver@example.com", KindUnsubscribe, "", false, ""}},
		"ses/event-open.json":             nil,
	}
	checkAllListed(t, "ses", samples)
	for name, wants := range samples {
		t.Run(name, func(t *testing.T) {
			body := f.notification(t, string(readTestdata(t, name)), "2")
			evs, sub, err := DecodeSES(context.Background(), f.v, body)
			if err != nil || sub != nil {
				t.Fatalf("err %v, subscription %v", err, sub)
			}
			compare(t, ProviderSES, evs, wants)
			// Unverified, bare: the same events under a hash-based ID.
			bare, err := DecodeUnverified(ProviderSES, readTestdata(t, name))
			if err != nil || len(bare) != len(evs) {
				t.Fatalf("unverified: %d events, err %v", len(bare), err)
			}
			for i := range bare {
				if !strings.HasSuffix(bare[i].ID, "/"+bare[i].Email) || !sha256Hex.MatchString(strings.TrimSuffix(bare[i].ID, "/"+bare[i].Email)) {
					t.Errorf("unverified ID %q", bare[i].ID)
				}
			}
		})
	}
}

func TestPostmarkSamples(t *testing.T) {
	samples := map[string][]want{
		"postmark/bounce-hard.json":                {{"gone@example.net", KindHard, "5.1.1", true, "4323372036854775807"}},
		"postmark/bounce-soft.json":                {{"full@example.org", KindSoft, "4.2.2", true, "42"}},
		"postmark/bounce-transient.json":           {{"slow@example.org", KindSoft, "4.4.2", false, "43"}},
		"postmark/bounce-dnserror.json":            {{"nobody@nx.example", KindSoft, "", true, "44"}},
		"postmark/bounce-spamnotification.json":    {{"filter@example.com", KindComplaint, "", false, "45"}},
		"postmark/bounce-blocked.json":             {{"isp@example.com", KindOther, "5.7.1", false, "46"}},
		"postmark/bounce-manuallydeactivated.json": {{"off@example.com", KindOther, "", false, "47"}},
		"postmark/bounce-bademailaddress.json":     {{"bad@example", KindHard, "", true, "48"}},
		"postmark/bounce-unsubscribe.json":         {{"leaver@example.com", KindUnsubscribe, "", false, "49"}},
		"postmark/bounce-autoresponder.json":       {{"away@example.com", KindOther, "", false, "50"}},
		"postmark/spam-complaint.json":             {{"angry@example.com", KindComplaint, "", false, "51"}},
		"postmark/subscription-change.json":        {{"leaver@example.com", KindUnsubscribe, "", false, "hash"}},
		"postmark/subscription-reactivated.json":   nil,
		"postmark/delivery.json":                   {{"reader@example.com", KindDelivery, "2.0.0", false, "hash"}},
		"postmark/open.json":                       nil,
	}
	checkAllListed(t, "postmark", samples)
	for name, wants := range samples {
		t.Run(name, func(t *testing.T) {
			evs, err := DecodePostmark(readTestdata(t, name), "parley", "s3cret", basicAuth("parley", "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			compare(t, ProviderPostmark, evs, wants)
		})
	}
}

func TestMailgunSamples(t *testing.T) {
	samples := map[string][]want{
		"mailgun/failed-permanent.json":            {{"gone@example.net", KindHard, "5.1.1", true, "G9Bn5sl1TC6nu79C8C0bwg"}},
		"mailgun/failed-temporary.json":            {{"full@example.org", KindSoft, "4.2.2", true, ""}},
		"mailgun/failed-suppress-bounce.json":      {{"known-bad@example.net", KindHard, "", true, ""}},
		"mailgun/failed-espblock.json":             {{"esp@example.com", KindHard, "", false, ""}},
		"mailgun/failed-suppress-unsubscribe.json": {{"leaver@example.com", KindOther, "", false, ""}},
		"mailgun/complained.json":                  {{"angry@example.com", KindComplaint, "", false, "L9Bn5sl1TC6nu79C8C0bwl"}},
		"mailgun/unsubscribed.json":                {{"leaver@example.com", KindUnsubscribe, "", false, ""}},
		"mailgun/delivered.json":                   {{"reader@example.com", KindDelivery, "", false, ""}},
		"mailgun/opened.json":                      nil,
	}
	checkAllListed(t, "mailgun", samples)
	const key = "key-test-0123456789abcdef"
	now := time.Unix(1741082400, 0)
	tokens := &MemoryTokenCache{}
	for name, wants := range samples {
		t.Run(name, func(t *testing.T) {
			evs, err := DecodeMailgun(context.Background(), signMailgun(t, readTestdata(t, name), key, now), key, tokens, now)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, ProviderMailgun, evs, wants)
		})
	}
}

func TestSendGridSamples(t *testing.T) {
	body := readTestdata(t, "sendgrid/events.json")
	key := sendGridKey()
	evs, err := DecodeSendGrid(body, &key.PublicKey, signSendGrid(t, key, "1741082400", body), "1741082400")
	if err != nil {
		t.Fatal(err)
	}
	compare(t, ProviderSendGrid, evs, []want{
		{"reader@example.com", KindDelivery, "", false, "sg-delivered-1"},
		{"slow@example.com", KindDelayed, "", false, "sg-deferred-1"},
		{"gone@example.net", KindHard, "5.1.1", true, "sg-bounce-1"},
		{"isp@example.com", KindSoft, "4.0.0", false, "sg-bounce-2"},
		{"filter@example.com", KindHard, "5.0.0", false, "sg-bounce-3"},
		{"blocklisted@example.com", KindSoft, "5.7.1", false, "sg-blocked-1"},
		{"known-bad@example.net", KindHard, "5.0.0", true, "sg-dropped-1"},
		{"leaver@example.com", KindOther, "5.0.0", false, "sg-dropped-2"},
		{"angry@example.com", KindComplaint, "", false, "sg-spamreport-1"},
		{"leaver@example.com", KindUnsubscribe, "", false, "sg-unsubscribe-1"},
		{"group-leaver@example.com", KindUnsubscribe, "", false, "sg-group-unsubscribe-1"},
	})
}
