package projections_test

import (
	"testing"

	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// BenchmarkRebuild rebuilds the students read model from a log of 20,000
// events, a fifth of them of other streams, and reports events/s.
func BenchmarkRebuild(b *testing.B) {
	h := projectiontest.New(b, projectiontest.Rebuilt, projections.Config{}, projections.Students{})
	head := fillLog(b, h, 20_000)

	for b.Loop() {
		if err := h.Runner.Rebuild(b.Context(), "students"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(head)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLive catches the live students read model up with a log of
// 5,000 events, one transaction per event, and reports events/s.
func BenchmarkLive(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		h := projectiontest.New(b, projectiontest.Live, projections.Config{}, projections.Students{})
		head := fillLog(b, h, 5_000)
		b.StartTimer()

		h.Start(b.Context())
		h.Sync()
		b.ReportMetric(float64(head)/b.Elapsed().Seconds(), "events/s")
	}
}

// fillLog appends student histories, and events of other streams, until
// the log holds at least n events, and returns its head.
func fillLog(b *testing.B, h *projectiontest.Harness, n uint64) uint64 {
	b.Helper()
	schools := []string{newID(), newID()}
	var head uint64
	for i := 0; head < n; i++ {
		if err := appendStudent(b, h.Log, i, schools); err != nil {
			b.Fatal(err)
		}
		if i%4 == 0 {
			appendEvents(b, h, "Tested", 2)
		}
		var err error
		if head, err = h.Log.LastPosition(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	return head
}
