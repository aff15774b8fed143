package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/inbound"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/modmail"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/queue"
	"github.com/parleymail/parley/mailflow/retention"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/webhooks"
)

// core is the headless daemon: everything but the listeners.
type core struct {
	store    *store.Store
	metrics  *metrics.Metrics
	keys     sign.Keys
	posting  *posting.Service
	queue    *queue.Queue
	sender   *outbound.Sender
	fanout   *outbound.FanoutWorker
	intake   *inbound.Server
	bounces  *bounce.Service
	hooks    *webhooks.Deps
	digests  *digest.Service
	accts    *accounts.Service
	notices  *notice.Renderer // writes and queues the mail Parley sends on its own behalf
	blobs    blobstore.Store  // uploaded files: pictures, resources, attachments
	pictures *picture.Gallery
	files    *library.Library // resources and files posted with messages
	blobTmp  string           // where uploads are staged (DATA_DIR/tmp)
	retain   *retention.Service
}

// configError marks an error that is the operator's configuration (exit 2).
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// transportFor picks the outbound transport EMAIL_BACKEND names.
func transportFor(cfg *config.Config, log *slog.Logger) outbound.Transport {
	switch cfg.EmailBackend {
	case "smtp":
		return outbound.NewSMTP(outbound.SMTPConfig{
			Host: cfg.EmailHost, Port: cfg.EmailPort, Username: cfg.EmailHostUser, Password: cfg.EmailHostPassword,
			StartTLS: cfg.EmailUseTLS, ImplicitTLS: cfg.EmailUseSSL, Timeout: cfg.EmailTimeout, HelloName: cfg.MailDomain,
		}, log)
	case "file":
		return outbound.NewFile(cfg.OutboxDir())
	default:
		return outbound.NewDiscard()
	}
}

// openBlobs opens the store RESOURCE_STORAGE names and creates the
// staging directory. S3 is checked now (the bucket must exist), so that a
// wrong endpoint or bucket stops the daemon at start, not at the first
// upload.
func openBlobs(cfg *config.Config) (blobstore.Store, string, error) {
	tmp := cfg.BlobTmpDir()
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating the upload staging directory: %w", err)
	}
	if cfg.ResourceStorage == "s3" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s3, err := blobstore.NewS3(ctx, blobstore.S3Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Region: cfg.S3Region,
			AccessKeyID: cfg.S3AccessKeyID, SecretAccessKey: cfg.S3SecretAccessKey, UseSSL: cfg.S3UseSSL})
		if err != nil {
			return nil, "", fmt.Errorf("RESOURCE_STORAGE=s3: %w", err)
		}
		return s3, tmp, nil
	}
	local, err := blobstore.NewLocal(cfg.BlobDir())
	if err != nil {
		return nil, "", err
	}
	return local, tmp, nil
}

// buildCore wires the domain services on an open, migrated store, each
// complete when built, in dependency order: what a service needs of
// another is passed to its constructor, and jobs are enqueued through the
// store's transactions, so no service needs the queue. The queue comes
// last, with the workers it runs.
func buildCore(cfg *config.Config, st *store.Store, transport outbound.Transport, log *slog.Logger) (*core, error) {
	c := &core{store: st, metrics: metrics.New(), keys: sign.Keys{Current: cfg.EmailSecretKey, Previous: cfg.EmailSecretKeyPrevious}}
	var err error
	if c.blobs, c.blobTmp, err = openBlobs(cfg); err != nil {
		return nil, err
	}
	// Pictures' bytes go to the blob store; the store keeps their rows.
	c.pictures = picture.NewGallery(st, c.blobs, log)
	c.files = &library.Library{Store: st, Blobs: c.blobs, TmpDir: c.blobTmp, MaxBytes: cfg.ResourceMaxBytes, Thumb: picture.Normalize, Log: log}
	var dk *outbound.DKIM
	if cfg.DKIMDomain != "" {
		if dk, err = outbound.LoadDKIM(cfg.DKIMDomain, cfg.DKIMSelector, cfg.DKIMPrivateKeyFile); err != nil {
			return nil, configError{fmt.Errorf("DKIM_PRIVATE_KEY_FILE: %w", err)}
		}
	}
	links, err := urls.New(cfg.Origin, c.keys)
	if err != nil {
		return nil, configError{fmt.Errorf("ORIGIN: %w", err)}
	}
	if c.notices, err = notice.NewRenderer(cfg.BrandTitle); err != nil {
		return nil, err
	}
	c.posting = posting.New(st, cfg.MailDomain, log, posting.Hooks{
		Accept: []posting.Hook{outbound.EnqueueFanout, modmail.Notices(c.keys, links, c.notices, cfg.MailDomain)},
		Decide: []posting.DecideHook{modmail.VetoNotices(c.notices)},
	})
	c.bounces = &bounce.Service{Store: st, Keys: c.keys, URLs: links, Notices: c.notices, Log: log,
		Settings: bounce.Settings{Threshold: cfg.BounceThreshold, StaleAfter: time.Duration(cfg.BounceStaleDays) * 24 * time.Hour,
			DisableWarnings: cfg.BounceDisableWarnings, WarningInterval: time.Duration(cfg.BounceWarningDays) * 24 * time.Hour}}
	renderer, err := outbound.NewRenderer(outbound.Site{
		URLs: links, BrandTitle: cfg.BrandTitle, Organization: cfg.Organization, MailDomain: cfg.MailDomain,
	}, dk)
	if err != nil {
		return nil, err
	}
	c.sender = outbound.NewSender(st, renderer, transport, c.keys, links, cfg.MailDomain, c.metrics, log, outbound.SenderConfig{
		Workers: cfg.EmailConcurrency, RateLimit: cfg.EmailRateLimit, Lease: cfg.DeliveryLease, RetryFor: cfg.EmailRetryFor,
		Failures: c.bounces, Files: c.blobs,
	})
	c.fanout = &outbound.FanoutWorker{Store: st, Wake: c.sender.Wake, Log: log, Lease: cfg.DeliveryLease, Now: cfg.Now}
	processor := &inbound.Processor{Store: st, Posting: c.posting, Bounces: c.bounces, Keys: c.keys, MailDomain: cfg.MailDomain,
		URLs: links, Notices: c.notices, Limits: mailparse.Limits{MaxAttachmentBytes: cfg.MaxMessageBytes}, Log: log,
		DefaultFrom: cfg.DefaultFromAddress, Metrics: c.metrics, Memory: inbound.NewMemoryBudget(inbound.DefaultMemoryBudget),
		Library:    c.files,
		SenderAuth: newSenderAuth(cfg)}
	digestRenderer, err := digest.NewRenderer(digest.Site{URLs: links, BrandTitle: cfg.BrandTitle, Organization: cfg.Organization,
		MailDomain: cfg.MailDomain, FromEmail: cfg.DefaultFromEmail}, c.keys)
	if err != nil {
		return nil, err
	}
	c.digests = &digest.Service{Store: st, Renderer: digestRenderer, Transport: transport, Domain: cfg.MailDomain, DKIM: dk, Log: log,
		Schedule: digest.Schedule{Hour: cfg.DigestHour, Weekday: cfg.DigestWeekday}, Enqueue: true, Now: cfg.Now}
	c.accts = &accounts.Service{Store: st, Keys: c.keys, URLs: links, Notices: c.notices, Pictures: c.pictures, Log: log}
	c.hooks = &webhooks.Deps{Bounces: c.bounces, Settings: cfg.Webhooks, Log: log}
	if c.intake, err = newIntake(cfg, st, c.keys, c.metrics, log, c.blobTmp); err != nil {
		return nil, err
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, c.fanout)
	river.AddWorker(workers, &outbound.SystemMailWorker{Transport: transport, From: cfg.DefaultFromEmail, MailDomain: cfg.MailDomain, DKIM: dk, Log: log})
	river.AddWorker(workers, processor)
	river.AddWorker(workers, &bounce.WarningsWorker{Service: c.bounces})
	river.AddWorker(workers, &digest.ScanWorker{Service: c.digests, Now: cfg.Now})
	river.AddWorker(workers, &digest.SendWorker{Service: c.digests})
	digestScan, err := digest.Periodic(cfg.DigestCron)
	if err != nil {
		return nil, configError{err}
	}
	// Retention: old rows leave the hot tables on RETENTION_CRON.
	c.retain = &retention.Service{Store: st, Log: log, Policy: retention.Policy{
		Deliveries: cfg.DeliveryRetention, Inbound: cfg.InboundRetention, BounceEvents: cfg.BounceEventRetention}}
	river.AddWorker(workers, &retention.Worker{Service: c.retain})
	prune, err := retention.Periodic(cfg.RetentionCron)
	if err != nil {
		return nil, configError{err}
	}
	if c.queue, err = queue.New(st, queue.Options{Workers: workers, Log: log, Lease: cfg.DeliveryLease, Periodic: []*river.PeriodicJob{bounce.PeriodicWarnings(), digestScan, prune}}); err != nil {
		return nil, err
	}
	registerGauges(c.metrics, st)
	return c, nil
}

// newIntake builds the SMTP/LMTP listener from the SMTP_* settings.
func newIntake(cfg *config.Config, st *store.Store, keys sign.Keys, m *metrics.Metrics, log *slog.Logger, spool string) (*inbound.Server, error) {
	var tlsCfg *tls.Config
	if cfg.SMTPTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.SMTPTLSCert, cfg.SMTPTLSKey)
		if err != nil {
			return nil, configError{fmt.Errorf("SMTP_TLS_CERT: %w", err)}
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return inbound.NewServer(inbound.Config{
		Domain: cfg.MailDomain, MaxMessageBytes: cfg.MaxMessageBytes, MaxRecipients: cfg.SMTPMaxRecipients,
		MaxConnsPerIP: cfg.SMTPMaxConnsPerIP, RatePerMinute: float64(cfg.SMTPRatePerMinute), TLS: tlsCfg, LMTP: cfg.SMTPLMTP,
		MaxConns: cfg.SMTPMaxConns, SpoolDir: spool,
	}, st, keys, m, log), nil
}

// registerGauges adds the metrics read from the database at each scrape.
func registerGauges(m *metrics.Metrics, st *store.Store) {
	m.RegisterGauge("parley_suppressed_addresses", "Addresses on the suppression list (no mail is sent to them).", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := st.SuppressedCount(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	m.RegisterGauge("parley_queue_depth", "Deliveries not yet settled plus jobs waiting to run.", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d, err1 := st.PendingDeliveries(ctx)
		j, err2 := st.JobsWaiting(ctx)
		if err1 != nil || err2 != nil {
			return -1
		}
		return float64(d + j)
	})
}

// newSenderAuth builds the checker of who sent a post from the MAIL_AUTH_*
// settings.
func newSenderAuth(cfg *config.Config) *senderauth.Checker {
	sc := senderauth.Config{Timeout: cfg.MailAuthDNSTimeout, AuthServID: cfg.MailAuthServID, TrustedRelays: cfg.MailAuthRelays}
	if cfg.MailAuthDNSServer != "" {
		sc.Resolver = senderauth.ServerResolver(cfg.MailAuthDNSServer)
	}
	return senderauth.New(sc)
}
