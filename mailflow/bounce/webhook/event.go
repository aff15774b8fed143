package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what a provider reported about one recipient.
type Kind string

// The kinds of event. Providers' own vocabularies map onto these; see the
// package documentation for the mapping and for when an event scores.
const (
	KindHard        Kind = "hard"        // permanent failure
	KindSoft        Kind = "soft"        // temporary failure, given up on or reported
	KindComplaint   Kind = "complaint"   // the recipient marked the mail as spam
	KindDelivery    Kind = "delivery"    // the receiving server accepted the mail
	KindUnsubscribe Kind = "unsubscribe" // the recipient unsubscribed through the provider
	KindDelayed     Kind = "delayed"     // delivery is late and still being retried
	KindOther       Kind = "other"       // a failure that says nothing about the mailbox
)

// Providers, as Event.Provider names them.
const (
	ProviderSES      = "ses"
	ProviderPostmark = "postmark"
	ProviderMailgun  = "mailgun"
	ProviderSendGrid = "sendgrid"
)

// Event is one provider report about one recipient.
type Event struct {
	Provider   string // ProviderSES, ProviderPostmark, ProviderMailgun or ProviderSendGrid
	ID         string // the provider's event id, or the SHA-256 hex of the event's canonical JSON; unique per Provider
	Email      string // the recipient, lowercased
	Kind       Kind
	Status     string    // the enhanced status code (RFC 3463, "5.1.1") when the report gives or quotes one
	Diagnostic string    // the provider's or the remote server's text, at most maxDiagnostic bytes
	Scores     bool      // the failure counts against the address (only hard and soft events)
	At         time.Time // when the provider says it happened, in UTC; zero when it does not say
}

// Errors the decode functions return; match them with errors.Is.
var (
	// ErrUnauthorized: missing or wrong credentials or signature. Answer
	// 401 (or 403) and do not look at the payload.
	ErrUnauthorized = errors.New("webhook: not authenticated")
	// ErrMalformed: the body is not the JSON the provider sends. Answer 400.
	ErrMalformed = errors.New("webhook: malformed payload")
	// ErrUnavailable: the request could not be checked now (an SNS
	// signing certificate could not be fetched). Answer 503: the provider
	// retries.
	ErrUnavailable = errors.New("webhook: cannot authenticate now")
)

// maxDiagnostic bounds Event.Diagnostic: remote servers' texts can be long,
// and a few hundred characters are what an admin reads.
const maxDiagnostic = 1000

// newEvent builds an event, normalising the address, status and text, and
// deciding Scores from the provider's verdict (scores) and the status code.
// It returns false when there is no recipient to report on.
func newEvent(provider, id, email string, kind Kind, status, diag string, scores bool, at time.Time) (Event, bool) {
	email = normEmail(email)
	if email == "" {
		return Event{}, false
	}
	status = enhancedStatus(status)
	if status == "" {
		status = enhancedStatus(diag)
	}
	return Event{
		Provider:   provider,
		ID:         id,
		Email:      email,
		Kind:       kind,
		Status:     status,
		Diagnostic: clip(diag),
		Scores:     scores && (kind == KindHard || kind == KindSoft) && statusScores(status),
		At:         at.UTC(),
	}, true
}

// normEmail returns the bare, lowercased address of "addr" or
// "Name <addr>"; "" if there is none.
func normEmail(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = strings.TrimSpace(s[i+1 : i+j])
		}
	}
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " \t\r\n<>") {
		return ""
	}
	return strings.ToLower(strings.ToValidUTF8(s, ""))
}

// enhancedStatusRE finds an RFC 3463 §2 status code, class.subject.detail,
// that is not part of a longer dotted number (an IP address or a version).
var enhancedStatusRE = regexp.MustCompile(`(?:^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.[^0-9]|\.$|$)`)

// enhancedStatus returns the first enhanced status code in s, or "".
func enhancedStatus(s string) string {
	if len(s) > 4096 {
		s = s[:4096]
	}
	m := enhancedStatusRE.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// statusScores reports whether a status code leaves the blame with the
// mailbox. RFC 3463 §3: subject 6 is "message content or media" and
// subject 7 "security or policy" (spam and reputation blocks), and X.3.4 is
// "message too big for system": those refuse the message, not the address.
// No code at all leaves the provider's verdict standing.
func statusScores(status string) bool {
	if status == "" {
		return true
	}
	parts := strings.Split(status, ".")
	if len(parts) != 3 {
		return true
	}
	switch {
	case parts[1] == "6" || parts[1] == "7":
		return false
	case parts[1] == "3" && parts[2] == "4":
		return false
	}
	return true
}

// clip bounds a diagnostic text, keeping it valid UTF-8.
func clip(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= maxDiagnostic {
		return s
	}
	cut := maxDiagnostic
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// canonicalID returns the SHA-256 hex of raw's canonical JSON: objects'
// keys sorted, no insignificant space, numbers as written. Two deliveries
// of one event (a provider's retry) get the same ID whatever their layout.
func canonicalID(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	canon := raw
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			canon = b
		}
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// oneOrMany splits a body that is one JSON object or an array of them.
// Anything else is ErrMalformed.
func oneOrMany(body []byte) ([]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, ErrMalformed
		}
		for _, r := range list {
			if r = bytes.TrimSpace(r); len(r) == 0 || r[0] != '{' {
				return nil, ErrMalformed
			}
		}
		return list, nil
	}
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return nil, ErrMalformed
	}
	return []json.RawMessage{body}, nil
}

// flexString decodes a JSON string or number as a string (ids that some
// payloads give as numbers), and null as "".
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// unixTime decodes seconds since 1970 given as a JSON number (possibly
// fractional, as Mailgun's) or a string of one; anything else is the zero
// time rather than an error, since a time is never worth refusing a
// report for.
type unixTime time.Time

func (u *unixTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if json.Unmarshal(b, &s) != nil {
		*u = unixTime{}
		return nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	// Year 1 to 9999: beyond, time.Unix overflows quietly.
	if err != nil || f < -62135596800 || f > 253402300799 {
		*u = unixTime{}
		return nil
	}
	sec := int64(f)
	*u = unixTime(time.Unix(sec, int64((f-float64(sec))*1e9)).UTC())
	return nil
}

// parseTime reads an RFC 3339 time (as SES, SNS and Postmark write them);
// zero when absent or unreadable.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// firstTime returns the first non-zero time.
func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func (u unixTime) time() time.Time { return time.Time(u) }
