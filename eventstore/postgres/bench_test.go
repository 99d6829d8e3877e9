package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// The benchmarks below measure the log beside the physical limit measured
// in the same run: a plain COPY of the same rows into a table with the same
// columns and only a primary key, at the same concurrency; SHA-256 of the
// same bytes. make bench writes their medians to docs/benchmarks.md.

// benchData is a 400-byte JSON payload, the size the design's figures use.
var benchData = []byte(`{"order_id":"0b7f2a0e-8a8e-4d7c-9d3e-6f1c2b3a4d5e","dose":{"amount":"250","unit":"mg"},` +
	`"route":"oral","scheduled_for":"2026-12-03T10:00:00Z","given_at":"2026-12-03T10:04:00Z",` +
	`"witness_id":"","count_back":null,"site":"","notes_digest":"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",` +
	`"reason_code":"","student_id":"5f2b6c1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)

func benchEvents(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{
			ID:   uuid.New(),
			Type: "MedicationAdministered",
			Data: benchData,
			Metadata: eventstore.Metadata{
				ActorID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", ActorRole: "nurse",
				SchoolID: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", RequestID: "01JEXAMPLE0000000000000000",
			},
		}
	}
	return out
}

// runWriters runs writers goroutines, each calling op with its own index
// until b.N operations have been done in all; it reports events/s.
func runWriters(b *testing.B, writers, eventsPerOp int, op func(w int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(w); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*eventsPerOp)/time.Since(start).Seconds(), "events/s")
}

func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct{ writers, batch int }{{32, 1}, {8, 100}} {
		b.Run(fmt.Sprintf("writers=%d/batch=%d", c.writers, c.batch), func(b *testing.B) {
			db := pgtest.New(b)
			l := postgres.New(db.AppPool(b), postgres.Config{})
			defer l.Close()
			ctx := context.Background()
			runWriters(b, c.writers, c.batch, func(w int) error {
				_, err := l.Append(ctx, fmt.Sprintf("student-%d", w), eventstore.Any, benchEvents(c.batch)...)
				return err
			})
		})
	}
}

const plainTableSQL = `CREATE TABLE plain_events (
	position bigint PRIMARY KEY, event_id uuid NOT NULL, stream text NOT NULL,
	revision bigint NOT NULL, type text NOT NULL, schema_version integer NOT NULL,
	recorded_at timestamptz NOT NULL, metadata bytea NOT NULL, data bytea,
	data_salt bytea, data_digest bytea NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL)`

// BenchmarkPlainCopy is the limit beside BenchmarkAppend: the same rows,
// already hashed, copied in by as many clients, one transaction each.
func BenchmarkPlainCopy(b *testing.B) {
	for _, c := range []struct{ writers, batch int }{{32, 1}, {8, 100}} {
		b.Run(fmt.Sprintf("writers=%d/batch=%d", c.writers, c.batch), func(b *testing.B) {
			db := pgtest.New(b)
			pool := db.AdminPool(b)
			ctx := context.Background()
			if _, err := pool.Exec(ctx, plainTableSQL); err != nil {
				b.Fatal(err)
			}
			var pos atomic.Int64
			runWriters(b, c.writers, c.batch, func(w int) error {
				return plainCopy(ctx, pool, &pos, w, c.batch)
			})
		})
	}
}

func plainCopy(ctx context.Context, pool *pgxpool.Pool, pos *atomic.Int64, w, n int) error {
	prepared, err := eventstore.Prepare(fmt.Sprintf("student-%d", w), benchEvents(n), time.Now())
	if err != nil {
		return err
	}
	eventstore.Seal(eventstore.Hash{}, 0, prepared)
	rows := make([][]any, n)
	for i := range prepared {
		e := &prepared[i]
		e.Position = uint64(pos.Add(1))
		rows[i] = []any{int64(e.Position), [16]byte(e.ID), e.Stream, int64(e.Revision), e.Type,
			int32(e.SchemaVersion), e.RecordedAt, e.Metadata, e.Data, e.DataSalt,
			e.DataDigest[:], e.PrevHash[:], e.Hash[:]}
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"plain_events"}, []string{"position", "event_id",
		"stream", "revision", "type", "schema_version", "recorded_at", "metadata", "data",
		"data_salt", "data_digest", "prev_hash", "hash"}, pgx.CopyFromRows(rows))
	return err
}
