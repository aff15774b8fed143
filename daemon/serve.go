package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow/inbound/imapin"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/pgembed"
	"github.com/parleymail/parley/web"
)

// migrate applies Parley's migrations and the job queue's.
func migrate(ctx context.Context, st *store.Store, log *slog.Logger) ([]string, error) {
	applied, err := st.Migrate(ctx, log)
	if err != nil {
		return applied, fmt.Errorf("migrating database: %w", err)
	}
	return applied, nil
}

// cmdServe runs everything in one process. Start-up order: configuration,
// listeners (so a port in use fails before anything starts), database,
// migrations, then the servers. Shutdown runs the other way: stop
// accepting, let in-flight requests finish within the grace period, close
// the pool, stop the embedded database.
// serveMemoryLimit is serve's soft memory limit unless GOMEMLIMIT says
// otherwise.
const serveMemoryLimit = 200 << 20

func cmdServe(e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 0 {
		fs.Usage()
		return exitConfig
	}
	started := time.Now()
	cfg, ok := e.loadConfigWithSecrets()
	if !ok {
		return exitConfig
	}
	log := e.logger(cfg)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit: the garbage collector works harder near it rather
		// than letting the heap double past what is live. Large mail in
		// flight is what makes the heap jump (see inbound.DefaultMemoryBudget).
		debug.SetMemoryLimit(serveMemoryLimit)
	}

	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: HTTP_ADDR: cannot listen on %s: %v\n", cfg.HTTPAddr, unwrapNetErr(err))
		return exitConfig
	}
	defer httpLn.Close()
	smtpLn, err := net.Listen("tcp", cfg.SMTPAddr)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: SMTP_ADDR: cannot listen on %s: %v\n", cfg.SMTPAddr, unwrapNetErr(err))
		return exitConfig
	}
	defer smtpLn.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	st, closeDB, err := openStore(ctx, cfg, log, pgembed.RoleServe)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	defer closeDB()
	if _, err := migrate(ctx, st, log); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}

	c, err := buildCore(cfg, st, transportFor(cfg, log), log)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		var ce configError
		if errors.As(err, &ce) {
			return exitConfig
		}
		return exitFail
	}
	srv, code := e.webServer(cfg, st, c, log)
	if code != exitOK {
		return code
	}
	poller, err := imapPoller(cfg, c, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: IMAP_URL: %v\n", err)
		return exitConfig
	}
	if err := c.queue.Start(ctx); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: starting job queue: %v\n", err)
		return exitFail
	}
	stopBackground := runBackground(ctx, c, st, poller, log)
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(httpLn) }()
	go func() {
		if err := c.intake.Serve(smtpLn); err != nil {
			serveErr <- fmt.Errorf("SMTP listener: %w", err)
		}
	}()
	log.Info("parleyd is ready", "version", version, "http", "http://"+httpLn.Addr().String(), "smtp", smtpLn.Addr().String(),
		"origin", cfg.Origin.String(), "env", cfg.Env, "email_backend", cfg.EmailBackend,
		"startup", time.Since(started).Round(time.Millisecond))
	if cfg.EmailBackend == "file" {
		log.Info("development mail is written to files", "dir", cfg.OutboxDir())
	}

	status := exitOK
	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", cfg.ShutdownGrace)
	case err := <-serveErr:
		log.Error("HTTP server stopped", "err", err)
		status = exitFail
	}
	stop() // a second Ctrl-C now kills at once
	shutdown(cfg, srv, c, stopBackground, log)
	return status
}

// webServer builds the HTTP server of the web UI, the API and the
// webhooks. A non-zero code is the exit status of a failure, told on
// stderr.
func (e *env) webServer(cfg *config.Config, st *store.Store, c *core, log *slog.Logger) (*http.Server, int) {
	outbox := ""
	if !cfg.Production() {
		outbox = cfg.OutboxDir()
	}
	terms, err := loadTerms(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return nil, exitConfig
	}
	sp, err := ssoProvider(cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: %v\n", err)
		return nil, exitConfig
	}
	handler, err := web.New(web.Deps{
		Store: st, Metrics: c.metrics, Log: log,
		Site: web.Site{Origin: cfg.Origin, BrandTitle: cfg.BrandTitle, Organization: cfg.Organization, MailDomain: cfg.MailDomain,
			Terms: terms, OutboxDir: outbox},
		Guard: web.Guard{SecretKey: cfg.SecretKey, Keys: c.keys, AllowedHosts: cfg.AllowedHosts, TrustedProxies: cfg.TrustedProxies,
			SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax, SSO: sp},
		Posting: c.posting, Accounts: c.accts, Notices: c.notices, Files: c.files, Pictures: c.pictures, Webhooks: c.hooks, Now: cfg.Now,
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return nil, exitFail
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, exitOK
}

// imapPoller returns the IMAP intake IMAP_URL asks for, or nil.
func imapPoller(cfg *config.Config, c *core, log *slog.Logger) (*imapin.Poller, error) {
	if cfg.IMAPURL == "" {
		return nil, nil
	}
	ic, err := imapin.ParseURL(cfg.IMAPURL)
	if err != nil {
		return nil, err
	}
	ic.PollInterval, ic.DoneFolder = cfg.IMAPPoll, cfg.IMAPDoneFolder
	return imapin.New(ic, c.intake.IngestIMAP, log), nil
}

// runBackground starts the work that runs beside the listeners: the
// senders, the fan-out rescuer, account pruning and the IMAP poller. They
// outlive ctx (the shutdown signal) until the returned stop, so that the
// senders finish the message on the wire; stop waits for them.
func runBackground(ctx context.Context, c *core, st *store.Store, poller *imapin.Poller, log *slog.Logger) (stop func()) {
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { c.sender.Run(bctx) })
	go pruneAccounts(bctx, st, log)
	go c.fanout.RescueAbandoned(bctx)
	if poller != nil {
		wg.Go(func() {
			if err := poller.Run(bctx); err != nil {
				log.Error("IMAP intake stopped", "err", err)
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// shutdown stops serve in order within SHUTDOWN_GRACE: HTTP, then SMTP,
// then jobs, then the senders.
func shutdown(cfg *config.Config, srv *http.Server, c *core, stopBackground func(), log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("grace period over; closing remaining HTTP connections", "err", err)
		_ = srv.Close()
	}
	// An SMTP session cut short before its 250 leaves the message with
	// the sender, who retries: nothing accepted is lost.
	if err := c.intake.Shutdown(sctx); err != nil {
		log.Warn("grace period over; closing remaining SMTP sessions", "err", err)
	}
	// Jobs get the rest of the grace period, then are cancelled (river runs
	// them again later). Senders finish the message on the wire and hand
	// back the rest of their batch.
	if err := c.queue.Stop(sctx); err != nil {
		log.Warn("stopping job queue", "err", err)
	}
	stopBackground()
	log.Info("stopped")
}

func unwrapNetErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// pruneAccounts deletes ended sessions, old sign-in failures and the
// webhook tokens past their signature window every hour. Several daemons
// doing it at once is harmless.
func pruneAccounts(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := st.PruneAccounts(ctx, 24*time.Hour); err != nil && ctx.Err() == nil {
			log.Warn("pruning sessions", "err", err)
		}
		if _, err := st.PruneWebhookTokens(ctx); err != nil && ctx.Err() == nil {
			log.Warn("pruning webhook tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
