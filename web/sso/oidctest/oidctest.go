// Package oidctest runs a small but real OpenID Connect provider on an
// httptest server, for tests of code that logs users in through OIDC.
//
// It exists so those tests exercise the genuine protocol (discovery, a
// signed ID token checked against a JWKS, PKCE, single-use codes) instead of
// a mock that agrees with whatever the client does: a relying-party bug that
// a real provider would reject must make the tests fail too. It enforces the
// parts of the spec whose absence would hide such bugs and skips the rest
// (no login page, no consent, no refresh tokens, no userinfo).
//
// Authorization is automatic: /authorize immediately redirects back for the
// user set with SetUser, or with error=access_denied after SetDeny(true).
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// codeTTL is short because codes are redeemed by the test right away; a
// long-lived code would hide a client that dawdles or retries.
const codeTTL = time.Minute

// User is who "logs in" at the provider.
type User struct {
	Subject, Email, Name string
	EmailVerified        bool
}

// Provider is a running test provider. URL is its issuer.
type Provider struct {
	URL                    string
	ClientID, ClientSecret string

	srv    *httptest.Server
	signer jose.Signer
	jwks   jose.JSONWebKeySet

	mu    sync.Mutex
	user  User
	deny  bool
	codes map[string]grant
}

// grant is what /authorize promised, to be checked and redeemed at /token.
type grant struct {
	clientID, redirectURI string
	challenge, nonce      string
	user                  User
	expires               time.Time
}

// New starts a provider; it is shut down when the test ends. The first user
// is a verified alice@example.org.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest: generate key: %v", err)
	}
	kid := rand.Text()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.RS256)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatalf("oidctest: signer: %v", err)
	}
	p := &Provider{
		ClientID:     "parley-test",
		ClientSecret: rand.Text(),
		signer:       signer,
		jwks: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
			Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig",
		}}},
		user:  User{Subject: "alice-1", Email: "alice@example.org", Name: "Alice Example", EmailVerified: true},
		codes: map[string]grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// SetUser sets who logs in at the next /authorize.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// SetDeny makes /authorize refuse (error=access_denied), as when the user
// declines consent.
func (p *Provider) SetDeny(deny bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = deny
}

// Client returns an HTTP client for talking to the provider.
func (p *Provider) Client() *http.Client { return p.srv.Client() }

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.jwks)
}

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Problems with the client or redirect URI get a plain 400: redirecting
	// to an unvalidated redirect_uri would make the provider an open
	// redirector, which is what real providers refuse too.
	if q.Get("client_id") != p.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Host == "" {
		http.Error(w, "redirect_uri missing or not absolute", http.StatusBadRequest)
		return
	}
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case !hasScope(q.Get("scope"), "openid"):
		http.Error(w, "scope must include openid", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		http.Error(w, "PKCE with code_challenge_method=S256 is required", http.StatusBadRequest)
		return
	}

	back := redirect.Query()
	if s := q.Get("state"); s != "" {
		back.Set("state", s)
	}
	p.mu.Lock()
	if p.deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "the user declined")
	} else {
		code := rand.Text()
		p.codes[code] = grant{
			clientID:    p.ClientID,
			redirectURI: q.Get("redirect_uri"),
			challenge:   q.Get("code_challenge"),
			nonce:       q.Get("nonce"),
			user:        p.user,
			expires:     time.Now().Add(codeTTL),
		}
		back.Set("code", code)
	}
	p.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: credentials are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			tokenError(w, http.StatusUnauthorized, "invalid_client", "malformed credentials")
			return
		}
		if r.PostForm.Has("client_secret") {
			tokenError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		}
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", gt)
		return
	}

	// The code is spent by any authenticated attempt, successful or not, so
	// a replay fails even if the first redemption was botched.
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	p.mu.Unlock()
	switch {
	case !ok || time.Now().After(g.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != id:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code was issued to another client")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}

	access := rand.Text()
	now := time.Now()
	claims := map[string]any{
		"iss":            p.URL,
		"sub":            g.user.Subject,
		"aud":            id,
		"azp":            id,
		"exp":            now.Add(time.Hour).Unix(),
		"iat":            now.Unix(),
		"at_hash":        atHash(access),
		"email":          g.user.Email,
		"email_verified": g.user.EmailVerified,
		"name":           g.user.Name,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	idToken, err := jws.CompactSerialize()
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     idToken,
	})
}

// atHash is the OIDC at_hash for RS256: the left half of SHA-256.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

func hasScope(scope, want string) bool {
	for s := range strings.FieldsSeq(scope) {
		if s == want {
			return true
		}
	}
	return false
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
