package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
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

// logTime returns the time of the first log line holding msg.
func logTime(log, msg string) (time.Time, bool) {
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, msg) || !strings.HasPrefix(line, "time=") {
			continue
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		return at, err == nil
	}
	return time.Time{}, false
}

// TestKillDuringFanoutResumesWithinLease kills parleyd -9 while a post's
// recipients are being expanded, restarts it, and checks that every
// member gets the message, at most 2 × EMAIL_CONCURRENCY twice, and that the
// fan-out is taken up after DELIVERY_LEASE_SECONDS rather than river's
// generic rescue (which used to take 6 minutes).
func TestKillDuringFanoutResumesWithinLease(t *testing.T) {
	const n = 2500 // three fan-out batches (1000 members each)
	sink := mailtest.NewSink(t)
	var mu sync.Mutex
	var lastArrival time.Time
	sink.SetDataHook(func(string, []string) *gosmtp.SMTPError {
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
	killed := time.Now()
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
	t.Logf("from restart to the last delivery: %s; from the kill: %s (DELIVERY_LEASE_SECONDS=10)",
		took.Round(100*time.Millisecond), lastArrival.Sub(killed).Round(100*time.Millisecond))
	if at, ok := logTime(s.log.String(), "taking up fan-outs left unfinished"); !ok {
		t.Errorf("the fan-out was not taken up by the lease-based rescue:\n%s", s.log)
	} else {
		t.Logf("the fan-out was taken up %s after the kill, %s after the restart",
			at.Sub(killed).Round(100*time.Millisecond), at.Sub(restarted).Round(100*time.Millisecond))
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
	if dups > 2*4 {
		t.Fatalf("%d duplicate messages; at most 2 × EMAIL_CONCURRENCY=4 may be unrecorded at a kill", dups)
	}
	t.Logf("duplicates after kill -9: %d", dups)
	s.stop(t, syscall.SIGTERM)
}

// smtpProbe asks Parley's SMTP listener to take mail for rcpt, without
// sending any, and returns the reply code to RCPT (0: no answer).
func smtpProbe(addr, rcpt string) int {
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return 0
	}
	if err := c.Mail("admin@example.org", nil); err != nil {
		return smtpCode(err)
	}
	err = c.Rcpt(rcpt, nil)
	_ = c.Quit()
	if err != nil {
		return smtpCode(err)
	}
	return 250
}

func smtpCode(err error) int {
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// TestEmbeddedPostgresRestarted kills the embedded postmaster under a
// running serve: serve answers 503 and 451 meanwhile, restarts it by
// itself, and then takes and delivers a post by SMTP (its pool, job queue
// and queue leader all back).
func TestEmbeddedPostgresRestarted(t *testing.T) {
	sink := mailtest.NewSink(t)
	dir := dataDir(t)
	addr, smtpAddr := freeAddr(t), freeAddr(t)
	env := append(sinkEnv(sink), "DATA_DIR="+dir, "HTTP_ADDR="+addr, "SMTP_ADDR="+smtpAddr)
	url := "http://" + addr
	connString := "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable"
	s := startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	seed(t, connString, 3)
	if code := smtpProbe(smtpAddr, "crash@lists.test"); code != 250 {
		t.Fatalf("RCPT before the kill: %d", code)
	}

	b, err := os.ReadFile(filepath.Join(dir, "pg", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{} // /healthz answers during the outage
	rcpts := map[int]int{} // RCPT answers during the outage
	var healthy time.Duration
	for {
		if time.Since(killed) > 90*time.Second {
			t.Fatalf("serve not healthy 90 s after the postmaster was killed (healthz %v, RCPT %v)\n%s", codes, rcpts, s.log)
		}
		select {
		case err := <-s.exited:
			t.Fatalf("serve exited: %v\n%s", err, s.log)
		default:
		}
		// Healthy again: the server was restarted (the backends of the
		// killed one can answer for a moment after its death) and answers.
		back := strings.Contains(s.log.String(), "embedded PostgreSQL is back")
		res, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 200 && back {
			healthy = time.Since(killed)
			break
		}
		if res.StatusCode != 200 {
			codes[res.StatusCode]++
			rcpts[smtpProbe(smtpAddr, "crash@lists.test")]++
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("healthy again %s after the postmaster was killed; meanwhile /healthz %v, RCPT %v", healthy.Round(10*time.Millisecond), codes, rcpts)
	for code := range codes {
		if code != 503 {
			t.Errorf("/healthz answered %d during the outage, want 503", code)
		}
	}
	for code := range rcpts {
		if code != 451 && code != 250 { // 250: the database came back between the two probes
			t.Errorf("RCPT answered %d during the outage, want 451", code)
		}
	}
	if len(codes) == 0 {
		t.Log("the outage was too short to observe a 503")
	}
	log := s.log.String()
	for _, step := range []string{"embedded PostgreSQL stopped unexpectedly", "embedded PostgreSQL: starting", "embedded PostgreSQL is back"} {
		if !strings.Contains(log, step) {
			t.Errorf("log lacks %q", step)
		}
	}
	if processAliveForTest(pid) {
		t.Errorf("the killed postmaster %d is still there (a zombie not reaped)", pid)
	}

	// A post by SMTP is taken and delivered: the pool reconnected and the
	// job queue works jobs again.
	if err := smtpSend(smtpAddr, "admin@example.org", "crash@lists.test",
		"From: admin@example.org\r\nTo: crash@lists.test\r\nSubject: After the crash\r\nMessage-ID: <after-crash@example.org>\r\n\r\nStill here.\r\n"); err != nil {
		t.Fatalf("posting after the restart: %v", err)
	}
	if !sink.WaitFor(3, 60*time.Second) {
		t.Fatalf("%d of 3 members got the post made after the restart\n%s", sink.Count(), s.log)
	}
	// The job queue elected a leader again (its table is unlogged: the
	// crash emptied it), so periodic work and river's rescuer run.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitCount(t, conn, `SELECT count(*) FROM river_leader WHERE expires_at > now()`, 1, 60*time.Second)
	t.Logf("ERROR lines logged: %d", strings.Count(log, "level=ERROR"))

	s.stop(t, syscall.SIGTERM)
	if left := postgresFor(dir); len(left) > 0 {
		t.Fatalf("postgres left behind: %v", left)
	}
}

func processAliveForTest(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z'
}

// smtpSend sends one message over SMTP (no TLS).
func smtpSend(addr, from, to, msg string) error {
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// TestWebhookForgeriesAgainstServe replays a captured Mailgun call, with
// forged event data, after a restart, and posts forged SES notifications:
// both are answered 401, no certificate is fetched from a host that is not
// Amazon's SNS, and nothing is logged at ERROR.
func TestWebhookForgeriesAgainstServe(t *testing.T) {
	const mailgunKey = "key-daemon-test-mailgun"
	const topic = "arn:aws:sns:us-east-1:123456789012:bounces"
	dir := dataDir(t)
	addr := freeAddr(t)
	env := []string{"DATA_DIR=" + dir, "HTTP_ADDR=" + addr, "SMTP_ADDR=" + freeAddr(t), "EMAIL_BACKEND=discard",
		"MAILGUN_SIGNING_KEY=" + mailgunKey, "SNS_TOPIC_ARNS=" + topic}
	url := "http://" + addr
	post := func(path, body string) int {
		t.Helper()
		res, err := http.Post(url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	s := startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(mailgunKey))
	mac.Write([]byte(stamp + "captured-token"))
	signature := fmt.Sprintf(`"signature":{"timestamp":%q,"token":"captured-token","signature":%q}`, stamp, hex.EncodeToString(mac.Sum(nil)))
	event := func(email string) string {
		return `{` + signature + `,"event-data":{"event":"failed","severity":"permanent","recipient":"` + email +
			`","id":"ev-` + email + `","timestamp":` + stamp + `,"delivery-status":{"code":550,"message":"no such user"}}}`
	}
	if code := post("/mail/webhooks/mailgun", event("gone@example.org")); code != 200 {
		t.Fatalf("genuine Mailgun call: %d", code)
	}
	s.stop(t, syscall.SIGTERM)

	s = startServe(t, env)
	waitHealthy(t, url, 60*time.Second, s.exited)
	before := len(s.log.String())
	if code := post("/mail/webhooks/mailgun", event("victim@example.org")); code != 401 {
		t.Fatalf("Mailgun replay after a restart: %d, want 401", code)
	}
	connString := "host=" + filepath.Join(dir, "run") + " user=parley dbname=parley sslmode=disable"
	conn, err := pgx.Connect(context.Background(), connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	waitCount(t, conn, `SELECT count(*) FROM bounce_events WHERE lower(email) = 'victim@example.org'`, 0, time.Second)

	// Forged SES notifications whose certificate is "on" a host of the
	// forger's: refused before any fetch.
	var fetches atomic.Int32
	forger := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetches.Add(1) }))
	defer forger.Close()
	for i := range 20 {
		body, _ := json.Marshal(map[string]string{
			"Type": "Notification", "MessageId": fmt.Sprint("forged-", i), "TopicArn": topic, "Timestamp": "2026-12-01T10:00:00.000Z",
			"Message":          `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"victim@example.org"}]},"mail":{"destination":["victim@example.org"]}}`,
			"SignatureVersion": "1", "Signature": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 256)),
			"SigningCertURL": forger.URL + "/SimpleNotificationService-forged.pem",
		})
		if code := post("/mail/webhooks/ses", string(body)); code != 401 {
			t.Fatalf("forged SES notification: %d, want 401", code)
		}
	}
	if n := fetches.Load(); n != 0 {
		t.Errorf("forged notifications made %d requests to the forger's host", n)
	}
	waitCount(t, conn, `SELECT count(*) FROM bounce_events WHERE lower(email) = 'victim@example.org'`, 0, time.Second)
	after := s.log.String()[before:]
	if strings.Contains(after, "level=ERROR") {
		t.Errorf("forgeries logged ERROR lines:\n%s", after)
	}
	if n := strings.Count(after, "level=WARN"); n > 2 {
		t.Errorf("21 forgeries logged %d WARN lines, want at most 2 (rate-limited):\n%s", n, after)
	}
	s.stop(t, syscall.SIGTERM)
}
