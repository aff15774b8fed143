// Package webhooks receives bounce and complaint notifications from email
// providers under /mail/webhooks/: Amazon SES through SNS, Postmark,
// Mailgun and SendGrid. They are the only endpoints outside the login and
// CSRF rules, so each one authenticates every request its provider's own
// way (signatures or basic auth, in mailflow/bounce/webhook) before it
// reads a single event. Forged or unauthenticated requests get 401 and
// change nothing, with at most one WARN line per refusalLogEvery however
// many arrive; malformed ones 400; bodies over 1 MB 413; a request that
// cannot be checked or applied now (certificate unreachable, database
// down) 503, so the provider retries. An event seen twice is applied once,
// and a Mailgun signature is accepted once, by any daemon, ever (its
// tokens are kept in PostgreSQL). An endpoint whose provider is not
// configured answers 404.
package webhooks

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/bounce/webhook"
	"github.com/parleymail/parley/mailflow/store"
)

// MaxBody is the largest notification read.
const MaxBody = 1 << 20

// Deps are what the endpoints need; a nil or empty credential turns its
// endpoint off.
type Deps struct {
	Bounces          *bounce.Service
	SNS              *webhook.SNSVerifier
	PostmarkUser     string
	PostmarkPassword string
	MailgunKey       string
	SendGridKey      *ecdsa.PublicKey
	HTTPClient       *http.Client // confirms SNS subscriptions
	Log              *slog.Logger
}

type handler struct {
	Deps
	mailgunTokens webhook.TokenCache
	refusals      *refusalLog
}

// usedTokens keeps Mailgun's used tokens in PostgreSQL: shared by every
// daemon and kept across restarts, so a captured call cannot be replayed
// against another daemon or after a restart.
type usedTokens struct{ st *store.Store }

func (u usedTokens) Seen(ctx context.Context, token string) (bool, error) {
	return u.st.UseWebhookToken(ctx, webhook.ProviderMailgun, token, webhook.MailgunTokenTTL)
}

// Register adds the endpoints to r.
func Register(r gin.IRouter, d Deps) {
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	h := &handler{Deps: d, mailgunTokens: usedTokens{d.Bounces.Store}, refusals: &refusalLog{log: d.Log, every: refusalLogEvery}}
	g := r.Group("/mail/webhooks")
	g.POST("/ses", h.ses)
	g.POST("/postmark", h.postmark)
	g.POST("/mailgun", h.mailgun)
	g.POST("/sendgrid", h.sendgrid)
}

// body reads the request body up to MaxBody; it answers 413 itself.
func body(c *gin.Context) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": "the notification is larger than 1 MB"})
		return nil, false
	case err != nil:
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "could not read the request body"})
		return nil, false
	}
	return b, true
}

func disabled(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "this webhook is not configured"})
}

// finish answers a decode result: 401, 400, or the events applied.
func (h *handler) finish(c *gin.Context, provider string, events []webhook.Event, err error) {
	switch {
	case errors.Is(err, webhook.ErrUnauthorized):
		// Anyone can post here: what they send must not fill the log.
		h.refusals.warn("webhook refused: bad credentials or signature", "provider", provider, "remote", c.ClientIP(), "reason", err.Error())
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "not authenticated"})
		return
	case errors.Is(err, webhook.ErrMalformed):
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "malformed notification"})
		return
	case errors.Is(err, webhook.ErrUnavailable):
		// Possibly a forgery naming a made-up certificate: not an error
		// of ours, and the provider retries a genuine one.
		h.refusals.warn("webhook deferred: cannot authenticate it now", "provider", provider, "remote", c.ClientIP(), "reason", err.Error())
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporary failure, retry later"})
		return
	case err != nil:
		h.Log.Error("webhook", "provider", provider, "err", err)
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporary failure, retry later"})
		return
	}
	applied := 0
	for _, ev := range events {
		kind := kindOf(ev.Kind)
		if kind == "" {
			continue // deliveries and the like: nothing to do
		}
		out, err := h.Bounces.Apply(c.Request.Context(), bounce.Report{Provider: ev.Provider, EventID: ev.ID, Email: ev.Email,
			Kind: kind, Status: ev.Status, Diagnostic: ev.Diagnostic, Scores: ev.Scores, Reason: bounce.ReasonOfStatus(ev.Status)})
		if err != nil {
			// A database failure: the provider retries, and the event ids
			// keep the retry from counting twice.
			h.Log.Error("applying webhook event", "provider", provider, "err", err)
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporary failure, retry later"})
			return
		}
		if out != "duplicate report" {
			applied++
		}
	}
	c.JSON(http.StatusOK, gin.H{"events": len(events), "applied": applied})
}

func kindOf(k webhook.Kind) string {
	switch k {
	case webhook.KindHard:
		return bounce.KindHard
	case webhook.KindSoft:
		return bounce.KindSoft
	case webhook.KindComplaint:
		return bounce.KindComplaint
	case webhook.KindUnsubscribe:
		return bounce.KindUnsubscribe
	case webhook.KindDelayed:
		return bounce.KindDelayed
	case webhook.KindOther:
		return bounce.KindHard // a failure that does not score: recorded as an alarm
	}
	return ""
}

func (h *handler) ses(c *gin.Context) {
	if h.SNS == nil {
		disabled(c)
		return
	}
	b, ok := body(c)
	if !ok {
		return
	}
	events, sub, err := webhook.DecodeSES(c.Request.Context(), h.SNS, b)
	if err == nil && sub != nil {
		h.confirm(c.Request.Context(), sub)
	}
	h.finish(c, webhook.ProviderSES, events, err)
}

// confirm GETs a verified SubscribeURL (its host was checked).
func (h *handler) confirm(ctx context.Context, sub *webhook.Subscription) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sub.URL, nil)
	if err != nil {
		return
	}
	res, err := h.HTTPClient.Do(req)
	if err != nil {
		h.Log.Warn("confirming SNS subscription", "topic", sub.TopicArn, "err", err)
		return
	}
	_ = res.Body.Close()
	h.Log.Info("SNS subscription confirmed", "topic", sub.TopicArn, "status", res.StatusCode)
}

func (h *handler) postmark(c *gin.Context) {
	if h.PostmarkUser == "" {
		disabled(c)
		return
	}
	b, ok := body(c)
	if !ok {
		return
	}
	events, err := webhook.DecodePostmark(b, h.PostmarkUser, h.PostmarkPassword, c.GetHeader("Authorization"))
	if errors.Is(err, webhook.ErrUnauthorized) {
		c.Header("WWW-Authenticate", `Basic realm="parley webhooks"`)
	}
	h.finish(c, webhook.ProviderPostmark, events, err)
}

func (h *handler) mailgun(c *gin.Context) {
	if h.MailgunKey == "" {
		disabled(c)
		return
	}
	b, ok := body(c)
	if !ok {
		return
	}
	events, err := webhook.DecodeMailgun(c.Request.Context(), b, h.MailgunKey, h.mailgunTokens, time.Now())
	h.finish(c, webhook.ProviderMailgun, events, err)
}

func (h *handler) sendgrid(c *gin.Context) {
	if h.SendGridKey == nil {
		disabled(c)
		return
	}
	b, ok := body(c)
	if !ok {
		return
	}
	events, err := webhook.DecodeSendGrid(b, h.SendGridKey, c.GetHeader("X-Twilio-Email-Event-Webhook-Signature"), c.GetHeader("X-Twilio-Email-Event-Webhook-Timestamp"))
	h.finish(c, webhook.ProviderSendGrid, events, err)
}
