// Package migrations owns Parley's schema: numbered SQL files embedded in
// the binary, and a small runner that applies the new ones in order.
//
// Each file runs in its own transaction and is recorded in
// schema_migrations. A session-level advisory lock serialises runners, so
// several daemons starting at once against one database are safe: the
// first applies, the others wait and then find nothing to do.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// lockKey is the advisory lock id; any constant unique to Parley will do.
const lockKey int64 = 0x7061726c6579 // "parley"

// Migration is one SQL file.
type Migration struct {
	Version string // the file name without .sql, e.g. "0001_init"
	SQL     string
}

// All returns the embedded migrations in order.
func All() ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", n, err)
		}
		out = append(out, Migration{Version: strings.TrimSuffix(n, ".sql"), SQL: string(b)})
	}
	return out, nil
}

// Apply applies every migration not yet recorded and returns the versions
// it applied (none on a second run). Each function in after runs while the
// lock is still held, for other migrators (the job queue's) that must not
// race either.
func Apply(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, after ...func(context.Context) error) ([]string, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: acquiring connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return nil, fmt.Errorf("migrate: taking advisory lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must go even when ctx was cancelled.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey); err != nil {
			log.Warn("releasing migration lock", "err", err)
		}
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate: creating schema_migrations: %w", err)
	}
	rows, _ := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	done, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: reading applied versions: %w", err)
	}
	have := make(map[string]bool, len(done))
	for _, v := range done {
		have[v] = true
	}

	var applied []string
	for _, m := range all {
		if have[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrate: applying %s: %w", m.Version, err)
		}
		log.Info("applied migration", "version", m.Version)
		applied = append(applied, m.Version)
	}
	for _, f := range after {
		if err := f(ctx); err != nil {
			return applied, err
		}
	}
	return applied, nil
}
