package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Provider is one email provider's webhook: what it is called, which
// settings turn it on, how its requests are authenticated and how its
// payloads read. The HTTP routes, the daemon's settings check,
// `parleyd inspect webhook` and the README's provider table all come from
// Providers, so a new provider is one new implementation of this
// interface added there.
type Provider interface {
	// Name is the provider's short name: Event.Provider, the route segment
	// under /mail/webhooks/ and the --provider of `parleyd inspect webhook`.
	Name() string
	// Title is the provider as people know it, for documentation.
	Title() string
	// Auth says how requests are authenticated, for documentation.
	Auth() string
	// Settings are the environment variables the provider reads.
	Settings() []Setting
	// Endpoint checks the settings' values (get returns "" for an unset
	// one) and builds the endpoint that authenticates and decodes
	// requests; nil and no error when the settings leave the provider off.
	// A wrong value is a *SettingError.
	Endpoint(get func(name string) string, env Env) (Endpoint, error)
	// Unverified decodes a saved payload WITHOUT checking any credential
	// or signature: for looking at payloads, never for requests.
	Unverified(body []byte) ([]Event, error)
}

// Setting is one environment variable a provider reads.
type Setting struct {
	Name    string
	Default string // "" for none
	Secret  bool   // masked when the configuration is shown
}

// SettingError is a setting's value that cannot be used.
type SettingError struct {
	Name string // the environment variable
	Msg  string
}

func (e *SettingError) Error() string { return e.Name + ": " + e.Msg }

// Env is what endpoints need from the running daemon.
type Env struct {
	// Tokens remembers Mailgun's used signature tokens; nil refuses every
	// Mailgun request.
	Tokens TokenCache
	// HTTPClient confirms SNS subscriptions. Nil: a client with a
	// 10-second timeout that follows no redirect.
	HTTPClient *http.Client
	Log        *slog.Logger // nil: discard
	Now        func() time.Time
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Request is one webhook call: its headers and its body (the caller
// bounds the body).
type Request struct {
	Header http.Header
	Body   []byte
}

// Endpoint authenticates a configured provider's requests and decodes
// them. Errors are ErrUnauthorized, ErrMalformed and ErrUnavailable
// (match with errors.Is), or a failure of ours (answer 5xx).
type Endpoint interface {
	Receive(ctx context.Context, r Request) ([]Event, error)
}

// Challenger is an Endpoint that answers a refused request with a
// WWW-Authenticate challenge (RFC 9110 §11.6.1).
type Challenger interface {
	Challenge() string
}

// Providers returns every provider Parley knows, in the order they are
// documented.
func Providers() []Provider {
	return []Provider{sesProvider{}, postmarkProvider{}, mailgunProvider{}, sendGridProvider{}}
}

// ProviderNamed returns the provider called name, or false.
func ProviderNamed(name string) (Provider, bool) {
	for _, p := range Providers() {
		if p.Name() == name {
			return p, true
		}
	}
	return nil, false
}

// Names returns the providers' names, in order.
func Names() []string {
	ps := Providers()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name()
	}
	return names
}

// Endpoints builds the endpoint of every provider the settings turn on,
// by name. It is also the check of the settings: a wrong value is a
// *SettingError.
func Endpoints(get func(name string) string, env Env) (map[string]Endpoint, error) {
	out := map[string]Endpoint{}
	for _, p := range Providers() {
		ep, err := p.Endpoint(get, env)
		if err != nil {
			return nil, err
		}
		if ep != nil {
			out[p.Name()] = ep
		}
	}
	return out, nil
}

// DecodeUnverified decodes a payload of provider (ProviderSES,
// ProviderPostmark, ProviderMailgun or ProviderSendGrid) WITHOUT checking
// any credential or signature. It is for looking at saved payloads
// (parleyd inspect webhook), never for requests. An SES payload may be an
// SNS message or a bare SES notification; a Mailgun one a webhook body or
// a bare event-data object.
func DecodeUnverified(provider string, body []byte) ([]Event, error) {
	p, ok := ProviderNamed(provider)
	if !ok {
		return nil, fmt.Errorf("unknown webhook provider %q", provider)
	}
	return p.Unverified(body)
}

// ProviderTable returns the Markdown table of the providers (the README
// holds a copy, and a test holds it to this).
func ProviderTable() string {
	var b strings.Builder
	b.WriteString("| Provider | Endpoint | Authenticated by | Settings |\n|---|---|---|---|\n")
	for _, p := range Providers() {
		var names []string
		for _, s := range p.Settings() {
			names = append(names, "`"+s.Name+"`")
		}
		fmt.Fprintf(&b, "| %s | `/mail/webhooks/%s` | %s | %s |\n", p.Title(), p.Name(), p.Auth(), strings.Join(names, ", "))
	}
	return b.String()
}
