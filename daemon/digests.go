package main

import (
	"context"
	"flag"
	"fmt"
	"os"

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
		fs.BoolVar(&o.now, "now", false, "send each digest member, now, everything new since their last digest (required)")
		fs.StringVar(&o.email, "email", "", "only this member's digests")
		fs.BoolVar(&o.dryRun, "dry-run", false, "report what the same run would send, without sending or recording anything")
	}
}

// cmdSendDigests sends every digest member, now, a digest of what is new
// since their last one (Mailman's "send digests now"), in this process;
// their next scheduled digest starts after it. The daemon's scheduled
// digests (DIGEST_CRON) go on as before, and running this while serve
// runs is safe. --dry-run reports the same digests by the same query and
// cut-off, recording and sending nothing.
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
			if o.dryRun {
				fmt.Fprintln(e.stdout, "dry run: nothing is sent or recorded")
			}
			tty := false
			if f, ok := e.stderr.(*os.File); ok {
				tty = term.IsTerminal(int(f.Fd()))
			}
			var progress func(int)
			if tty && !o.dryRun {
				progress = func(done int) { fmt.Fprintf(e.stderr, "\r%d digests", done) }
			}
			res, err := svc.SendNow(ctx, cfg.Now(), o.email, o.dryRun, progress)
			if progress != nil && len(res) > 0 {
				fmt.Fprintln(e.stderr)
			}
			sent := 0
			for _, r := range res {
				fmt.Fprintf(e.stdout, "%s: %s digest: %s\n", r.Email, r.Period, r.Note)
				if r.Sent {
					sent++
				}
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
				return exitFail
			}
			verb := "sent"
			if o.dryRun {
				verb = "would be sent"
			}
			fmt.Fprintf(e.stdout, "%d digests, %d %s\n", len(res), sent, verb)
			return exitOK
		})
	}
}
