package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/migrations"
)

// TestUnavailableWhenNoServer wraps every call's failure in
// eventstore.ErrUnavailable when no server answers.
func TestUnavailableWhenNoServer(t *testing.T) {
	// Port 1 is privileged and unused: the connection is refused.
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	l := postgres.New(pool, postgres.Config{})
	defer l.Close()
	ctx := t.Context()

	_, appendErr := l.Append(ctx, "student-1", eventstore.Any, benchEvents(1)...)
	_, readErr := l.ReadStream(ctx, "student-1", eventstore.ReadOptions{})
	_, readAllErr := l.ReadAll(ctx, 1, 10)
	_, lastErr := l.LastPosition(ctx)
	for name, err := range map[string]error{"Append": appendErr, "ReadStream": readErr,
		"ReadAll": readAllErr, "LastPosition": lastErr} {
		if !errors.Is(err, eventstore.ErrUnavailable) {
			t.Errorf("%s: %v, want an error wrapping ErrUnavailable", name, err)
		}
	}
}

// TestUnavailableWhenConnectionsCut answers ErrUnavailable when the
// server terminates the log's connections, as a database shutting down
// does, and serves again at the next call; an append refused for its
// revision is not unavailable.
func TestUnavailableWhenConnectionsCut(t *testing.T) {
	db := pgtest.New(t)
	l := postgres.New(unpingedPool(t, db), postgres.Config{})
	t.Cleanup(func() { l.Close() })
	ctx := t.Context()
	if _, err := l.Append(ctx, "student-1", eventstore.NoStream, benchEvents(1)...); err != nil {
		t.Fatal(err)
	}

	terminateBackends(t, db)
	_, err := l.ReadStream(ctx, "student-1", eventstore.ReadOptions{})
	if !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("read on a terminated connection: %v, want an error wrapping ErrUnavailable", err)
	}
	if _, err := l.ReadStream(ctx, "student-1", eventstore.ReadOptions{}); err != nil {
		t.Fatalf("read after the connection was cut: %v, want it served", err)
	}
	_, err = l.Append(ctx, "student-1", eventstore.NoStream, benchEvents(1)...)
	if !errors.Is(err, eventstore.ErrWrongExpectedRevision) || errors.Is(err, eventstore.ErrUnavailable) {
		t.Errorf("append at a wrong revision: %v, want ErrWrongExpectedRevision only", err)
	}
}

// unpingedPool opens a pool on db as the service's role that never pings
// a connection before handing it out, so that a connection cut while idle
// is found by the next call, not by the pool.
func unpingedPool(t *testing.T, db *pgtest.DB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.AppURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET ROLE "+migrations.AppRole)
		return err
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// terminateBackends ends every other connection to db, waiting for each
// to be gone.
func terminateBackends(t *testing.T, db *pgtest.DB) {
	t.Helper()
	_, err := db.AdminPool(t).Exec(context.Background(), `
		SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, db.Name)
	if err != nil {
		t.Fatal(err)
	}
}

// TestAppendAfterConnectionsCut appends at once after the server has
// terminated every connection the pool keeps, as after a restart of the
// database: the writer tries again on a fresh connection, and the event
// is stored once.
func TestAppendAfterConnectionsCut(t *testing.T) {
	db := pgtest.New(t)
	l := postgres.New(unpingedPool(t, db), postgres.Config{})
	t.Cleanup(func() { l.Close() })
	ctx := t.Context()
	if _, err := l.Append(ctx, "student-1", eventstore.NoStream, benchEvents(1)...); err != nil {
		t.Fatal(err)
	}

	terminateBackends(t, db)
	res, err := l.Append(ctx, "student-1", eventstore.Exact(0), benchEvents(1)...)
	if err != nil {
		t.Fatalf("append after the connections were cut: %v, want it stored", err)
	}
	evs, err := l.ReadStream(ctx, "student-1", eventstore.ReadOptions{})
	if err != nil || len(evs) != 2 || res.Revision != 1 {
		t.Fatalf("the stream holds %d events (%v), the append answered revision %d; want 2 and 1",
			len(evs), err, res.Revision)
	}
}
