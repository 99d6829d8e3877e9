package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
	"github.com/whitecross/whitecross/readapi"
)

// poisoned is a projection with no table that fails on every event.
type poisoned struct{}

func (poisoned) Name() string     { return "poisoned" }
func (poisoned) Tables() []string { return []string{"readmodel.poisoned"} }
func (poisoned) Schema(suffix string) string {
	return "CREATE TABLE readmodel.poisoned" + suffix + " ()"
}
func (poisoned) Selects(eventstore.Event) bool { return true }

func (poisoned) Apply(context.Context, pgx.Tx, eventstore.Event, string) error {
	return errors.New("refused")
}

// TestProjectionsReady names, for /readyz, the projection that stopped
// and the position and type of its event.
func TestProjectionsReady(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, projections.Config{Retries: 1}, poisoned{})
	if err := projectionsReady(h.Runner); err != nil {
		t.Fatalf("before any failure: %v", err)
	}
	h.Start(t.Context())
	res, err := h.Log.Append(t.Context(), "test-1", eventstore.NoStream,
		eventstore.EventData{Type: "Poison", Data: []byte(`{"allergy":"peanut"}`)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := h.Runner.WaitFor(ctx, res.Position); !errors.Is(err, projections.ErrFailed) {
		t.Fatalf("wait: %v, want ErrFailed", err)
	}

	var failure readapi.CheckFailure
	err = projectionsReady(h.Runner)
	want := "poisoned stopped at position 1 (Poison): apply failed"
	if !errors.As(err, &failure) || failure.Detail != want {
		t.Errorf("ready: %v, want the detail %q", err, want)
	}
}
