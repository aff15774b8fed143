package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
)

// ParseSendGridPublicKey reads the verification key SendGrid shows for a
// signed Event Webhook: base64 of a DER (PKIX) P-256 public key. A PEM
// "PUBLIC KEY" block is accepted too.
func ParseSendGridPublicKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if block, _ := pem.Decode([]byte(s)); block != nil {
		der = block.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, errors.New("sendgrid public key: not base64")
		}
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("sendgrid public key: not a PKIX public key")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("sendgrid public key: not an ECDSA P-256 key")
	}
	return k, nil
}

// Header fields of SendGrid's signed Event Webhook.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// DecodeSendGrid checks a signed SendGrid Event Webhook
// (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
// signature (the SendGridSignatureHeader value) is a base64 ASN.1 ECDSA
// signature by key over SHA-256 of timestamp (SendGridTimestampHeader)
// followed by the raw body. A nil key refuses every request. The timestamp
// is not checked for age: SendGrid retries for up to three days, and a
// replayed event is harmless, since its ID repeats.
//
// The body is a JSON array of events (one object is accepted too). Events
// (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
// bounce of type "bounce" is hard; of type "blocked", and the blocked
// event, soft and not scoring (SendGrid documents it as a temporary
// refusal); a bounce_classification of Content, Reputation or "Frequency or
// Volume Too High" does not score either; dropped for "Bounced Address" or
// "Invalid" is hard (SendGrid will not send to it again), other drops are
// "other"; spamreport is a complaint; deferred is delayed;
// unsubscribe and group_unsubscribe are unsubscribes; delivered is a
// delivery; the rest (processed, open, click, group_resubscribe…) give
// nothing. IDs are sg_event_id.
func DecodeSendGrid(body []byte, key *ecdsa.PublicKey, signature, timestamp string) ([]Event, error) {
	if key == nil || timestamp == "" {
		return nil, ErrUnauthorized
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(sig) == 0 {
		return nil, ErrUnauthorized
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), sig) {
		return nil, ErrUnauthorized
	}
	return decodeSendGrid(body)
}

type sendGridEvent struct {
	Email          string     `json:"email"`
	Event          string     `json:"event"`
	Type           string     `json:"type"`
	Status         flexString `json:"status"`
	Reason         string     `json:"reason"`
	Response       string     `json:"response"`
	Classification string     `json:"bounce_classification"`
	SGEventID      flexString `json:"sg_event_id"`
	Timestamp      unixTime   `json:"timestamp"`
}

func decodeSendGrid(body []byte) ([]Event, error) {
	raws, err := oneOrMany(body)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, raw := range raws {
		var ev sendGridEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, ErrMalformed
		}
		kind, scores, ok := sendGridKind(ev)
		if !ok {
			continue
		}
		id := string(ev.SGEventID)
		if id == "" {
			id = canonicalID(raw)
		}
		diag := ev.Reason
		if diag == "" {
			diag = ev.Response
		}
		if e, ok := newEvent(ProviderSendGrid, id, ev.Email, kind, string(ev.Status), diag, scores, ev.Timestamp.time()); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func sendGridKind(ev sendGridEvent) (Kind, bool, bool) {
	switch ev.Event {
	case "bounce":
		if ev.Type == "blocked" {
			return KindSoft, false, true
		}
		switch ev.Classification {
		case "Content", "Reputation", "Frequency or Volume Too High":
			return KindHard, false, true
		}
		return KindHard, true, true
	case "blocked":
		return KindSoft, false, true
	case "dropped":
		switch ev.Reason {
		case "Bounced Address", "Invalid":
			return KindHard, true, true
		}
		return KindOther, false, true
	case "spamreport":
		return KindComplaint, false, true
	case "deferred":
		return KindDelayed, false, true
	case "unsubscribe", "group_unsubscribe":
		return KindUnsubscribe, false, true
	case "delivered":
		return KindDelivery, false, true
	}
	return "", false, false
}

// sendGridProvider is SendGrid's signed Event Webhook.
type sendGridProvider struct{}

func (sendGridProvider) Name() string  { return ProviderSendGrid }
func (sendGridProvider) Title() string { return "SendGrid" }
func (sendGridProvider) Auth() string  { return "ECDSA signature of the signed event webhook" }

func (sendGridProvider) Settings() []Setting {
	return []Setting{{Name: "SENDGRID_WEBHOOK_PUBLIC_KEY"}}
}

func (sendGridProvider) Endpoint(get func(string) string, _ Env) (Endpoint, error) {
	raw := get("SENDGRID_WEBHOOK_PUBLIC_KEY")
	if raw == "" {
		return nil, nil
	}
	key, err := ParseSendGridPublicKey(raw)
	if err != nil {
		return nil, &SettingError{"SENDGRID_WEBHOOK_PUBLIC_KEY", err.Error()}
	}
	return sendGridEndpoint{key: key}, nil
}

func (sendGridProvider) Unverified(body []byte) ([]Event, error) { return decodeSendGrid(body) }

type sendGridEndpoint struct{ key *ecdsa.PublicKey }

func (e sendGridEndpoint) Receive(_ context.Context, r Request) ([]Event, error) {
	return DecodeSendGrid(r.Body, e.key, r.Header.Get("X-Twilio-Email-Event-Webhook-Signature"), r.Header.Get("X-Twilio-Email-Event-Webhook-Timestamp"))
}
