package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/promtest"
	"github.com/whitecross/whitecross/internal/testclock"
	"github.com/whitecross/whitecross/ledger"
)

// counted are the event types the metrics tests give the sealer.
var counted = []string{"LoginFailed", "UserLocked", "BreakGlassOpened"}

// appendTyped appends one event of each type given, each to a stream of
// its own.
func (fx *fixture) appendTyped(t *testing.T, types ...string) {
	t.Helper()
	for i, typ := range types {
		_, err := fx.log.Append(t.Context(), fmt.Sprintf("user-%d-%s", i, typ), eventstore.Any,
			eventstore.EventData{Type: typ, Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitForValue waits until the series reads want, and fails t when it
// does not within waitTimeout.
func waitForValue(t *testing.T, reg prometheus.Gatherer, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := promtest.Lookup(t, reg, name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %v is %v, want %v", name, labels, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSealerMetrics runs a sealer with a registry and checks that its
// series follow what it seals and signs: events counted by type, leaves,
// checkpoint size and ages.
func TestSealerMetrics(t *testing.T) {
	fx := newFixture(t)
	clock := testclock.New(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	reg := prometheus.NewRegistry()
	s := fx.sealer(t, ledger.SealerConfig{
		Every: 1000, Interval: time.Hour, Now: clock.Now,
		Registerer: reg, EventTypes: counted,
	})
	ctx, cancel := contextWithCancel(t)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	waitForValue(t, reg, 1, "whitecross_ledger_sealer_state", "state", "sealing")

	fx.appendTyped(t, "LoginFailed", "LoginFailed", "UserLocked", "LoginFailed", "Tested", "UserLocked")
	if _, err := s.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	clock.Add(90 * time.Second)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"whitecross_log_events_total", []string{"type", "LoginFailed"}, 3},
		{"whitecross_log_events_total", []string{"type", "UserLocked"}, 2},
		{"whitecross_log_events_total", []string{"type", "BreakGlassOpened"}, 0},
		{"whitecross_log_events_total", []string{"type", "other"}, 1},
		{"whitecross_ledger_leaves_sealed_total", nil, 6},
		{"whitecross_ledger_tree_size", nil, 6},
		{"whitecross_ledger_checkpoint_size", nil, 6},
		{"whitecross_ledger_checkpoint_age_seconds", nil, 90},
		{"whitecross_ledger_unsigned_seconds", nil, 0},
		{"whitecross_ledger_sealer_state", []string{"state", "standby"}, 0},
		{"whitecross_ledger_sealer_state", []string{"state", "stopped"}, 0},
	} {
		if got := promtest.Value(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s %v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if _, ok := promtest.Lookup(t, reg, "whitecross_log_events_total", "type", "Tested"); ok {
		t.Error("an event type not configured has a series of its own")
	}

	// A leaf sealed and not yet signed: the wait is counted from its
	// sealing.
	fx.appendTyped(t, "BreakGlassOpened")
	waitForValue(t, reg, 7, "whitecross_ledger_tree_size")
	clock.Add(30 * time.Second)
	if got := promtest.Value(t, reg, "whitecross_ledger_unsigned_seconds"); got != 30 {
		t.Errorf("unsigned for %v s, want 30", got)
	}
	if got := promtest.Value(t, reg, "whitecross_log_events_total", "type", "BreakGlassOpened"); got != 1 {
		t.Errorf("BreakGlassOpened counted %v times, want 1", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("run ended with %v", err)
	}
}

// TestSealerMetricsStopped: a sealer that meets a changed event reports
// itself stopped, and its ages read 0 so that they raise no alarm of
// their own.
func TestSealerMetricsStopped(t *testing.T) {
	fx := newFixture(t)
	fx.appendN(t, 3, 1)
	fx.changeType(t, 2)
	reg := prometheus.NewRegistry()
	s := fx.sealer(t, ledger.SealerConfig{Registerer: reg})
	if err := s.Run(t.Context()); !errors.Is(err, ledger.ErrTampered) {
		t.Fatalf("run over a changed event: %v, want ErrTampered", err)
	}
	for state, want := range map[string]float64{"stopped": 1, "sealing": 0, "retrying": 0} {
		if got := promtest.Value(t, reg, "whitecross_ledger_sealer_state", "state", state); got != want {
			t.Errorf("state %s = %v, want %v", state, got, want)
		}
	}
	if got := promtest.Value(t, reg, "whitecross_ledger_unsigned_seconds"); got != 0 {
		t.Errorf("a stopped sealer reports leaves unsigned for %v s", got)
	}
}
