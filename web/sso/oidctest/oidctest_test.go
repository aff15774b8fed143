package oidctest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The sso tests cover client_secret_basic; these cover what they cannot
// reach: client_secret_post and the provider's refusals.

func code(t *testing.T, p *Provider, verifier string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id":             {p.ClientID},
		"redirect_uri":          {"https://rp.example/cb"},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	c := *p.Client() // a copy: the server's client is shared
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(p.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

func post(t *testing.T, p *Provider, form url.Values, basic bool) int {
	t.Helper()
	req, _ := http.NewRequest("POST", p.URL+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret))
	}
	resp, err := p.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestToken(t *testing.T) {
	p := New(t)
	form := func(code, secret string) url.Values {
		return url.Values{
			"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"https://rp.example/cb"}, "code_verifier": {"verifier-verifier-verifier-verifier-verifier"},
			"client_id": {p.ClientID}, "client_secret": {secret},
		}
	}
	c := code(t, p, "verifier-verifier-verifier-verifier-verifier")
	if got := post(t, p, form(c, p.ClientSecret), false); got != http.StatusOK {
		t.Errorf("client_secret_post: status %d", got)
	}
	if got := post(t, p, form(c, p.ClientSecret), false); got != http.StatusBadRequest {
		t.Errorf("replay: status %d, want 400", got)
	}

	c = code(t, p, "verifier-verifier-verifier-verifier-verifier")
	if got := post(t, p, form(c, "wrong"), false); got != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d, want 401", got)
	}
	if got := post(t, p, form(c, p.ClientSecret), true); got != http.StatusBadRequest {
		t.Errorf("two auth methods: status %d, want 400", got)
	}

	c = code(t, p, "verifier-verifier-verifier-verifier-verifier")
	f := form(c, p.ClientSecret)
	f.Set("redirect_uri", "https://rp.example/other")
	if got := post(t, p, f, false); got != http.StatusBadRequest {
		t.Errorf("other redirect_uri: status %d, want 400", got)
	}
}

func TestAuthorizeRefuses(t *testing.T) {
	p := New(t)
	for name, q := range map[string]string{
		"unknown client":  "client_id=nope&redirect_uri=https://rp.example/cb&response_type=code&scope=openid&code_challenge=x&code_challenge_method=S256",
		"no redirect":     "client_id=" + p.ClientID + "&response_type=code&scope=openid&code_challenge=x&code_challenge_method=S256",
		"implicit flow":   "client_id=" + p.ClientID + "&redirect_uri=https://rp.example/cb&response_type=token&scope=openid&code_challenge=x&code_challenge_method=S256",
		"plain PKCE":      "client_id=" + p.ClientID + "&redirect_uri=https://rp.example/cb&response_type=code&scope=openid&code_challenge=x&code_challenge_method=plain",
		"no openid scope": "client_id=" + p.ClientID + "&redirect_uri=https://rp.example/cb&response_type=code&scope=email&code_challenge=x&code_challenge_method=S256",
	} {
		c := *p.Client() // a copy: the server's client is shared
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(p.URL + "/authorize?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}
}
