package main

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/templates"
	"github.com/parleymail/parley/web/sso"
)

// loadTerms renders the terms of service: DATA_DIR/terms.md when the
// operator wrote one, else Parley's default text. Markdown, sanitised
// like any other rendered text.
func loadTerms(cfg *config.Config) (template.HTML, error) {
	src, err := os.ReadFile(cfg.TermsFile())
	if errors.Is(err, fs.ErrNotExist) {
		src, err = fs.ReadFile(templates.FS, "web/terms_default.md")
		if err == nil {
			src = bytes.ReplaceAll(src, []byte("{{BRAND}}"), []byte(cfg.BrandTitle))
		}
	}
	if err != nil {
		return "", fmt.Errorf("reading the terms of service: %w", err)
	}
	var buf bytes.Buffer
	if err := goldmark.Convert(src, &buf); err != nil {
		return "", fmt.Errorf("rendering the terms of service: %w", err)
	}
	return template.HTML(bluemonday.UGCPolicy().SanitizeBytes(buf.Bytes())), nil
}

// ssoProvider configures single sign-on when OIDC_ISSUER is set. It does
// not contact the provider: that happens at the first "Sign in with".
func ssoProvider(cfg *config.Config) (*sso.Provider, error) {
	if cfg.OIDCIssuer == "" {
		return nil, nil
	}
	cb := *cfg.Origin
	cb.Path = strings.TrimRight(cb.Path, "/") + "/login/oidc/callback"
	p, err := sso.New(sso.Config{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCSecret,
		RedirectURL: cb.String(), Name: cfg.OIDCName})
	if err != nil {
		return nil, configError{fmt.Errorf("OIDC_ISSUER: %w", err)}
	}
	return p, nil
}
