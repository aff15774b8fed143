// Package sso is Parley's OpenID Connect relying party: it sends the browser
// to an identity provider and turns the callback into a verified Identity.
//
// It is deliberately small and stateless. The values that must survive the
// round trip through the provider (state, nonce, PKCE verifier) are handed to
// the caller as a Pending, which the web handler keeps in a short-lived signed
// cookie; nothing is stored server-side, so any Parley instance behind a load
// balancer can finish a login another one began.
//
// Three checks tie a callback to the browser that started it, and all three
// are required because each closes a different hole: state stops login CSRF
// (an attacker's code landing in a victim's session), PKCE stops a stolen code
// from being redeemed by anyone without the verifier, and the nonce stops an
// ID token from one login being replayed into another.
//
// Discovery is lazy. Parley must start, and password login must keep working,
// when the identity provider is down, so New only validates the
// configuration; the discovery document is fetched on first use, and after a
// failure at most once per retryInterval so that a dead provider is not
// hammered by every visitor of the login page.
//
// Account linking is the caller's business and must use only a verified
// email: Identity reports EmailVerified exactly as the provider asserted it.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var (
	// ErrState means the callback does not belong to the login this browser
	// began (forged, stale or from another tab); the caller should restart
	// the login rather than show a provider error.
	ErrState = errors.New("sso: state mismatch")
	// ErrDenied means the provider answered the authorization request with
	// an error, most often because the user declined.
	ErrDenied = errors.New("sso: authorization denied by provider")
)

const (
	// retryInterval bounds how often a failed discovery is retried, so a
	// provider outage costs one request per interval, not one per page view.
	retryInterval = 30 * time.Second
	// requestTimeout bounds each round of network work done on behalf of a
	// browser request; the user is waiting, and a hung provider must not pin
	// handler goroutines.
	requestTimeout = 15 * time.Second
)

// Config configures the relying party.
type Config struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is the absolute callback URL registered with the provider,
	// e.g. https://example.org/lists/login/oidc/callback.
	RedirectURL string
	// Name is shown on the login button; empty means the issuer's host name.
	Name string
	// HTTPClient is used for discovery, token exchange and JWKS; nil means a
	// client with a timeout (tests pass the test provider's client).
	HTTPClient *http.Client
}

// Identity is what the provider asserted about the user who logged in.
type Identity struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	// Name is the "name" claim, else given_name + family_name, else "".
	Name string
}

// Pending holds what the caller must keep between Begin and Finish. All of it
// is secret from third parties; keep it in a signed (and ideally encrypted),
// HttpOnly cookie that expires within minutes.
type Pending struct{ State, Nonce, Verifier string }

// Provider is a configured relying party for one issuer. It is safe for
// concurrent use.
type Provider struct {
	cfg    Config
	name   string
	client *http.Client

	ready atomic.Pointer[discovered]
	// sem is a one-slot semaphore serializing discovery, so a burst of
	// logins against a cold or dead provider makes one request, and waiters
	// can still give up when their own request is cancelled.
	sem chan struct{}
	// Guarded by sem.
	failedAt time.Time
	lastErr  error

	now func() time.Time // replaced in tests to step over retryInterval
}

// discovered is everything that needs the provider's discovery document.
type discovered struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New validates cfg and returns a Provider. It does not contact the issuer.
func New(cfg Config) (*Provider, error) {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" {
		return nil, fmt.Errorf("sso: issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("sso: client id and client secret are required")
	}
	ru, err := url.Parse(cfg.RedirectURL)
	if err != nil || !ru.IsAbs() || ru.Host == "" || (ru.Scheme != "http" && ru.Scheme != "https") {
		return nil, fmt.Errorf("sso: redirect URL %q is not an absolute http(s) URL", cfg.RedirectURL)
	}
	name := cfg.Name
	if name == "" {
		name = iss.Hostname()
	}
	client := cfg.HTTPClient
	if client == nil {
		// http.DefaultClient has no timeout, and go-oidc refreshes JWKS in a
		// background request that ignores our contexts; without a client
		// timeout one hung fetch would stall every later verification.
		client = &http.Client{Timeout: requestTimeout}
	}
	return &Provider{
		cfg:    cfg,
		name:   name,
		client: client,
		sem:    make(chan struct{}, 1),
		now:    time.Now,
	}, nil
}

// Name is the provider's display name for the login button.
func (p *Provider) Name() string { return p.name }

// discover returns the discovered provider, fetching it if needed.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	if d := p.ready.Load(); d != nil {
		return d, nil
	}
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.sem }()
	if d := p.ready.Load(); d != nil {
		return d, nil
	}
	if p.lastErr != nil && p.now().Sub(p.failedAt) < retryInterval {
		return nil, p.lastErr
	}

	dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), requestTimeout)
	defer cancel()
	op, err := oidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		err = fmt.Errorf("sso: discovery for %s failed: %w", p.cfg.Issuer, err)
		// A login abandoned by the browser says nothing about the provider;
		// only remember failures that are the provider's.
		if ctx.Err() == nil {
			p.failedAt, p.lastErr = p.now(), err
		}
		return nil, err
	}

	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	_ = op.Claims(&meta) // absent or malformed: fall back to the spec default
	ep := op.Endpoint()
	// Pin the client authentication method instead of letting oauth2 guess:
	// its guessing retries a failed exchange the other way, which wastes a
	// round trip and, with strict providers, the single-use code.
	// client_secret_basic is the default when the provider lists nothing.
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if len(meta.AuthMethods) > 0 && !slices.Contains(meta.AuthMethods, "client_secret_basic") &&
		slices.Contains(meta.AuthMethods, "client_secret_post") {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}

	d := &discovered{
		oauth: oauth2.Config{
			ClientID:     p.cfg.ClientID,
			ClientSecret: p.cfg.ClientSecret,
			Endpoint:     ep,
			RedirectURL:  p.cfg.RedirectURL,
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
		},
		// The key set behind this verifier is long-lived and re-fetches JWKS
		// when it meets an unknown key id, so key rotation needs no restart.
		verifier: op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}),
	}
	p.ready.Store(d)
	p.lastErr = nil
	return d, nil
}

// Begin starts a login: it returns the provider URL to redirect the browser
// to and the values the caller must keep until the callback.
func (p *Provider) Begin(ctx context.Context) (authURL string, pending Pending, err error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", Pending{}, err
	}
	pending = Pending{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
	}
	authURL = d.oauth.AuthCodeURL(pending.State,
		oidc.Nonce(pending.Nonce),
		oauth2.S256ChallengeOption(pending.Verifier))
	return authURL, pending, nil
}

// Finish completes a login from the callback's query parameters and the
// Pending returned by Begin.
func (p *Provider) Finish(ctx context.Context, query url.Values, pending Pending) (Identity, error) {
	// State first: an error response that does not carry our state is not
	// an answer to our request, so it must not be reported as a denial.
	if pending.State == "" || !equal(query.Get("state"), pending.State) {
		return Identity{}, ErrState
	}
	if e := query.Get("error"); e != "" {
		if desc := query.Get("error_description"); desc != "" {
			return Identity{}, fmt.Errorf("%w: %q: %q", ErrDenied, e, desc)
		}
		return Identity{}, fmt.Errorf("%w: %q", ErrDenied, e)
	}
	code := query.Get("code")
	if code == "" {
		return Identity{}, errors.New("sso: callback has no authorization code")
	}
	if pending.Nonce == "" || pending.Verifier == "" {
		return Identity{}, errors.New("sso: pending login is incomplete")
	}

	d, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), requestTimeout)
	defer cancel()

	tok, err := d.oauth.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("sso: code exchange failed: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, errors.New("sso: token response has no id_token")
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("sso: invalid id_token: %w", err)
	}
	// go-oidc leaves the nonce to us; it is what binds this token to this
	// browser's login rather than to one an attacker captured elsewhere.
	if !equal(idt.Nonce, pending.Nonce) {
		return Identity{}, errors.New("sso: id_token nonce mismatch")
	}
	// at_hash is optional in the code flow, but when present a mismatch means
	// the token response was tampered with.
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return Identity{}, fmt.Errorf("sso: id_token at_hash: %w", err)
		}
	}
	if idt.Subject == "" {
		return Identity{}, errors.New("sso: id_token has no subject")
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return Identity{}, fmt.Errorf("sso: id_token claims: %w", err)
	}
	id := c.identity()
	id.Issuer, id.Subject = idt.Issuer, idt.Subject
	return id, nil
}

// claims are the ID token claims Parley uses beyond the registered ones.
type claims struct {
	Email         string   `json:"email"`
	EmailVerified lenientB `json:"email_verified"`
	Name          string   `json:"name"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
}

func (c claims) identity() Identity {
	name := strings.TrimSpace(c.Name)
	if name == "" {
		name = strings.TrimSpace(strings.TrimSpace(c.GivenName) + " " + strings.TrimSpace(c.FamilyName))
	}
	return Identity{
		Email:         strings.TrimSpace(c.Email),
		EmailVerified: bool(c.EmailVerified),
		Name:          name,
	}
}

// lenientB accepts email_verified as a JSON bool or as the string "true"
// (some providers, e.g. older Cognito and ADFS, send strings). Anything else
// reads as false rather than failing: an unparseable claim must not lock the
// user out, and false is the safe answer for account linking.
type lenientB bool

func (b *lenientB) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = lenientB(v)
	case string:
		*b = lenientB(strings.EqualFold(strings.TrimSpace(v), "true"))
	default:
		*b = false
	}
	return nil
}

// randomToken returns 256 bits from crypto/rand, URL-safe; enough that state
// and nonce cannot be guessed.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24; it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// equal compares secrets in constant time so response timing does not leak
// how much of a guessed state matched.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
