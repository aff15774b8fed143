// Package storetest gives tests a real PostgreSQL: one throwaway embedded
// cluster per test binary (started in TestMain through the same pgembed
// code the daemon uses), migrated once into a template database, and a
// fresh database per test copied from that template, which takes
// milliseconds.
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
//	func TestX(t *testing.T) { st := storetest.New(t) … }
//
// Tests that need the database never skip: without PostgreSQL server
// binaries they fail with a message saying how to install them.
package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/pgembed"
)

const templateDB = "parley_template"

var (
	mu      sync.Mutex
	cluster *pgembed.Cluster
	setup   error
	counter atomic.Int64
)

// Main starts the cluster, runs the tests and stops the cluster. The
// cluster lives in a new directory under the system temp dir (short, for
// the unix socket path) and is removed afterwards.
func Main(m *testing.M) int {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") {
			// A fuzzing worker runs only its fuzz target, which needs no
			// database: do not start a cluster in every worker.
			return m.Run()
		}
	}
	dir, err := os.MkdirTemp("", "pgt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Reachable by the unprivileged user the server runs as under root.
	_ = os.Chmod(dir, 0o711)

	ctx := context.Background()
	start := time.Now()
	c, err := pgembed.Open(ctx, pgembed.Options{DataDir: dir, NoSync: true}, pgembed.RoleServe)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storetest: starting the test PostgreSQL cluster:", err)
		return 1
	}
	defer func() {
		if err := c.Close(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "storetest: stopping cluster:", err)
		}
	}()
	if err := makeTemplate(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		return 1
	}
	if os.Getenv("PARLEY_TEST_TIMING") != "" {
		fmt.Fprintf(os.Stderr, "storetest: cluster ready in %s\n", time.Since(start).Round(time.Millisecond))
	}
	mu.Lock()
	cluster = c
	mu.Unlock()
	return m.Run()
}

func makeTemplate(ctx context.Context, c *pgembed.Cluster) error {
	admin, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("creating template database: %w", err)
	}
	st, err := store.Open(ctx, c.ConnString(templateDB), 10*time.Second)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
		return fmt.Errorf("migrating template database: %w", err)
	}
	return nil
}

// ConnString returns a connection string for a new, migrated database
// that is dropped when t ends.
func ConnString(t testing.TB) string {
	t.Helper()
	mu.Lock()
	c := cluster
	mu.Unlock()
	if c == nil {
		t.Fatal("storetest: no cluster; the package's TestMain must call storetest.Main")
	}
	ctx := context.Background()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), counter.Add(1))
	admin, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateDB); err != nil {
		t.Fatalf("storetest: creating database: %v", err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, c.ConnString("postgres"))
		if err != nil {
			t.Errorf("storetest: %v", err)
			return
		}
		defer admin.Close(ctx)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("storetest: dropping database: %v", err)
		}
	})
	return c.ConnString(name)
}

// New returns a Store on a new, migrated database.
func New(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), ConnString(t), 10*time.Second)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}
