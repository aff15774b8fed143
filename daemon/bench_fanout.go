package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
)

// roundResult is one program's run in one round, timed at the sink.
type roundResult struct {
	firstToLast float64       // messages per second from the first to the last message at the sink
	startToLast float64       // from the start (post accepted, campaign started, client started) to the last; 0: not meaningful
	cpu         time.Duration // per message, of the processes measured; 0: unknown
	split       string        // cpu by process, e.g. "parleyd 250, PostgreSQL 180, sink 86"
}

// fanoutRun is `parleyd bench fanout`: a group of n members on a
// throwaway database, and per round a post through the ordinary accept
// path, then (with --listmonk) a listmonk campaign to as many, then (with
// --compare) a bare go-mail client, each timed by the same sink.
type fanoutRun struct {
	o       benchOpts
	out     io.Writer
	st      *store.Store
	c       *core
	sink    benchSink
	host    string
	port    int
	owner   mailflow.User
	group   mailflow.Group
	pgPID   int
	lm      *listmonk
	lmPIDs  []int
	results map[string][]roundResult
}

func benchFanout(e *env, o benchOpts) (err error) {
	b, done, err := openBench(e, o)
	if err != nil {
		return err
	}
	defer done()
	ctx, st := b.ctx, b.st
	fmt.Fprintf(e.stdout, "creating %d members\n", o.recipients)
	owner, group, err := seedBenchGroup(ctx, st, o.recipients)
	if err != nil {
		return err
	}
	r, err := newFanoutRun(e, b, o, owner, group)
	if err != nil {
		return err
	}
	if o.listmonk.url != "" {
		r.lm = newListmonk(o.listmonk.url, o.listmonk.token, o.listmonk.list)
		r.lmPIDs, _ = parsePIDs(o.listmonk.pids)
		fmt.Fprintf(e.stdout, "preparing listmonk's list of %d subscribers\n", o.recipients)
		if err := r.lm.prepare(ctx, o.recipients); err != nil {
			return err
		}
	}
	stopWork, err := startWork(ctx, r.c)
	if err != nil {
		return err
	}
	defer stopWork()
	if o.pgTop > 0 {
		if err := st.ResetStatements(ctx); err != nil {
			return err
		}
	}
	if err := r.rounds(ctx); err != nil {
		return err
	}
	r.summary()
	if o.pgTop > 0 {
		return r.statements(ctx)
	}
	return nil
}

// newFanoutRun is Parley's side of a fan-out bench on b's database and
// sink: the daemon's core (posting, job queue, senders over o.conns SMTP
// connections) sending owner's posts to group. Start its work with
// startWork.
func newFanoutRun(e *env, b benchRun, o benchOpts, owner mailflow.User, group mailflow.Group) (*fanoutRun, error) {
	r := &fanoutRun{o: o, out: e.stdout, st: b.st, sink: b.sink, host: b.host, port: b.port, pgPID: postmasterPID(b.dir),
		owner: owner, group: group, results: map[string][]roundResult{}}
	cfg, err := benchConfig(b.dir, map[string]string{"EMAIL_CONCURRENCY": strconv.Itoa(o.conns)})
	if err != nil {
		return nil, err
	}
	transport := outbound.NewSMTP(outbound.SMTPConfig{Host: r.host, Port: r.port, Timeout: 30 * time.Second, HelloName: "bench.test"}, b.log)
	if r.c, err = buildCore(cfg, b.st, transport, b.log); err != nil {
		return nil, err
	}
	return r, nil
}

// statements prints the statements that cost Parley's PostgreSQL most
// over its rounds.
func (r *fanoutRun) statements(ctx context.Context) error {
	return printStatements(ctx, r.out, r.st, r.o.pgTop, r.o.recipients*r.o.rounds, "message sent")
}

// printStatements prints the n statements that took PostgreSQL longest
// since ResetStatements, in execution time per unit of work done.
func printStatements(ctx context.Context, out io.Writer, st *store.Store, n, units int, unit string) error {
	top, err := st.TopStatements(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPostgreSQL's costliest statements (execution time per %s; planning, commits and autovacuum aside):\n", unit)
	for _, s := range top {
		q := strings.Join(strings.Fields(s.Query), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(out, "%7.1f µs  %8d calls  %9d rows  %s\n", s.TotalMS*1000/float64(units), s.Calls, s.Rows, q)
	}
	return nil
}

// rounds runs every program once per round, interleaved, so that the
// machine's load drifts over all of them alike.
func (r *fanoutRun) rounds(ctx context.Context) error {
	for i := 1; i <= r.o.rounds; i++ {
		if err := r.record("parley", i, func() (roundResult, error) { return r.parley(ctx, i) }); err != nil {
			return err
		}
		if r.lm != nil {
			if err := r.record("listmonk", i, func() (roundResult, error) { return r.listmonk(ctx, i) }); err != nil {
				return err
			}
		}
		if r.o.compare {
			if err := r.record("bare go-mail client", i, func() (roundResult, error) { return r.bare(ctx) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *fanoutRun) record(name string, round int, run func() (roundResult, error)) error {
	res, err := run()
	if err != nil {
		return fmt.Errorf("%s, round %d: %w", name, round, err)
	}
	r.results[name] = append(r.results[name], res)
	fmt.Fprintf(r.out, "round %d, %s: first→last %.0f msg/s", round, name, res.firstToLast)
	if res.startToLast > 0 {
		fmt.Fprintf(r.out, ", start→last %.0f msg/s", res.startToLast)
	}
	if res.cpu > 0 {
		fmt.Fprintf(r.out, ", CPU %.0f µs/msg (%s)", float64(res.cpu)/float64(time.Microsecond), res.split)
	}
	fmt.Fprintln(r.out)
	return nil
}

// rates turns a sink's span into the two rates.
func rates(n int, start time.Time, s sinkStats) roundResult {
	res := roundResult{startToLast: float64(n) / s.Last.Sub(start).Seconds()}
	if n > 1 && s.Last.After(s.First) {
		// n messages span n-1 intervals from the first to the last.
		res.firstToLast = float64(n-1) / s.Last.Sub(s.First).Seconds()
	}
	return res
}

// parley posts one message to the group and times its copies at the
// sink. CPU is this process's (the sender, and the sink when it runs
// here) plus PostgreSQL's; allocations are this process's.
func (r *fanoutRun) parley(ctx context.Context, round int) (roundResult, error) {
	n := r.o.recipients
	if err := r.sink.Reset(ctx); err != nil {
		return roundResult{}, err
	}
	profile := ""
	if round == 1 {
		profile = r.o.cpuprofile
	}
	stopProfile, err := startProfile(profile)
	if err != nil {
		return roundResult{}, err
	}
	cpu := cpuMeter{self: true, pids: r.withSink(r.pgPID)}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, start := cpu.each(), time.Now()
	acc, err := r.c.posting.Accept(ctx, posting.Submission{Author: &r.owner, GroupID: r.group.ID, Subject: fmt.Sprintf("Benchmark message %d", round),
		Body: "Hello **everyone**, this is a benchmark message with a [link](https://example.org/).\n\nSecond paragraph.", Source: mailflow.SourceEmail})
	if err != nil {
		stopProfile()
		return roundResult{}, err
	}
	s, err := waitSink(ctx, r.sink, n)
	cpu1 := cpu.each()
	runtime.ReadMemStats(&after)
	stopProfile()
	if err != nil {
		return roundResult{}, err
	}
	res := rates(n, start, s)
	res.cpu, res.split = cpuSplit(cpu0, cpu1, n, r.labels("parleyd", "PostgreSQL"))
	if err := r.allSent(ctx, acc.Message.ID, n); err != nil {
		return res, err
	}
	fmt.Fprintf(r.out, "parley: %.1f allocations and %.0f bytes per recipient, peak RSS %s\n",
		float64(after.Mallocs-before.Mallocs)/float64(n), float64(after.TotalAlloc-before.TotalAlloc)/float64(n), peakRSS())
	return res, nil
}

// allSent checks, once the sink has every copy, that every delivery is
// recorded sent (the record follows the relay's 250 by moments).
func (r *fanoutRun) allSent(ctx context.Context, messageID int64, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := r.st.DeliveryCounts(ctx, messageID)
		if err != nil {
			return err
		}
		if counts["sent"] == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the sink has every copy, but %v of %d deliveries are recorded", counts, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listmonk starts a campaign to as many subscribers and times it.
func (r *fanoutRun) listmonk(ctx context.Context, round int) (roundResult, error) {
	n := r.o.recipients
	id, err := r.lm.campaign(ctx, round)
	if err != nil {
		return roundResult{}, err
	}
	if err := r.sink.Reset(ctx); err != nil {
		return roundResult{}, err
	}
	cpu := cpuMeter{pids: r.withSink(r.lmPIDs...)}
	cpu0, start := cpu.each(), time.Now()
	if err := r.lm.start(ctx, id); err != nil {
		return roundResult{}, err
	}
	s, err := waitSink(ctx, r.sink, n)
	if err != nil {
		return roundResult{}, err
	}
	res := rates(n, start, s)
	if len(r.lmPIDs) > 0 {
		res.cpu, res.split = cpuSplit(cpu0, cpu.each(), n, r.labels("listmonk", "PostgreSQL"))
	}
	return res, nil
}

// bare runs the bare client; its start→last is its own figure of the
// raw limit, so only first→last is reported beside the others.
func (r *fanoutRun) bare(ctx context.Context) (roundResult, error) {
	n := r.o.recipients
	if err := r.sink.Reset(ctx); err != nil {
		return roundResult{}, err
	}
	cpu := cpuMeter{self: true, pids: r.withSink()}
	cpu0 := cpu.each()
	if _, err := bareClient(r.host, r.port, r.o.conns, n); err != nil {
		return roundResult{}, err
	}
	s, err := waitSink(ctx, r.sink, n)
	if err != nil {
		return roundResult{}, err
	}
	res := rates(n, s.First, s)
	res.startToLast = 0
	res.cpu, res.split = cpuSplit(cpu0, cpu.each(), n, r.labels("client"))
	return res, nil
}

// labels names the processes of a cpuMeter built by withSink, in order.
func (r *fanoutRun) labels(names ...string) []string {
	if r.o.sinkPID > 0 {
		return append(names, "sink")
	}
	return names
}

// cpuSplit is the CPU per message between two readings of cpuMeter.each,
// in total and by process.
func cpuSplit(before, after []time.Duration, n int, labels []string) (time.Duration, string) {
	var total time.Duration
	var parts []string
	for i := range min(len(before), len(after)) {
		d := (after[i] - before[i]) / time.Duration(n)
		total += d
		if i < len(labels) {
			parts = append(parts, fmt.Sprintf("%s %.0f", labels[i], float64(d)/float64(time.Microsecond)))
		}
	}
	return total, strings.Join(parts, ", ")
}

// withSink adds the external sink's process to pids, when it was named.
func (r *fanoutRun) withSink(pids ...int) []int {
	out := slices.DeleteFunc(slices.Clone(pids), func(p int) bool { return p <= 0 })
	if r.o.sinkPID > 0 {
		out = append(out, r.o.sinkPID)
	}
	return out
}

// summary prints the median and range of each figure over the rounds,
// and each program's first→last as a share of the bare client's.
func (r *fanoutRun) summary() {
	fmt.Fprintf(r.out, "\n%d recipients, %d SMTP connections, %d round(s); median [min–max]\n", r.o.recipients, r.o.conns, r.o.rounds)
	bare := median(r.results["bare go-mail client"], func(x roundResult) float64 { return x.firstToLast })
	for _, name := range []string{"parley", "listmonk", "bare go-mail client"} {
		rs := r.results[name]
		if len(rs) == 0 {
			continue
		}
		fmt.Fprintf(r.out, "%-20s first→last %s msg/s", name, spread(rs, func(x roundResult) float64 { return x.firstToLast }))
		if rs[0].startToLast > 0 {
			fmt.Fprintf(r.out, "  start→last %s msg/s", spread(rs, func(x roundResult) float64 { return x.startToLast }))
		}
		if rs[0].cpu > 0 {
			fmt.Fprintf(r.out, "  CPU %s µs/msg", spread(rs, func(x roundResult) float64 { return float64(x.cpu) / float64(time.Microsecond) }))
		}
		if bare > 0 {
			fmt.Fprintf(r.out, "  %.2f × bare", median(rs, func(x roundResult) float64 { return x.firstToLast })/bare)
		}
		fmt.Fprintln(r.out)
	}
}

// median is the median of f over rs (the mean of the middle two for an
// even count).
func median[T any](rs []T, f func(T) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, x := range rs {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func spread(rs []roundResult, f func(roundResult) float64) string {
	lo, hi := f(rs[0]), f(rs[0])
	for _, x := range rs {
		lo, hi = min(lo, f(x)), max(hi, f(x))
	}
	return fmt.Sprintf("%.0f [%.0f–%.0f]", median(rs, f), lo, hi)
}
