package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/importer"
	"github.com/parleymail/parley/mailflow/store"
)

func importFlags(slug *string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(slug, "group", "", "the slug of the group to import into (required)")
	}
}

// cmdImportMembers implements `parleyd import-members --group SLUG
// FILE.csv`: it reads the file and prints what was skipped (on stderr,
// with line numbers) and a summary. Skipped rows do not fail the command;
// an unknown group or an unreadable file does.
func cmdImportMembers(slug *string) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int {
		if len(args) != 1 || *slug == "" {
			fs.Usage()
			return exitConfig
		}
		return importFile(e, *slug, args[0], func(ctx context.Context, im *importer.Importer, g mailflow.Group, f *os.File) int {
			res, err := im.ImportMembers(ctx, g, f)
			printProblems(e, f.Name(), res.Problems)
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %s: %v\n", f.Name(), err)
				if res.Imported+res.AlreadyMembers+res.Skipped > 0 {
					fmt.Fprintf(e.stderr, "parleyd: stopped after: %s\n", res.Summary())
				}
				return exitFail
			}
			fmt.Fprintln(e.stdout, res.Summary())
			return exitOK
		})
	}
}

// cmdImportMbox implements `parleyd import-mbox --group SLUG FILE.mbox`.
// On a terminal it shows a progress bar by the bytes read; otherwise it
// prints nothing until the summary.
func cmdImportMbox(slug *string) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int {
		if len(args) != 1 || *slug == "" {
			fs.Usage()
			return exitConfig
		}
		return importFile(e, *slug, args[0], func(ctx context.Context, im *importer.Importer, g mailflow.Group, f *os.File) int {
			var size int64
			if fi, err := f.Stat(); err == nil {
				size = fi.Size()
			}
			tty := false
			if sf, ok := e.stderr.(*os.File); ok {
				tty = term.IsTerminal(int(sf.Fd()))
			}
			var o importer.MboxOptions
			shown := ""
			var last time.Time
			if tty {
				o.Progress = func(n int, read int64) {
					// Ten updates a second are plenty, and the last one shows 100%.
					if now := time.Now(); now.Sub(last) >= 100*time.Millisecond || read >= size {
						last = now
						shown = progressLine(n, read, size)
						fmt.Fprint(e.stderr, "\r"+shown)
					}
				}
			}
			res, err := im.ImportMbox(ctx, g, f, o)
			if tty && shown != "" {
				fmt.Fprintln(e.stderr)
			}
			printProblems(e, f.Name(), res.Problems)
			if err != nil {
				fmt.Fprintf(e.stderr, "parleyd: %s: %v\n", f.Name(), err)
				if res.Imported+res.Skipped() > 0 {
					fmt.Fprintf(e.stderr, "parleyd: stopped after: %s\n", res.Summary())
				}
				return exitFail
			}
			fmt.Fprintln(e.stdout, res.Summary())
			return exitOK
		})
	}
}

// importFile opens the file (before the database, so a typo fails fast),
// finds the group and runs fn.
func importFile(e *env, slug, name string, fn func(ctx context.Context, im *importer.Importer, g mailflow.Group, f *os.File) int) int {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.IsDir() {
		fmt.Fprintf(e.stderr, "parleyd: %s is not a file\n", name)
		return exitFail
	}
	return e.withStore(func(ctx context.Context, _ *config.Config, st *store.Store) int {
		g, err := st.GroupBySlug(ctx, slug)
		if errors.Is(err, mailflow.ErrNotFound) {
			fmt.Fprintf(e.stderr, "parleyd: there is no group %q\n", slug)
			return exitFail
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
			return exitFail
		}
		return fn(ctx, &importer.Importer{Store: st}, g, f)
	})
}

// printProblems lists skipped lines as FILE:LINE: message, the form
// editors and grep understand.
func printProblems(e *env, file string, problems []importer.Problem) {
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", file, p.Line, p.Msg)
	}
}

// progressLine is "[#####     ] 1234 messages, 45%": the share of the
// file read so far.
func progressLine(messages int, read, size int64) string {
	const width = 20
	pct := 100
	if size > 0 {
		pct = int(min(read*100/size, 100))
	}
	n := pct * width / 100
	return fmt.Sprintf("[%s%s] %d messages, %d%%", strings.Repeat("#", n), strings.Repeat(" ", width-n), messages, pct)
}
