package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wneessen/go-mail/smtp"

	"github.com/parleymail/parley/mailflow/store/pgembed"
)

// TestDatabaseOutageAnswers451 stops PostgreSQL under a running parleyd:
// mail gets 451 (the sender keeps it and retries), never 250; once the
// database is back the retry is accepted and posted.
func TestDatabaseOutageAnswers451(t *testing.T) {
	ctx := context.Background()
	base, err := os.MkdirTemp("", "pout")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	_ = os.Chmod(base, 0o711)
	dbDir := filepath.Join(base, "db")
	cl, err := pgembed.Open(ctx, pgembed.Options{DataDir: dbDir, NoSync: true}, pgembed.RoleServe)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cl.Close(context.Background()) }()
	dbURL := cl.ConnString("")

	smtpAddr := freeAddr(t)
	httpAddr := freeAddr(t)
	env := []string{"DATABASE_URL=" + dbURL, "DATA_DIR=" + dataDir(t), "HTTP_ADDR=" + httpAddr, "SMTP_ADDR=" + smtpAddr,
		"MAIL_DOMAIN=lists.test", "EMAIL_BACKEND=discard"}
	s := startServe(t, env)
	waitHealthy(t, "http://"+httpAddr, 60*time.Second, s.exited)
	seed(t, dbURL, 3)

	send := func() error {
		c, err := smtp.Dial(smtpAddr)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Hello("client.test"); err != nil {
			return err
		}
		if err := c.Mail("admin@example.org"); err != nil {
			return err
		}
		if err := c.Rcpt("crash@lists.test"); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		_, _ = w.Write([]byte("From: admin@example.org\r\nTo: crash@lists.test\r\nSubject: During the outage\r\nMessage-ID: <outage@example.org>\r\n\r\nStill here?\r\n"))
		return w.Close()
	}

	if err := cl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	err = send()
	if err == nil || !strings.HasPrefix(err.Error(), "451") {
		t.Fatalf("with the database down: %v, want 451", err)
	}

	if cl, err = pgembed.Open(ctx, pgembed.Options{DataDir: dbDir, NoSync: true}, pgembed.RoleServe); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, "http://"+httpAddr, 30*time.Second, s.exited)
	if err := send(); err != nil {
		t.Fatalf("retry after the outage: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM messages WHERE subject = 'During the outage'`).Scan(&n)
		conn.Close(ctx)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried message was not posted\n%s", s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop(t, syscall.SIGTERM)
}
