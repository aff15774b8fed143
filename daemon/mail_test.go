package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/store/pgembed"
)

// These tests run real parleyd processes that send over real SMTP to an
// in-process sink.

func sinkEnv(sink *mailtest.Sink) []string {
	host, port, _ := net.SplitHostPort(sink.Addr)
	return []string{"EMAIL_BACKEND=smtp", "EMAIL_HOST=" + host, "EMAIL_PORT=" + port, "MAIL_DOMAIN=lists.test", "EMAIL_CONCURRENCY=4"}
}

// seed creates a superuser with a token, a group "crash" and n members
// (m1…mN@example.org) who get every message, straight in the database.
func seed(t *testing.T, connString string, n int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO users (email, name, email_verified_at, is_superuser) VALUES ('admin@example.org', 'Admin', now(), true);
		INSERT INTO groups (slug, name) VALUES ('crash', 'Crash Test');
		INSERT INTO memberships (group_id, user_id, role, delivery)
			SELECT g.id, u.id, 'owner', 'none' FROM groups g, users u WHERE u.email = 'admin@example.org';
		INSERT INTO users (email, name, email_verified_at) SELECT 'm' || i || '@example.org', 'Member ' || i, now() FROM generate_series(1, `+fmt.Sprint(n)+`) i;
		INSERT INTO memberships (group_id, user_id, delivery) SELECT g.id, u.id, 'immediate' FROM groups g, users u WHERE u.email LIKE 'm%@example.org';`)
	if err != nil {
		t.Fatal(err)
	}
}

func token(t *testing.T, env []string) string {
	t.Helper()
	out, stderr, code := runCmd(t, env, "", "create-token", "admin@example.org")
	if code != 0 {
		t.Fatalf("create-token: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func postThread(t *testing.T, url, tok string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/groups/crash/threads", strings.NewReader(`{"subject":"Everyone","body":"Hello all"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("posting: %d %s", res.StatusCode, b)
	}
}

// sentCount reads how many deliveries are settled as sent, and pending.
func deliveryState(t *testing.T, connString string) (sent, pending int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state IN ('queued','sending','deferred')) FROM deliveries`).Scan(&sent, &pending); err != nil {
		t.Fatal(err)
	}
	return sent, pending
}

func waitAllSent(t *testing.T, connString string, n int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		sent, pending := deliveryState(t, connString)
		if sent == n && pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d sent, %d pending, want %d sent", d, sent, pending, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKillMinusNineMidFanout kills parleyd while it is sending, restarts
// it, and checks that every member gets the message, and that only the
// few messages sent but not yet recorded at the kill (at most two per
// connection) can arrive twice.
func TestKillMinusNineMidFanout(t *testing.T) {
	const n = 600
	sink := mailtest.NewSink(t)
	// A slow relay, so the kill lands mid-fan-out.
	sink.SetDataHook(func(string, []string) *smtp.SMTPError { time.Sleep(2 * time.Millisecond); return nil })
	dir := dataDir(t)
	addr := freeAddr(t)
	env := append(sinkEnv(sink), "DATA_DIR="+dir, "HTTP_ADDR="+addr, "SMTP_ADDR="+freeAddr(t), "DELIVERY_LEASE_SECONDS=2")
	url := "http://" + addr
	conn := "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable"

	s := startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	seed(t, conn, n)
	postThread(t, url, token(t, env))

	// Kill -9 once a third has arrived.
	if !sink.WaitFor(n/3, 60*time.Second) {
		t.Fatalf("only %d messages arrived", sink.Count())
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.exited
	atKill := sink.Count()
	sentAtKill, _ := deliveryState(t, conn)
	t.Logf("killed after %d messages arrived (%d recorded sent)", atKill, sentAtKill)
	if atKill >= n {
		t.Fatal("the kill came too late to test anything")
	}

	// Restart: the same DATA_DIR, the orphaned database is adopted.
	s = startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	waitAllSent(t, conn, n, 90*time.Second)
	time.Sleep(200 * time.Millisecond)

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
		dups += c - 1
	}
	if len(copies) != n {
		t.Errorf("%d distinct recipients, want %d", len(copies), n)
	}
	// At most two messages per connection are sent but not recorded at the
	// kill: one being recorded, one on the wire.
	if dups > 2*4 {
		t.Fatalf("%d duplicate messages; at most 2 × EMAIL_CONCURRENCY=4 may be unrecorded at a kill", dups)
	}
	t.Logf("duplicates after kill -9: %d", dups)
	s.stop(t, syscall.SIGTERM)
	if left := postgresFor(dir); len(left) > 0 {
		t.Fatalf("postgres left behind: %v", left)
	}
}

// TestTwoDaemonsShareTheWork runs two parleyd on one database: every
// member gets exactly one copy and both daemons send.
func TestTwoDaemonsShareTheWork(t *testing.T) {
	const n = 400
	ctx := context.Background()
	base, err := os.MkdirTemp("", "p2d")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	_ = os.Chmod(base, 0o711)
	cl, err := pgembed.Open(ctx, pgembed.Options{DataDir: filepath.Join(base, "db"), NoSync: true}, pgembed.RoleServe)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	dbURL := cl.ConnString("")

	sink := mailtest.NewSink(t)
	// A slowish relay, so the second daemon wakes before the first is done.
	sink.SetDataHook(func(string, []string) *smtp.SMTPError { time.Sleep(5 * time.Millisecond); return nil })
	common := append(sinkEnv(sink), "DATABASE_URL="+dbURL, "EMAIL_SECRET_KEY="+strings.Repeat("e", 40), "SECRET_KEY="+strings.Repeat("s", 40))
	var urls []string
	var servers []*server
	for i := range 2 {
		addr := freeAddr(t)
		env := append(append([]string{}, common...), "DATA_DIR="+dataDir(t), "HTTP_ADDR="+addr, "SMTP_ADDR="+freeAddr(t))
		s := startServe(t, env)
		waitHealthy(t, "http://"+addr, 60*time.Second, s.exited)
		urls = append(urls, "http://"+addr)
		servers = append(servers, s)
		if i == 0 {
			seed(t, dbURL, n)
		}
	}
	postThread(t, urls[0], token(t, append(common, "DATA_DIR="+dataDir(t))))
	waitAllSent(t, dbURL, n, 90*time.Second)
	time.Sleep(200 * time.Millisecond)

	copies := map[string]int{}
	for _, e := range sink.Envelopes() {
		copies[e.To[0]]++
	}
	for to, c := range copies {
		if c != 1 {
			t.Errorf("%s got %d copies", to, c)
		}
	}
	if len(copies) != n {
		t.Fatalf("%d recipients got mail, want %d", len(copies), n)
	}
	for i, u := range urls {
		if sent := metric(t, u, "parley_mail_sent_total"); sent == 0 {
			t.Errorf("daemon %d sent nothing: the work was not shared", i)
		} else {
			t.Logf("daemon %d sent %v", i, sent)
		}
	}
	for _, s := range servers {
		s.stop(t, syscall.SIGTERM)
	}
}

func metric(t *testing.T, url, name string) float64 {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			_ = json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, name))), &v)
			return v
		}
	}
	return 0
}
