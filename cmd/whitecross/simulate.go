package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/internal/sim"
	"github.com/whitecross/whitecross/migrations"
)

func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("simulate", stderr)
	var cfg sim.Config
	fs.IntVar(&cfg.Schools, "schools", 2, "schools in the district")
	fs.IntVar(&cfg.Students, "students", 60, "students in the whole district")
	fs.IntVar(&cfg.Days, "days", 3, "school days to play, ending on the last day")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "the same seed and sizes make the same district")
	fs.StringVar(&cfg.LastDay, "last-day", "",
		"the last school day played, 2006-01-02, before today (default: the last weekday before today)")
	url := fs.String("url", "", "drive the service at this URL (default: start one in-process "+
		"on a free local port, against the configured database)")
	logins := fs.String("logins", "", "write the demo logins and the IDs made to FILE, as JSON")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	res, err := simulate(ctx, c, cfg, *url, stderr)
	if err != nil {
		return err
	}
	return report(res, *logins, stdout, stderr)
}

// simulate plays the district cfg describes against the service at url
// or, when url is empty, against one it starts on a free local port and
// stops when done. The first system administrator is made with the
// commands directly, in the configured database, which must be the
// service's.
func simulate(ctx context.Context, c config, cfg sim.Config, url string, stderr io.Writer) (*sim.Result, error) {
	plan, err := sim.NewPlan(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "simulate: seed %d: %d schools, %d students, %d school days %s to %s (%s)\n",
		cfg.Seed, cfg.Schools, cfg.Students, cfg.Days, plan.Days()[0], plan.Days()[cfg.Days-1], plan.Zone())
	base := url
	if base == "" {
		local, err := startLocal(ctx, c)
		if err != nil {
			return nil, err
		}
		defer local.stop()
		base = local.url
	}
	adminID, err := createAdmin(ctx, c, plan.Admin())
	if err != nil {
		return nil, err
	}
	// The schools play at once: their lines are written one at a time.
	say := &lockedWriter{w: stderr}
	client := sim.NewClient(base, nil)
	client.OnRetry = func(request string, status int, wait time.Duration) {
		fmt.Fprintf(say, "simulate: %s answered %d: sent again in %s\n", request, status, wait)
	}
	res, err := sim.Run(ctx, plan, client, sim.Options{AdminID: adminID,
		Progress: func(msg string) { fmt.Fprintln(say, "simulate: "+msg) }})
	var refused *sim.APIError
	if url != "" && errors.As(err, &refused) && refused.Path == "/v1/auth/login" {
		return nil, fmt.Errorf("%w (the first administrator was made in the database of "+
			"WHITECROSS_DATABASE_URL: is it the database of the service at %s?)", err, url)
	}
	if err != nil {
		return nil, err
	}
	res.Logins.BaseURL = url
	return res, nil
}

// lockedWriter writes to w one call at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// report writes the logins to path, when given, and prints them and the
// counts.
func report(res *sim.Result, path string, stdout, stderr io.Writer) error {
	if path != "" {
		if err := res.Logins.WriteFile(path); err != nil {
			return fmt.Errorf("write the logins: %w", err)
		}
	}
	fmt.Fprintf(stdout, "Demo logins of %s (demo credentials, for a local database only):\n\n",
		res.Logins.District.Name)
	res.Logins.Print(stdout)
	fmt.Fprintln(stdout)
	res.Counts.Print(stdout)
	fmt.Fprintf(stderr, "simulate: done in %s", res.Elapsed.Round(100*time.Millisecond))
	if path != "" {
		fmt.Fprintf(stderr, "; logins and IDs written to %s", path)
	}
	fmt.Fprintln(stderr)
	return nil
}

// createAdmin makes the plan's first system administrator with the
// commands, as `whitecross users add` does, and returns its ID. Its
// idempotency key comes from the seed: when the account is there
// already, this seed's district is in the database, and a second run
// is refused rather than mixed with the first.
func createAdmin(ctx context.Context, c config, a sim.Account) (string, error) {
	d, err := openDeps(ctx, c)
	if err != nil {
		return "", err
	}
	defer d.Close()
	// The command line issues no token: any key will do.
	key, err := auth.GenerateSigningKey()
	if err != nil {
		return "", err
	}
	accounts, err := newAccounts(c, d, key)
	if err != nil {
		return "", err
	}
	id, res, err := accounts.CreateUser(ctx, nil,
		commands.Meta{RequestID: "simulate", IdempotencyKey: a.Key},
		commands.NewAccount{Email: a.Email, DisplayName: a.DisplayName, Roles: []domain.Role{a.Role},
			Password: a.Password})
	if err != nil {
		return "", describe(err)
	}
	if res.Repeated {
		return "", fmt.Errorf("the district of this seed is in the database already (account %s): "+
			"use another --seed, or a fresh database", id)
	}
	return id, nil
}

// localService is a service started in-process for a simulation.
type localService struct {
	url  string
	stop func()
}

// startLocal starts the service as `serve` would, on a free port of the
// loopback interface, without metrics or TLS, and waits until it is
// ready.
func startLocal(ctx context.Context, c config) (*localService, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	c.HTTPAddr, c.MetricsAddr, c.TLSCert, c.TLSKey = addr, "", "", ""
	if c.LogLevel == "info" {
		c.LogLevel = "warn"
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, c) }()
	stop := func() {
		cancel()
		<-done
	}
	url := "http://" + addr
	if err := waitReady(ctx, url, done); err != nil {
		stop()
		return nil, err
	}
	return &localService{url: url, stop: stop}, nil
}

// freeLoopbackAddr returns an address of the loopback interface whose
// port is free now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls GET /readyz until it answers 200, the service stops,
// or a minute has passed.
func waitReady(ctx context.Context, url string, done <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-done:
			return fmt.Errorf("the service stopped before it was ready: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("the service was not ready within a minute")
		}
	}
}

// demoOptions are the flags of `serve` that seed a demo district.
type demoOptions struct {
	on     bool
	logins string
}

// demoConfig is the demo district: small enough to seed in seconds.
var demoConfig = sim.Config{Seed: 2026, Schools: 2, Students: 60, Days: 3}

func (o *demoOptions) flags(fs *flag.FlagSet) {
	fs.BoolVar(&o.on, "demo", env("WHITECROSS_DEMO", "") == "1",
		"on an empty event log, seed a demo district first and print its logins (WHITECROSS_DEMO=1)")
	fs.StringVar(&o.logins, "demo-logins", env("WHITECROSS_DEMO_LOGINS", ""),
		"with --demo, write the demo logins and IDs to FILE, as JSON (WHITECROSS_DEMO_LOGINS)")
}

// seedDemo plays the demo district when the event log is empty, and says
// so on stderr when it is not.
func seedDemo(ctx context.Context, c config, o demoOptions, stdout, stderr io.Writer) error {
	if err := migrations.Apply(ctx, c.DatabaseURL); err != nil {
		return err
	}
	last, err := lastPosition(ctx, c)
	if err != nil {
		return err
	}
	if last > 0 {
		fmt.Fprintf(stderr, "demo: the event log holds %d events already: no demo district seeded "+
			"(the demo seeds an empty log only)\n", last)
		if _, err := os.Stat(o.logins); o.logins != "" && err == nil {
			fmt.Fprintf(stderr, "demo: the logins of the demo district, if it was seeded here, are in %s\n",
				o.logins)
		}
		return nil
	}
	fmt.Fprintf(stderr, "demo: the event log is empty: seeding a demo district\n")
	res, err := simulate(ctx, c, demoConfig, "", stderr)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return report(res, o.logins, stdout, stderr)
}

// lastPosition returns the position of the newest event of the
// configured log, 0 when it is empty.
func lastPosition(ctx context.Context, c config) (uint64, error) {
	d, err := openDeps(ctx, c)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return d.store.LastPosition(ctx)
}
