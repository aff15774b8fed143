package imapin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// Ingest stores one raw message durably (committed to PostgreSQL) and
// reports success. It returns nil for a message it already has, so handing
// it the same message twice is always safe. Only after Ingest returns nil
// does the Poller mark or move the message.
type Ingest func(ctx context.Context, raw []byte) error

const (
	// batchSize bounds how many messages one UID FETCH asks for, so that a
	// large backlog is worked through in steps and progress is recorded on
	// the server after each step.
	batchSize = 50
	// idleRefresh is how long one IDLE may last. RFC 2177 section 3: servers
	// may log a client out after 30 minutes of inactivity, so clients
	// should re-issue IDLE at least every 29 minutes.
	idleRefresh = 25 * time.Minute
	backoffMin  = time.Second
	backoffMax  = 5 * time.Minute
)

// Poller moves mail from one IMAP mailbox into the intake pipeline.
type Poller struct {
	cfg    Config
	ingest Ingest
	log    *slog.Logger

	// Set by New; tests shrink them.
	batchSize   int
	idleRefresh time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration
	noIdle      bool // act as if the server lacked IDLE
}

// New returns a Poller for cfg. Nothing is checked or dialled until Run.
func New(cfg Config, ingest Ingest, log *slog.Logger) *Poller {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg:         cfg,
		ingest:      ingest,
		log:         log,
		batchSize:   batchSize,
		idleRefresh: idleRefresh,
		backoffMin:  backoffMin,
		backoffMax:  backoffMax,
	}
}

// Run pulls mail until ctx ends, reconnecting with exponential backoff
// whenever the connection fails. It returns nil when ctx ends, and an error
// only for a configuration that can never work.
func (p *Poller) Run(ctx context.Context) error {
	ep, err := p.validate()
	if err != nil {
		return err
	}
	log := p.log.With("imap_host", ep.host, "imap_mailbox", ep.mailbox)

	// One log line per failure streak: a server that is down for an hour
	// should not write 20 warnings, and its return should be visible.
	var (
		bo       = backoff{min: p.backoffMin, max: p.backoffMax}
		failures int
		lastErr  error
	)
	ready := func() {
		if failures > 0 {
			log.Info("imap connection restored", "failures", failures, "last_err", lastErr)
		} else {
			log.Info("imap connected")
		}
		failures, lastErr = 0, nil
		bo.reset()
	}
	for {
		err := p.session(ctx, ep, log, ready)
		if ctx.Err() != nil {
			return nil
		}
		delay := bo.next()
		failures++
		lastErr = err
		if failures == 1 {
			log.Warn("imap connection failed; retrying with backoff until it works", "err", err, "retry_in", delay)
		} else {
			log.Debug("imap connection failed again", "err", err, "failures", failures, "retry_in", delay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// validate checks what no retry can fix.
func (p *Poller) validate() (endpoint, error) {
	if p.ingest == nil {
		return endpoint{}, errors.New("imap poller has no ingest func")
	}
	ep, err := parseEndpoint(p.cfg.URL)
	if err != nil {
		return ep, err
	}
	if d := p.cfg.DoneFolder; d != "" {
		if strings.ContainsAny(d, "*%") {
			// They are LIST wildcards (RFC 3501 section 6.3.8), and the
			// folder is looked up with LIST.
			return ep, fmt.Errorf("imap done folder %q must not contain * or %%", d)
		}
		if sameMailbox(ep.mailbox, d) {
			return ep, fmt.Errorf("imap done folder %q is the mailbox being polled", d)
		}
	}
	return ep, nil
}

// backoff yields exponentially growing delays with jitter, so that many
// daemons pointed at one recovering server do not reconnect in step.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	// "Equal jitter": somewhere in [cur/2, cur].
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

func (b *backoff) reset() { b.cur = 0 }
