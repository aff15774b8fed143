// Package web is Parley's HTTP face: the gin engine, its middleware, the
// health and metrics endpoints, and (in sub-packages) the JSON API and,
// later, the pages. Handlers ask mailflow's policy functions for every
// permission and call the store and the posting service for every change.
package web

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleymail/parley/mailflow/accounts"
	groupsvc "github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/account"
	"github.com/parleymail/parley/web/admin"
	"github.com/parleymail/parley/web/api"
	"github.com/parleymail/parley/web/groups"
	"github.com/parleymail/parley/web/inbox"
	"github.com/parleymail/parley/web/maillinks"
	"github.com/parleymail/parley/web/moderation"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/people"
	"github.com/parleymail/parley/web/resources"
	"github.com/parleymail/parley/web/session"
	"github.com/parleymail/parley/web/sso"
	"github.com/parleymail/parley/web/static"
	"github.com/parleymail/parley/web/threads"
	"github.com/parleymail/parley/web/webhooks"
)

// Deps are what the web server needs: the store, the installation's
// facts, what guards its requests, and the services its pages and API
// call, each built complete by the daemon.
type Deps struct {
	Store   *store.Store
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Site    Site
	Guard   Guard

	Posting  *posting.Service
	Accounts *accounts.Service // nil: no pages (tests of the API alone)
	Notices  notice.Sender     // writes and queues the group invitations and join decisions
	Files    *library.Library  // uploaded files (resources, and files posted with messages); nil: no uploads
	Pictures *picture.Gallery  // members' and groups' pictures; nil keeps their bytes in their rows
	Webhooks *webhooks.Deps    // provider bounce webhooks; nil: none
	// Now is the clock pauses of mail are judged by: the daemon's, which
	// a test can move; nil: time.Now.
	Now func() time.Time
}

// Site is what pages and links say of the installation.
type Site struct {
	Origin       *url.URL // its path, if any, prefixes every route
	BrandTitle   string
	Organization string
	MailDomain   string
	Terms        template.HTML // the terms of service, rendered
	OutboxDir    string        // development only: serve /dev/outbox from here
}

// Guard is what protects requests: the keys, the sessions, and which
// hosts and proxies are believed.
type Guard struct {
	SecretKey      string    // sessions, CSRF and API tokens
	Keys           sign.Keys // EMAIL_SECRET_KEY (and the previous one): links in mail
	AllowedHosts   []string  // Host headers answered; empty: any (tests of the API alone)
	TrustedProxies []string
	SessionIdle    time.Duration
	SessionMax     time.Duration
	SSO            *sso.Provider // nil: password sign-in only
}

// New returns the HTTP handler for everything Parley serves.
func New(d Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// gin trusts every proxy unless told otherwise: believe
	// X-Forwarded-For only from TRUSTED_PROXIES.
	if err := r.SetTrustedProxies(d.Guard.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	proxies, err := page.ParseProxies(d.Guard.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	prefix := strings.TrimRight(d.Site.Origin.Path, "/")
	r.Use(observe(d.Metrics, d.Log), recoverJSON(d.Log), page.SecurityHeaders(proxies))
	if len(d.Guard.AllowedHosts) > 0 {
		r.Use(page.AllowedHosts(d.Guard.AllowedHosts, prefix+"/healthz"))
	}

	base := r.Group("/")
	if prefix != "" {
		base = r.Group(prefix)
	}
	base.GET("/healthz", func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := d.Store.Ping(ctx); err != nil {
			d.Log.Warn("health check: database unreachable", "err", err)
			c.String(http.StatusServiceUnavailable, "database unreachable")
			return
		}
		c.String(http.StatusOK, "ok")
	})
	base.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))

	if d.Files == nil { // tests without uploads: the library refuses them
		d.Files = &library.Library{Store: d.Store, Thumb: picture.Normalize, Log: d.Log}
	}
	if d.Pictures == nil { // tests: pictures beside the files, or in their rows
		d.Pictures = picture.NewGallery(d.Store, d.Files.Blobs, d.Log)
	}
	// The group form and the API are two faces of one group service.
	groupSvc := groupsvc.New(d.Store, d.Pictures, d.Log)
	api.Register(base.Group("/api/v1"), api.Deps{
		Store: d.Store, Groups: groupSvc, Posting: d.Posting, Log: d.Log, SecretKey: d.Guard.SecretKey, MailDomain: d.Site.MailDomain,
	})
	if d.Webhooks != nil {
		wd := *d.Webhooks
		if wd.Log == nil {
			wd.Log = d.Log
		}
		if err := webhooks.Register(base, wd); err != nil {
			return nil, err
		}
	}
	assets, err := static.New(prefix)
	if err != nil {
		return nil, err
	}
	assets.Register(base)
	if err := maillinks.Register(base, maillinks.Deps{
		Store: d.Store, Keys: d.Guard.Keys, Origin: d.Site.Origin, BrandTitle: d.Site.BrandTitle, Organization: d.Site.Organization,
		Stylesheet: assets.URL("app.css"), Posting: d.Posting,
		OutboxDir: d.Site.OutboxDir, Log: d.Log, Now: d.Now,
	}); err != nil {
		return nil, err
	}
	shell, err := mountPages(base, d, assets, groupSvc)
	if err != nil {
		return nil, err
	}
	isAPI := func(c *gin.Context) bool { return strings.HasPrefix(c.Request.URL.Path, prefix+"/api/") }
	r.NoRoute(func(c *gin.Context) {
		if isAPI(c) || shell == nil {
			c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
			return
		}
		shell.ErrorPage(c, http.StatusNotFound, "")
	})
	r.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})
	return r, nil
}

// mountPages adds the web UI: static files, then every page behind the
// session, CSRF and terms-of-service guards. Without an accounts service
// (tests of the API alone) there are no pages.
func mountPages(base *gin.RouterGroup, d Deps, assets *static.Assets, groupSvc *groupsvc.Service) (*page.Shell, error) {
	links, err := urls.New(d.Site.Origin, d.Guard.Keys)
	if err != nil {
		return nil, err
	}
	if d.Accounts == nil {
		return nil, nil
	}
	sessions := &session.Manager{Store: d.Store, Key: d.Guard.SecretKey, Secure: d.Site.Origin.Scheme == "https",
		Path: cookiePath(d.Site.Origin), Idle: d.Guard.SessionIdle, Max: d.Guard.SessionMax, Log: d.Log}
	shell, err := page.New(page.Shell{Sessions: sessions, Assets: assets, Origin: d.Site.Origin, Brand: d.Site.BrandTitle,
		Organization: d.Site.Organization, Log: d.Log, Unread: d.Store.InboxBadge,
		Nav: []page.NavItem{{Key: "explore", Label: "Explore", Path: "/explore"}, {Key: "messages", Label: "Messages", Path: "/inbox"},
			{Key: "resources", Label: "Resources", Path: "/resources"}}})
	if err != nil {
		return nil, err
	}
	ui := base.Group("", recoverPage(shell, d.Log), sessions.Load, shell.CSRF, shell.CheckInput, admin.AuditImpersonation(d.Store), shell.RequireTerms)
	account.Register(ui, account.Deps{Shell: shell, Accounts: d.Accounts, Store: d.Store, SSO: d.Guard.SSO, Terms: d.Site.Terms,
		SecretKey: d.Guard.SecretKey, Log: d.Log, Now: d.Now})
	people.Register(ui, people.Deps{Shell: shell, Store: d.Store, Pictures: d.Pictures})
	admin.Register(ui, admin.Deps{Shell: shell, Store: d.Store, Log: d.Log, Accounts: d.Accounts, Now: d.Now})
	groups.Register(ui, groups.Deps{Shell: shell, Store: d.Store, Groups: groupSvc, Keys: d.Guard.Keys, URLs: links, Notices: d.Notices,
		MailDomain: d.Site.MailDomain, Log: d.Log})
	threads.Register(ui, threads.Deps{Shell: shell, Store: d.Store, Posting: d.Posting, MailDomain: d.Site.MailDomain, Log: d.Log,
		Files: d.Files})
	inbox.Register(ui, inbox.Deps{Shell: shell, Store: d.Store, Log: d.Log})
	moderation.Register(ui, moderation.Deps{Shell: shell, Store: d.Store, Posting: d.Posting, Log: d.Log})
	resources.Register(ui, resources.Deps{Shell: shell, Store: d.Store, Files: d.Files, Keys: d.Guard.Keys, Log: d.Log})
	return shell, nil
}

// cookiePath scopes cookies to the path prefix, so a Parley under
// /lists does not see or set cookies of other applications on the host.
func cookiePath(origin *url.URL) string {
	p := strings.TrimRight(origin.Path, "/")
	if p == "" {
		return "/"
	}
	return p
}

// recoverPage turns a panic in a page into the friendly 500 page.
func recoverPage(shell *page.Shell, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic in page", "path", c.Request.URL.Path, "panic", p)
				shell.ErrorPage(c, http.StatusInternalServerError, "")
			}
		}()
		c.Next()
	}
}

// observe counts every request by route template (never by raw path, which
// would make one series per URL) and logs it at debug level.
func observe(m *metrics.Metrics, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		m.HTTPRequests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
		log.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path, "status", status, "duration", time.Since(start))
	}
}

// recoverJSON turns a panic into a plain 500 that shows no internals
// (pages have their own, recoverPage, which answers with the 500 page).
func recoverJSON(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic in handler", "path", c.Request.URL.Path, "panic", p)
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			}
		}()
		c.Next()
	}
}
