package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// DecodePostmark checks a Postmark webhook's HTTP basic credentials
// (Postmark sends those written into the webhook URL,
// https://postmarkapp.com/developer/webhooks/webhooks-overview) and decodes
// its record. authorization is the request's Authorization header as
// received (r.Header.Get("Authorization")); user and password are the
// configured credentials, and an empty password refuses every request, so
// that an unconfigured endpoint is never open. The comparison takes the
// same time whatever the guess.
//
// Records (https://postmarkapp.com/developer/webhooks/bounce-webhook and
// siblings): Bounce maps by Type (see postmarkBounce); SpamComplaint is a
// complaint; SubscriptionChange with SuppressSending true is an
// unsubscribe (false, a reactivation, gives nothing); Delivery is a
// delivery. Open, Click, Inbound and unknown records give nothing. IDs are
// the record's ID, or the canonical JSON's hash for records without one
// (SubscriptionChange, Delivery).
func DecodePostmark(body []byte, user, password, authorization string) ([]Event, error) {
	if !basicAuthOK(authorization, user, password) {
		return nil, ErrUnauthorized
	}
	return decodePostmark(body)
}

// basicAuthOK checks an RFC 7617 Authorization header in constant time.
func basicAuthOK(header, user, password string) bool {
	if password == "" {
		return false
	}
	scheme, enc, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return false
	}
	gotUser, gotPassword, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	// Hashing first makes the comparison independent of the lengths too.
	eq := func(a, b string) int {
		ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
		return subtle.ConstantTimeCompare(ha[:], hb[:])
	}
	return eq(gotUser, user)&eq(gotPassword, password) == 1
}

type postmarkRecord struct {
	RecordType        string     `json:"RecordType"`
	ID                flexString `json:"ID"`
	Type              string     `json:"Type"`
	Email             string     `json:"Email"`
	Recipient         string     `json:"Recipient"`
	Description       string     `json:"Description"`
	Details           string     `json:"Details"`
	BouncedAt         string     `json:"BouncedAt"`
	ChangedAt         string     `json:"ChangedAt"`
	DeliveredAt       string     `json:"DeliveredAt"`
	SuppressSending   bool       `json:"SuppressSending"`
	SuppressionReason string     `json:"SuppressionReason"`
}

func decodePostmark(body []byte) ([]Event, error) {
	raws, err := oneOrMany(body)
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, raw := range raws {
		var r postmarkRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, ErrMalformed
		}
		id := string(r.ID)
		if id == "" {
			id = canonicalID(raw)
		}
		diag := r.Details
		if diag == "" {
			diag = r.Description
		}
		var (
			e  Event
			ok bool
		)
		switch r.RecordType {
		case "Bounce":
			kind, scores := postmarkBounce(r.Type)
			if r.Type != "" {
				diag = r.Type + ": " + diag
			}
			e, ok = newEvent(ProviderPostmark, id, r.Email, kind, r.Details, diag, scores, parseTime(r.BouncedAt))
		case "SpamComplaint":
			e, ok = newEvent(ProviderPostmark, id, r.Email, KindComplaint, "", diag, false, parseTime(r.BouncedAt))
		case "SubscriptionChange":
			if r.SuppressSending {
				e, ok = newEvent(ProviderPostmark, id, r.Recipient, KindUnsubscribe, "", r.SuppressionReason, false, parseTime(r.ChangedAt))
			}
		case "Delivery":
			e, ok = newEvent(ProviderPostmark, id, r.Recipient, KindDelivery, "", r.Details, false, parseTime(r.DeliveredAt))
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// postmarkBounce maps Postmark's bounce types
// (https://postmarkapp.com/developer/api/bounce-api#bounce-types).
//
// HardBounce and BadEmailAddress (the address is not valid) are hard and
// score. SoftBounce (mailbox full, over quota…) and DnsError (the
// recipient's domain does not resolve) are soft and score. Transient is
// soft but does not score: it is a delay Postmark keeps retrying, and a
// final failure is reported on its own. SpamNotification and SpamComplaint
// are complaints; Unsubscribe (an unsubscribe request mailed back) is an
// unsubscribe. Everything else (Blocked by the receiving ISP,
// ManuallyDeactivated, AutoResponder, ChallengeVerification, DMARCPolicy,
// SMTPApiError, Unknown…) is "other" and does not score: none says the
// mailbox is bad.
func postmarkBounce(typ string) (Kind, bool) {
	switch typ {
	case "HardBounce", "BadEmailAddress":
		return KindHard, true
	case "SoftBounce", "DnsError":
		return KindSoft, true
	case "Transient":
		return KindSoft, false
	case "SpamNotification", "SpamComplaint":
		return KindComplaint, false
	case "Unsubscribe":
		return KindUnsubscribe, false
	}
	return KindOther, false
}

// postmarkProvider is Postmark, whose webhooks carry HTTP basic
// credentials written into the webhook URL.
type postmarkProvider struct{}

func (postmarkProvider) Name() string  { return ProviderPostmark }
func (postmarkProvider) Title() string { return "Postmark" }
func (postmarkProvider) Auth() string  { return "HTTP basic auth" }

func (postmarkProvider) Settings() []Setting {
	return []Setting{{Name: "POSTMARK_WEBHOOK_USER"}, {Name: "POSTMARK_WEBHOOK_PASSWORD", Secret: true}}
}

func (postmarkProvider) Endpoint(get func(string) string, _ Env) (Endpoint, error) {
	user, password := get("POSTMARK_WEBHOOK_USER"), get("POSTMARK_WEBHOOK_PASSWORD")
	if (user == "") != (password == "") {
		return nil, &SettingError{"POSTMARK_WEBHOOK_USER", "POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD must be set together"}
	}
	if user == "" {
		return nil, nil
	}
	return postmarkEndpoint{user: user, password: password}, nil
}

func (postmarkProvider) Unverified(body []byte) ([]Event, error) { return decodePostmark(body) }

type postmarkEndpoint struct{ user, password string }

func (e postmarkEndpoint) Receive(_ context.Context, r Request) ([]Event, error) {
	return DecodePostmark(r.Body, e.user, e.password, r.Header.Get("Authorization"))
}

// Challenge asks for basic credentials (RFC 7617 §2).
func (postmarkEndpoint) Challenge() string { return `Basic realm="parley webhooks"` }
