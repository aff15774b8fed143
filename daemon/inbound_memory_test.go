package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// processPeakRSS reads the peak resident set size (VmHWM) of a process, in bytes.
func processPeakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// writeBigMessage writes a message of about size bytes to w without
// holding it: a short text part and a base64 attachment of random bytes
// (what a 24 MB mail usually is). n makes each message's bytes unique.
func writeBigMessage(w io.Writer, n int, size int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := fmt.Sprintf("From: admin@example.org\r\nTo: crash@lists.test\r\nSubject: Big file %d\r\nMessage-ID: <big.%d@example.org>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Here is the file, number %d.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big-%d.bin\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", n, n, n, n)
	if _, err := bw.WriteString(head); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8)})
	raw := make([]byte, 57) // 57 bytes are one 76-character base64 line
	line := make([]byte, 76)
	written := len(head)
	for written < size-200 {
		_, _ = rng.Read(raw)
		base64.StdEncoding.Encode(line, raw)
		if _, err := bw.Write(line); err != nil {
			return err
		}
		if _, err := bw.WriteString("\r\n"); err != nil {
			return err
		}
		written += 78
	}
	if _, err := bw.WriteString("--b--\r\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// TestThirtyBigMessagesStayUnderMemoryBound sends 30 messages of 24 MB at
// once over SMTP to a real parleyd serve: every one is answered 250 and
// stored whole, and the daemon's peak resident memory (VmHWM, the whole
// process, processing of the 30 messages included) stays under 300 MB.
func TestThirtyBigMessagesStayUnderMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 720 MB over SMTP")
	}
	// Not parallel: it measures its own daemon's memory, and on a machine
	// starved by the package's parallel tests the garbage collector, held
	// to half the CPU, lets the heap run further past the soft limit.
	// (While every read of a message also loaded its raw source, 24 MB
	// here, it peaked at 300–327 MB so; alone it now stays near 215 MB.)
	const (
		conns    = 30
		size     = 24 << 20
		maxPeakB = 300 << 20
	)
	dir := dataDir(t)
	smtpAddr, httpAddr := freeAddr(t), freeAddr(t)
	env := []string{"DATA_DIR=" + dir, "HTTP_ADDR=" + httpAddr, "SMTP_ADDR=" + smtpAddr, "MAIL_DOMAIN=lists.test", "EMAIL_BACKEND=discard",
		"SMTP_MAX_CONNECTIONS_PER_IP=64", "SMTP_RATE_PER_MINUTE=10000"}
	s := startServe(t, env)
	waitHealthy(t, "http://"+httpAddr, 60*time.Second, s.exited)
	w := &webSite{url: "http://" + httpAddr, dir: dir, conn: "host=" + dir + "/run user=parley dbname=parley sslmode=disable", env: env}
	seed(t, w.conn, 0)
	before := processPeakRSS(t, s.cmd.Process.Pid)

	var wg sync.WaitGroup
	errs := make([]error, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = func() error {
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
				dw, err := c.Data()
				if err != nil {
					return err
				}
				if err := writeBigMessage(dw, i, size); err != nil {
					return err
				}
				return dw.Close() // the server's answer to the end of DATA
			}()
		}()
	}
	wg.Wait()
	afterAccept := processPeakRSS(t, s.cmd.Process.Pid)
	t.Logf("parleyd serve peak RSS: %d MB before, %d MB once %d × %d MB were sent", before>>20, afterAccept>>20, conns, size>>20)
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if n := w.queryInt(t, `SELECT count(*) FROM inbound_messages WHERE size_bytes > $1`, size-1024); n != conns {
		t.Fatalf("%d messages of about 24 MB stored, want %d", n, conns)
	}
	// Stored whole: the chunks of each add up to the size received.
	if n := w.queryInt(t, `SELECT count(*) FROM inbound_messages m
		WHERE size_bytes = (SELECT sum(length(data)) FROM inbound_message_chunks c WHERE c.inbound_id = m.id)`); n != conns {
		t.Fatalf("%d messages stored whole, want %d", n, conns)
	}
	// Processing (within its memory budget) counts too.
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(time.Second) {
		n := w.queryInt(t, `SELECT count(*) FROM inbound_messages WHERE state = 'received'`)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still waiting to be processed", n)
		}
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE subject LIKE 'Big file %'`); n != conns {
		t.Fatalf("%d posted, want %d", n, conns)
	}
	peak := processPeakRSS(t, s.cmd.Process.Pid)
	t.Logf("parleyd serve peak RSS: %d MB after processing them too", peak>>20)
	if peak > maxPeakB {
		t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, maxPeakB>>20)
	}
	s.stop(t, syscall.SIGTERM)
}
