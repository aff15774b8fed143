package main

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"time"

	"github.com/parleymail/parley/mailflow/retention"
	"github.com/parleymail/parley/mailflow/store"
)

// growthOpts are the flags of parleyd bench growth.
type growthOpts struct {
	days      int
	members   int
	posts     int
	inbound   int
	retention int
	batch     int
	conns     int
	rounds    int
	pgTop     int  // statements to print per side (pg_stat_statements)
	hold      bool // keep both databases until interrupted, to look into them
}

// benchGrowth simulates a busy list for days (rows made directly, not
// sent: members × posts settled deliveries a day, with bounce events and
// received messages), prunes day by day as the daemon's retention job
// would, and shows the tables bounded and the fan-out as fast on the aged
// database as on a fresh one: the table work alone (expanding recipients,
// then claiming and recording them sent) and the whole fan-out as the
// daemon runs it, over SMTP to a sink. The defaults are the issue's
// figures: 100,000 members posting 20 times a day, 2 million deliveries a
// day.
func benchGrowth(e *env, args []string) int {
	var o growthOpts
	fs := flag.NewFlagSet("parleyd bench growth", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.IntVar(&o.days, "days", 60, "days to simulate")
	fs.IntVar(&o.members, "members", 100000, "members of the list, each getting every post (scale down for a quick run)")
	fs.IntVar(&o.posts, "posts", 20, "posts a day")
	fs.IntVar(&o.inbound, "inbound", 200, "received messages a day (4 KB raw copies)")
	fs.IntVar(&o.retention, "retention", 30, "days deliveries and received messages are kept (DELIVERY_RETENTION_DAYS, INBOUND_RETENTION_DAYS)")
	fs.IntVar(&o.batch, "batch", retention.DefaultBatch, "rows per delete statement")
	fs.IntVar(&o.conns, "conns", 4, "SMTP connections of the fan-out measured at the end (EMAIL_CONCURRENCY)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of each fan-out measurement, aged and fresh interleaved")
	fs.IntVar(&o.pgTop, "pg-statements", 0, "load pg_stat_statements and print, per database, this many of the statements that cost PostgreSQL most during the fan-out measurements")
	fs.BoolVar(&o.hold, "hold", false, "keep both databases running at the end, until interrupted (Ctrl-C), and print how to connect to them")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || o.days < 1 || o.members < 1 || o.posts < 1 || o.retention < 1 || o.batch < 1 || o.conns < 1 || o.rounds < 1 {
		fs.Usage()
		return exitConfig
	}
	if err := runGrowth(e, o); err != nil {
		fmt.Fprintf(e.stderr, "parleyd bench growth: %v\n", err)
		return exitFail
	}
	return exitOK
}

// growthSide is one database of the comparison, the aged one or a fresh
// one, each with the list's members and Parley's own fan-out (posting,
// job queue, senders over SMTP to an in-process sink).
type growthSide struct {
	name  string
	run   *fanoutRun // its store and group too
	table []fanoutRate
}

// openGrowthSide makes the list's group of members on b's database and
// the fan-out that sends its posts over conns connections.
func openGrowthSide(e *env, b benchRun, name string, members, conns int) (*growthSide, error) {
	owner, g, err := seedBenchGroup(b.ctx, b.st, members)
	if err != nil {
		return nil, err
	}
	run, err := newFanoutRun(e, b, benchOpts{recipients: members, conns: conns}, owner, g)
	if err != nil {
		return nil, err
	}
	return &growthSide{name: name, run: run}, nil
}

func runGrowth(e *env, o growthOpts) error {
	b, done, err := openBench(e, benchOpts{pgTop: o.pgTop})
	if err != nil {
		return err
	}
	defer done()
	ctx, st := b.ctx, b.st
	aged, err := openGrowthSide(e, b, fmt.Sprintf("after %d days", o.days), o.members, o.conns)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d members, %d posts a day: %d deliveries a day for %d days, kept %d days, batches of %d\n",
		o.members, o.posts, o.members*o.posts, o.days, o.retention, o.batch)
	keep := time.Duration(o.retention) * 24 * time.Hour
	svc := &retention.Service{Store: st, Batch: o.batch, Budget: time.Hour,
		Policy: retention.Policy{Deliveries: keep, Inbound: keep, BounceEvents: keep}}
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -o.days)
	fmt.Fprintln(e.stdout, "day  seed_s  deleted  batches  longest_batch_ms  prune_s  vacuum_s  deliveries_rows(est.)  deliveries_MB(table+index)")
	var prunes []time.Duration
	for d := 0; d < o.days; d++ {
		day := start.AddDate(0, 0, d)
		t := time.Now()
		if _, err := st.SeedGrowthDay(ctx, store.GrowthDay{GroupID: aged.run.group.ID, Day: day, Posts: o.posts, Deliver: true, Inbound: o.inbound}); err != nil {
			return err
		}
		seed := time.Since(t)
		res, err := svc.Run(ctx, day.Add(24*time.Hour))
		if err != nil {
			return err
		}
		var del *retention.Result
		for i := range res {
			if res[i].Table == "deliveries" {
				del = &res[i]
			}
		}
		sizes, err := st.TableSizes(ctx)
		if err != nil {
			return err
		}
		dz := sizeOf(sizes, "deliveries")
		if del != nil && del.Deleted > 0 {
			prunes = append(prunes, del.Took)
		}
		if del == nil {
			del = &retention.Result{}
		}
		fmt.Fprintf(e.stdout, "%3d  %6.1f  %7d  %7d  %16.1f  %7.1f  %8.1f  %15d  %.0f\n", d+1, seed.Seconds(), del.Deleted, del.Batches,
			float64(del.Longest.Microseconds())/1000, del.Took.Seconds(), del.Vacuum.Seconds(), dz.Rows, mb(dz.TableBytes+dz.IndexBytes))
	}
	sizes, err := st.TableSizes(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\ntable                   rows  table_MB  index_MB")
	for _, s := range sizes {
		fmt.Fprintf(e.stdout, "%-22s %9d  %8.1f  %8.1f\n", s.Name, s.Rows, mb(s.TableBytes), mb(s.IndexBytes))
	}
	if len(prunes) > 0 {
		sort.Slice(prunes, func(i, j int) bool { return prunes[i] < prunes[j] })
		fmt.Fprintf(e.stdout, "pruning a day's deliveries (%d rows): median %.1f s, range %.1f–%.1f s\n", o.members*o.posts,
			prunes[len(prunes)/2].Seconds(), prunes[0].Seconds(), prunes[len(prunes)-1].Seconds())
	}
	// The fresh database is made now and measured round by round beside
	// the aged one, so that both see the machine alike (a run takes
	// hours; the load drifts).
	fb, freshDone, err := openBench(e, benchOpts{pgTop: o.pgTop})
	if err != nil {
		return err
	}
	defer freshDone()
	fresh, err := openGrowthSide(e, fb, "fresh database", o.members, o.conns)
	if err != nil {
		return err
	}
	if err := compareFanout(ctx, e, o, []*growthSide{fresh, aged}); err != nil {
		return err
	}
	if o.hold {
		fmt.Fprintf(e.stdout, "\nholding both databases until interrupted:\n  aged:  psql \"host=%s/run user=parley dbname=parley\"\n  fresh: psql \"host=%s/run user=parley dbname=parley\"\n", b.dir, fb.dir)
		<-ctx.Done()
	}
	return nil
}

// compareFanout measures the fan-out on each side, rounds interleaved:
// first the table work alone (expanding recipients, then claiming and
// recording them sent, as fast as the database goes), then the whole
// fan-out as the daemon runs it, expansion and senders overlapping,
// timed at the sink.
func compareFanout(ctx context.Context, e *env, o growthOpts, sides []*growthSide) error {
	for _, s := range sides {
		if err := s.run.st.Vacuum(ctx, "deliveries"); err != nil { // statistics as the daemon's retention leaves them
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := s.run.st.Checkpoint(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	if o.pgTop > 0 {
		for _, s := range sides {
			if err := s.run.st.ResetStatements(ctx); err != nil {
				return err
			}
		}
	}
	for range o.rounds {
		for _, s := range sides {
			r, err := fanoutRound(ctx, s.run.st, s.run.group.ID, o.members)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.table = append(s.table, r)
		}
	}
	for _, s := range sides {
		stop, err := startWork(ctx, s.run.c)
		if err != nil {
			return fmt.Errorf("%s: starting the job queue and senders: %w", s.name, err)
		}
		defer stop()
	}
	for i := 1; i <= o.rounds; i++ {
		for _, s := range sides {
			if err := s.run.record(s.name, i, func() (roundResult, error) { return s.run.parley(ctx, i) }); err != nil {
				return err
			}
		}
	}
	fresh, aged := sides[0], sides[1]
	fmt.Fprintf(e.stdout, "\nfan-out of %d recipients, median of %d rounds  expand rows/s  claim+sent rows/s  SMTP first→last msg/s  start→last msg/s\n", o.members, o.rounds)
	row := func(s *growthSide) []float64 {
		rs := s.run.results[s.name]
		return []float64{
			median(s.table, func(r fanoutRate) float64 { return r.expand }),
			median(s.table, func(r fanoutRate) float64 { return r.claim }),
			median(rs, func(r roundResult) float64 { return r.firstToLast }),
			median(rs, func(r roundResult) float64 { return r.startToLast }),
		}
	}
	fr, ag := row(fresh), row(aged)
	line := "%-40s %13.0f  %17.0f  %21.0f  %16.0f\n"
	fmt.Fprintf(e.stdout, line, fresh.name, fr[0], fr[1], fr[2], fr[3])
	fmt.Fprintf(e.stdout, line, aged.name, ag[0], ag[1], ag[2], ag[3])
	fmt.Fprintf(e.stdout, "%-40s %13.2f  %17.2f  %21.2f  %16.2f\n", "aged / fresh", ag[0]/fr[0], ag[1]/fr[1], ag[2]/fr[2], ag[3]/fr[3])
	if o.pgTop > 0 {
		for _, s := range sides {
			fmt.Fprintf(e.stdout, "\n%s, table rounds and SMTP rounds together:", s.name)
			if err := printStatements(ctx, e.stdout, s.run.st, o.pgTop, 2*o.members*o.rounds, "recipient"); err != nil {
				return err
			}
		}
	}
	return nil
}

func sizeOf(sizes []store.TableSize, name string) store.TableSize {
	for _, s := range sizes {
		if s.Name == name {
			return s
		}
	}
	return store.TableSize{}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

type fanoutRate struct{ expand, claim float64 }

// fanoutRound posts one message now and times, as the daemon does them,
// expanding its recipients (1,000 a statement) and claiming them (100 a
// claim) and recording each claim sent: rows per second of each.
func fanoutRound(ctx context.Context, st *store.Store, groupID int64, members int) (fanoutRate, error) {
	var r fanoutRate
	msgs, err := st.SeedGrowthDay(ctx, store.GrowthDay{GroupID: groupID, Day: time.Now().Add(-time.Minute), Posts: 1})
	if err != nil {
		return r, err
	}
	m := msgs[0]
	t := time.Now()
	var after int64
	for {
		last, n, err := st.ExpandBatch(ctx, m, after, 1000, time.Now())
		if err != nil {
			return r, err
		}
		after = last
		if n < 1000 {
			break
		}
	}
	r.expand = float64(members) / time.Since(t).Seconds()
	t = time.Now()
	claimed := 0
	var cur store.QueueCursor
	for {
		c, err := st.ClaimDeliveries(ctx, 100, 2*time.Minute, &cur)
		if err != nil {
			return r, err
		}
		if !c.Took() {
			break
		}
		ids := make([]int64, len(c.Deliveries))
		for i, d := range c.Deliveries {
			ids[i] = d.ID
		}
		if err := st.MarkSent(ctx, ids...); err != nil {
			return r, err
		}
		claimed += c.Taken()
	}
	r.claim = float64(claimed) / time.Since(t).Seconds()
	return r, nil
}
