// Package web is Parley's HTTP face: the gin engine, its middleware, the
// health and metrics endpoints, and (in sub-packages) the JSON API and,
// later, the pages. Handlers ask mailflow's policy functions for every
// permission and call the store and the posting service for every change.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/api"
	"github.com/parleymail/parley/web/maillinks"
	"github.com/parleymail/parley/web/webhooks"
)

// Deps are what the web server needs.
type Deps struct {
	Store        *store.Store
	Posting      *posting.Service
	Metrics      *metrics.Metrics
	Log          *slog.Logger
	SecretKey    string
	MailDomain   string
	Keys         sign.Keys // EMAIL_SECRET_KEY (and the previous one)
	Origin       *url.URL  // its path, if any, prefixes every route
	BrandTitle   string
	Organization string
	OutboxDir    string         // development only: serve /dev/outbox from here
	Webhooks     *webhooks.Deps // provider bounce webhooks; nil: none
}

// New returns the HTTP handler for everything Parley serves.
func New(d Deps) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(observe(d.Metrics, d.Log), recoverJSON(d.Log))

	base := r.Group("/")
	if d.Origin != nil && d.Origin.Path != "" {
		base = r.Group(d.Origin.Path)
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

	api.Register(base.Group("/api/v1"), api.Deps{
		Store: d.Store, Posting: d.Posting, Log: d.Log, SecretKey: d.SecretKey, MailDomain: d.MailDomain,
	})
	if d.Webhooks != nil {
		wd := *d.Webhooks
		if wd.Log == nil {
			wd.Log = d.Log
		}
		webhooks.Register(base, wd)
	}
	if err := maillinks.Register(base, maillinks.Deps{
		Store: d.Store, Keys: d.Keys, Origin: d.Origin, BrandTitle: d.BrandTitle, Organization: d.Organization,
		OutboxDir: d.OutboxDir, Log: d.Log,
	}); err != nil {
		return nil, err
	}
	r.NoRoute(func(c *gin.Context) {
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
	})
	r.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"})
	})
	return r, nil
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

// recoverJSON turns a panic into a plain 500 that shows no internals.
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
