package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/mfagate/mfagate/config"
)

// loadConfig reads --config and prints its warnings to stderr.
func loadConfig(e *env, path string) (*config.Config, error) {
	if path == "" {
		return nil, usagef("--config FILE is required")
	}
	cfg, err := config.Load(path, e.getenv)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(e.stderr, "mfagate: warning: %s\n", w)
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--config FILE [--clock TIME --rehearsal]")
	path := fs.String("config", "", "the configuration `file`")
	rf := addRehearsalFlags(fs)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("serve", pos); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *path)
	if err != nil {
		return err
	}
	if err := cfg.CheckServe(); err != nil {
		return err
	}
	opts, err := rf.options(cfg)
	if err != nil {
		return err
	}
	mem := setMemoryDefaults(e.getenv) // cli/runtime.go
	defer mem.undo()
	a, err := openApp(ctx, e, cfg, opts...)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.bootstrap(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Server.Addr, err)
	}
	var metricsLn net.Listener
	if addr := cfg.Server.MetricsAddr; addr != "" {
		if metricsLn, err = net.Listen("tcp", addr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (server.metrics_addr): %w", addr, err)
		}
	}
	fmt.Fprintf(e.stdout, "mfagate is listening on %s, reached at %s\n", ln.Addr(), cfg.Server.BaseURL)
	if metricsLn != nil {
		fmt.Fprintf(e.stdout, "mfagate serves its metrics on http://%s/metrics only\n", metricsLn.Addr())
	}
	a.log.Info("memory settings", "go", mem.String())
	return a.serve(ctx, ln, metricsLn)
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "--config FILE")
	path := fs.String("config", "", "the configuration `file`")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noArguments("migrate", pos); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *path)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "The database is up to date.")
	}
	for _, name := range applied {
		fmt.Fprintf(e.stdout, "applied %s\n", name)
	}
	return nil
}

// rehearsalFlags run the server at another time, to rehearse a phase.
type rehearsalFlags struct {
	clock     *string
	rehearsal *bool
}

func addRehearsalFlags(fs *flag.FlagSet) rehearsalFlags {
	return rehearsalFlags{
		clock:     fs.String("clock", "", "run as if it were this `time` (a date or RFC 3339 time); needs --rehearsal"),
		rehearsal: fs.Bool("rehearsal", false, "confirm that --clock is wanted: every page then says so"),
	}
}

// check refuses --clock without --rehearsal and the other way round,
// before anything is opened.
func (f rehearsalFlags) check() error {
	switch {
	case *f.clock == "" && *f.rehearsal:
		return usagef("--rehearsal goes with --clock TIME")
	case *f.clock != "" && !*f.rehearsal:
		return usagef("--clock moves the server's time for everyone using it; add --rehearsal to confirm this is a rehearsal")
	}
	return nil
}

func (f rehearsalFlags) options(cfg *config.Config) ([]appOption, error) {
	if err := f.check(); err != nil || *f.clock == "" {
		return nil, err
	}
	at, err := parseTime(*f.clock, cfg.Rollout.Location)
	if err != nil {
		return nil, err
	}
	return []appOption{atClock(at)}, nil
}

// parseTime reads a date (its first moment in loc) or an RFC 3339 time,
// from 1970 on, as phase starts are read. Earlier ones are mistakes, and 0001-01-01T00:00:00Z is the
// zero time, which callers read as none: "extend --until" it would
// remove an extension.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	t, ok := config.ParseStart(s, loc)
	switch {
	case !ok:
		return time.Time{}, usagef("%q is not a date such as 2027-07-13 or a time such as 2027-07-13T09:00:00+01:00", s)
	case t.UTC().Year() < 1970:
		return time.Time{}, usagef("%q is before 1970: give a date such as 2027-07-13", s)
	}
	return t, nil
}
