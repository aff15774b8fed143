package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/password"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/pgembed"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFail   = 1 // the command ran and failed
	exitConfig = 2 // bad configuration or usage
)

type command struct {
	name  string
	args  string
	short string
	run   func(e *env, fs *flag.FlagSet, args []string) int
	flags func(fs *flag.FlagSet)
}

// env is what every command gets: streams and the --env-file flag.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	envFile        string
}

func commands() []command {
	var bo benchOpts
	var do digestOpts
	var cu createUserOpts
	var tokenName string
	var membersGroup, mboxGroup string
	var io inspectOptions
	return []command{
		{name: "serve", short: "run Parley: web UI and JSON API, inbound SMTP, job workers, scheduler", run: cmdServe},
		{name: "migrate", short: "apply database migrations and exit", run: cmdMigrate},
		{name: "create-user", args: "--email E --name N [--superuser] [--unverified] [--password-stdin]", short: "create a user", run: cmdCreateUser(&cu), flags: createUserFlags(&cu)},
		{name: "promote-superuser", args: "EMAIL", short: "make an existing user a superuser and staff member", run: cmdPromote},
		{name: "create-token", args: "EMAIL [--name LABEL]", short: "print a new API token for a user (only its hash is stored)", run: cmdCreateToken(&tokenName), flags: createTokenFlags(&tokenName)},
		{name: "bench", args: "fanout [--recipients N] [--conns N] [--rounds N] [--smtp HOST:PORT --sink-stats URL] [--listmonk URL --listmonk-token USER:TOKEN] | intake [--posts N] [--conns N] [--post-members N] | digests [--members N] [--groups N] [--messages N] | growth [--days N] [--members N]", short: "measure the fan-out, the intake of a burst of posts, the digests, or 60 days of growth pruned by retention on a throwaway database: throughput, CPU, allocations, memory", run: cmdBench(&bo), flags: benchFlags(&bo)},
		{name: "inspect", args: "message|reply|bounce [--key K] [--rcpt ADDRESS] FILE… | webhook --provider P FILE…", short: "show, as JSON lines, how Parley reads raw messages, replies, bounce reports (and their proof) and provider webhooks", run: cmdInspect(&io), flags: inspectFlags(&io)},
		{name: "import-members", args: "--group SLUG FILE.csv", short: "add the people of a CSV file (email, name, delivery) to a group, making verified accounts as needed", run: cmdImportMembers(&membersGroup), flags: importFlags(&membersGroup)},
		{name: "import-mbox", args: "--group SLUG FILE.mbox", short: "import a list's archive (mbox, as Mailman and Google Groups export it) into a group's threads, mailing no one", run: cmdImportMbox(&mboxGroup), flags: importFlags(&mboxGroup)},
		{name: "send-digests", args: "--now [--email E] [--dry-run]", short: "send each digest member, now, everything new since their last digest", run: cmdSendDigests(&do), flags: digestFlags(&do)},
		{name: "prune", short: "remove now the old rows retention removes on RETENTION_CRON (settled deliveries, received mail, bounce events), keeping the dashboard's counts", run: cmdPrune},
		{name: "check-config", short: "print the effective configuration, secrets masked; exit 2 if invalid", run: cmdCheckConfig},
		{name: "version", short: "print the version", run: func(e *env, _ *flag.FlagSet, _ []string) int {
			fmt.Fprintln(e.stdout, "parleyd", version)
			return exitOK
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "parleyd %s: Parley, an email-first mailing-list and digest daemon\n\nUsage: parleyd [--env-file FILE] COMMAND [flags]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-18s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "  %-18s %s\n", "help", "show this help, or a command's: parleyd help COMMAND")
	fmt.Fprintln(w, "\nConfiguration comes from the environment (see README.md), optionally from --env-file;\nthe environment wins over the file. Run 'parleyd COMMAND --help' for a command's flags.")
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	// A leading --env-file applies to whichever command follows.
	for len(args) > 0 && (strings.HasPrefix(args[0], "--env-file") || strings.HasPrefix(args[0], "-env-file")) {
		if _, v, ok := strings.Cut(args[0], "="); ok {
			e.envFile, args = v, args[1:]
		} else if len(args) > 1 {
			e.envFile, args = args[1], args[2:]
		} else {
			fmt.Fprintln(stderr, "parleyd: --env-file needs a file name")
			return exitConfig
		}
	}
	if len(args) == 0 {
		usage(stderr)
		return exitConfig
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	case "--version", "-version":
		name = "version"
	}
	if name == "bench" && len(args) > 1 && args[1] == "growth" {
		return benchGrowth(e, args[2:]) // flags of its own (bench_growth.go)
	}
	if name == "inspect" && len(args) > 1 && args[1] == "webhook" {
		// inspect webhook has flags of its own (--provider).
		return inspectWebhook(e, args[2:])
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		fs := flag.NewFlagSet("parleyd "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.StringVar(&e.envFile, "env-file", e.envFile, "read settings from this file (KEY=value lines); the environment wins")
		if c.flags != nil {
			c.flags(fs)
		}
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "Usage: parleyd %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, c.short)
			fs.PrintDefaults()
		}
		rest, err := parseInterspersed(fs, args[1:])
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
		if err != nil {
			return exitConfig
		}
		return c.run(e, fs, rest)
	}
	fmt.Fprintf(stderr, "parleyd: unknown command %q\n\n", name)
	usage(stderr)
	return exitConfig
}

// parseInterspersed lets flags come after positional arguments
// (parleyd create-token ada@example.org --name laptop).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadConfig reads the configuration; on a bad value it prints one line
// naming the setting and the caller exits 2.
func (e *env) loadConfig() (*config.Config, bool) {
	lookup := config.Lookup(os.LookupEnv)
	if e.envFile != "" {
		f, err := os.Open(e.envFile)
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: --env-file: %v\n", err)
			return nil, false
		}
		vals, err := config.ReadEnvFile(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: --env-file %s: %v\n", e.envFile, err)
			return nil, false
		}
		lookup = config.EnvWithFile(vals)
	}
	cfg, err := config.Load(lookup)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: %v\n", err)
		return nil, false
	}
	return cfg, true
}

func (e *env) logger(cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// openStore connects to DATABASE_URL, or to the embedded cluster (starting
// it for this run unless serve already runs it). close undoes it all.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger, role pgembed.Role) (st *store.Store, close func(), err error) {
	if cfg.DatabaseURL != "" {
		st, err = store.Open(ctx, cfg.DatabaseURL, 10*time.Second)
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
	if err := config.CheckDataDir(cfg.DataDir); err != nil {
		return nil, nil, err
	}
	cl, err := pgembed.Open(ctx, pgembed.Options{DataDir: cfg.DataDir, Log: log, Supervised: role == pgembed.RoleServe}, role)
	if err != nil {
		return nil, nil, err
	}
	st, err = store.Open(ctx, cl.ConnString(""), 30*time.Second)
	if err != nil {
		if cerr := cl.Close(context.Background()); cerr != nil {
			log.Error("stopping embedded PostgreSQL", "err", cerr)
		}
		return nil, nil, err
	}
	// serve restarts the server if it dies; commands are too short-lived
	// to bother. The supervisor ends before the server is stopped.
	superviseCtx, stopSupervising := context.WithCancel(context.WithoutCancel(ctx))
	var supervised sync.WaitGroup
	if role == pgembed.RoleServe {
		supervised.Go(func() { cl.Supervise(superviseCtx) })
	}
	return st, func() {
		stopSupervising()
		supervised.Wait()
		st.Close()
		if err := cl.Close(context.Background()); err != nil {
			log.Error("stopping embedded PostgreSQL", "err", err)
		}
	}, nil
}

// loadConfigWithSecrets is loadConfig plus the development secrets (and
// the check that DATA_DIR is writable), for commands that run Parley.
func (e *env) loadConfigWithSecrets() (*config.Config, bool) {
	cfg, ok := e.loadConfig()
	if !ok {
		return nil, false
	}
	if err := cfg.EnsureSecrets(); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: %v\n", err)
		return nil, false
	}
	return cfg, true
}

// withStore runs fn against a migrated database, for the short commands.
func (e *env) withStore(fn func(ctx context.Context, cfg *config.Config, st *store.Store) int) int {
	cfg, ok := e.loadConfigWithSecrets()
	if !ok {
		return exitConfig
	}
	// Commands log only warnings, so their stdout stays clean for scripts.
	log := e.logger(cfg)
	if cfg.LogLevel < slog.LevelWarn {
		cfg.LogLevel = slog.LevelWarn
		log = e.logger(cfg)
	}
	ctx := context.Background()
	st, closeDB, err := openStore(ctx, cfg, log, pgembed.RoleCommand)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	defer closeDB()
	if _, err := migrate(ctx, st, log); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	return fn(ctx, cfg, st)
}

func cmdMigrate(e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 0 {
		fs.Usage()
		return exitConfig
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitConfig
	}
	log := e.logger(cfg)
	ctx := context.Background()
	st, closeDB, err := openStore(ctx, cfg, log, pgembed.RoleCommand)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	defer closeDB()
	applied, err := migrate(ctx, st, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
		return exitFail
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "database is up to date; nothing to apply")
	} else {
		fmt.Fprintf(e.stdout, "applied %d migration(s): %s\n", len(applied), strings.Join(applied, ", "))
	}
	return exitOK
}

type createUserOpts struct {
	email, name                          string
	superuser, unverified, passwordStdin bool
}

func createUserFlags(cu *createUserOpts) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&cu.email, "email", "", "the user's email address (required)")
		fs.StringVar(&cu.name, "name", "", "the user's display name (required)")
		fs.BoolVar(&cu.superuser, "superuser", false, "make the user a superuser and staff member")
		fs.BoolVar(&cu.unverified, "unverified", false, "leave the email address unverified")
		fs.BoolVar(&cu.passwordStdin, "password-stdin", false, "read a password (first line of standard input)")
	}
}

func cmdCreateUser(cu *createUserOpts) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int { return createUser(e, fs, args, cu) }
}

func createUser(e *env, fs *flag.FlagSet, args []string, cu *createUserOpts) int {
	if len(args) != 0 {
		fs.Usage()
		return exitConfig
	}
	email, err := mailflow.NormalizeEmail(cu.email)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: --%v\n", err)
		return exitConfig
	}
	name, err := mailflow.ValidateName("name", cu.name, 200)
	if err != nil {
		fmt.Fprintf(e.stderr, "parleyd: --%v\n", err)
		return exitConfig
	}
	var hash string
	if cu.passwordStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			fmt.Fprintf(e.stderr, "parleyd: reading password: %v\n", err)
			return exitFail
		}
		pw := strings.TrimRight(line, "\r\n")
		if msg := password.Check(pw, email, name); msg != "" {
			fmt.Fprintf(e.stderr, "parleyd: the password will not do: %s\n", msg)
			return exitConfig
		}
		if hash, err = password.Hash(pw); err != nil {
			fmt.Fprintf(e.stderr, "parleyd: hashing password: %v\n", err)
			return exitFail
		}
	}
	return e.withStore(func(ctx context.Context, _ *config.Config, st *store.Store) int {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: name, Verified: !cu.unverified, Superuser: cu.superuser, PasswordHash: hash})
		if errors.Is(err, mailflow.ErrDuplicate) {
			fmt.Fprintf(e.stderr, "parleyd: a user with the address %s already exists\n", email)
			return exitFail
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: creating user: %v\n", err)
			return exitFail
		}
		kind := "user"
		if u.IsSuperuser {
			kind = "superuser"
		}
		fmt.Fprintf(e.stdout, "created %s %s <%s> (id %d)\n", kind, u.Name, u.Email, u.ID)
		return exitOK
	})
}

func cmdPromote(e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 1 {
		fs.Usage()
		return exitConfig
	}
	return e.withStore(func(ctx context.Context, _ *config.Config, st *store.Store) int {
		u, changed, err := st.PromoteSuperuser(ctx, args[0])
		if errors.Is(err, mailflow.ErrNotFound) {
			fmt.Fprintf(e.stderr, "parleyd: no user has the address %s\n", args[0])
			return exitFail
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
			return exitFail
		}
		if changed {
			fmt.Fprintf(e.stdout, "%s is now a superuser\n", u.Email)
		} else {
			fmt.Fprintf(e.stdout, "%s was already a superuser\n", u.Email)
		}
		return exitOK
	})
}

func createTokenFlags(name *string) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(name, "name", "", "a label for the token, to recognise it later")
	}
}

func cmdCreateToken(name *string) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, fs *flag.FlagSet, args []string) int { return createToken(e, fs, args, *name) }
}

func createToken(e *env, fs *flag.FlagSet, args []string, tokenName string) int {
	if len(args) != 1 {
		fs.Usage()
		return exitConfig
	}
	return e.withStore(func(ctx context.Context, cfg *config.Config, st *store.Store) int {
		u, err := st.UserByEmail(ctx, args[0])
		if errors.Is(err, mailflow.ErrNotFound) {
			fmt.Fprintf(e.stderr, "parleyd: no user has the address %s\n", args[0])
			return exitFail
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: %v\n", err)
			return exitFail
		}
		tok, err := sign.NewAPIToken()
		if err == nil {
			err = st.CreateToken(ctx, u.ID, tokenName, sign.TokenHash(cfg.SecretKey, tok))
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: creating token: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(e.stdout, "API token for %s (shown once; only its hash is stored):\n%s\n", u.Email, tok)
		return exitOK
	})
}

func cmdCheckConfig(e *env, fs *flag.FlagSet, args []string) int {
	if len(args) != 0 {
		fs.Usage()
		return exitConfig
	}
	cfg, ok := e.loadConfig()
	if !ok {
		return exitConfig
	}
	for _, l := range cfg.Describe() {
		fmt.Fprintln(e.stdout, l)
	}
	if err := config.CheckDataDir(cfg.DataDir); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: invalid configuration: %v\n", err)
		return exitConfig
	}
	if cfg.DatabaseURL == "" {
		if _, err := pgembed.FindBinaries(); err != nil {
			fmt.Fprintf(e.stderr, "parleyd: DATABASE_URL is unset and %v\n", err)
			return exitConfig
		}
	}
	fmt.Fprintln(e.stderr, "configuration is valid")
	return exitOK
}
