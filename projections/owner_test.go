package projections_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/promtest"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// callCounter is a counter that also counts every call of its Apply, whether
// its transaction commits or not: a process that follows a projection
// must not call it at all.
type callCounter struct {
	counter
	calls *atomic.Int64
}

func (t callCounter) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	t.calls.Add(1)
	return t.counter.Apply(ctx, tx, e, suffix)
}

// process is one of the tests' service processes: a Runner of its own
// projections, its registry, and the calls of each projection's Apply.
type process struct {
	runner *projections.Runner
	reg    *prometheus.Registry
	calls  map[string]*atomic.Int64
	stop   func()
}

var ownedNames = []string{"first", "second", "third"}

// newProcess returns a process of the tallies named ownedNames over h's
// database and log.
func newProcess(t *testing.T, h *projectiontest.Harness) *process {
	t.Helper()
	p := &process{reg: prometheus.NewRegistry(), calls: map[string]*atomic.Int64{}}
	var ps []projections.Projection
	for _, name := range ownedNames {
		p.calls[name] = new(atomic.Int64)
		ps = append(ps, callCounter{counter: counter{name: name}, calls: p.calls[name]})
	}
	cfg := fast
	cfg.Registerer, cfg.FollowInterval = p.reg, 20*time.Millisecond
	var err error
	if p.runner, err = projections.New(h.Pool, h.Log, cfg, ps...); err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs p's Runner until stop is called or the test ends.
func (p *process) start(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.runner.Run(ctx); err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	p.stop = func() { cancel(); <-done }
	t.Cleanup(p.stop)
}

// waitOwned waits until p's gauge whitecross_projection_owned reads want
// for every projection.
func (p *process) waitOwned(t *testing.T, want float64) {
	t.Helper()
	for _, name := range ownedNames {
		waitGauge(t, p.reg, "whitecross_projection_owned", name, want)
	}
}

// TestOneProcessRunsEachProjection runs the same projections in two
// processes on one database: the first to start runs every one of them
// and the other only follows, never applying an event, yet reads its own
// writes; when the first stops, the other takes over from its
// checkpoints, and each event is applied once.
func TestOneProcessRunsEachProjection(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast)
	owner, follower := newProcess(t, h), newProcess(t, h)
	owner.start(t)
	owner.waitOwned(t, 1)
	follower.start(t)
	follower.waitOwned(t, 0)

	var last eventstore.AppendResult
	for range 10 {
		last = appendEvents(t, h, "Tested", 3)
	}
	wait(t, follower.runner, last.Position)
	for _, name := range ownedNames {
		wantCounted(t, h, name, 30, last.Position)
		if n := follower.calls[name].Load(); n != 0 {
			t.Errorf("the follower applied %d events of %s, which another process runs", n, name)
		}
		if n := owner.calls[name].Load(); n != 30 {
			t.Errorf("the owner applied %d events of %s, want 30", n, name)
		}
	}

	owner.stop()
	follower.waitOwned(t, 1)
	for range 10 {
		last = appendEvents(t, h, "Tested", 3)
	}
	wait(t, follower.runner, last.Position)
	for _, name := range ownedNames {
		wantCounted(t, h, name, 60, last.Position)
		if n := follower.calls[name].Load(); n != 30 {
			t.Errorf("after the takeover, %s applied %d events, want the 30 new ones", name, n)
		}
	}
}

// wantCounted fails t unless counter name holds one row for each of n
// events, the last at position last.
func wantCounted(t *testing.T, h *projectiontest.Harness, name string, n int, last uint64) {
	t.Helper()
	if rows, events, top := countOf(t, h, name); rows != n || events != n || top != last {
		t.Errorf("%s: %d rows of %d events up to %d, want %d of %d up to %d",
			name, rows, events, top, n, n, last)
	}
}

// TestFollowerSeesTheOwnersFailure: a projection that stops on an event
// in the process that runs it is failed in the one that follows it too,
// and its reads say so rather than wait.
func TestFollowerSeesTheOwnersFailure(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast)
	newPoisoned := func(reg *prometheus.Registry) *projections.Runner {
		cfg := fast
		cfg.Registerer, cfg.FollowInterval = reg, 20*time.Millisecond
		r, err := projections.New(h.Pool, h.Log, cfg,
			counter{name: "poisoned", failOn: "Poison", fails: byError})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	owner := &process{reg: prometheus.NewRegistry()}
	owner.runner = newPoisoned(owner.reg)
	follower := &process{reg: prometheus.NewRegistry()}
	follower.runner = newPoisoned(follower.reg)
	owner.start(t)
	waitGauge(t, owner.reg, "whitecross_projection_owned", "poisoned", 1)
	follower.start(t)
	waitGauge(t, follower.reg, "whitecross_projection_owned", "poisoned", 0)

	appendEvents(t, h, "Tested", 2)
	after := appendEvents(t, h, "Poison", 1)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := follower.runner.WaitFor(ctx, after.Position); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("the follower's wait: %v, want ErrFailed", err)
	}
	ready := follower.runner.Ready()
	if !errors.Is(ready, projections.ErrFailed) ||
		!strings.Contains(ready.Error(), "Poison at position 3") {
		t.Errorf("the follower's readiness: %v", ready)
	}
	want := projections.Failure{Projection: "poisoned", Reason: "stopped in another process"}
	if got := follower.runner.Failures(); len(got) != 1 || got[0] != want {
		t.Errorf("the follower's failures %+v, want %+v", got, want)
	}
	if got := stateOf(t, follower.reg, "poisoned"); got != "failed" {
		t.Errorf("the follower reports poisoned %s, want failed", got)
	}
}

// waitGauge waits until the gauge name{projection} reads want.
func waitGauge(t *testing.T, reg *prometheus.Registry, name, projection string, want float64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		got, ok := promtest.Lookup(t, reg, name, "projection", projection)
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s{projection=%q} = %v, want %v", name, projection, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
