package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/database"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// The benchmarks below measure the log beside the physical limit measured
// in the same run: a plain INSERT of the same rows into a table with the
// same columns and only a primary key, by as many clients, each with a
// connection of its own; SHA-256 of the same bytes. make bench writes their
// medians to docs/benchmarks.md.

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

// BenchmarkAppend measures durable appends beside the limit, in one
// benchmark so that each round of -count runs them back to back: "log" is
// the event log; "plain" inserts the same rows, already hashed, into a
// table with the same columns and only a primary key, by as many clients,
// one INSERT statement and one transaction each; "plain-indexed" gives
// that table the log's two other unique indexes.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct{ writers, batch int }{{32, 1}, {8, 100}} {
		shape := fmt.Sprintf("writers=%d/batch=%d", c.writers, c.batch)
		b.Run(shape+"/log", func(b *testing.B) { benchLog(b, c.writers, c.batch) })
		b.Run(shape+"/plain", func(b *testing.B) { benchPlain(b, c.writers, c.batch, false) })
		b.Run(shape+"/plain-indexed", func(b *testing.B) { benchPlain(b, c.writers, c.batch, true) })
	}
}

func benchLog(b *testing.B, writers, batch int) {
	db := pgtest.New(b)
	l := postgres.New(db.AppPool(b), postgres.Config{})
	defer l.Close()
	ctx := context.Background()
	runWriters(b, writers, batch, func(w int) error {
		_, err := l.Append(ctx, fmt.Sprintf("student-%d", w), eventstore.Any, benchEvents(batch)...)
		return err
	})
}

const plainTableSQL = `CREATE TABLE plain_events (
	position bigint PRIMARY KEY, event_id uuid NOT NULL, stream text NOT NULL,
	revision bigint NOT NULL, type text NOT NULL, schema_version integer NOT NULL,
	recorded_at timestamptz NOT NULL, metadata bytea NOT NULL, data bytea,
	data_salt bytea, data_digest bytea NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL)`

// indexedTableSQL gives the plain table the log's two other unique indexes.
const indexedTableSQL = `ALTER TABLE plain_events ADD UNIQUE (event_id), ADD UNIQUE (stream, revision)`

func benchPlain(b *testing.B, writers, batch int, indexed bool) {
	db := pgtest.New(b)
	ctx := context.Background()
	// A connection for every client, as each plain client would have.
	pool, err := database.Open(ctx, db.URL, database.Options{MaxConns: int32(writers)})
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, plainTableSQL); err != nil {
		b.Fatal(err)
	}
	if indexed {
		if _, err := pool.Exec(ctx, indexedTableSQL); err != nil {
			b.Fatal(err)
		}
	}
	insert := plainInsertSQL(batch)
	var pos atomic.Int64
	runWriters(b, writers, batch, func(w int) error {
		return plainInsert(ctx, pool, insert, &pos, w, batch)
	})
}

// plainColumns is how many values a row of plain_events takes.
const plainColumns = 13

// plainInsertSQL is one INSERT of n rows into plain_events.
func plainInsertSQL(n int) string {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO plain_events (position, event_id, stream, revision, type,
		schema_version, recorded_at, metadata, data, data_salt, data_digest, prev_hash, hash)
		VALUES `)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(")
		for c := range plainColumns {
			if c > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "$%d", i*plainColumns+c+1)
		}
		sb.WriteString(")")
	}
	return sb.String()
}

func plainInsert(
	ctx context.Context,
	pool *pgxpool.Pool,
	insert string,
	pos *atomic.Int64,
	w, n int,
) error {
	prepared, err := eventstore.Prepare(fmt.Sprintf("student-%d", w), benchEvents(n), time.Now())
	if err != nil {
		return err
	}
	first := uint64(pos.Add(int64(n))) - uint64(n) + 1
	eventstore.Seal(eventstore.Hash{}, first, prepared)
	args := make([]any, 0, n*plainColumns)
	for i := range prepared {
		e := &prepared[i]
		e.Position = first + uint64(i)
		args = append(args, int64(e.Position), [16]byte(e.ID), e.Stream, int64(e.Revision),
			e.Type, int32(e.SchemaVersion), e.RecordedAt, e.Metadata, e.Data, e.DataSalt,
			e.DataDigest[:], e.PrevHash[:], e.Hash[:])
	}
	_, err = pool.Exec(ctx, insert, args...)
	return err
}

// seedBenchLog fills a fresh log with n events over n/10 streams and
// returns it.
func seedBenchLog(b *testing.B, n int) (*pgtest.DB, *postgres.Log) {
	db := pgtest.New(b)
	l := postgres.New(db.AppPool(b), postgres.Config{})
	b.Cleanup(func() { l.Close() })
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w * 100; i < n; i += 800 {
				_, err := l.Append(ctx, fmt.Sprintf("student-%d", i%(n/10)), eventstore.Any, benchEvents(100)...)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// A log at rest has been vacuumed: its hint bits are set, so reading it
	// writes nothing.
	if _, err := db.AdminPool(b).Exec(ctx, "VACUUM (ANALYZE) events"); err != nil {
		b.Fatal(err)
	}
	return db, l
}

const verifyLogSize = 200_000

// BenchmarkVerify checks a log of 200,000 events from the start, as
// `whitecross verify` does ("verify"), beside reading the same pages
// without checking anything ("read") and the SHA-256 of the same bytes,
// already in memory, that verify hashes ("sha256").
func BenchmarkVerify(b *testing.B) {
	_, l := seedBenchLog(b, verifyLogSize)
	b.Run("verify", func(b *testing.B) {
		var checked uint64
		for b.Loop() {
			n, err := eventstore.Verify(context.Background(), l,
				eventstore.VerifyOptions{ContiguousPositions: true},
				func(p eventstore.Problem) bool { b.Fatal(p); return false })
			if err != nil {
				b.Fatal(err)
			}
			checked += n
		}
		b.ReportMetric(float64(checked)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("read", func(b *testing.B) {
		var read int
		for b.Loop() {
			for from := uint64(1); ; {
				evs, err := l.ReadAll(context.Background(), from, 5000)
				if err != nil {
					b.Fatal(err)
				}
				read += len(evs)
				if len(evs) < 5000 {
					break
				}
				from = evs[len(evs)-1].Position + 1
			}
		}
		b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("sha256", func(b *testing.B) { benchVerifyHashing(b, l) })
}

// benchVerifyHashing hashes, for every event of l, the two messages verify
// hashes (the salted data and the envelope), with the events already read.
func benchVerifyHashing(b *testing.B, l *postgres.Log) {
	var msgs [][]byte
	for from := uint64(1); ; {
		evs, err := l.ReadAll(context.Background(), from, 5000)
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			e := &evs[i]
			msgs = append(msgs, slices.Concat([]byte("whitecross/event-data/v1\x00"),
				e.DataSalt, e.Data), eventstore.AppendEnvelope(nil, e))
		}
		if len(evs) < 5000 {
			break
		}
		from = evs[len(evs)-1].Position + 1
	}
	b.ResetTimer()
	var hashed int
	for b.Loop() {
		for _, m := range msgs {
			sha256.Sum256(m)
		}
		hashed += len(msgs) / 2
	}
	b.ReportMetric(float64(hashed)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSubscriptionLag appends 1,000 events a second for three seconds,
// each by its own call, while a subscriber follows the log ("log"). The
// lag of an event is from the moment its Append was called to the moment
// the subscriber received it, so it includes the commit. Beside it,
// "commit" is the limit: the same rows inserted into a plain table at the
// same pace, each its own INSERT and commit, timed from the call to its
// return; a subscriber can hear of no event before it is committed.
func BenchmarkSubscriptionLag(b *testing.B) {
	const rate, seconds = 1000, 3
	b.Run("log", func(b *testing.B) {
		db := pgtest.New(b)
		l := postgres.New(db.AppPool(b), postgres.Config{})
		defer l.Close()
		ctx := context.Background()
		for b.Loop() {
			reportLags(b, measureLag(b, ctx, l, rate, seconds))
		}
	})
	b.Run("commit", func(b *testing.B) {
		db := pgtest.New(b)
		ctx := context.Background()
		pool, err := database.Open(ctx, db.URL, database.Options{MaxConns: 64})
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		if _, err := pool.Exec(ctx, plainTableSQL); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			reportLags(b, measureCommits(b, ctx, pool, rate, seconds))
		}
	})
}

func reportLags(b *testing.B, lags []time.Duration) {
	slices.Sort(lags)
	b.ReportMetric(ms(lags[len(lags)/2]), "p50-ms")
	b.ReportMetric(ms(lags[len(lags)*99/100]), "p99-ms")
	b.ReportMetric(ms(lags[len(lags)-1]), "max-ms")
}

// measureCommits inserts rate rows a second for seconds into the plain
// table, each by its own call, and returns how long each took.
func measureCommits(
	b *testing.B,
	ctx context.Context,
	pool *pgxpool.Pool,
	rate, seconds int,
) []time.Duration {
	total := rate * seconds
	lags := make([]time.Duration, total)
	insert := plainInsertSQL(1)
	var pos atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		wg.Go(func() {
			began := time.Now()
			if err := plainInsert(ctx, pool, insert, &pos, i%64, 1); err != nil {
				b.Error(err)
			}
			lags[i] = time.Since(began)
		})
	}
	wg.Wait()
	return lags
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func measureLag(b *testing.B, ctx context.Context, l *postgres.Log, rate, seconds int) []time.Duration {
	from, err := l.LastPosition(ctx)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := l.Subscribe(ctx, from+1)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()

	total := rate * seconds
	sent := make([]time.Time, total)
	var mu sync.Mutex
	start := time.Now()
	go func() {
		for i := range total {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
			mu.Lock()
			sent[i] = time.Now()
			mu.Unlock()
			go func() {
				ev := eventstore.EventData{Type: "Tick", Data: fmt.Appendf(nil, `{"i":%d}`, i)}
				if _, err := l.Append(ctx, fmt.Sprintf("tick-%d", i%64), eventstore.Any, ev); err != nil {
					b.Error(err)
				}
			}()
		}
	}()
	lags := make([]time.Duration, 0, total)
	for e := range sub.Events() {
		var d struct{ I int }
		if err := json.Unmarshal(e.Data, &d); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		lags = append(lags, time.Since(sent[d.I]))
		mu.Unlock()
		if len(lags) == total {
			break
		}
	}
	return lags
}
