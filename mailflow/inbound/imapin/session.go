package imapin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const dialTimeout = 30 * time.Second

// session is one logged-in connection with the mailbox selected.
type session struct {
	p   *Poller
	ep  endpoint
	log *slog.Logger
	c   *imapclient.Client

	// newMail is signalled (never blocking: the client's reader goroutine
	// calls the handler) when the server reports a new message count.
	newMail chan struct{}

	idle, move, uidPlus bool
	warnedNoUIDPlus     bool
}

// session runs one connection from dial to failure. It calls ready once the
// mailbox is selected, and returns the error that ended it; when ctx ends
// the connection is closed under it, and the error is of no interest.
func (p *Poller) session(ctx context.Context, ep endpoint, log *slog.Logger, ready func()) error {
	s := &session{p: p, ep: ep, log: log, newMail: make(chan struct{}, 1)}
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages == nil {
					return
				}
				select {
				case s.newMail <- struct{}{}:
				default:
				}
			},
		},
	}
	c, err := s.dial(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", ep.addr, err)
	}
	s.c = c
	// The client's methods take no context: closing the connection is what
	// unblocks whatever is waiting on the server when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer func() {
		stop()
		if err := c.Close(); err != nil && ctx.Err() == nil {
			log.Debug("closing imap connection", "err", err)
		}
	}()

	if err := c.Login(ep.user, ep.password).Wait(); err != nil {
		return fmt.Errorf("log in as %q: %w", ep.user, err)
	}
	caps := c.Caps() // refetched after LOGIN, which may change them
	s.idle = caps.Has(imap.CapIdle) && !p.noIdle
	s.move = caps.Has(imap.CapMove)
	s.uidPlus = caps.Has(imap.CapUIDPlus)

	if p.cfg.DoneFolder != "" {
		if err := s.ensureFolder(p.cfg.DoneFolder); err != nil {
			return err
		}
	}
	if _, err := c.Select(ep.mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("select %q: %w", ep.mailbox, err)
	}
	log.Debug("imap mailbox selected", "idle", s.idle, "move", s.move, "uidplus", s.uidPlus)
	ready()

	for {
		// Whatever arrived before this round is found by its SEARCH.
		select {
		case <-s.newMail:
		default:
		}
		_, err := s.round(ctx)
		if err != nil {
			return err
		}
		if err := s.wait(ctx); err != nil {
			return err
		}
	}
}

// dial connects and waits for the greeting. Implicit TLS for imaps://,
// STARTTLS for imap:// (RFC 3501 section 6.2.1), except to a loopback host,
// where plaintext is accepted.
func (s *session) dial(ctx context.Context, opts *imapclient.Options) (*imapclient.Client, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.ep.addr)
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{}
	if s.p.cfg.TLSConfig != nil {
		tlsConfig = s.p.cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = s.ep.host
	}

	var c *imapclient.Client
	switch {
	case s.ep.implicitTLS:
		if tlsConfig.NextProtos == nil {
			tlsConfig.NextProtos = []string{"imap"}
		}
		tc := tls.Client(conn, tlsConfig)
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		c = imapclient.New(tc, opts)
	case s.ep.plaintext():
		c = imapclient.New(conn, opts)
	default:
		// Fails unless the server offers STARTTLS: credentials never go
		// over a plaintext connection to another host.
		opts.TLSConfig = tlsConfig
		stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
		c, err = imapclient.NewStartTLS(conn, opts)
		stop()
		if err != nil {
			return nil, fmt.Errorf("starttls: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := c.WaitGreeting(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return c, nil
}

// ensureFolder creates the done folder unless LIST finds it. LIST comes
// first because not every server answers a CREATE of an existing mailbox
// with the ALREADYEXISTS code (RFC 5530), which would be the only way to
// tell that failure apart from the others.
func (s *session) ensureFolder(name string) error {
	found, err := s.c.List("", name, nil).Collect()
	if err != nil {
		return fmt.Errorf("list %q: %w", name, err)
	}
	if len(found) > 0 {
		return nil
	}
	err = s.c.Create(name, nil).Wait()
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
		return nil // created meanwhile by someone else
	}
	if err != nil {
		return fmt.Errorf("create %q: %w", name, err)
	}
	s.log.Info("created imap done folder", "folder", name)
	return nil
}

// wait returns when there may be something new to fetch: the server
// reported new mail, or the poll interval passed (with IDLE too, so that
// messages whose ingest failed are retried soon even when no new mail
// arrives).
func (s *session) wait(ctx context.Context) error {
	if !s.idle {
		t := time.NewTimer(s.p.cfg.PollInterval)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.newMail:
		case <-t.C:
		}
		return nil
	}

	// IDLE is also ended after the poll interval: a server that loses a
	// notification (some do, for mail that arrives just before IDLE
	// starts) then delays that message by one interval, not 25 minutes.
	limit := min(s.p.idleRefresh, s.p.cfg.PollInterval)
	// RFC 2177: while IDLE runs, the server sends EXISTS as mail arrives.
	// Ending it after limit and starting the next round re-issues it, which
	// keeps us below the server's 30-minute inactivity timeout.
	idle, err := s.c.Idle()
	if err != nil {
		return fmt.Errorf("start idle: %w", err)
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.c.Closed():
	case <-s.newMail:
	case <-t.C:
	}
	if err := idle.Close(); err != nil {
		return fmt.Errorf("stop idle: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return ctx.Err()
}
