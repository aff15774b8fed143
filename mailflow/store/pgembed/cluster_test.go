package pgembed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// shortTempDir returns a directory with a short path (unix socket paths are
// limited) that the unprivileged database user can reach when root.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pge")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestClusterLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(shortTempDir(t), "data")
	opts := Options{DataDir: dir, NoSync: true}

	c, err := Open(ctx, opts, RoleServe)
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	if !c.Owner() {
		t.Fatal("the first opener should own the server")
	}
	conn, err := pgx.Connect(ctx, c.ConnString(""))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	// A second serve on the same DATA_DIR is refused.
	if _, err := Open(ctx, opts, RoleServe); !errors.Is(err, ErrBusy) {
		t.Fatalf("second serve: got %v, want ErrBusy", err)
	}
	// A command joins the running server and does not stop it.
	cmd, err := Open(ctx, opts, RoleCommand)
	if err != nil {
		t.Fatalf("command while serve runs: %v", err)
	}
	if cmd.Owner() {
		t.Fatal("a command must not own a server that serve started")
	}
	if err := cmd.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !c.serverRunning(ctx) {
		t.Fatal("closing the command stopped serve's database")
	}

	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pg", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("postmaster.pid remains after Close: the server still runs")
	}

	// A command on a stopped cluster starts it for its own run; data kept.
	cmd, err = Open(ctx, opts, RoleCommand)
	if err != nil {
		t.Fatalf("command on stopped cluster: %v", err)
	}
	if !cmd.Owner() {
		t.Fatal("a command on a stopped cluster should start and own it")
	}
	conn, err = pgx.Connect(ctx, cmd.ConnString(""))
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Fatalf("data after restart: %q, %v", v, err)
	}
	conn.Close(ctx)
	if err := cmd.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStalePIDFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(shortTempDir(t), "data")
	opts := Options{DataDir: dir, NoSync: true}
	c, err := Open(ctx, opts, RoleServe)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// A killed run leaves postmaster.pid naming a process that is not a
	// postgres server (here: this test process).
	pidFile := filepath.Join(dir, "pg", "postmaster.pid")
	stale := strings.Join([]string{itoa(os.Getpid()), filepath.Join(dir, "pg"), "1700000000", "5432", "", "", "0 0", "ready"}, "\n") + "\n"
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.chown(pidFile); err != nil {
		t.Fatal(err)
	}
	c, err = Open(ctx, opts, RoleServe)
	if err != nil {
		t.Fatalf("open with stale pid file: %v", err)
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLongDataDirIsRefused(t *testing.T) {
	long := filepath.Join(shortTempDir(t), strings.Repeat("d", 120))
	_, err := Open(context.Background(), Options{DataDir: long}, RoleServe)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("got %v, want a 'too long' error", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
