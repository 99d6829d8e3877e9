package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/eventstore/storetest"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// openLog opens a Log on db as the service's role, closed when t ends.
func openLog(t *testing.T, db *pgtest.DB) *postgres.Log {
	t.Helper()
	l := postgres.New(db.AppPool(t), postgres.Config{
		OnError: func(op string, err error) { t.Logf("%s: %v", op, err) },
	})
	t.Cleanup(func() { l.Close() })
	return l
}

func TestContract(t *testing.T) {
	db := pgtest.New(t)
	storetest.Run(t, func(t *testing.T) eventstore.Store { return openLog(t, db) },
		storetest.Features{ContiguousPositions: true, UniqueIDsAcrossStreams: true})
}

// TestAppendAfterClose refuses appends at once once the log is closed,
// rather than leaving them waiting for a writer that has stopped.
func TestAppendAfterClose(t *testing.T) {
	db := pgtest.New(t)
	l := openLog(t, db)
	l.Close()
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(t.Context(), "student-1", eventstore.Any,
			eventstore.EventData{Type: "Tested", Data: []byte(`{}`)})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("append after close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append after close still waiting after 5s")
	}
}
