package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// These tests take things away from a running parleyd serve (the process
// itself, its database) and check that it recovers without a person.

func execSQL(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// waitCount polls a count query on conn until it gives want.
func waitCount(t *testing.T, conn *pgx.Conn, q string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var got int
		if err := conn.QueryRow(context.Background(), q).Scan(&got); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d after %s, want %d", q, got, d, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKillDuringFanoutResumesWithinLease kills parleyd -9 while a post's
// recipients are being expanded, restarts it, and checks that every
// member gets the message, at most EMAIL_CONCURRENCY twice, and that the
// fan-out is taken up after DELIVERY_LEASE_SECONDS rather than river's
// generic rescue (which used to take 6 minutes).
func TestKillDuringFanoutResumesWithinLease(t *testing.T) {
	const n = 2500 // three fan-out batches (1000 members each)
	sink := mailtest.NewSink(t)
	var mu sync.Mutex
	var lastArrival time.Time
	sink.SetDataHook(func(string, []string) *smtp.SMTPError {
		mu.Lock()
		lastArrival = time.Now()
		mu.Unlock()
		return nil
	})
	dir := dataDir(t)
	addr := freeAddr(t)
	env := append(sinkEnv(sink), "DATA_DIR="+dir, "HTTP_ADDR="+addr, "SMTP_ADDR="+freeAddr(t), "DELIVERY_LEASE_SECONDS=10")
	url := "http://" + addr
	connString := "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable"

	s := startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	seed(t, connString, n)
	tok := token(t, env)

	// Hold the fan-out in its second batch: the insert of m1500's delivery
	// waits for an advisory lock this test holds. The first batch is
	// committed and sent meanwhile.
	ctx := context.Background()
	hold, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close(ctx)
	execSQL(t, hold, `SELECT pg_advisory_lock(4214)`)
	execSQL(t, hold, `CREATE FUNCTION test_hold_fanout() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.email = 'm1500@example.org' THEN PERFORM pg_advisory_xact_lock(4214); END IF;
			RETURN NEW;
		END $$`)
	execSQL(t, hold, `CREATE TRIGGER test_hold_fanout BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION test_hold_fanout()`)

	postThread(t, url, tok)
	if !sink.WaitFor(100, 60*time.Second) {
		t.Fatalf("only %d messages arrived", sink.Count())
	}
	waitCount(t, hold, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`, 1, 30*time.Second)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	// The killed daemon's backend is stuck on the lock; end it, as the
	// database would on noticing its client gone (its batch rolls back).
	execSQL(t, hold, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)
	execSQL(t, hold, `SELECT pg_advisory_unlock(4214)`)
	var expanded, running int
	if err := hold.QueryRow(ctx, `SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM river_job WHERE kind = 'fanout' AND state = 'running')`).Scan(&expanded, &running); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d recipients expanded, %d arrived; fan-out jobs left running: %d", expanded, n, sink.Count(), running)
	if expanded >= n || running != 1 {
		t.Fatalf("the kill did not land mid-fan-out (%d expanded, %d running)", expanded, running)
	}

	restarted := time.Now()
	s = startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	// Well within river's old 6-minute rescue (the lease is 10 seconds).
	waitAllSent(t, connString, n, 2*time.Minute)
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	took := lastArrival.Sub(restarted)
	mu.Unlock()
	t.Logf("from restart to the last delivery: %s (DELIVERY_LEASE_SECONDS=10)", took.Round(100*time.Millisecond))
	if !strings.Contains(s.log.String(), "taking up fan-outs left unfinished") {
		t.Errorf("the fan-out was not taken up by the lease-based rescue:\n%s", s.log)
	}

	copies := map[string]int{}
	for _, e := range sink.Envelopes() {
		copies[e.To[0]]++
	}
	dups := 0
	for i := 1; i <= n; i++ {
		c := copies[fmt.Sprintf("m%d@example.org", i)]
		if c == 0 {
			t.Errorf("m%d never got the message", i)
		}
		dups += max(c-1, 0)
	}
	if dups > 4 {
		t.Fatalf("%d duplicate messages; at most EMAIL_CONCURRENCY=4 may be in flight at a kill", dups)
	}
	s.stop(t, syscall.SIGTERM)
}
