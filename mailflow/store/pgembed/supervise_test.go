package pgembed

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// A supervised server whose postmaster is killed comes back by itself,
// with its data, and the dead postmaster is reaped (no zombie left).
func TestSuperviseRestartsKilledServer(t *testing.T) {
	ctx := context.Background()
	var logs mailtest.Buffer
	c, err := Open(ctx, Options{DataDir: filepath.Join(shortTempDir(t), "data"), NoSync: true, Supervised: true,
		Log: slog.New(slog.NewTextHandler(&logs, nil))}, RoleServe)
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.Supervise(sctx) })
	defer func() {
		stop()
		wg.Wait()
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	conn, err := pgx.Connect(ctx, c.ConnString(""))
	if err != nil {
		t.Fatal(err)
	}
	// Test clusters commit asynchronously; this commit must reach the WAL
	// before the kill.
	if _, err := conn.Exec(ctx, `SET synchronous_commit = on; CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	for round := 1; round <= 2; round++ {
		pid, err := c.postmasterPID()
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(90 * time.Second)
		for strings.Count(logs.String(), "embedded PostgreSQL is back") < round {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: not back after 90 s:\n%s", round, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, _, ok := procStat(pid); ok {
			t.Errorf("round %d: the killed postmaster %d is still in the process table", round, pid)
		}
		conn, err := pgx.Connect(ctx, c.ConnString(""))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var v string
		err = conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v)
		conn.Close(ctx)
		if err != nil || v != "still here" {
			t.Fatalf("round %d: %q, %v", round, v, err)
		}
	}
}
