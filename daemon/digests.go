package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow/store"
)

type digestOpts struct {
	now    bool
	email  string
	dryRun bool
}

func digestFlags(o *digestOpts) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.BoolVar(&o.now, "now", false, "send the digests that are due now (required)")
		fs.StringVar(&o.email, "email", "", "only this member's digests")
		fs.BoolVar(&o.dryRun, "dry-run", false, "build the digests and report, without sending or recording anything")
	}
}

// cmdSendDigests finds the digests due now and sends them in this
// process, for operators (the daemon does the same on DIGEST_CRON). A
// digest already sent is never sent again, so running this while serve
// runs is safe.
func cmdSendDigests(o *digestOpts) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int {
		if len(args) != 0 || !o.now {
			fs.Usage()
			return exitConfig
		}
		return e.withStore(func(ctx context.Context, cfg *config.Config, st *store.Store) int {
			log := e.logger(cfg)
			c, err := buildCore(cfg, st, transportFor(cfg, log), log)
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
				return exitFail
			}
			svc := c.digests
			svc.Queue = nil // send here, not through the daemon's queue
			var ids []int64
			if o.dryRun {
				// Nothing is recorded: report what the digests that would
				// be due hold.
				fmt.Fprintln(e.stdout, "dry run: nothing is sent or recorded")
				res, err := svc.DryScan(ctx, time.Now(), o.email)
				if err != nil {
					fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
					return exitFail
				}
				for _, line := range res {
					fmt.Fprintln(e.stdout, line)
				}
				return exitOK
			}
			res, err := svc.Scan(ctx, time.Now(), o.email)
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
				return exitFail
			}
			ids = res.Created
			tty := false
			if f, ok := e.stderr.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			sent := 0
			for i, id := range ids {
				out, err := svc.Send(ctx, id, false)
				if err != nil {
					fmt.Fprintf(e.stderr, "\nparleyd: digest %d: %v\n", id, err)
					return exitFail
				}
				if len(out) > 4 && out[:4] == "sent" {
					sent++
				}
				if tty {
					fmt.Fprintf(e.stderr, "\r%s %d/%d", bar(i+1, len(ids), 30), i+1, len(ids))
				}
			}
			if tty && len(ids) > 0 {
				fmt.Fprintln(e.stderr)
			}
			fmt.Fprintf(e.stdout, "%d members with digests, %d digests due, %d sent\n", res.Members, len(ids), sent)
			return exitOK
		})
	}
}

func bar(done, total, width int) string {
	n := done * width / max(total, 1)
	b := make([]byte, width)
	for i := range b {
		if i < n {
			b[i] = '#'
		} else {
			b[i] = '.'
		}
	}
	return "[" + string(b) + "]"
}
