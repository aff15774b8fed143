package page

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/web/session"
)

// CSP allows only Parley's own files: no inline script or style, no
// framing, forms post only to Parley. img-src allows data: for nothing
// but the tiny inline icons browsers make of form controls.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Proxies are the addresses (TRUSTED_PROXIES) whose X-Forwarded-For and
// X-Forwarded-Proto headers are believed.
type Proxies []netip.Prefix

// ParseProxies reads a comma-separated list of addresses and CIDR ranges.
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Trusted reports whether the request came straight from a trusted proxy.
func (p Proxies) Trusted(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// HTTPS reports whether the browser's connection is https: TLS to Parley
// itself, or X-Forwarded-Proto from a trusted proxy.
func (p Proxies) HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return p.Trusted(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders(p Proxies) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if p.HTTPS(c.Request) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}

// AllowedHosts answers 400 to a Host header not in hosts (compared
// without the port), as Django's ALLOWED_HOSTS: links in password reset
// mail are built from ORIGIN, never from Host, but a cache or a log in
// front of Parley should not be fed pages for a host it is not. The
// health check answers any host, for load balancers that probe by address.
func AllowedHosts(hosts []string, healthPath string) gin.HandlerFunc {
	allowed := map[string]bool{}
	for _, h := range hosts {
		allowed[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return func(c *gin.Context) {
		if allowed["*"] || c.Request.URL.Path == healthPath {
			c.Next()
			return
		}
		host := c.Request.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(strings.ToLower(host), "[]")
		if !allowed[host] {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "this server does not answer for the host " + c.Request.Host})
			return
		}
		c.Next()
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// Body limits of page forms.
const (
	MaxFormBytes   = 1 << 20
	MaxUploadBytes = 6 << 20 // a 5 MB picture and the form around it
)

// StreamBody lets the POST route pattern (as gin's FullPath reports it,
// path prefix included) read its own multipart body as a stream: for
// such a request the CSRF guard neither bounds nor parses the body, and
// takes the token from the X-CSRF-Token header or from the csrf_token
// query parameter (which the route's form puts in its action URL),
// never from the body. The handler must then bound the body itself
// (http.MaxBytesReader) and read it with Request.MultipartReader, so an
// upload larger than MaxUploadBytes goes to disk as it arrives instead
// of being refused or held in memory. Call it while registering routes,
// before the server starts. A form posted to the route that is not
// multipart is guarded as any other.
func (s *Shell) StreamBody(route string) {
	if s.streamed == nil {
		s.streamed = map[string]bool{}
	}
	s.streamed[route] = true
}

// CSRF refuses a state-changing request (any method but GET, HEAD and
// OPTIONS) without the form's token, or from a page on another origin.
//
// It also bounds the body before anything reads it: MaxFormBytes for a
// plain form, MaxUploadBytes for one with files, answering 413 beyond;
// except on the routes of StreamBody, whose handlers read their own.
func (s *Shell) CSRF(c *gin.Context) {
	if !unsafeMethod(c.Request.Method) {
		c.Next()
		return
	}
	limit := int64(MaxFormBytes)
	multipartForm := c.ContentType() == "multipart/form-data"
	if multipartForm {
		limit = MaxUploadBytes
	}
	streamed := multipartForm && s.streamed[c.FullPath()]
	if !streamed {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		var err error
		if multipartForm {
			err = c.Request.ParseMultipartForm(1 << 20)
		} else {
			err = c.Request.ParseForm()
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || (err != nil && strings.Contains(err.Error(), "too large")) {
			s.ErrorPage(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("What you sent is larger than the %d MB this form takes.", limit>>20))
			return
		}
		if err != nil {
			s.ErrorPage(c, http.StatusBadRequest, "The form could not be read. Go back and try again.")
			return
		}
	}
	if o := c.GetHeader("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Scheme, s.Origin.Scheme) || !strings.EqualFold(u.Host, s.Origin.Host) {
			s.ErrorPage(c, http.StatusForbidden, "This form was sent from another site, so Parley refused it.")
			return
		}
	}
	if !streamed && !s.Sessions.ValidCSRF(c) || streamed && !s.validStreamedCSRF(c) {
		s.ErrorPage(c, http.StatusForbidden, "This form has expired or was not sent from Parley. Go back, reload the page and try again.")
		return
	}
	c.Next()
}

// validStreamedCSRF checks the token of a StreamBody request: the
// header, else the query parameter; the body is left unread.
func (s *Shell) validStreamedCSRF(c *gin.Context) bool {
	got := c.GetHeader(session.CSRFHeader)
	if got == "" {
		got = c.Query(session.CSRFField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(s.Sessions.CSRFToken(c)))
}

// RequireUser sends a signed-out visitor to the sign-in page, and back
// here afterwards.
func (s *Shell) RequireUser(c *gin.Context) {
	if session.Get(c) != nil {
		c.Next()
		return
	}
	if c.Request.Method != http.MethodGet {
		s.ErrorPage(c, http.StatusForbidden, "Sign in first.")
		return
	}
	s.Redirect(c, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
}

// RequireTerms sends a member who has not accepted the terms of service
// to them before anything else. Some pages stay open before accepting:
// the terms themselves, log out, confirming an address, and the member's
// data rights (export, deletion), which do not depend on agreeing to
// anything.
func (s *Shell) RequireTerms(c *gin.Context) {
	cur := session.Get(c)
	if cur == nil || cur.User.TermsAcceptedAt != nil || cur.Impersonator != nil {
		c.Next()
		return
	}
	switch strings.TrimPrefix(c.Request.URL.Path, s.Base) {
	case "/terms", "/logout", "/verify-email", "/verify-email/resend", "/confirm-new-email", "/account/export", "/account/delete":
		c.Next()
		return
	}
	if c.Request.Method != http.MethodGet {
		s.ErrorPage(c, http.StatusForbidden, "Accept the terms of service first.")
		return
	}
	s.Redirect(c, "/terms?next="+url.QueryEscape(c.Request.URL.RequestURI()))
}

// SafeNext returns a local path to go to after sign-in: only a path under
// the prefix, never another site ("//evil.example", "https://…").
func (s *Shell) SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n") {
		return ""
	}
	if s.Base != "" {
		if next != s.Base && !strings.HasPrefix(next, s.Base+"/") {
			return ""
		}
		return strings.TrimPrefix(next, s.Base)
	}
	return next
}
