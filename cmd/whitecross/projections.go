package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

// readModels are the projections the service runs, over the event log
// store. Their names are stored state: renaming one means a rebuild.
func readModels(store eventstore.Store) []projections.Projection {
	return projections.All(store)
}

// newRunner returns the projection runner over d's pool and log.
func newRunner(d *deps, reg prometheus.Registerer) (*projections.Runner, error) {
	return projections.New(d.pool, d.store, projections.Config{
		Registerer: reg,
		OnFailure: func(err *projections.ApplyError, stopped bool) {
			d.log.Error().Str("projection", err.Projection).Uint64("position", err.Position).
				Str("event_type", err.EventType).Bool("stopped", stopped).Msg("projection_failed")
		},
	}, readModels(d.store)...)
}

// projectionsReady is the readiness check of the projections: nil while
// every one runs, else a failure naming each stopped projection and the
// position and type of the event it stopped at (never the event's data).
func projectionsReady(r *projections.Runner) error {
	failures := r.Failures()
	if len(failures) == 0 {
		return nil
	}
	parts := make([]string, len(failures))
	for i, f := range failures {
		parts[i] = f.Projection + " stopped: " + f.Reason
		if f.Position > 0 {
			parts[i] = fmt.Sprintf("%s stopped at position %d (%s): %s",
				f.Projection, f.Position, f.EventType, f.Reason)
		}
	}
	return readapi.CheckFailure{Detail: strings.Join(parts, "; ")}
}

// runProjections answers `whitecross projections status`.
func runProjections(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("projections", stderr)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.Arg(0) != "status" {
		fmt.Fprintln(stderr, "usage: whitecross projections status")
		return exitError{code: 2}
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	runner, err := newRunner(d, nil)
	if err != nil {
		return err
	}
	status, err := runner.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROJECTION\tPOSITION\tHEAD\tLAG (EVENTS)\tLAG (S)\tSTATE\tLAST ERROR")
	for _, s := range status {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\n",
			s.Name, s.Position, s.Head, s.LagEvents, s.LagSeconds, orDash(string(s.State)), s.LastError)
	}
	return tw.Flush()
}

// runReplay answers `whitecross replay --projection NAME`: it rebuilds the
// projection into new tables while the live ones keep serving, then swaps
// them in one transaction.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("replay", stderr)
	name := fs.String("projection", "", "the projection to rebuild; all when empty")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	runner, err := newRunner(d, nil)
	if err != nil {
		return err
	}
	if *name != "" {
		if err := runner.Rebuild(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt %s\n", *name)
		return nil
	}
	// Every read model, two for each of the machine's cores: each waits
	// on Postgres about half its time.
	return runner.RebuildAll(ctx, 2*runtime.GOMAXPROCS(0), func(n string) {
		fmt.Fprintf(stdout, "rebuilt %s\n", n)
	})
}
