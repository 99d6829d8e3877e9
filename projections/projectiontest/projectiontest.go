// Package projectiontest runs projections against a database of their
// own, for tests: append domain events to a real Postgres log, bring the
// projections up to date, live or by a rebuild, and read their tables.
// It imports projections, the Postgres log and internal/pgtest.
package projectiontest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/projections"
)

// SyncTimeout bounds how long Sync waits for the projections.
const SyncTimeout = 30 * time.Second

// Mode is how a Harness brings its projections up to date.
type Mode string

const (
	// Live runs a Runner from the start of the test: each event is
	// applied as it is appended, and Sync waits for it.
	Live Mode = "live"
	// Rebuilt runs no Runner: Sync rebuilds every projection from the
	// whole log.
	Rebuilt Mode = "rebuilt"
)

// Modes lists every Mode, so that a projection's tests run against a
// live run and a rebuild alike.
var Modes = []Mode{Live, Rebuilt}

// Harness is a database of its own with the migrations applied, the
// Postgres log on it and a Runner of the projections under test, all
// running as the service's role.
type Harness struct {
	DB   *pgtest.DB
	Pool *pgxpool.Pool
	Log  *postgres.Log
	// Runner runs the projections; a test may replace it, as a restarted
	// process would, before calling Start.
	Runner      *projections.Runner
	Projections []projections.Projection
	Mode        Mode

	tb testing.TB
}

// New returns a Harness of ps, each of which must be fresh: a projection
// that keeps state in memory must not be shared between harnesses. Its
// Runner is not running: call Start.
func New(tb testing.TB, mode Mode, cfg projections.Config, ps ...projections.Projection) *Harness {
	tb.Helper()
	db := pgtest.New(tb)
	pool := db.AppPool(tb)
	log := postgres.New(pool, postgres.Config{
		OnError: func(op string, err error) { tb.Logf("event log: %s: %v", op, err) },
	})
	tb.Cleanup(func() { log.Close() })

	runner, err := projections.New(pool, log, cfg, ps...)
	if err != nil {
		tb.Fatalf("new runner: %v", err)
	}
	h := &Harness{
		DB:          db,
		Pool:        pool,
		Log:         log,
		Runner:      runner,
		Projections: ps,
		Mode:        mode,
		tb:          tb,
	}
	return h
}

// Each runs test once per Mode, each in a subtest named after the mode,
// with a Harness of its own, started in Live mode; newProjections makes
// the projections for each.
func Each(
	t *testing.T,
	cfg projections.Config,
	newProjections func() []projections.Projection,
	test func(t *testing.T, h *Harness),
) {
	t.Helper()
	for _, mode := range Modes {
		t.Run(string(mode), func(t *testing.T) {
			h := New(t, mode, cfg, newProjections()...)
			if mode == Live {
				h.Start(t.Context())
			}
			test(t, h)
		})
	}
}

// Start runs h.Runner until ctx or the test ends, and returns a channel
// that receives what Run returned. The test's end waits for Run.
func (h *Harness) Start(ctx context.Context) <-chan error {
	ctx, cancel := context.WithCancel(ctx)
	result := make(chan error, 1)
	finished := make(chan struct{})
	runner := h.Runner
	go func() {
		defer close(finished)
		result <- runner.Run(ctx)
	}()
	h.tb.Cleanup(func() {
		cancel()
		<-finished
	})
	return result
}

// Append appends events to stream, whatever its state, and returns where
// the last one landed.
func (h *Harness) Append(stream string, events ...domain.Event) eventstore.AppendResult {
	h.tb.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		if err != nil {
			h.tb.Fatalf("append to %s: %v", stream, err)
		}
		data[i] = eventstore.EventData{Type: typ, SchemaVersion: version, Data: payload}
	}
	res, err := h.Log.Append(h.tb.Context(), stream, eventstore.Any, data...)
	if err != nil {
		h.tb.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// Sync brings every projection up to the log's head: in Live mode it
// waits for the Runner, which must be started, and in Rebuilt mode it
// rebuilds each projection.
func (h *Harness) Sync() {
	h.tb.Helper()
	ctx, cancel := context.WithTimeout(h.tb.Context(), SyncTimeout)
	defer cancel()

	if h.Mode == Rebuilt {
		for _, p := range h.Projections {
			if err := h.Runner.Rebuild(ctx, p.Name()); err != nil {
				h.tb.Fatalf("sync: %v", err)
			}
		}
		return
	}
	head, err := h.Log.LastPosition(ctx)
	if err != nil {
		h.tb.Fatalf("sync: %v", err)
	}
	if err := h.Runner.WaitFor(ctx, head); err != nil {
		h.tb.Fatalf("sync: %v", err)
	}
}

// Rows returns every row of table, qualified with its schema, as JSON
// objects in a stable order.
func (h *Harness) Rows(table string) []string {
	h.tb.Helper()
	ident := pgx.Identifier(strings.Split(table, ".")).Sanitize()
	rows, _ := h.Pool.Query(h.tb.Context(),
		"SELECT to_jsonb(t)::text FROM "+ident+" t ORDER BY 1")
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		h.tb.Fatalf("rows of %s: %v", table, err)
	}
	return out
}

// Snapshot returns the rows of every table of every projection, by table.
func (h *Harness) Snapshot() map[string][]string {
	h.tb.Helper()
	out := make(map[string][]string)
	for _, p := range h.Projections {
		for _, t := range p.Tables() {
			out[t] = h.Rows(t)
		}
	}
	return out
}
