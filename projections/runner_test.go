package projections_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/promtest"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 30 * time.Second

// TestLostAck fails the delivery of an event after its transaction has
// committed, as a crash before the ack would: the event comes again, is
// skipped, and is counted once.
func TestLostAck(t *testing.T) {
	var lost atomic.Bool
	cfg := projections.WithAfterCommit(fast, func(_ string, position uint64) error {
		if position == 3 && lost.CompareAndSwap(false, true) {
			return errors.New("ack lost")
		}
		return nil
	})
	h := projectiontest.New(t, projectiontest.Live, cfg, counter{name: "counted"})
	h.Start(t.Context())

	appendEvents(t, h, "Tested", 5)
	h.Sync()

	if !lost.Load() {
		t.Fatal("no ack was lost")
	}
	if rows, events, last := countOf(t, h, "counted"); rows != 5 || events != 5 || last != 5 {
		t.Errorf("counted %d rows of %d events up to %d, want 5 of 5 up to 5", rows, events, last)
	}
}

// TestCrashBeforeAck stops the Runner right after an event's commit,
// before its ack, and starts another: nothing is lost or doubled.
func TestCrashBeforeAck(t *testing.T) {
	ctx, crash := context.WithCancel(t.Context())
	cfg := projections.WithAfterCommit(fast, func(_ string, position uint64) error {
		if position == 3 {
			crash()
			return errors.New("crashed before the ack")
		}
		return nil
	})
	h := projectiontest.New(t, projectiontest.Live, cfg, counter{name: "counted"})
	done := h.Start(ctx)

	appendEvents(t, h, "Tested", 5)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the runner did not stop after the crash")
	}
	if rows, events, last := countOf(t, h, "counted"); rows != 3 || events != 3 || last != 3 {
		t.Fatalf("before the restart: %d rows of %d events up to %d, want 3 of 3 up to 3",
			rows, events, last)
	}

	restarted, err := projections.New(h.Pool, h.Log, fast, counter{name: "counted"})
	if err != nil {
		t.Fatal(err)
	}
	h.Runner = restarted
	h.Start(t.Context())
	h.Sync()
	if rows, events, last := countOf(t, h, "counted"); rows != 5 || events != 5 || last != 5 {
		t.Errorf("after the restart: %d rows of %d events up to %d, want 5 of 5 up to 5",
			rows, events, last)
	}
}

// TestTwoRunners runs one projection in two runners at once, as two
// processes would: each event is applied once.
func TestTwoRunners(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast, counter{name: "counted"})
	h.Start(t.Context())
	other, err := projections.New(h.Pool, h.Log, fast, counter{name: "counted"})
	if err != nil {
		t.Fatal(err)
	}
	otherDone := make(chan struct{})
	ctx, stop := context.WithCancel(t.Context())
	go func() {
		defer close(otherDone)
		other.Run(ctx)
	}()
	defer func() { stop(); <-otherDone }()

	var last eventstore.AppendResult
	for range 20 {
		last = appendEvents(t, h, "Tested", 5)
	}
	wait(t, other, last.Position)
	h.Sync()
	if rows, events, top := countOf(t, h, "counted"); rows != 100 || events != 100 || top != 100 {
		t.Errorf("counted %d rows of %d events up to %d, want 100 of 100 up to 100", rows, events, top)
	}
}

// TestPoisonEvent stops the projection that keeps failing on an event:
// it is marked failed, Ready says so, it applies nothing after the
// event, and the other projection goes on.
func TestPoisonEvent(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fails  failure
		reason string
	}{
		{"error", byError, "apply failed"},
		{"panic", byPanic, "panic"},
		{"sql", bySQL, "SQLSTATE 22P02"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var reported []string
			var mu sync.Mutex
			reg := prometheus.NewRegistry()
			cfg := fast
			cfg.Registerer = reg
			cfg.OnFailure = func(err *projections.ApplyError, stopped bool) {
				mu.Lock()
				defer mu.Unlock()
				if stopped {
					reported = append(reported, err.Error())
				}
			}
			h := projectiontest.New(t, projectiontest.Live, cfg,
				counter{name: "healthy"},
				counter{name: "poisoned", failOn: "Poison", fails: tt.fails})
			h.Start(t.Context())

			appendEvents(t, h, "Tested", 2)
			poison, err := h.Log.Append(t.Context(), "test-"+newID(), eventstore.NoStream,
				eventstore.EventData{Type: "Poison", Data: []byte(`{"allergy":"peanut"}`)})
			if err != nil {
				t.Fatal(err)
			}
			after := appendEvents(t, h, "Tested", 2)

			ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
			defer cancel()
			if err := h.Runner.WaitFor(ctx, after.Position); !errors.Is(err, projections.ErrFailed) {
				t.Fatalf("wait: %v, want ErrFailed", err)
			}
			last := appendEvents(t, h, "Tested", 1)
			waitForStatus(t, h, "healthy", last.Position)

			wantError := "projection poisoned: Poison at position 3: " + tt.reason
			ready := h.Runner.Ready()
			if !errors.Is(ready, projections.ErrFailed) || !strings.Contains(ready.Error(), wantError) {
				t.Errorf("ready: %v, want ErrFailed and %q", ready, wantError)
			}
			status := statusOf(t, h, "poisoned")
			if status.State != projections.StateFailed || status.Position != poison.Position-1 ||
				status.LastError != wantError {
				t.Errorf("status: %+v, want failed at %d with %q", status, poison.Position-1, wantError)
			}
			if stored := storedState(t, h, "poisoned"); stored != "failed "+wantError {
				t.Errorf("stored state %q, want failed and %q", stored, wantError)
			}
			if got := metricValue(t, reg, "whitecross_projection_failures_total", "poisoned"); got != 2 {
				t.Errorf("poisoned failed %v times, want 2: once and once more", got)
			}
			if got := stateOf(t, reg, "poisoned"); got != "failed" {
				t.Errorf("poisoned is %s on /metrics, want failed", got)
			}
			if got := stateOf(t, reg, "healthy"); got != "running" {
				t.Errorf("healthy is %s on /metrics, want running", got)
			}
			at := metricValue(t, reg, "whitecross_projection_failed_position", "poisoned")
			if at != float64(poison.Position) {
				t.Errorf("failed position %v, want %d", at, poison.Position)
			}
			wantFailure := projections.Failure{Projection: "poisoned", Position: poison.Position,
				EventType: "Poison", Reason: tt.reason}
			if got := h.Runner.Failures(); len(got) != 1 || got[0] != wantFailure {
				t.Errorf("failures %+v, want %+v", got, wantFailure)
			}
			if rows, _, top := countOf(t, h, "poisoned"); rows != 2 || top != 2 {
				t.Errorf("poisoned counted %d rows up to %d, want 2 up to 2", rows, top)
			}
			if rows, _, top := countOf(t, h, "healthy"); rows != 6 || top != last.Position {
				t.Errorf("healthy counted %d rows up to %d, want 6 up to %d", rows, top, last.Position)
			}

			mu.Lock()
			defer mu.Unlock()
			if len(reported) != 1 || reported[0] != wantError {
				t.Errorf("reported %q, want once %q", reported, wantError)
			}
			for _, text := range append(reported, ready.Error(), status.LastError) {
				if strings.Contains(text, "peanut") {
					t.Errorf("%q quotes the event's data", text)
				}
			}
		})
	}
}

// flaky is a counter that fails on its first attempts as if the database
// had gone away.
type flaky struct {
	counter
	failures *atomic.Int32
}

func (f flaky) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if f.failures.Add(-1) >= 0 {
		return &pgconn.PgError{Code: "08006", Message: "connection failure"}
	}
	return f.counter.Apply(ctx, tx, e, suffix)
}

// TestDatabaseFailure keeps delivering an event that fails because the
// database is unreachable, beyond the retries, rather than stopping the
// projection.
func TestDatabaseFailure(t *testing.T) {
	var transient atomic.Int32
	cfg := fast
	cfg.OnFailure = func(err *projections.ApplyError, stopped bool) {
		if !stopped {
			transient.Add(1)
		}
	}
	failures := &atomic.Int32{}
	failures.Store(3)
	h := projectiontest.New(t, projectiontest.Live, cfg,
		flaky{counter: counter{name: "counted"}, failures: failures})
	h.Start(t.Context())

	appendEvents(t, h, "Tested", 3)
	h.Sync()

	if rows, events, last := countOf(t, h, "counted"); rows != 3 || events != 3 || last != 3 {
		t.Errorf("counted %d rows of %d events up to %d, want 3 of 3 up to 3", rows, events, last)
	}
	if got := transient.Load(); got != 1 {
		t.Errorf("reported %d transient failures, want 1", got)
	}
	if err := h.Runner.Ready(); err != nil {
		t.Errorf("ready: %v", err)
	}
}

// TestWaitFor returns once every projection has reached the position,
// and with the context's error when it does not in time.
func TestWaitFor(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast,
		counter{name: "first"}, counter{name: "second"})
	h.Start(t.Context())

	res := appendEvents(t, h, "Tested", 3)
	wait(t, h.Runner, res.Position)
	for _, name := range []string{"first", "second"} {
		if rows, _, _ := countOf(t, h, name); rows != 3 {
			t.Errorf("%s counted %d rows once waited for, want 3", name, rows)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	err := h.Runner.WaitFor(ctx, res.Position+1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for a position not reached: %v, want DeadlineExceeded", err)
	}
}

// TestStatusAndMetrics reports positions, lag and state, in Status and
// in the metrics.
func TestStatusAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := fast
	cfg.Registerer = reg
	h := projectiontest.New(t, projectiontest.Live, cfg, counter{name: "counted"})
	ctx, stop := context.WithCancel(t.Context())
	done := h.Start(ctx)

	appendEvents(t, h, "Tested", 4)
	h.Sync()
	want := projections.ProjectionStatus{
		Name: "counted", Position: 4, Head: 4, State: projections.StateRunning,
	}
	if got := statusOf(t, h, "counted"); !sameStatus(got, want) {
		t.Errorf("status: %+v, want %+v", got, want)
	}
	for name, want := range map[string]float64{
		"whitecross_projection_position":       4,
		"whitecross_projection_lag_events":     0,
		"whitecross_projection_lag_seconds":    0,
		"whitecross_projection_failures_total": 0,
	} {
		if got := metricValue(t, reg, name, "counted"); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	stop()
	<-done
	appendEvents(t, h, "Tested", 3)
	want.Head, want.LagEvents = 7, 3
	if got := statusOf(t, h, "counted"); !sameStatus(got, want) || got.LagSeconds < 0 {
		t.Errorf("status of a stopped projection: %+v, want %+v", got, want)
	}
}

// TestNewRefuses refuses projections the Runner could not run.
func TestNewRefuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  projections.Config
		ps   []projections.Projection
	}{
		{"the same name twice", projections.Config{},
			[]projections.Projection{counter{name: "a"}, counter{name: "a"}}},
		{"a table without its schema", projections.Config{},
			[]projections.Projection{unqualified{counter{name: "a"}}}},
		{"negative retries", projections.Config{Retries: -1}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := projections.New(nil, nil, tt.cfg, tt.ps...); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

type unqualified struct{ counter }

func (unqualified) Tables() []string { return []string{"counted"} }

// wait waits for r to reach position, failing t if it does not.
func wait(t *testing.T, r *projections.Runner, position uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := r.WaitFor(ctx, position); err != nil {
		t.Fatal(err)
	}
}

// waitForStatus waits until projection name's checkpoint reaches
// position.
func waitForStatus(t *testing.T, h *projectiontest.Harness, name string, position uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for statusOf(t, h, name).Position < position {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach position %d", name, position)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func statusOf(t *testing.T, h *projectiontest.Harness, name string) projections.ProjectionStatus {
	t.Helper()
	statuses, err := h.Runner.Status(t.Context())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, s := range statuses {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("status: no projection %s in %+v", name, statuses)
	return projections.ProjectionStatus{}
}

// sameStatus compares what a test can predict of two statuses.
func sameStatus(a, b projections.ProjectionStatus) bool {
	return a.Name == b.Name && a.Position == b.Position && a.Head == b.Head &&
		a.LagEvents == b.LagEvents && a.State == b.State && a.LastError == b.LastError
}

// storedState returns the state and last error stored for projection
// name.
func storedState(t *testing.T, h *projectiontest.Harness, name string) string {
	t.Helper()
	var stored string
	err := h.Pool.QueryRow(t.Context(),
		`SELECT state || ' ' || coalesce(last_error, '') FROM projection_checkpoints
		WHERE name = $1`, name).Scan(&stored)
	if err != nil {
		t.Fatalf("stored state of %s: %v", name, err)
	}
	return stored
}

// metricValue returns the value of the series name{projection}.
func metricValue(t *testing.T, reg *prometheus.Registry, name, projection string) float64 {
	t.Helper()
	return promtest.Value(t, reg, name, "projection", projection)
}

// picky is a counter that applies only the events of its type.
type picky struct {
	counter
	only string
}

func (p picky) Selects(e eventstore.Event) bool { return e.Type == p.only }

// TestPassOver passes over the events a projection does not select
// without applying them: its position follows the log in memory at once,
// its checkpoint in the database at the next interval and when the Runner
// stops, and a restart applies nothing twice.
func TestPassOver(t *testing.T) {
	cfg := fast
	cfg.CheckpointInterval = time.Hour
	h := projectiontest.New(t, projectiontest.Live, cfg, picky{counter{name: "picked"}, "Tested"})
	ctx, stop := context.WithCancel(t.Context())
	done := h.Start(ctx)

	appendEvents(t, h, "Tested", 2)
	last := appendEvents(t, h, "Other", 5)
	h.Sync()
	if rows, _, top := countOf(t, h, "picked"); rows != 2 || top != 2 {
		t.Errorf("picked %d rows up to %d, want 2 up to 2", rows, top)
	}
	if s := statusOf(t, h, "picked"); s.Position != last.Position || s.LagEvents != 0 {
		t.Errorf("status: %+v, want at %d with no lag", s, last.Position)
	}
	if got := storedPosition(t, h, "picked"); got != 2 {
		t.Errorf("stored checkpoint %d before the interval, want 2: the last event applied", got)
	}

	stop()
	<-done
	if got := storedPosition(t, h, "picked"); got != last.Position {
		t.Errorf("stored checkpoint %d once stopped, want %d", got, last.Position)
	}

	cfg.CheckpointInterval = 10 * time.Millisecond
	restarted, err := projections.New(h.Pool, h.Log, cfg, picky{counter{name: "picked"}, "Tested"})
	if err != nil {
		t.Fatal(err)
	}
	h.Runner = restarted
	h.Start(t.Context())
	appendEvents(t, h, "Tested", 1)
	again := appendEvents(t, h, "Other", 2)
	h.Sync()
	deadline := time.Now().Add(waitTimeout)
	for storedPosition(t, h, "picked") != again.Position {
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint did not reach %d while running", again.Position)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rows, events, _ := countOf(t, h, "picked"); rows != 3 || events != 3 {
		t.Errorf("after a restart: %d rows of %d events, want 3 of 3", rows, events)
	}
}

// storedPosition returns the checkpoint the database holds for name.
func storedPosition(t *testing.T, h *projectiontest.Harness, name string) uint64 {
	t.Helper()
	var at int64
	err := h.Pool.QueryRow(t.Context(),
		`SELECT position FROM projection_checkpoints WHERE name = $1`, name).Scan(&at)
	if err != nil {
		t.Fatalf("stored checkpoint of %s: %v", name, err)
	}
	return uint64(at)
}

// gate is a counter whose first Apply waits until it is opened.
type gate struct {
	counter
	entered chan struct{}
	open    chan struct{}
	once    *sync.Once
}

func (g gate) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	g.once.Do(func() {
		close(g.entered)
		<-g.open
	})
	return g.counter.Apply(ctx, tx, e, suffix)
}

// TestCatchingUp reports a projection started behind the log's head as
// catching up until it has reached that head, then as running.
func TestCatchingUp(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := fast
	cfg.Registerer = reg
	g := gate{counter{name: "gated"}, make(chan struct{}), make(chan struct{}), &sync.Once{}}
	h := projectiontest.New(t, projectiontest.Live, cfg, g)
	appendEvents(t, h, "Tested", 3)
	h.Start(t.Context())

	<-g.entered
	if got := stateOf(t, reg, "gated"); got != "catching_up" {
		t.Errorf("behind the head it started at: %s, want catching_up", got)
	}
	if s := statusOf(t, h, "gated"); s.State != projections.StateCatchingUp {
		t.Errorf("status: %+v, want catching up", s)
	}
	close(g.open)
	h.Sync()
	if got := stateOf(t, reg, "gated"); got != "running" {
		t.Errorf("at the head: %s, want running", got)
	}
}

// stateOf returns the state whose series of
// whitecross_projection_state is 1 for projection, failing t unless
// exactly one is.
func stateOf(t *testing.T, reg *prometheus.Registry, projection string) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var on []string
	for _, f := range families {
		if f.GetName() != "whitecross_projection_state" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["projection"] == projection && m.GetGauge().GetValue() == 1 {
				on = append(on, labels["state"])
			}
		}
	}
	if len(on) != 1 {
		t.Fatalf("states at 1 for %s: %q, want one", projection, on)
	}
	return on[0]
}
