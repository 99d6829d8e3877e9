package projections_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// eachMode runs test once per Mode, as projectiontest.Each does, with a
// Harness of the charts and break-glass projections: the charts read the
// harness's own log, so the Runner is made once the harness is.
func eachMode(t *testing.T, test func(t *testing.T, h *projectiontest.Harness)) {
	t.Helper()
	for _, mode := range projectiontest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			h := projectiontest.New(t, mode, fast)
			ps := []projections.Projection{projections.NewCharts(h.Log), projections.BreakGlass{}}
			runner, err := projections.New(h.Pool, h.Log, fast, ps...)
			if err != nil {
				t.Fatal(err)
			}
			h.Runner, h.Projections = runner, ps
			if mode == projectiontest.Live {
				h.Start(t.Context())
			}
			test(t, h)
		})
	}
}

// t0 is when the charts of the tests begin.
var t0 = time.Date(2025, 10, 6, 14, 0, 0, 0, time.UTC)

// chartEvents returns a chart with an entry of every kind, a correction
// of each sort, and every record of the medication administration
// record, blocked attempt included.
func chartEvents(id, school string) (enrolled domain.StudentEnrolled, rest []domain.Event) {
	allergy, condition, order := newID(), newID(), newID()
	pulse, pain := 88, 2
	temp := 37.2
	rest = []domain.Event{
		domain.ContactAdded{ContactID: newID(), Name: "Anne", Relationship: "mother",
			Phone: "5550100", Priority: 2, MayPickUp: true},
		domain.ContactAdded{ContactID: newID(), Name: "Bo", Relationship: "father",
			Phone: "5550101", Priority: 1},
		domain.AllergyRecorded{EntryID: allergy, RecordedAt: t0, Allergen: "penicillin",
			AllergenType: "medication", Severity: "moderate", Reaction: "hives"},
		domain.ConditionRecorded{EntryID: condition, RecordedAt: t0, Condition: "asthma",
			ICD10: "J45.909", Status: "active"},
		domain.ImmunizationRecorded{EntryID: newID(), Vaccine: "MMR", CVX: "03",
			DoseNumber: 1, SeriesSize: 2, GivenOn: "2017-05-01"},
		domain.ExemptionRecorded{EntryID: newID(), RecordedAt: t0, Vaccine: "varicella",
			Kind: "medical", Expires: "2026-06-30"},
		domain.ScreeningRecorded{EntryID: newID(), RecordedAt: t0, Kind: "vision", Result: "refer"},
		domain.GrowthRecorded{EntryID: newID(), MeasuredAt: t0, HeightCM: 131.5, WeightKG: 29.1, BMI: 16.8},
		domain.VitalsRecorded{EntryID: newID(), MeasuredAt: t0, TemperatureC: &temp,
			HeartRate: &pulse, Pain: &pain},
		domain.VisitRecorded{EntryID: newID(), TimeIn: t0, TimeOut: t0.Add(20 * time.Minute),
			Reasons: []string{"wheezing"}, Disposition: "return_to_class", MinutesOutOfClass: 20},
		domain.EntryAmended{EntryID: allergy, Reason: "reaction confirmed by the parent",
			Changes: map[string]any{"severity": "severe"}},
		domain.EntryMarkedInError{EntryID: condition, Reason: "recorded on the wrong chart"},
		domain.MedicationOrdered{OrderID: order, DrugName: "Albuterol", Ingredients: []string{"albuterol"},
			Strength: "90 mcg", DoseAmount: "2", DoseUnit: "puff", Route: "inhaled",
			Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{"09:00"},
				TimeZone: "America/Chicago"},
			StartOn: "2025-09-01", EndOn: "2026-06-01", ConsentOn: "2025-08-30"},
		domain.MedicationAdministered{AttemptID: newID(), OrderID: order, GivenAt: t0,
			ScheduledFor: t0, DoseAmount: "2", DoseUnit: "puff", Route: "inhaled", NurseID: newID()},
		domain.MedicationAdministrationBlocked{AttemptID: newID(), OrderID: order, StudentID: id,
			DrugName: "Albuterol", DoseAmount: "4", DoseUnit: "puff", Route: "inhaled",
			GivenAt: t0.Add(time.Hour), AttemptedAt: t0.Add(time.Hour), NurseID: newID(),
			Failed: []domain.FailedCheck{
				{Check: domain.CheckRightDose, Reason: "the amount is not the order's"},
				{Check: domain.CheckDuplicate, Reason: "the dose is already recorded"},
			}},
		domain.MedicationRefused{AttemptID: newID(), OrderID: order, ScheduledFor: t0.Add(24 * time.Hour),
			Reason: "said no", At: t0.Add(24 * time.Hour), NurseID: newID()},
		domain.MedicationMissed{AttemptID: newID(), OrderID: order, ScheduledFor: t0.Add(48 * time.Hour),
			Reason: "absent", At: t0.Add(50 * time.Hour), NurseID: newID()},
		domain.MedicationHeld{AttemptID: newID(), OrderID: order, ScheduledFor: t0.Add(72 * time.Hour),
			ClinicalReason: "heart rate high", At: t0.Add(72 * time.Hour), NurseID: newID()},
		domain.AlertRaised{AlertID: newID(), Kind: "asthma", Location: "gym", RaisedAt: t0, RaisedBy: newID()},
		domain.DemographicsUpdated{Grade: "4"},
	}
	return enrolment(id, school, "Ada", "Lovelace", "S-1", "3"), rest
}

// chartOf reads and decodes the chart of student.
func chartOf(t *testing.T, h *projectiontest.Harness, student string) (projections.Chart, projections.ChartRow) {
	t.Helper()
	row, ok, err := projections.ChartOf(t.Context(), h.Pool, student)
	if err != nil || !ok {
		t.Fatalf("chart of %s: found %v, error %v", student, ok, err)
	}
	var c projections.Chart
	if err := json.Unmarshal(row.Document, &c); err != nil {
		t.Fatalf("decode chart %s: %v", row.Document, err)
	}
	return c, row
}

// TestCharts renders a chart with an entry of every kind, an amendment,
// an entry in error and every kind of dose record, beside a second
// student's, among events the read model ignores.
func TestCharts(t *testing.T) {
	eachMode(t, testCharts)
}

func testCharts(t *testing.T, h *projectiontest.Harness) {
	school := newID()
	ada, ben := newID(), newID()
	enrolled, rest := chartEvents(ada, school)
	h.Append(domain.StudentStream(ada), enrolled)
	h.Append(domain.StudentStream(ben), enrolment(ben, school, "Ben", "Babbage", "S-2", "4"))
	var last eventstore.AppendResult
	for i, e := range rest {
		last = h.Append(domain.StudentStream(ada), e)
		if i == 3 {
			h.Append(domain.SchoolStream(school), domain.SchoolCreated{
				SchoolID: school, DistrictID: district, Name: "Harbour Elementary"})
		}
	}
	h.Sync()

	c, row := chartOf(t, h, ada)
	if row.Revision != uint64(len(rest)) || row.Position != last.Position || row.SchoolID != school {
		t.Errorf("row: revision %d position %d school %s, want %d %d %s",
			row.Revision, row.Position, row.SchoolID, len(rest), last.Position, school)
	}
	if c.ID != ada || c.GivenName != "Ada" || c.Grade != "4" || !c.Enrolled || c.Revision != row.Revision {
		t.Errorf("demographics: %+v", c)
	}
	if got := contactNames(c.Contacts); !slices.Equal(got, []string{"Bo", "Anne"}) {
		t.Errorf("contacts by priority: %q", got)
	}

	var kinds []string
	for _, e := range c.Entries {
		kinds = append(kinds, e.Kind)
	}
	want := []string{"allergy", "condition", "immunization", "exemption", "screening",
		"growth", "vitals", "visit"}
	if !slices.Equal(kinds, want) {
		t.Errorf("entry kinds: %q, want %q", kinds, want)
	}
	checkCorrections(t, c.Entries)

	var doses []string
	for _, d := range c.Doses {
		doses = append(doses, d.Kind)
	}
	if want := []string{"given", "blocked", "refused", "missed", "held"}; !slices.Equal(doses, want) {
		t.Errorf("doses: %q, want %q", doses, want)
	}
	blocked := c.Doses[1]
	checks := []string{}
	for _, f := range blocked.Failed {
		checks = append(checks, f.Check)
	}
	if !slices.Equal(checks, []string{"right_dose", "duplicate"}) || blocked.DoseAmount != "4" {
		t.Errorf("blocked attempt: %+v", blocked)
	}
	if c.Doses[4].Reason != "heart rate high" || c.Doses[2].Reason != "said no" {
		t.Errorf("reasons: held %q, refused %q", c.Doses[4].Reason, c.Doses[2].Reason)
	}
	if len(c.Orders) != 1 || c.Orders[0].DrugName != "Albuterol" || c.Orders[0].Discontinued {
		t.Errorf("orders: %+v", c.Orders)
	}
	if len(c.Alerts) != 1 || c.Alerts[0].Kind != "asthma" {
		t.Errorf("alerts: %+v", c.Alerts)
	}

	other, _ := chartOf(t, h, ben)
	if other.GivenName != "Ben" || len(other.Entries) != 0 || other.Entries == nil {
		t.Errorf("the other chart: %+v", other)
	}
}

// checkCorrections checks the allergy amended from moderate to severe,
// with what was first recorded kept, and the condition marked in error
// but kept.
func checkCorrections(t *testing.T, entries []projections.ChartEntry) {
	t.Helper()
	var now, then domain.AllergyRecorded
	allergy := entries[0]
	if err := json.Unmarshal(allergy.Values, &now); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(allergy.RecordedValues, &then); err != nil {
		t.Fatal(err)
	}
	if now.Severity != "severe" || then.Severity != "moderate" || allergy.Amendments != 1 ||
		allergy.AmendmentReason != "reaction confirmed by the parent" || allergy.InError {
		t.Errorf("amended allergy: %+v, values %+v, recorded %+v", allergy, now, then)
	}
	condition := entries[1]
	if !condition.InError || condition.ErrorReason != "recorded on the wrong chart" ||
		condition.RecordedValues != nil {
		t.Errorf("condition in error: %+v", condition)
	}
}

func contactNames(contacts []projections.ChartContact) []string {
	return each(contacts, func(c projections.ChartContact) string { return c.Name })
}

// TestChartsRebuildIsByteIdentical rebuilds the charts of a live run,
// with students whose events interleave and more students than any
// cache of the test holds at once, and compares the rows byte for byte.
func TestChartsRebuildIsByteIdentical(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast)
	charts := projections.NewChartsCaching(h.Log, 2)
	ps := []projections.Projection{charts}
	runner, err := projections.New(h.Pool, h.Log, fast, ps...)
	if err != nil {
		t.Fatal(err)
	}
	h.Runner, h.Projections = runner, ps
	h.Start(t.Context())

	school := newID()
	streams := map[string][]domain.Event{}
	var order []string
	for range 5 {
		id := newID()
		enrolled, rest := chartEvents(id, school)
		streams[id] = append([]domain.Event{enrolled}, rest...)
		order = append(order, id)
	}
	// Round robin, so that every student's events interleave.
	for i := 0; ; i++ {
		appended := false
		for _, id := range order {
			if i < len(streams[id]) {
				h.Append(domain.StudentStream(id), streams[id][i])
				appended = true
			}
		}
		if !appended {
			break
		}
	}
	h.Sync()
	live := h.Snapshot()

	if err := h.Runner.Rebuild(t.Context(), "charts"); err != nil {
		t.Fatal(err)
	}
	rebuilt := h.Snapshot()
	equalRows(t, rebuilt, live)
	if n := len(rebuilt[projections.ChartsTable]); n != len(order) {
		t.Errorf("%d charts, want %d", n, len(order))
	}
	if n := projections.CachedCharts(charts); n > 2 {
		t.Errorf("the cache holds %d students, more than its bound of 2", n)
	}
}

// TestChartsAfterRollback applies events in transactions that do not all
// commit, as the Runner's retries do: an event applied in a rolled-back
// transaction leaves the cached student ahead of the table, and the next
// attempt must fold afresh rather than apply the event twice. A Charts
// with nothing cached folds from the log.
func TestChartsAfterRollback(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, fast)
	const suffix = "_test"
	charts := projections.NewCharts(h.Log)
	if _, err := h.Pool.Exec(t.Context(), charts.Schema(suffix)); err != nil {
		t.Fatal(err)
	}
	id := newID()
	enrolled, rest := chartEvents(id, newID())
	h.Append(domain.StudentStream(id), append([]domain.Event{enrolled}, rest[:4]...)...)
	events, err := h.Log.ReadStream(t.Context(), domain.StudentStream(id), eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}

	apply := func(p *projections.Charts, commit bool, evs ...eventstore.Event) {
		t.Helper()
		tx, err := h.Pool.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(t.Context())
		for _, e := range evs {
			if err := p.Apply(t.Context(), tx, e, suffix); err != nil {
				t.Fatalf("apply revision %d: %v", e.Revision, err)
			}
		}
		if commit {
			if err := tx.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(charts, true, events[:3]...)
	apply(charts, false, events[3:]...)
	apply(charts, true, events[3:]...)
	// A fresh projection, as after a restart, starts from the log.
	apply(projections.NewCharts(h.Log), true, events[4])

	var doc string
	var revision int64
	err = h.Pool.QueryRow(t.Context(), fmt.Sprintf(
		"SELECT document::text, revision FROM readmodel.charts%s WHERE student_id = $1", suffix),
		id).Scan(&doc, &revision)
	if err != nil {
		t.Fatal(err)
	}
	var c projections.Chart
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	if revision != 4 || c.Revision != 4 || len(c.Entries) != 2 || len(c.Contacts) != 2 {
		t.Errorf("revision %d, chart %+v", revision, c)
	}
}
