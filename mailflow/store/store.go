// Package store is the only package with SQL. A *Store wraps the pgx pool
// (or, inside Tx, one transaction); its methods take ctx first, map
// PostgreSQL's constraint violations to mailflow's sentinel errors, and
// wrap everything else with context.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/migrations"
)

// dbtx is what both the pool and a transaction offer.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Store runs Parley's queries.
type Store struct {
	pool *pgxpool.Pool
	// async is a second pool whose sessions use synchronous_commit=off,
	// for recording that a delivery was sent. Such a commit is visible at
	// once and survives a crash of parleyd (the server has it); only a
	// crash of PostgreSQL itself within a fraction of a second could lose
	// it, and then the message would be sent again. It saves a disk flush
	// per recipient, the difference between hundreds and thousands of
	// messages a second.
	async *pgxpool.Pool
	db    dbtx
	tx    pgx.Tx // set inside Tx

	// blobs holds pictures' bytes (see pictures.go); nil keeps them in
	// their rows, as before migration 0009.
	blobs   blobstore.Store
	blobLog *slog.Logger
	// hooks collects, inside Tx, what must happen to blobs once the
	// transaction has committed or rolled back.
	hooks *txHooks
}

// txHooks are the functions a transaction runs when it ends.
type txHooks struct {
	onCommit, onRollback []func(context.Context)
}

// UseBlobs makes the store keep pictures' bytes in b. Call it once, while
// wiring, before the store is shared.
func (s *Store) UseBlobs(b blobstore.Store, log *slog.Logger) {
	s.blobs, s.blobLog = b, log
}

// Open connects to connString and waits up to wait for the database to
// answer, so that a daemon started beside its database does not fail on a
// race, while one pointed at nothing fails soon with a clear message.
func Open(ctx context.Context, connString string, wait time.Duration) (*Store, error) {
	cfg, acfg, err := poolConfigs(connString)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating connection pool: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = pool.Ping(pctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			pool.Close()
			return nil, fmt.Errorf("cannot reach the database at %s: %w", describeTarget(cfg), err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	async, err := pgxpool.NewWithConfig(ctx, acfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("creating connection pool: %w", err)
	}
	return &Store{pool: pool, async: async, db: pool}, nil
}

// poolConfigs returns the configurations of the main pool and of the
// async pool, which differs only in committing asynchronously.
func poolConfigs(connString string) (main, async *pgxpool.Config, err error) {
	main, err = pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing database address: %w", err)
	}
	if main.ConnConfig.ConnectTimeout == 0 || main.ConnConfig.ConnectTimeout > 5*time.Second {
		main.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	async = main.Copy()
	// Copy shares the RuntimeParams map: clone it, or every session of
	// the main pool would commit asynchronously too.
	async.ConnConfig.RuntimeParams = maps.Clone(main.ConnConfig.RuntimeParams)
	async.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	async.MaxConns = 4
	return main, async, nil
}

func describeTarget(cfg *pgxpool.Config) string {
	host := cfg.ConnConfig.Host
	if strings.HasPrefix(host, "/") {
		return fmt.Sprintf("unix socket %s (database %s)", host, cfg.ConnConfig.Database)
	}
	return fmt.Sprintf("%s:%d (database %s)", host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

// Close closes the pools.
func (s *Store) Close() {
	s.pool.Close()
	s.async.Close()
}

// Pool returns the pool, for the job queue's driver, which must share it so
// that jobs are enqueued in the same transactions as the rows they serve.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// PgxTx returns the transaction a Store made by Tx runs in (nil outside).
func (s *Store) PgxTx() pgx.Tx { return s.tx }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate applies Parley's migrations, then each of after under the same
// lock (the job queue's migrator).
func (s *Store) Migrate(ctx context.Context, log *slog.Logger, after ...func(context.Context) error) ([]string, error) {
	return migrations.Apply(ctx, s.pool, log, after...)
}

// Tx runs fn in a transaction: every write fn makes through tx commits
// together, or none does. Nested calls join the outer transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	hooks := &txHooks{}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Store{pool: s.pool, async: s.async, db: tx, tx: tx, blobs: s.blobs, blobLog: s.blobLog, hooks: hooks})
	})
	// The request may be over by now; the clean-up must still happen.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	run := hooks.onCommit
	if err != nil {
		run = hooks.onRollback
	}
	for _, f := range run {
		f(hctx)
	}
	return err
}

// afterTx runs onCommit once the transaction s runs in has committed,
// onRollback if it does not (either may be nil). Outside a transaction,
// onCommit runs now.
func (s *Store) afterTx(ctx context.Context, onCommit, onRollback func(context.Context)) {
	if s.hooks == nil {
		if onCommit != nil {
			onCommit(ctx)
		}
		return
	}
	if onCommit != nil {
		s.hooks.onCommit = append(s.hooks.onCommit, onCommit)
	}
	if onRollback != nil {
		s.hooks.onRollback = append(s.hooks.onRollback, onRollback)
	}
}

// mapErr turns constraint violations into mailflow's sentinel errors (with
// the offending field where the constraint names it) and wraps the rest.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return mailflow.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		field := fieldOf(pe)
		switch pe.Code {
		case "23505": // unique_violation
			return &mailflow.FieldError{Field: field, Msg: "is already taken", Err: mailflow.ErrDuplicate}
		case "23514", "23502", "22001", "22P02", "22007": // check, not null, too long, bad text representation, bad datetime
			return &mailflow.FieldError{Field: field, Msg: "is not valid", Err: mailflow.ErrInvalid}
		case "23503": // foreign_key_violation
			return &mailflow.FieldError{Field: field, Msg: "refers to something that does not exist", Err: mailflow.ErrNotFound}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fieldOf guesses the input field from a constraint name such as
// users_email_key or groups_slug_check.
func fieldOf(pe *pgconn.PgError) string {
	if pe.ColumnName != "" {
		return pe.ColumnName
	}
	name := strings.TrimPrefix(pe.ConstraintName, pe.TableName+"_")
	for _, suf := range []string{"_key", "_check", "_fkey", "_pkey", "_idx"} {
		name = strings.TrimSuffix(name, suf)
	}
	if name == "" || name == pe.ConstraintName {
		return ""
	}
	return name
}
