package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// Port names the socket file (.s.PGSQL.5432); no TCP port is opened.
	Port = 5432
	// SuperUser is the cluster's bootstrap role, which Parley connects as.
	SuperUser = "parley"
	// Database is the database Parley's data lives in.
	Database = "parley"
	// maxSocketPath is the usable length of sun_path on Linux, less slack.
	maxSocketPath = 103
)

// ErrBusy means another parleyd serve already runs on this DATA_DIR.
var ErrBusy = errors.New("another parleyd serve is already running on this DATA_DIR")

// Role says what the opener will do with the cluster.
type Role string

const (
	// RoleServe is the long-running daemon: it must own the cluster, and a
	// second serve on the same DATA_DIR is refused.
	RoleServe Role = "serve"
	// RoleCommand is a short CLI command: it uses the cluster of a running
	// serve if there is one, else starts it for its own run.
	RoleCommand Role = "command"
)

// Options configure a cluster.
type Options struct {
	DataDir string       // DATA_DIR; the cluster lives in DataDir/pg
	Log     *slog.Logger // where start-up and shutdown are reported
	// NoSync turns fsync off and skips initdb's final sync. For test
	// clusters only: a crash can lose committed data.
	NoSync bool
	// WaitForOwner is how long to wait for another process's cluster to
	// answer, or for a CLI command to release it. Zero means 60 s.
	WaitForOwner time.Duration
	// Supervised makes this process the parent of the server it starts
	// (see becomeSubreaper), for Supervise; serve sets it.
	Supervised bool
	// Preload names server libraries to load at start
	// (shared_preload_libraries), such as pg_stat_statements for a
	// benchmark's profile of its queries.
	Preload []string
}

// Cluster is a private PostgreSQL cluster in a data directory.
type Cluster struct {
	opts    Options
	log     *slog.Logger
	dataDir string
	pgDir   string
	runDir  string
	logFile string
	bin     string
	cred    *syscall.Credential // non-nil when running the server as another user
	lock    *os.File
	owner   bool // we started (or adopted) the server and must stop it
}

// Open makes the cluster usable for role: it initialises it on first use,
// starts it or joins the running one, and returns once it accepts
// connections. Close undoes what Open did. On error nothing is left running.
func Open(ctx context.Context, opts Options, role Role) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.WaitForOwner == 0 {
		opts.WaitForOwner = 60 * time.Second
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR %q: %w", opts.DataDir, err)
	}
	c := &Cluster{
		opts:    opts,
		log:     opts.Log,
		dataDir: dataDir,
		pgDir:   filepath.Join(dataDir, "pg"),
		runDir:  filepath.Join(dataDir, "run"),
		logFile: filepath.Join(dataDir, "postgresql.log"),
	}
	if n := len(c.socketPath()); n > maxSocketPath {
		return nil, fmt.Errorf("DATA_DIR %s is too long for a unix socket path (%d bytes, the limit is %d): choose a shorter DATA_DIR", dataDir, n, maxSocketPath)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating DATA_DIR: %w", err)
	}
	if c.lock, err = os.OpenFile(filepath.Join(dataDir, "parleyd.lock"), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}

	ok, err := c.tryLock()
	if err != nil {
		c.lock.Close()
		return nil, err
	}
	if !ok {
		holder := c.holder()
		switch {
		case role == RoleServe && strings.HasPrefix(holder, string(RoleServe)):
			c.lock.Close()
			return nil, fmt.Errorf("%w (%s, DATA_DIR=%s)", ErrBusy, holder, dataDir)
		case role == RoleCommand:
			// serve (or another command) owns the server: use it as it is.
			if err := c.waitReachable(ctx, opts.WaitForOwner); err != nil {
				c.lock.Close()
				return nil, fmt.Errorf("the database of the running parleyd (%s) does not answer on %s: %w", holder, c.socketPath(), err)
			}
			c.lock.Close()
			c.lock = nil
			return c, nil
		default:
			// serve waits for a CLI command to finish with the cluster.
			c.log.Info("waiting for another parleyd process to release DATA_DIR", "holder", holder)
			if err := c.waitLock(ctx, opts.WaitForOwner); err != nil {
				c.lock.Close()
				return nil, err
			}
		}
	}
	c.writeHolder(role)
	if opts.Supervised {
		if err := becomeSubreaper(); err != nil {
			c.log.Warn("the embedded PostgreSQL's exit will be noticed by polling", "err", err)
		}
	}
	if err := c.startOwned(ctx); err != nil {
		c.unlock()
		return nil, err
	}
	return c, nil
}

// startOwned runs with the lock held: initialise, then start or adopt.
func (c *Cluster) startOwned(ctx context.Context) error {
	bin, err := FindBinaries()
	if err != nil {
		return err
	}
	c.bin = bin
	if err := c.prepareUser(); err != nil {
		return err
	}
	if err := c.prepareDirs(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.pgDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	}
	if c.serverRunning(ctx) {
		// Nobody holds the lock yet a server runs: a parleyd was killed
		// without its shutdown. Adopt the server if it answers.
		if err := c.waitReachable(ctx, 5*time.Second); err == nil {
			c.log.Warn("adopting a PostgreSQL server left running by an earlier parleyd", "data_dir", c.pgDir)
			c.owner = true
			return c.ensureDatabase(ctx)
		}
		if err := c.clearStalePID(); err != nil {
			return err
		}
	}
	c.owner = true
	if err := c.start(ctx); err != nil {
		c.stop(context.Background(), "immediate")
		c.owner = false
		return err
	}
	if err := c.ensureDatabase(ctx); err != nil {
		c.stop(context.Background(), "fast")
		c.owner = false
		return err
	}
	return nil
}

// ConnString returns a libpq keyword/value connection string for db (the
// Parley database when db is "").
func (c *Cluster) ConnString(db string) string {
	if db == "" {
		db = Database
	}
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", quoteConn(c.runDir), Port, SuperUser, quoteConn(db))
}

// Owner reports whether this process started the server and will stop it.
func (c *Cluster) Owner() bool { return c.owner }

// Close stops the server if this process owns it and releases the lock.
func (c *Cluster) Close(ctx context.Context) error {
	var err error
	if c.owner {
		err = c.stop(ctx, "fast")
		c.owner = false
	}
	c.unlock()
	return err
}

func (c *Cluster) socketPath() string {
	return filepath.Join(c.runDir, ".s.PGSQL."+strconv.Itoa(Port))
}

// prepareUser decides which user runs the server. PostgreSQL refuses root.
func (c *Cluster) prepareUser() error {
	if os.Geteuid() != 0 {
		return nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("running as root, but neither a 'postgres' nor a 'nobody' user exists to run the embedded PostgreSQL: create one, or run parleyd as an ordinary user")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	c.log.Info("running as root: the embedded PostgreSQL runs as an unprivileged user", "user", u.Username, "uid", uid)
	// Every directory above DATA_DIR must be searchable by that user.
	for dir := filepath.Dir(c.dataDir); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("checking %s: %w", dir, err)
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm()&0o001 == 0 && (st == nil || st.Uid != c.cred.Uid) {
			return fmt.Errorf("DATA_DIR %s is not reachable by the %q user that runs the embedded PostgreSQL: %s is not searchable by others; choose another DATA_DIR or run 'chmod o+x %s'", c.dataDir, u.Username, dir, dir)
		}
		if dir == "/" || dir == "." {
			break
		}
	}
	return nil
}

// prepareDirs creates pg/, run/ and the log file, owned by the server user.
func (c *Cluster) prepareDirs() error {
	if c.cred != nil {
		// The server user must pass through DATA_DIR, but not list it:
		// the secrets beside pg/ stay mode 0600, owned by root.
		if err := os.Chmod(c.dataDir, 0o711); err != nil {
			return fmt.Errorf("making DATA_DIR searchable: %w", err)
		}
	}
	for _, d := range []string{c.pgDir, c.runDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
		if err := c.chown(d); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", c.logFile, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return c.chown(c.logFile)
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("giving %s to the database user: %w", path, err)
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("creating the embedded PostgreSQL cluster (first start)", "dir", c.pgDir)
	args := []string{"-D", c.pgDir, "-U", SuperUser, "-E", "UTF8", "--auth-local=trust", "--auth-host=reject"}
	if c.opts.NoSync {
		args = append(args, "--no-sync")
	}
	out, err := c.run(ctx, "initdb", append(args, "--locale=C.UTF-8")...)
	if err != nil && bytes.Contains(out, []byte("locale")) {
		// A system without the C.UTF-8 locale: plain C sorts bytewise too.
		out, err = c.run(ctx, "initdb", append(args, "--locale=C")...)
	}
	if err != nil {
		return fmt.Errorf("initdb failed: %w\n%s", err, lastLines(out, 10))
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	o := fmt.Sprintf("-k %s -h '' -p %d -c max_connections=100 -c jit=off", shellQuote(c.runDir), Port)
	if c.opts.NoSync {
		o += " -F -c synchronous_commit=off -c full_page_writes=off"
	}
	if len(c.opts.Preload) > 0 {
		o += " -c shared_preload_libraries=" + shellQuote(strings.Join(c.opts.Preload, ","))
	}
	out, err := c.run(ctx, "pg_ctl", "start", "-D", c.pgDir, "-w", "-t", "60", "-l", c.logFile, "-o", o)
	if err != nil {
		return fmt.Errorf("starting PostgreSQL failed: %w\n%s\n(see %s)", err, lastLines(out, 5), c.logFile)
	}
	c.log.Info("embedded PostgreSQL started", "socket", c.socketPath())
	return nil
}

func (c *Cluster) stop(ctx context.Context, mode string) error {
	pid, _ := c.postmasterPID()
	out, err := c.run(ctx, "pg_ctl", "stop", "-D", c.pgDir, "-m", mode, "-w", "-t", "60")
	if err != nil {
		if !c.serverRunning(context.Background()) {
			return nil
		}
		return fmt.Errorf("stopping PostgreSQL: %w\n%s", err, lastLines(out, 5))
	}
	// pg_ctl returns once postmaster.pid is gone, which the postmaster
	// removes just before it exits: wait for the exit itself, so that
	// whoever stops parleyd next finds no server of this cluster running.
	for deadline := time.Now().Add(5 * time.Second); pid > 0 && processAlive(pid) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	c.log.Info("embedded PostgreSQL stopped")
	return nil
}

// serverRunning asks pg_ctl whether a postmaster runs on pgDir.
func (c *Cluster) serverRunning(ctx context.Context) bool {
	if _, err := os.Stat(filepath.Join(c.pgDir, "postmaster.pid")); err != nil {
		return false
	}
	_, err := c.run(ctx, "pg_ctl", "status", "-D", c.pgDir)
	return err == nil
}

// clearStalePID removes a postmaster.pid whose process is not a postgres
// server (a pid reused after a crash or reboot). A real server that does
// not answer on our socket is left alone and reported.
func (c *Cluster) clearStalePID() error {
	pidFile := filepath.Join(c.pgDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return nil
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if name := strings.TrimSpace(string(comm)); name == "postgres" || name == "postmaster" {
		return fmt.Errorf("a PostgreSQL server (pid %d) runs on %s but does not answer on %s; stop it before starting parleyd", pid, c.pgDir, c.socketPath())
	}
	c.log.Warn("removing stale postmaster.pid", "pid", pid)
	return os.Remove(pidFile)
}

// ensureDatabase creates the Parley database on first start.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to the embedded PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, Database).Scan(&exists); err != nil {
		return fmt.Errorf("checking for database %s: %w", Database, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{Database}.Sanitize()); err != nil {
			return fmt.Errorf("creating database %s: %w", Database, err)
		}
	}
	return nil
}

// waitReachable polls until the server accepts a connection.
func (c *Cluster) waitReachable(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, c.ConnString("postgres"))
		if err == nil {
			err = conn.Ping(cctx)
			conn.Close(context.Background())
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
		if time.Now().After(deadline) || ctx.Err() != nil {
			return last
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// run runs one of the server's programs, as the server user when root.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Env = cleanEnv()
	cmd.Dir = c.dataDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if prog == "pg_ctl" {
		// The postmaster pg_ctl leaves behind must not share our process
		// group, so a Ctrl-C at the terminal reaches parleyd alone and
		// parleyd stops the server in order.
		cmd.SysProcAttr.Setpgid = true
	}
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

// cleanEnv drops PG* variables (PGDATA, PGHOST…) that would redirect the
// server tools, and sets a locale they accept.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteConn(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
