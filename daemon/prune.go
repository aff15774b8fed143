package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow/retention"
	"github.com/parleymail/parley/mailflow/store"
)

// cmdPrune runs the retention the daemon runs on RETENTION_CRON, now, in
// this process, until nothing due is left: settled deliveries, processed
// received messages and bounce events older than their settings go, in
// short batches, their dashboard counts kept. Running it while serve runs
// (or while serve's own run is under way) is safe: a row is removed once.
func cmdPrune(e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 0 {
		fs.Usage()
		return exitConfig
	}
	return e.withStore(func(ctx context.Context, cfg *config.Config, st *store.Store) int {
		svc := &retention.Service{Store: st, Log: e.logger(cfg), Policy: retention.Policy{
			Deliveries: cfg.DeliveryRetention, Inbound: cfg.InboundRetention, BounceEvents: cfg.BounceEventRetention}}
		total := map[string]retention.Result{}
		var order []string
		for {
			res, err := svc.Run(ctx, time.Now())
			for _, r := range res {
				t, seen := total[r.Table]
				if !seen {
					order = append(order, r.Table)
					t = retention.Result{Table: r.Table, Cutoff: r.Cutoff}
				}
				t.Deleted += r.Deleted
				t.Batches += r.Batches
				t.Longest = max(t.Longest, r.Longest)
				t.Took += r.Took
				t.Vacuum += r.Vacuum
				total[r.Table] = t
			}
			if errors.Is(err, retention.ErrUnfinished) {
				continue
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
				return exitFail
			}
			break
		}
		if len(order) == 0 {
			fmt.Fprintln(e.stdout, "nothing to prune: every *_RETENTION_DAYS setting is 0 (keep forever)")
		}
		for _, name := range order {
			r := total[name]
			fmt.Fprintf(e.stdout, "%s: %d removed (older than %s) in %d batches, longest %s; took %s, vacuum %s\n",
				r.Table, r.Deleted, r.Cutoff.UTC().Format(time.RFC3339), r.Batches, r.Longest.Round(time.Millisecond),
				r.Took.Round(time.Millisecond), r.Vacuum.Round(time.Millisecond))
		}
		return exitOK
	})
}
