// Package webhooks receives bounce and complaint notifications from the
// email providers of webhook.Providers, one endpoint each under
// /mail/webhooks/. They are the only endpoints outside the login and
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
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/bounce/webhook"
	"github.com/parleymail/parley/mailflow/store"
)

// MaxBody is the largest notification read.
const MaxBody = 1 << 20

// Deps are what the endpoints need.
type Deps struct {
	Bounces *bounce.Service
	// Settings are the values of the providers' settings
	// (webhook.Provider.Settings) by name; a provider whose settings are
	// unset is off.
	Settings   map[string]string
	HTTPClient *http.Client // confirms SNS subscriptions; nil: a default one
	Log        *slog.Logger
}

type handler struct {
	Deps
	refusals *refusalLog
}

// usedTokens keeps Mailgun's used tokens in PostgreSQL: shared by every
// daemon and kept across restarts, so a captured call cannot be replayed
// against another daemon or after a restart.
type usedTokens struct{ st *store.Store }

func (u usedTokens) Seen(ctx context.Context, token string) (bool, error) {
	return u.st.UseWebhookToken(ctx, webhook.ProviderMailgun, token, webhook.MailgunTokenTTL)
}

// Register adds an endpoint for every provider of webhook.Providers to r;
// those whose settings are unset answer 404. Settings that cannot be used
// are an error.
func Register(r gin.IRouter, d Deps) error {
	env := webhook.Env{Tokens: usedTokens{d.Bounces.Store}, HTTPClient: d.HTTPClient, Log: d.Log}
	endpoints, err := webhook.Endpoints(func(name string) string { return d.Settings[name] }, env)
	if err != nil {
		return fmt.Errorf("webhook settings: %w", err)
	}
	h := &handler{Deps: d, refusals: &refusalLog{log: d.Log, every: refusalLogEvery}}
	g := r.Group("/mail/webhooks")
	for _, p := range webhook.Providers() {
		g.POST("/"+p.Name(), h.receive(p.Name(), endpoints[p.Name()]))
	}
	return nil
}

// receive answers one provider's requests; a nil ep is a provider that is
// not configured.
func (h *handler) receive(provider string, ep webhook.Endpoint) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ep == nil {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "this webhook is not configured"})
			return
		}
		b, ok := body(c)
		if !ok {
			return
		}
		events, err := ep.Receive(c.Request.Context(), webhook.Request{Header: c.Request.Header, Body: b})
		if ch, ok := ep.(webhook.Challenger); ok && errors.Is(err, webhook.ErrUnauthorized) {
			c.Header("WWW-Authenticate", ch.Challenge())
		}
		h.finish(c, provider, events, err)
	}
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
