package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mailgunMaxSkew is how far a webhook's timestamp may be from now.
const mailgunMaxSkew = 5 * time.Minute

// MailgunTokenTTL is how long a used Mailgun token must be remembered:
// longer than the window in which its timestamp is accepted (5 minutes
// either side of now), after which the signature is refused anyway.
const MailgunTokenTTL = 15 * time.Minute

// TokenCache remembers the Mailgun tokens already used, so that a captured
// request cannot be replayed. Seen records token and reports whether it
// was recorded before. It must be safe for concurrent use and remember a
// token for MailgunTokenTTL. Parley keeps them in PostgreSQL
// (store.UseWebhookToken), shared by every daemon and kept across
// restarts; MemoryTokenCache serves one process (tests, tools).
type TokenCache interface {
	Seen(ctx context.Context, token string) (bool, error)
}

// MemoryTokenCache is a TokenCache in memory, for one process. Its zero
// value is ready to use. Tokens are forgotten TTL after they were first
// seen: by then their timestamps are refused anyway.
type MemoryTokenCache struct {
	TTL time.Duration    // zero: MailgunTokenTTL
	Now func() time.Time // nil: time.Now; tests set it

	mu sync.Mutex
	m  map[string]time.Time // token → when it is forgotten
	gc time.Time            // when to sweep forgotten tokens next
}

// Seen implements TokenCache; it never fails.
func (c *MemoryTokenCache) Seen(_ context.Context, token string) (bool, error) {
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	ttl := c.TTL
	if ttl <= 0 {
		ttl = MailgunTokenTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]time.Time)
	}
	if now.After(c.gc) {
		for t, exp := range c.m {
			if now.After(exp) {
				delete(c.m, t)
			}
		}
		c.gc = now.Add(ttl / 4)
	}
	if exp, ok := c.m[token]; ok && !now.After(exp) {
		return true, nil
	}
	c.m[token] = now.Add(ttl)
	return false, nil
}

type mailgunBody struct {
	Signature *struct {
		Timestamp flexString `json:"timestamp"`
		Token     string     `json:"token"`
		Signature string     `json:"signature"`
	} `json:"signature"`
	EventData json.RawMessage `json:"event-data"`
}

type mailgunEvent struct {
	Event          string   `json:"event"`
	ID             string   `json:"id"`
	Recipient      string   `json:"recipient"`
	Timestamp      unixTime `json:"timestamp"`
	Severity       string   `json:"severity"`
	Reason         string   `json:"reason"`
	DeliveryStatus *struct {
		Code         flexString `json:"code"`
		EnhancedCode string     `json:"enhanced-code"`
		Message      string     `json:"message"`
		Description  string     `json:"description"`
	} `json:"delivery-status"`
}

// DecodeMailgun checks a Mailgun webhook's signature
// (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
// the hex HMAC-SHA256, keyed with the webhook signing key, of timestamp
// and token concatenated, compared in constant time; then that the
// timestamp is within 5 minutes of now, and that tokens has not seen the
// token (in that order, so strangers cannot fill the cache). An empty
// signingKey or a nil tokens refuses every request; a failure of tokens
// is returned as is (answer 5xx: Mailgun retries). Only the JSON webhooks
// are understood (not the legacy form-encoded ones).
//
// Events: failed with severity permanent is hard, temporary soft (see
// mailgunFailed for reasons); complained is a complaint; unsubscribed an
// unsubscribe; delivered a delivery; others (accepted, opened, clicked…)
// give nothing. The ID is event-data.id.
func DecodeMailgun(ctx context.Context, body []byte, signingKey string, tokens TokenCache, now time.Time) ([]Event, error) {
	var b mailgunBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, ErrMalformed
	}
	if signingKey == "" || tokens == nil || b.Signature == nil {
		return nil, ErrUnauthorized
	}
	s := b.Signature
	ts := string(s.Timestamp)
	got, err := hex.DecodeString(s.Signature)
	if err != nil || s.Token == "" || ts == "" {
		return nil, ErrUnauthorized
	}
	mac := hmac.New(sha256.New, []byte(signingKey))
	mac.Write([]byte(ts + s.Token))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, ErrUnauthorized
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, ErrUnauthorized
	}
	if d := now.Sub(time.Unix(sec, 0)); d > mailgunMaxSkew || d < -mailgunMaxSkew {
		return nil, ErrUnauthorized
	}
	switch seen, err := tokens.Seen(ctx, s.Token); {
	case err != nil:
		return nil, fmt.Errorf("checking the Mailgun token: %w", err)
	case seen:
		return nil, fmt.Errorf("%w: Mailgun token replayed", ErrUnauthorized)
	}
	return decodeMailgunEvent(b.EventData)
}

// decodeMailgunUnverified decodes a webhook body, or a bare event-data
// object, without checking anything.
func decodeMailgunUnverified(body []byte) ([]Event, error) {
	var b mailgunBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, ErrMalformed
	}
	if len(b.EventData) == 0 {
		return decodeMailgunEvent(body)
	}
	return decodeMailgunEvent(b.EventData)
}

func decodeMailgunEvent(raw json.RawMessage) ([]Event, error) {
	var ev mailgunEvent
	if len(raw) == 0 || json.Unmarshal(raw, &ev) != nil {
		return nil, ErrMalformed
	}
	id := ev.ID
	if id == "" {
		id = canonicalID(raw)
	}
	var status, diag string
	if ds := ev.DeliveryStatus; ds != nil {
		status = ds.EnhancedCode
		diag = ds.Message
		if diag == "" {
			diag = ds.Description
		}
		if diag == "" && ds.Code != "" {
			diag = string(ds.Code)
		}
	}
	at := time.Time(ev.Timestamp)
	var (
		e  Event
		ok bool
	)
	switch ev.Event {
	case "failed":
		kind, scores := mailgunFailed(ev.Severity, ev.Reason)
		if ev.Reason != "" {
			diag = strings.TrimSpace(ev.Reason + ": " + diag)
		}
		e, ok = newEvent(ProviderMailgun, id, ev.Recipient, kind, status, diag, scores, at)
	case "complained":
		e, ok = newEvent(ProviderMailgun, id, ev.Recipient, KindComplaint, "", "", false, at)
	case "unsubscribed":
		e, ok = newEvent(ProviderMailgun, id, ev.Recipient, KindUnsubscribe, "", "", false, at)
	case "delivered":
		e, ok = newEvent(ProviderMailgun, id, ev.Recipient, KindDelivery, status, diag, false, at)
	}
	if !ok {
		return nil, nil
	}
	return []Event{e}, nil
}

// mailgunFailed maps a failed event's severity and reason
// (https://documentation.mailgun.com/docs/mailgun/user-manual/events/):
// permanent is hard and temporary soft. Reasons "espblock" (the sending
// side refused) does not score; "suppress-complaint" and
// "suppress-unsubscribe" (Mailgun did not send because of an earlier
// complaint or unsubscribe) are "other"; "suppress-bounce" (an earlier hard
// bounce) scores like a bounce.
func mailgunFailed(severity, reason string) (Kind, bool) {
	switch reason {
	case "suppress-complaint", "suppress-unsubscribe":
		return KindOther, false
	}
	kind := KindSoft
	if severity == "permanent" {
		kind = KindHard
	}
	return kind, reason != "espblock"
}

// mailgunProvider is Mailgun, whose webhooks are signed with an HMAC of a
// timestamp and a single-use token.
type mailgunProvider struct{}

func (mailgunProvider) Name() string  { return ProviderMailgun }
func (mailgunProvider) Title() string { return "Mailgun" }
func (mailgunProvider) Auth() string {
	return "HMAC signature, a 5-minute window and single-use tokens"
}

func (mailgunProvider) Settings() []Setting {
	return []Setting{{Name: "MAILGUN_SIGNING_KEY", Secret: true}}
}

func (mailgunProvider) Endpoint(get func(string) string, env Env) (Endpoint, error) {
	key := get("MAILGUN_SIGNING_KEY")
	if key == "" {
		return nil, nil
	}
	return mailgunEndpoint{key: key, env: env}, nil
}

func (mailgunProvider) Unverified(body []byte) ([]Event, error) {
	return decodeMailgunUnverified(body)
}

type mailgunEndpoint struct {
	key string
	env Env
}

func (e mailgunEndpoint) Receive(ctx context.Context, r Request) ([]Event, error) {
	return DecodeMailgun(ctx, r.Body, e.key, e.env.Tokens, e.env.now())
}
