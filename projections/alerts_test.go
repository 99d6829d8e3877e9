package projections_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// TestAlerts raises, acknowledges and resolves alerts of two schools'
// students, renames one student and transfers another, and lists each
// school's alerts by state, newest first, page by page.
func TestAlerts(t *testing.T) {
	projectiontest.Each(t, fast, func() []projections.Projection {
		return []projections.Projection{projections.Alerts{}}
	}, testAlerts)
}

func testAlerts(t *testing.T, h *projectiontest.Harness) {
	north, south, nurse := newID(), newID(), newID()
	ada, ben, cy := newID(), newID(), newID()
	h.Append(domain.StudentStream(ada), enrolment(ada, north, "Ada", "Lovelace", "S-1", "3"))
	h.Append(domain.StudentStream(ben), enrolment(ben, north, "Ben", "Okri", "S-2", "4"))
	h.Append(domain.StudentStream(cy), enrolment(cy, south, "Cy", "Twombly", "S-3", "5"))

	raise := func(student string, kind domain.AlertKind, at time.Time) string {
		id := newID()
		h.Append(domain.StudentStream(student), domain.AlertRaised{AlertID: id, Kind: kind,
			Location: "gym", RaisedAt: at, RaisedBy: nurse})
		return id
	}
	first := raise(ada, "asthma", t0)
	second := raise(ben, "seizure", t0.Add(time.Minute))
	third := raise(ada, "injury", t0.Add(2*time.Minute))
	moved := raise(cy, "diabetic", t0.Add(3*time.Minute))
	h.Append(domain.StudentStream(ada), domain.AlertAcknowledged{AlertID: first, By: nurse, At: t0.Add(time.Minute)},
		domain.AlertAcknowledged{AlertID: first, By: newID(), At: t0.Add(5 * time.Minute)},
		domain.AlertResolved{AlertID: first, By: nurse, At: t0.Add(10 * time.Minute), Outcome: "inhaler given"},
		domain.DemographicsUpdated{FamilyName: "Byron"})
	h.Append(domain.StudentStream(cy), domain.StudentTransferred{FromSchoolID: south, ToSchoolID: north,
		On: "2025-10-07"})
	h.Sync()

	list := func(school string, states ...string) []projections.AlertRow {
		t.Helper()
		rows, next, err := projections.AlertsOf(t.Context(), h.Pool, projections.AlertFilter{
			SchoolID: school, States: states})
		if err != nil || next != "" {
			t.Fatalf("alerts of %s: next %q, error %v", school, next, err)
		}
		return rows
	}
	active := []string{projections.AlertStateRaised, projections.AlertStateAcknowledged}
	if got := alertIDs(list(north, active...)); !slices.Equal(got, []string{moved, third, second}) {
		t.Errorf("north's active alerts, newest first: %q, want %q", got, []string{moved, third, second})
	}
	if got := list(south); len(got) != 0 {
		t.Errorf("south keeps alerts after its student left: %+v", got)
	}
	resolved := list(north, projections.AlertStateResolved)
	if len(resolved) != 1 {
		t.Fatalf("resolved: %+v", resolved)
	}
	r := resolved[0]
	if r.ID != first || r.StudentID != ada || r.FamilyName != "Byron" || r.GivenName != "Ada" ||
		r.Kind != "asthma" || r.State != projections.AlertStateResolved || r.AcknowledgedBy != nurse ||
		!r.AcknowledgedAt.Equal(t0.Add(time.Minute)) || r.Outcome != "inhaler given" ||
		!r.ResolvedAt.Equal(t0.Add(10*time.Minute)) || !r.RaisedAt.Equal(t0) {
		t.Errorf("the resolved alert, acknowledged once: %+v", r)
	}
	if got := list(north, projections.AlertStateRaised); len(got) != 3 || got[2].State != "raised" {
		t.Errorf("raised only: %+v", got)
	}

	var paged []string
	f := projections.AlertFilter{SchoolID: north, Limit: 3}
	for range 3 {
		rows, next, err := projections.AlertsOf(t.Context(), h.Pool, f)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, alertIDs(rows)...)
		if f.After = next; next == "" {
			break
		}
	}
	if want := []string{moved, third, second, first}; !slices.Equal(paged, want) {
		t.Errorf("every state, pages of 3: %q, want %q", paged, want)
	}
	_, _, err := projections.AlertsOf(t.Context(), h.Pool, projections.AlertFilter{SchoolID: north, After: "x"})
	if !errors.Is(err, projections.ErrInvalidCursor) {
		t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
	}
}

func alertIDs(rows []projections.AlertRow) []string {
	return each(rows, func(r projections.AlertRow) string { return r.ID })
}
