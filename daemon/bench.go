package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/digest"
	"github.com/parleymail/parley/mailflow/mailtest"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/pgembed"
)

type benchOpts struct {
	members    int
	groups     int
	messages   int
	recipients int
	smtpAddr   string
	conns      int
	compare    bool
	cpuprofile string
	rounds     int
	sinkStats  string // smtpsink's HTTP address: the sink counts and times the runs
	sinkPID    int
	posts      int // intake: posts in the burst
	postCopies int // intake: members each post goes to
	listmonk   listmonkOpts
	pgTop      int // fanout: print this many of PostgreSQL's costliest statements over Parley's runs
}

// listmonkOpts name a running listmonk to measure beside Parley.
type listmonkOpts struct {
	url, token string
	list       int
	pids       string
}

func benchFlags(o *benchOpts) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.IntVar(&o.recipients, "recipients", 20000, "fanout: members of the benchmark group")
		fs.IntVar(&o.members, "members", 20000, "digests: members, each on the daily digest of every group")
		fs.IntVar(&o.groups, "groups", 5, "digests: groups")
		fs.IntVar(&o.messages, "messages", 40, "digests: new messages per group")
		fs.StringVar(&o.smtpAddr, "smtp", "", "send to this SMTP sink (host:port) instead of an in-process one; needs --sink-stats")
		fs.StringVar(&o.sinkStats, "sink-stats", "", "the HTTP address of that sink's counters (smtpsink -http: GET /stats, POST /reset), e.g. http://127.0.0.1:2580")
		fs.IntVar(&o.sinkPID, "sink-pid", 0, "process id of that sink, to count its CPU in every program's CPU per message")
		fs.IntVar(&o.conns, "conns", 4, "parallel SMTP connections (EMAIL_CONCURRENCY; intake: client connections)")
		fs.BoolVar(&o.compare, "compare", true, "also measure a bare go-mail client over the same connections, for the ratio")
		fs.IntVar(&o.rounds, "rounds", 1, "fanout: rounds, each program once per round, interleaved")
		fs.StringVar(&o.listmonk.url, "listmonk", "", "fanout: also measure the listmonk at this URL (e.g. http://127.0.0.1:9000) against the same sink; needs --smtp and --sink-stats")
		fs.StringVar(&o.listmonk.token, "listmonk-token", "", "listmonk API user and token, as user:token")
		fs.IntVar(&o.listmonk.list, "listmonk-list", 0, "listmonk list to send to (default: make one and import --recipients subscribers)")
		fs.StringVar(&o.listmonk.pids, "listmonk-pids", "", "process ids whose CPU (with their children) is listmonk's: listmonk and its PostgreSQL postmaster, comma-separated")
		fs.IntVar(&o.posts, "posts", 2000, "intake: posts sent in one burst")
		fs.IntVar(&o.postCopies, "post-members", 5, "intake: members of the group, each getting a copy of every post")
		fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the (first) Parley run to this file")
		fs.IntVar(&o.pgTop, "pg-statements", 0, "fanout, intake: load pg_stat_statements and print this many of the statements that cost PostgreSQL most during Parley's runs")
	}
}

// cmdBench measures the fan-out, digests or intake on a throwaway database.
func cmdBench(o *benchOpts) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int {
		runs := map[string]func(*env, benchOpts) error{"fanout": benchFanout, "digests": benchDigests, "intake": benchIntake}
		if len(args) != 1 || runs[args[0]] == nil || o.recipients < 1 || o.rounds < 1 || o.posts < 1 || o.postCopies < 1 || o.conns < 1 {
			fs.Usage()
			return exitConfig
		}
		if err := o.check(); err != nil {
			fmt.Fprintf(e.stderr, "parleyd bench: %v\n", err)
			return exitConfig
		}
		if err := runs[args[0]](e, *o); err != nil {
			fmt.Fprintf(e.stderr, "parleyd bench: %v\n", err)
			return exitFail
		}
		return exitOK
	}
}

// check refuses flag combinations that could not be measured.
func (o benchOpts) check() error {
	switch {
	case o.smtpAddr != "" && o.sinkStats == "":
		return errors.New("--smtp needs --sink-stats: runs are timed by the sink's own count")
	case o.listmonk.url != "" && o.smtpAddr == "":
		return errors.New("--listmonk needs --smtp and --sink-stats: the sink listmonk sends to")
	case o.listmonk.url != "" && o.listmonk.token == "":
		return errors.New("--listmonk needs --listmonk-token user:token")
	}
	_, err := parsePIDs(o.listmonk.pids)
	return err
}

// openBenchSink is the sink the runs are timed by: the one at --smtp,
// read through --sink-stats, or one started in this process.
func openBenchSink(o benchOpts) (sink benchSink, addr string, closeSink func(), err error) {
	if o.smtpAddr != "" {
		return newRemoteSink(o.sinkStats), o.smtpAddr, func() {}, nil
	}
	s, err := mailtest.Start()
	if err != nil {
		return nil, "", nil, err
	}
	s.SetDiscard(true)
	return localSink{s}, s.Addr, func() { s.Close() }, nil
}

// benchRun is what every sending benchmark starts from: a throwaway
// database and the sink its runs are timed by.
type benchRun struct {
	ctx  context.Context
	st   *store.Store
	log  *slog.Logger
	dir  string
	sink benchSink
	host string
	port int
}

// openBench starts the database and the sink; done stops both.
func openBench(e *env, o benchOpts) (b benchRun, done func(), err error) {
	ctx, st, log, dir, closeDB, err := benchDB(e, o)
	if err != nil {
		return b, nil, err
	}
	sink, addr, closeSink, err := openBenchSink(o)
	if err != nil {
		closeDB()
		return b, nil, err
	}
	done = func() { closeSink(); closeDB() }
	b = benchRun{ctx: ctx, st: st, log: log, dir: dir, sink: sink}
	if b.host, b.port, err = splitHostPort(addr); err != nil {
		done()
		return b, nil, err
	}
	return b, done, nil
}

// startWork runs the job queue and the senders of c until stop, which
// waits for them.
func startWork(ctx context.Context, c *core) (stop func(), err error) {
	runCtx, cancel := context.WithCancel(ctx)
	if err := c.queue.Start(runCtx); err != nil {
		cancel()
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Go(func() { c.sender.Run(runCtx) })
	return func() {
		cancel()
		wg.Wait()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = c.queue.Stop(sctx)
	}, nil
}

// dialGoMail opens one go-mail client connection, plain SMTP, as the
// benchmarks' clients use.
func dialGoMail(host string, port int, helo string) (*gomail.Client, error) {
	c, err := gomail.NewClient(host, gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithHELO(helo), gomail.WithoutNoop())
	if err != nil {
		return nil, err
	}
	if err := c.DialWithContext(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

// splitHostPort is net.SplitHostPort with the port as a number.
func splitHostPort(addr string) (string, int, error) {
	host, portS, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("--smtp: %w", err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return "", 0, fmt.Errorf("--smtp: port %q: %w", portS, err)
	}
	return host, port, nil
}

// seedBenchGroup makes the bench group, its owner and n members.
func seedBenchGroup(ctx context.Context, st *store.Store, n int) (mailflow.User, mailflow.Group, error) {
	owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner@bench.test", Name: "Bench Owner", Verified: true})
	if err != nil {
		return owner, mailflow.Group{}, err
	}
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "bench", Name: "Bench Group", JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		return owner, g, err
	}
	return owner, g, st.SeedMembers(ctx, g.ID, n, "bench.test")
}

// bareClient sends n small personalised messages over conns reused
// connections with go-mail's client (a Msg built per recipient, then
// Send) and nothing else: no database, no state. It is the yardstick the
// fan-out is measured against.
func bareClient(host string, port, conns, n int) (float64, error) {
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, conns)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialGoMail(host, port, "bench.test")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				m := gomail.NewMsg()
				if err := m.From("Bench <bench@bench.test>"); err != nil {
					errs <- err
					return
				}
				if err := m.AddToFormat(fmt.Sprintf("Member %d", i), fmt.Sprintf("m%d@bench.test", i)); err != nil {
					errs <- err
					return
				}
				m.Subject("Benchmark message")
				m.SetGenHeader("List-Unsubscribe", fmt.Sprintf("<https://bench.test/u/%d>", i))
				m.SetBodyString(gomail.TypeTextPlain, fmt.Sprintf("Hello Member %d,\r\n\r\nThis is the benchmark message.\r\n\r\nUnsubscribe: https://bench.test/u/%d\r\n", i, i))
				if err := c.Send(m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

// benchDigests measures digests on a throwaway database: members × groups
// with messages new since the last digest, every digest built and sent
// over SMTP to an in-process sink by the code the daemon's jobs run.
func benchDigests(e *env, o benchOpts) error {
	ctx, st, log, dir, done, err := benchDB(e, o)
	if err != nil {
		return err
	}
	defer done()
	sink, err := mailtest.Start()
	if err != nil {
		return err
	}
	defer sink.Close()
	sink.SetDiscard(true)
	host, portS, _ := net.SplitHostPort(sink.Addr)
	cfg, err := benchConfig(dir, map[string]string{"EMAIL_BACKEND": "smtp", "EMAIL_HOST": host, "EMAIL_PORT": portS})
	if err != nil {
		return err
	}
	c, err := buildCore(cfg, st, transportFor(cfg, log), log)
	if err != nil {
		return err
	}
	owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner@bench.test", Name: "Bench Owner", Verified: true})
	if err != nil {
		return err
	}
	var gids []int64
	for i := range o.groups {
		g, err := st.CreateGroup(ctx, mailflow.Group{Slug: fmt.Sprintf("bench-%d", i), Name: fmt.Sprintf("Bench group %d", i), JoinPolicy: mailflow.JoinOpen,
			Listed: true, MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
		if err != nil {
			return err
		}
		gids = append(gids, g.ID)
	}
	now := time.Now()
	// Members are in UTC; the posts fall in the last day before their digest.
	due, _ := c.digests.Schedule.LastDue(now, time.UTC, digest.Daily)
	fmt.Fprintf(e.stdout, "seeding %d members × %d groups × %d messages\n", o.members, o.groups, o.messages)
	if err := st.SeedDigestBench(ctx, gids, o.members, "bench.test", owner.ID, o.messages, due.Add(-6*time.Hour)); err != nil {
		return err
	}
	svc := c.digests
	svc.Enqueue = false
	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	runtime.GC()
	start := time.Now()
	res, err := svc.Scan(ctx, now, "")
	if err != nil {
		return err
	}
	scanned := time.Since(start)
	ids := make(chan int64)
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				out, err := svc.Send(ctx, id, false)
				if err != nil || !strings.HasPrefix(out, "sent") {
					failed.Add(1)
					if err != nil {
						log.Warn("digest", "err", err)
					}
					continue
				}
				sent.Add(1)
			}
		}()
	}
	for _, id := range res.Created {
		ids <- id
	}
	close(ids)
	wg.Wait()
	took := time.Since(start)
	fmt.Fprintf(e.stdout, "digests: %d members scanned in %s; %d digests sent (%d failed or empty) in %s: %.0f members/s; %d messages at the sink\n",
		res.Members, scanned.Round(time.Millisecond), sent.Load(), failed.Load(), took.Round(time.Millisecond),
		float64(res.Members)/took.Seconds(), sink.Count())
	fmt.Fprintf(e.stdout, "peak RSS: %s\n", peakRSS())
	return nil
}

// benchDB starts a throwaway PostgreSQL in a temporary directory and
// opens a migrated store on it. done stops and removes it all; Ctrl-C
// cancels ctx so that the run ends through done too.
func benchDB(e *env, o benchOpts) (ctx context.Context, st *store.Store, log *slog.Logger, dir string, done func(), err error) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var cleanups []func()
	done = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		stopSignals()
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	if dir, err = os.MkdirTemp("", "pbench"); err != nil {
		return
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o711)
	fmt.Fprintf(e.stdout, "starting a throwaway PostgreSQL in %s\n", dir)
	popts := pgembed.Options{DataDir: dir}
	if o.pgTop > 0 {
		popts.Preload = []string{"pg_stat_statements"}
	}
	cl, err := pgembed.Open(ctx, popts, pgembed.RoleServe)
	if err != nil {
		return
	}
	cleanups = append(cleanups, func() { _ = cl.Close(context.Background()) })
	if st, err = store.Open(ctx, cl.ConnString(""), 10*time.Second); err != nil {
		return
	}
	cleanups = append(cleanups, st.Close)
	_, err = migrate(ctx, st, log)
	return
}

// benchConfig is a development configuration in dir with the given
// settings, for the benchmarks.
func benchConfig(dir string, settings map[string]string) (*config.Config, error) {
	settings["DATA_DIR"], settings["MAIL_DOMAIN"] = dir, "bench.test"
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := settings[name]
		return v, ok
	})
	if err != nil {
		return nil, err
	}
	return cfg, cfg.EnsureSecrets()
}

// startProfile writes a CPU profile to path until stop is called; an
// empty path profiles nothing.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
