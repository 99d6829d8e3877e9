package bundle_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/whitecross/whitecross/internal/benchlog"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// exportLogSize is how many events BenchmarkExport's log holds: a
// million, or WHITECROSS_BENCH_EXPORT_EVENTS (a multiple of 800) to try a
// change on a smaller log.
var exportLogSize = envSize(1_000_000)

// BenchmarkExport exports a sealed log of 1,000,000 events over 100,000
// streams: the whole log ("all") and the middle half of its time
// ("time-range"), digests only, to a file; then verifies the whole-log
// bundle from its file ("verify"). Each reports events/s, the bundle's
// size and the most heap it held at once, which must stay far below the
// bundle's size: neither holds the bundle in memory.
func BenchmarkExport(b *testing.B) {
	fx := newFixture(b)
	fx.seedBench(b, exportLogSize)
	cp, err := fx.sealer.Checkpoint(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	from := fx.recordedAt(b, uint64(exportLogSize/4))
	to := fx.recordedAt(b, uint64(exportLogSize*3/4))
	dir := b.TempDir()
	whole := filepath.Join(dir, "all.tar")
	for _, c := range []struct {
		name  string
		scope bundle.Scope
		path  string
	}{
		{"all", bundle.Scope{All: true}, whole},
		{"time-range", bundle.Scope{From: &from, To: &to}, filepath.Join(dir, "range.tar")},
	} {
		b.Run(c.name, func(b *testing.B) {
			var sum bundle.Summary
			peak := measurePeak(b, func() { sum = fx.exportTo(b, cp, c.scope, c.path) })
			reportBundle(b, sum.Events, sum.Size, peak)
		})
	}
	b.Run("verify", func(b *testing.B) {
		var rep *bundle.Report
		peak := measurePeak(b, func() {
			for range b.N {
				var err error
				if rep, err = bundle.VerifyFile(whole, bundle.VerifyOptions{TrustedKey: fx.vkey}); err != nil {
					b.Fatal(err)
				}
			}
		})
		info, _ := os.Stat(whole)
		reportBundle(b, rep.Counts.Events, info.Size(), peak)
	})
}

func reportBundle(b *testing.B, events, size int64, peak uint64) {
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/(1<<20), "bundle-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// exportTo writes the bundle of scope to path b.N times.
func (fx *fixture) exportTo(
	b *testing.B,
	cp ledger.Checkpoint,
	scope bundle.Scope,
	path string,
) bundle.Summary {
	var sum bundle.Summary
	for range b.N {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		sum, err = bundle.Write(context.Background(), f, fx.log, fx.sealer.Tree(), bundle.Options{
			Checkpoint: cp, Signer: fx.signer, VerifierKey: fx.vkey, Scope: scope,
			Describe: describe, TempDir: filepath.Dir(path),
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return sum
}

// measurePeak runs op while it samples the heap every few milliseconds,
// and returns the most bytes of heap objects it saw.
func measurePeak(b *testing.B, op func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				read()
			}
		}
	})
	b.ResetTimer()
	op()
	b.StopTimer()
	close(done)
	wg.Wait()
	read()
	return peak
}

// seedBench fills the fixture's log with n events, vacuumed as a log at
// rest.
func (fx *fixture) seedBench(b *testing.B, n int) {
	benchlog.Seed(b, fx.log, n, nurseA)
	if _, err := fx.db.AdminPool(b).Exec(context.Background(), "VACUUM (ANALYZE) events"); err != nil {
		b.Fatal(err)
	}
}

// recordedAt is when the log's event at position was recorded.
func (fx *fixture) recordedAt(b *testing.B, position uint64) time.Time {
	evs, err := fx.log.ReadAll(context.Background(), position, 1)
	if err != nil || len(evs) == 0 {
		b.Fatalf("event at %d: %v", position, err)
	}
	return evs[0].RecordedAt
}

func envSize(def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("WHITECROSS_BENCH_EXPORT_EVENTS"), &n); err == nil && n > 0 {
		return n
	}
	return def
}
