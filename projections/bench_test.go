package projections_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"

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

// BenchmarkRebuildClinical rebuilds the read models of the service from
// a log shaped like a health office's: per student a chart with an entry
// of every kind and its corrections, a medication order with a month of
// daily doses, and the accesses of the nurses who read it. "all" rebuilds
// every read model as `whitecross replay` does, two for each of the
// machine's cores, and reports events/s of the whole log; then each
// projection alone, side by side.
func BenchmarkRebuildClinical(b *testing.B) {
	h := projectiontest.New(b, projectiontest.Rebuilt, projections.Config{})
	ps := serviceProjections(h.Log)
	runner, err := projections.New(h.Pool, h.Log, projections.Config{}, ps...)
	if err != nil {
		b.Fatal(err)
	}
	h.Runner, h.Projections = runner, ps
	head := fillClinicalLog(b, h, 20_000)
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			if err := h.Runner.RebuildAll(b.Context(), 2*runtime.GOMAXPROCS(0), nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(head)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	for _, p := range ps {
		b.Run(p.Name(), func(b *testing.B) {
			for b.Loop() {
				if err := h.Runner.Rebuild(b.Context(), p.Name()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(head)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// serviceProjections returns, fresh, every projection the service runs,
// reading streams from log where one needs to.
func serviceProjections(log projections.StreamReader) []projections.Projection {
	return projections.All(log)
}

// fillClinicalLog appends the histories of a district's students, school
// day by school day as they happen, until the log holds at least n
// events, and returns its head. Each student is enrolled with a chart
// (an entry of every kind, a correction of each sort, every kind of dose
// record) and a daily controlled-substance order; then every day each
// student gets a witnessed dose, and a nurse reads one chart in three.
// A student's events are thus spread over the whole log, as in a real
// one, not gathered in one place where a rebuild would find them
// together.
func fillClinicalLog(b *testing.B, h *projectiontest.Harness, n uint64) uint64 {
	b.Helper()
	const students = 300
	schools := []string{newID(), newID(), newID()}
	nurse := newID()
	ids, orders := make([]string, students), make([]string, students)
	for i := range ids {
		ids[i], orders[i] = newID(), newID()
		enrolled, rest := chartEvents(ids[i], schools[i%len(schools)])
		rest = append(rest, domain.MedicationOrdered{OrderID: orders[i], DrugName: "Methylphenidate",
			Ingredients: []string{"methylphenidate"}, Strength: "10 mg", DoseAmount: "1", DoseUnit: "tablet",
			Route: "oral", Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{"12:00"},
				TimeZone: "America/Chicago"},
			StartOn: "2025-09-01", EndOn: "2026-06-01", ConsentOn: "2025-08-30", ControlledSchedule: "II",
			WitnessRequired: true})
		h.Append(domain.StudentStream(ids[i]), append([]domain.Event{enrolled}, rest...)...)
	}
	head := uint64(0)
	for day := 0; head < n; day++ {
		at := t0.Add(time.Duration(day+5) * 24 * time.Hour)
		for i, id := range ids {
			h.Append(domain.StudentStream(id), domain.MedicationAdministered{AttemptID: newID(),
				OrderID: orders[i], GivenAt: at, ScheduledFor: at, DoseAmount: "1", DoseUnit: "tablet",
				Route: "oral", NurseID: nurse, WitnessID: newID()})
			if i%3 == day%3 {
				access := newID()
				h.Append(domain.AccessStream(access), domain.PHIAccessed{AccessID: access, ActorID: nurse,
					ActorRole: domain.RoleNurse, StudentIDs: []string{id}, What: "GET /v1/students/:id",
					Purpose: domain.PurposeTreatment, At: at})
			}
		}
		var err error
		if head, err = h.Log.LastPosition(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	return head
}
