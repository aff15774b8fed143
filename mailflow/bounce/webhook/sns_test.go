package webhook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const sesBounceMsg = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General",` +
	`"bouncedRecipients":[{"emailAddress":"gone@example.net","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],` +
	`"timestamp":"2025-03-04T10:00:05.000Z"},"mail":{"timestamp":"2025-03-04T10:00:00.000Z","destination":["gone@example.net"]}}`

func TestSNSStringToSign(t *testing.T) {
	// The documented layout, written out by hand.
	subj := "S"
	m := &snsMessage{Type: "Notification", MessageID: "id", TopicArn: "arn", Subject: &subj, Message: "hello\nworld", Timestamp: "ts"}
	want := "Message\nhello\nworld\nMessageId\nid\nSubject\nS\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n"
	if got, _ := m.stringToSign(); string(got) != want {
		t.Errorf("notification: got %q, want %q", got, want)
	}
	m.Subject = nil
	want = "Message\nhello\nworld\nMessageId\nid\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n"
	if got, _ := m.stringToSign(); string(got) != want {
		t.Errorf("notification without subject: got %q, want %q", got, want)
	}
	c := &snsMessage{Type: "SubscriptionConfirmation", MessageID: "id", Token: "tok", TopicArn: "arn", Message: "m", SubscribeURL: "https://x/", Timestamp: "ts"}
	want = "Message\nm\nMessageId\nid\nSubscribeURL\nhttps://x/\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
	if got, _ := c.stringToSign(); string(got) != want {
		t.Errorf("confirmation: got %q, want %q", got, want)
	}
}

func TestSNSValid(t *testing.T) {
	f := newSNSFixture(t)
	for _, version := range []string{"1", "2"} {
		t.Run("SignatureVersion"+version, func(t *testing.T) {
			evs, sub, err := DecodeSES(context.Background(), f.v, f.notification(t, sesBounceMsg, version))
			if err != nil || sub != nil {
				t.Fatalf("err %v, subscription %v", err, sub)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			e := evs[0]
			if e.Email != "gone@example.net" || e.Kind != KindHard || !e.Scores || e.Status != "5.1.1" ||
				e.ID != "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324/gone@example.net" || e.At.IsZero() {
				t.Errorf("event %+v", e)
			}
		})
	}
	if n := f.fetches.Load(); n != 1 {
		t.Errorf("certificate fetched %d times, want 1 (cached by URL)", n)
	}
	// The whole chain in one file verifies as well.
	body := signSNS(t, testKeys().snsKey, f.srv.URL+"/SimpleNotificationService-chain.pem", map[string]string{
		"Type": "Notification", "MessageId": "m2", "TopicArn": testTopic, "Message": sesBounceMsg, "Timestamp": "2025-03-04T10:00:06.000Z",
	})
	if evs, _, err := DecodeSES(context.Background(), f.v, body); err != nil || len(evs) != 1 {
		t.Errorf("chain.pem: %d events, err %v", len(evs), err)
	}
}

func TestSNSRefused(t *testing.T) {
	f := newSNSFixture(t)
	keys := testKeys()
	base := func() map[string]string {
		return map[string]string{
			"Type": "Notification", "MessageId": "22b80b92", "TopicArn": testTopic,
			"Message": sesBounceMsg, "Timestamp": "2025-03-04T10:00:06.000Z",
		}
	}
	with := func(k, v string) []byte {
		m := base()
		m[k] = v
		return signSNS(t, keys.snsKey, f.certURL, m)
	}
	changed := f.notification(t, sesBounceMsg, "1")
	changed = []byte(strings.Replace(string(changed), "gone@example.net", "gone@example.nes", 1))

	tests := []struct {
		name string
		body []byte
	}{
		{"changed byte", changed},
		{"other host", with("SigningCertURL", "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem")},
		{"plain http", with("SigningCertURL", "http://"+f.host+"/SimpleNotificationService-test.pem")},
		{"not .pem", with("SigningCertURL", f.srv.URL+"/SimpleNotificationService-test.pem/x?y=.pem")},
		{"user info", with("SigningCertURL", "https://user@"+f.host+"/SimpleNotificationService-test.pem")},
		{"wrong topic", with("TopicArn", "arn:aws:sns:eu-west-1:999999999999:someone-else")},
		{"no topic", with("TopicArn", "")},
		{"SignatureVersion 3", with("SignatureVersion", "3")},
		{"redirected certificate", with("SigningCertURL", f.srv.URL+"/SimpleNotificationService-redirect.pem")},
		{"missing certificate", with("SigningCertURL", f.srv.URL+"/SimpleNotificationService-missing.pem")},
		{"not a certificate", with("SigningCertURL", f.srv.URL+"/SimpleNotificationService-garbage.pem")},
		{"certificate outside the roots", signSNS(t, keys.otherKey, f.srv.URL+"/SimpleNotificationService-stranger.pem", base())},
		{"signed by another key", signSNS(t, keys.otherKey, f.certURL, base())},
		{"signature not base64", []byte(strings.Replace(string(f.notification(t, sesBounceMsg, "1")), `"Signature":"`, `"Signature":"!!`, 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, sub, err := DecodeSES(context.Background(), f.v, tt.body)
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("err = %v, want ErrUnauthorized", err)
			}
			if evs != nil || sub != nil {
				t.Errorf("got events %v, subscription %v", evs, sub)
			}
		})
	}
	// A stranger's post (wrong topic) costs no fetch.
	f2 := newSNSFixture(t)
	DecodeSES(context.Background(), f2.v, signSNS(t, keys.snsKey, f2.certURL, map[string]string{"Type": "Notification", "TopicArn": "arn:x", "Message": "{}"}))
	if n := f2.fetches.Load(); n != 0 {
		t.Errorf("a wrong topic fetched the certificate %d times", n)
	}
	// A nil verifier refuses.
	if _, _, err := DecodeSES(context.Background(), nil, f.notification(t, sesBounceMsg, "1")); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("nil verifier: err = %v", err)
	}
}

func TestSNSMalformed(t *testing.T) {
	f := newSNSFixture(t)
	for _, body := range []string{``, `[]`, `{"Type":"Notification"`, `{"Type":"Something"}`, `{}`} {
		if _, _, err := DecodeSES(context.Background(), f.v, []byte(body)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", body, err)
		}
	}
	// A verified notification whose Message is not SES JSON.
	if _, _, err := DecodeSES(context.Background(), f.v, f.notification(t, "plain text", "1")); !errors.Is(err, ErrMalformed) {
		t.Errorf("plain-text Message: err = %v, want ErrMalformed", err)
	}
}

func TestSNSFetchFailureIsNotUnauthorized(t *testing.T) {
	f := newSNSFixture(t)
	body := f.notification(t, sesBounceMsg, "1")
	f.srv.Close()
	_, _, err := DecodeSES(context.Background(), f.v, body)
	if err == nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want a plain error (the caller answers 5xx and SNS retries)", err)
	}
}

func TestSNSSubscription(t *testing.T) {
	f := newSNSFixture(t)
	confirm := func(subscribeURL string) []byte {
		return signSNS(t, testKeys().snsKey, f.certURL, map[string]string{
			"Type": "SubscriptionConfirmation", "MessageId": "165545c9", "Token": "2336412f37",
			"TopicArn": testTopic, "Message": "You have chosen to subscribe to the topic " + testTopic + ".",
			"SubscribeURL": subscribeURL, "Timestamp": "2025-03-04T09:00:00.000Z",
		})
	}
	good := "https://" + f.host + "/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=2336412f37"
	evs, sub, err := DecodeSES(context.Background(), f.v, confirm(good))
	if err != nil || sub != nil || evs != nil {
		t.Fatalf("AutoSubscribe off: events %v, subscription %v, err %v; want nothing", evs, sub, err)
	}
	f.v.AutoSubscribe = true
	_, sub, err = DecodeSES(context.Background(), f.v, confirm(good))
	if err != nil || sub == nil || sub.URL != good || sub.TopicArn != testTopic {
		t.Fatalf("AutoSubscribe on: subscription %+v, err %v", sub, err)
	}
	_, sub, err = DecodeSES(context.Background(), f.v, confirm("https://evil.example/?Action=ConfirmSubscription"))
	if !errors.Is(err, ErrUnauthorized) || sub != nil {
		t.Errorf("SubscribeURL elsewhere: subscription %+v, err %v", sub, err)
	}
	unsub := signSNS(t, testKeys().snsKey, f.certURL, map[string]string{
		"Type": "UnsubscribeConfirmation", "MessageId": "47138184", "Token": "2336412f37",
		"TopicArn": testTopic, "Message": "You have chosen to deactivate subscription.",
		"SubscribeURL": good, "Timestamp": "2025-03-04T09:00:00.000Z",
	})
	if evs, sub, err := DecodeSES(context.Background(), f.v, unsub); err != nil || sub != nil || evs != nil {
		t.Errorf("UnsubscribeConfirmation: events %v, subscription %v, err %v", evs, sub, err)
	}
}

func TestSNSHostRule(t *testing.T) {
	for host, want := range map[string]bool{
		"sns.us-east-1.amazonaws.com":            true,
		"sns.eu-west-1.amazonaws.com:443":        true,
		"sns.cn-north-1.amazonaws.com.cn":        true,
		"sns.us-east-1.amazonaws.com:8443":       false,
		"sns.amazonaws.com":                      false,
		"sns.us-east-1.amazonaws.com.evil.com":   false,
		"evil.com":                               false,
		"xsns.us-east-1.amazonaws.com":           false,
		"sns.us-east-1.amazonaws.com@evil.com":   false,
		"s3.us-east-1.amazonaws.com":             false,
		"sns.us-east-1.amazonaws.com/x":          false,
		"SNS.US-EAST-1.AMAZONAWS.COM":            false,
		"sns.us_east_1.amazonaws.com":            false,
		"sns..amazonaws.com":                     false,
		"sns.us-east-1.amazonaws.com.":           false,
		"sns.us-east-1.amazonaws.com:":           true,
		"[::1]:443":                              false,
		"sns.us-east-1.amazonaws.com\n.evil.com": false,
		"sns.us-east-1.amazonaws.com%2eevil.com": false,
		"":                                       false,
	} {
		if got := snsHostOK(host); got != want {
			t.Errorf("snsHostOK(%q) = %v, want %v", host, got, want)
		}
	}
	var v SNSVerifier
	for u, want := range map[string]bool{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem": true,
		"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-7ff5.pem":                              false,
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7ff5.txt":                             false,
		"https://evil.com/sns.us-east-1.amazonaws.com/x.pem":                                                 false,
		"https://sns.us-east-1.amazonaws.com.evil.com/x.pem":                                                 false,
		"//sns.us-east-1.amazonaws.com/x.pem":                                                                false,
	} {
		if got := v.urlOK(u, true); got != want {
			t.Errorf("urlOK(%q) = %v, want %v", u, got, want)
		}
	}
}

// The corpus's SNS messages are signed by AWS with a certificate we do not
// have; unaltered, they are refused before any fetch.
func TestSNSCorpusUnalteredRefused(t *testing.T) {
	dir := corpusDir(t)
	f := newSNSFixture(t)
	v := &SNSVerifier{Topics: []string{"arn:aws:sns:us-east-1:168781634622:ses-inbound-grelay"}, HostOK: func(h string) bool { return h == f.host }}
	body, err := os.ReadFile(dir + "/ses/relay-hard_bounce_sns_body.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecodeSES(context.Background(), v, body); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
}

// Forged messages naming made-up certificate URLs on an SNS host cost one
// fetch per URL at most, and a few URLs in all: then they are refused (or
// deferred) with no request at all.
func TestSNSForgeriesFetchLittle(t *testing.T) {
	f := newSNSFixture(t)
	keys := testKeys()
	forged := func(path string) []byte {
		return signSNS(t, keys.otherKey, f.srv.URL+path, map[string]string{
			"Type": "Notification", "TopicArn": testTopic, "MessageId": "m", "Timestamp": "2025-03-04T10:00:00.000Z", "Message": sesBounceMsg})
	}
	for range 20 {
		if _, _, err := DecodeSES(context.Background(), f.v, forged("/SimpleNotificationService-nothere.pem")); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("err = %v, want ErrUnauthorized", err)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("20 forgeries naming one missing certificate made %d requests, want 1", n)
	}
	for i := range 50 {
		_, _, err := DecodeSES(context.Background(), f.v, forged(fmt.Sprintf("/SimpleNotificationService-made%dup.pem", i)))
		if !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnauthorized or ErrUnavailable", err)
		}
	}
	if n := f.requests.Load(); n > certFetchBurst+1 {
		t.Errorf("50 made-up certificate URLs made %d requests, want at most %d", n, certFetchBurst+1)
	}
	// The real certificate, cached before the flood, still serves.
	g := newSNSFixture(t)
	if _, _, err := DecodeSES(context.Background(), g.v, g.notification(t, sesBounceMsg, "1")); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		DecodeSES(context.Background(), g.v, signSNS(t, keys.otherKey, g.srv.URL+fmt.Sprintf("/SimpleNotificationService-x%d.pem", i), map[string]string{
			"Type": "Notification", "TopicArn": testTopic, "Message": "{}"}))
	}
	if _, _, err := DecodeSES(context.Background(), g.v, g.notification(t, sesBounceMsg, "1")); err != nil {
		t.Errorf("a genuine notification after a flood of forgeries: %v", err)
	}
}

// A certificate that cannot be fetched for want of a network is a
// temporary failure (SNS retries), not a forgery.
func TestSNSCertificateUnreachable(t *testing.T) {
	f := newSNSFixture(t)
	body := f.notification(t, sesBounceMsg, "1")
	f.srv.Close()
	if _, _, err := DecodeSES(context.Background(), f.v, body); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}
