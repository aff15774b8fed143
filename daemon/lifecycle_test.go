package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// These tests run the real binary as a user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "parleyd")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building parleyd: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// dataDir returns a short DATA_DIR the database user can reach under root.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pd")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "var")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func parleyd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnviron(), env...)
	return cmd
}

// cleanEnviron drops Parley's settings from the test's own environment.
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PG") || strings.HasPrefix(name, "EMAIL_") || strings.HasPrefix(name, "SMTP_") || strings.HasPrefix(name, "HTTP_") ||
			name == "DATABASE_URL" || name == "DATA_DIR" || name == "PARLEY_ENV" || name == "ORIGIN" || name == "SECRET_KEY" {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func runCmd(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := parleyd(env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// postgresFor lists live (not zombie) postgres processes serving dir.
func postgresFor(dir string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(dir)) || !bytes.Contains(cmdline, []byte("postgres")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(p, "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		found = append(found, p+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}

func waitHealthy(t *testing.T, url string, d time.Duration, exited <-chan error) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		select {
		case err := <-exited:
			t.Fatalf("serve exited before it was healthy: %v", err)
		default:
		}
		res, err := http.Get(url + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && string(b) == "ok" {
				return time.Since(start)
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("serve not healthy after %s", d)
	return 0
}

type server struct {
	cmd    *exec.Cmd
	exited chan error
	log    *mailtest.Buffer
}

func startServe(t *testing.T, env []string) *server {
	t.Helper()
	s := &server{cmd: parleyd(env, "serve"), exited: make(chan error, 1), log: &mailtest.Buffer{}}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("parleyd serve output:\n%s", s.log)
		}
	})
	return s
}

func (s *server) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("serve exited with %v after %v\n%s", err, sig, s.log)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop after %v\n%s", sig, s.log)
	}
}

func TestServeLifecycle(t *testing.T) {
	dir := dataDir(t)
	addr := freeAddr(t)
	env := []string{"DATA_DIR=" + dir, "HTTP_ADDR=" + addr, "SMTP_ADDR=" + freeAddr(t)}
	url := "http://" + addr

	s := startServe(t, env)
	took := waitHealthy(t, url, 60*time.Second, s.exited)
	t.Logf("new DATA_DIR: healthy after %s", took)
	if len(postgresFor(dir)) == 0 {
		t.Fatal("no postgres process serves DATA_DIR while serve runs")
	}

	// A second serve on the same DATA_DIR refuses, and leaves the first alone.
	_, stderr, code := runCmd(t, append(env, "HTTP_ADDR="+freeAddr(t), "SMTP_ADDR="+freeAddr(t)), "", "serve")
	if code == 0 || !strings.Contains(stderr, "already running") {
		t.Fatalf("second serve: exit %d, stderr %q", code, stderr)
	}

	// Commands work while serve runs, through its socket.
	out, stderr, code := runCmd(t, env, "", "create-user", "--email", "ada@example.org", "--name", "Ada Lovelace", "--superuser")
	if code != 0 || !strings.Contains(out, "ada@example.org") {
		t.Fatalf("create-user: %d %q %q", code, out, stderr)
	}
	_, stderr, code = runCmd(t, env, "", "create-user", "--email", "ADA@example.org", "--name", "Again")
	if code == 0 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate create-user: %d %q", code, stderr)
	}
	_, stderr, code = runCmd(t, env, "", "create-user", "--email", "not-an-address", "--name", "X")
	if code == 0 || !strings.Contains(stderr, "email") {
		t.Fatalf("invalid email: %d %q", code, stderr)
	}
	out, stderr, code = runCmd(t, env, "", "create-token", "ada@example.org", "--name", "laptop")
	if code != 0 {
		t.Fatalf("create-token: %d %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	req, _ := http.NewRequest("GET", url+"/api/v1/users/ada@example.org", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("the printed token does not work: %d", res.StatusCode)
	}
	out, _, code = runCmd(t, env, "", "migrate")
	if code != 0 || !strings.Contains(out, "nothing to apply") {
		t.Fatalf("migrate while serving: %d %q", code, out)
	}

	s.stop(t, syscall.SIGTERM)
	if left := postgresFor(dir); len(left) > 0 {
		t.Fatalf("postgres processes left after SIGTERM:\n%s", strings.Join(left, "\n"))
	}

	// A command on a stopped cluster starts and stops it for its own run.
	out, _, code = runCmd(t, env, "", "promote-superuser", "ada@example.org")
	if code != 0 || !strings.Contains(out, "already a superuser") {
		t.Fatalf("promote-superuser: %d %q", code, out)
	}
	if left := postgresFor(dir); len(left) > 0 {
		t.Fatalf("postgres left running after a command:\n%s", strings.Join(left, "\n"))
	}

	// A second start keeps the data; Ctrl-C (SIGINT) stops it as cleanly.
	s = startServe(t, env)
	took = waitHealthy(t, url, 60*time.Second, s.exited)
	t.Logf("existing DATA_DIR: healthy after %s", took)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("data lost across restart: %d", res.StatusCode)
	}
	s.stop(t, syscall.SIGINT)
	if left := postgresFor(dir); len(left) > 0 {
		t.Fatalf("postgres processes left after SIGINT:\n%s", strings.Join(left, "\n"))
	}
}

func TestMigrateTwice(t *testing.T) {
	env := []string{"DATA_DIR=" + dataDir(t)}
	out, stderr, code := runCmd(t, env, "", "migrate")
	if code != 0 || !strings.Contains(out, "applied") {
		t.Fatalf("first migrate: %d %q %q", code, out, stderr)
	}
	out, _, code = runCmd(t, env, "", "migrate")
	if code != 0 || !strings.Contains(out, "nothing to apply") {
		t.Fatalf("second migrate should be a no-op: %d %q", code, out)
	}
}

func TestUnreachableDatabase(t *testing.T) {
	// A port nothing listens on.
	dead := freeAddr(t)
	env := []string{"DATA_DIR=" + dataDir(t), "HTTP_ADDR=" + freeAddr(t), "SMTP_ADDR=" + freeAddr(t), "DATABASE_URL=postgres://parley:secretpw@" + dead + "/parley?sslmode=disable"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = append(cleanEnviron(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err == nil {
		t.Fatal("serve with an unreachable database exited 0")
	}
	if took > 15*time.Second {
		t.Fatalf("took %s to give up, want under 15 s", took)
	}
	if !strings.Contains(string(out), "cannot reach the database") || strings.Contains(string(out), "secretpw") {
		t.Fatalf("want a clear message without the password, got:\n%s", out)
	}
}

func TestBadConfigExits2(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := map[string][]string{
		"EMAIL_BACKEND":  {"EMAIL_BACKEND=pigeon"},
		"EMAIL_USE_TLS":  {"EMAIL_USE_TLS=true", "EMAIL_USE_SSL=true"},
		"HTTP_ADDR":      {"HTTP_ADDR=" + busy.Addr().String()},
		"DATABASE_URL":   {"DATABASE_URL=postgres://x:y@[bad"},
		"PARLEY_ENV":     {"PARLEY_ENV=production"},
		"DATA_DIR":       {"DATA_DIR=/proc/parley-cannot-write-here"},
		"ORIGIN":         {"ORIGIN=not a url"},
		"EMAIL_PORT":     {"EMAIL_PORT=70000"},
		"LOG_FORMAT":     {"LOG_FORMAT=yaml"},
		"MAIL_DOMAIN":    {"MAIL_DOMAIN=-bad-"},
		"SHUTDOWN_GRACE": {"SHUTDOWN_GRACE_SECONDS=soon"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(env[0], "DATA_DIR=") {
				env = append([]string{"DATA_DIR=" + dataDir(t)}, env...)
			}
			env = append([]string{"SMTP_ADDR=" + freeAddr(t)}, env...)
			_, stderr, code := runCmd(t, env, "", "serve")
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, strings.SplitN(name, "_GRACE", 2)[0]) {
				t.Fatalf("want one line naming %s, got %q", name, stderr)
			}
		})
	}
	_, _, code := runCmd(t, []string{"DATA_DIR=" + dataDir(t), "EMAIL_BACKEND=pigeon"}, "", "check-config")
	if code != 2 {
		t.Fatalf("check-config on a bad configuration: exit %d, want 2", code)
	}
}

func TestCheckConfigMasksSecrets(t *testing.T) {
	env := []string{"DATA_DIR=" + dataDir(t), "SECRET_KEY=" + strings.Repeat("s", 40), "EMAIL_HOST_PASSWORD=hunter2hunter2",
		"DATABASE_URL=postgres://parley:dbpassword@db.example.org/parley"}
	out, stderr, code := runCmd(t, env, "", "check-config")
	if code != 0 {
		t.Fatalf("check-config: %d %q", code, stderr)
	}
	for _, secret := range []string{strings.Repeat("s", 40), "hunter2hunter2", "dbpassword"} {
		if strings.Contains(out, secret) {
			t.Fatalf("check-config prints a secret (%s):\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "HTTP_ADDR=127.0.0.1:8080") || !strings.Contains(out, "db.example.org") {
		t.Fatalf("check-config output:\n%s", out)
	}
}

func TestHelp(t *testing.T) {
	for _, c := range commands() {
		out, _, code := runCmd(t, nil, "", c.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage: parleyd "+c.name) {
			t.Errorf("%s --help: exit %d, %q", c.name, code, out)
		}
	}
	out, _, code := runCmd(t, nil, "", "help")
	if code != 0 || !strings.Contains(out, "create-token") {
		t.Fatalf("help: %d %q", code, out)
	}
	if _, _, code := runCmd(t, nil, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}
