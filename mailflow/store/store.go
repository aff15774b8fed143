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
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/parleymail/parley/mailflow"
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
	// jobs inserts into the job queue (river, on the same database), so
	// that a job commits with the rows it serves: Enqueue.
	jobs *river.Client[pgx.Tx]
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
	// An insert-only client (no workers): what Enqueue uses. The daemon's
	// working client comes from QueueClient.
	jobs, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		pool.Close()
		async.Close()
		return nil, fmt.Errorf("creating job queue client: %w", err)
	}
	return &Store{pool: pool, async: async, db: pool, jobs: jobs}, nil
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
	// Its statements are the senders' claims and records, which find
	// their rows through the deliveries' indexes, and pgx caches them
	// prepared: a generic plan made while the table held a few rows could
	// be a sequential scan, reused for every claim and record of the next
	// large send until the table is analysed again. With sequential scans
	// off, the plan is an index's whatever the size.
	async.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	// The same holds for the fan-out's expansion, which walks a group's
	// members in order in batches: without statistics (a group just
	// imported) a bitmap scan and a sort of every remaining member looked
	// cheaper than the ordered index scan that stops at the batch's end.
	async.ConnConfig.RuntimeParams["enable_bitmapscan"] = "off"
	async.ConnConfig.RuntimeParams["enable_sort"] = "off"
	// pgx's default of max(4, CPUs) connections starved the job queue: 16
	// intake workers, the fan-out, the senders' claims and the listener
	// waited on each other for a connection while a burst of mail came
	// in. 16 (and 8 for the senders' pool) keeps several daemons on one
	// server within PostgreSQL's usual 100 connections. pool_max_conns in
	// DATABASE_URL, when given, caps each pool instead.
	if !strings.Contains(connString, "pool_max_conns") {
		main.MaxConns = 16
		async.MaxConns = 8
	}
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

// Pool returns the pool, for tests that set up or read rows directly. No
// other package may use it (TestSQLStaysInStore holds that): the store
// owns every query and every transaction.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// QueueClient returns a river client on the store's pool configured by
// cfg (workers, queues, periodic jobs: mailflow/queue decides those). It
// shares the pool so that jobs it works and jobs Enqueue inserts are in
// the same database as the rows they serve.
func (s *Store) QueueClient(cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c, err := river.NewClient(riverpgxv5.New(s.pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating job queue client: %w", err)
	}
	return c, nil
}

// Enqueue adds a job to the queue. Inside Tx it commits or rolls back
// with the transaction (a message and "deliver this message" exist
// together or not at all); outside it is inserted at once. The job's own
// InsertOpts (river.JobArgsWithInsertOpts) apply.
func (s *Store) Enqueue(ctx context.Context, job river.JobArgs) error {
	var err error
	if s.tx != nil {
		_, err = s.jobs.InsertTx(ctx, s.tx, job, nil)
	} else {
		_, err = s.jobs.Insert(ctx, job, nil)
	}
	if err != nil {
		return fmt.Errorf("enqueueing %s job: %w", job.Kind(), err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate applies Parley's migrations, then the job queue's own, under
// the same lock.
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) ([]string, error) {
	return migrations.Apply(ctx, s.pool, log, s.migrateQueue)
}

// migrateQueue brings river's tables up to date.
func (s *Store) migrateQueue(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return fmt.Errorf("job queue migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating job queue tables: %w", err)
	}
	return nil
}

// Tx runs fn in a transaction: every write fn makes through tx commits
// together, or none does. Nested calls join the outer transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return fn(&Store{pool: s.pool, async: s.async, db: tx, tx: tx, jobs: s.jobs})
	})
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
