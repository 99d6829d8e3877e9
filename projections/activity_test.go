package projections_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// historyProjections are the read models of compliance's replays.
func historyProjections() []projections.Projection {
	return []projections.Projection{projections.Activity{}, projections.Disclosures{}}
}

// activityWorld appends what a nurse and a compliance officer did to the
// charts of two students, and an event with no actor; it returns the
// nurse's events, newest first, and the students.
func activityWorld(
	t *testing.T,
	h *projectiontest.Harness,
	nurse, officer string,
) (mine []eventstore.Event, ada, ben string) {
	t.Helper()
	school := newID()
	ada, ben = newID(), newID()
	as := func(stream string, e domain.Event) {
		mine = append(mine, appendByActor(t, h, stream, nurse, domain.RoleNurse, e)...)
	}
	as(domain.StudentStream(ada), enrolment(ada, school, "Ada", "Lovelace", "S-1", "3"))
	read, refused, refusedAtSchool, grant := newID(), newID(), newID(), newID()
	as(domain.AccessStream(read), domain.PHIAccessed{AccessID: read, ActorID: nurse,
		ActorRole: domain.RoleNurse, StudentIDs: []string{ada, ben}, What: "GET /v1/students",
		Purpose: domain.PurposeTreatment, At: t0})
	appendByActor(t, h, domain.AccessStream(newID()), officer, domain.RoleComplianceOfficer,
		domain.PHIAccessed{ActorID: officer, StudentIDs: []string{ada}, What: "GET /v1/students/:id",
			Purpose: domain.PurposeInvestigation, At: t0})
	as(domain.AccessStream(refused), domain.PHIAccessRefused{AccessID: refused, ActorID: nurse,
		StudentID: ben, What: "GET /v1/students/:id", Reason: "scope", At: t0})
	as(domain.AccessStream(refusedAtSchool), domain.PHIAccessRefused{AccessID: refusedAtSchool,
		ActorID: nurse, SchoolID: school, What: "GET /v1/schools/:id/doses", Reason: "scope", At: t0})
	h.Append(domain.StudentStream(ben), enrolment(ben, school, "Ben", "Okri", "S-2", "4"))
	as(domain.BreakGlassStream(grant), domain.BreakGlassOpened{GrantID: grant, UserID: nurse,
		StudentID: ben, ReasonCode: domain.ReasonMedicalEmergency, Reason: "collapsed in the gym",
		OpenedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	as(domain.StudentStream(ada), domain.AllergyRecorded{EntryID: newID(), RecordedAt: t0,
		Allergen: "peanut", AllergenType: "food", Severity: "severe"})
	slices.Reverse(mine)
	return mine, ada, ben
}

// TestActivity projects every event an account caused, with the
// students each concerns and the outcome of its reads, and lists them
// newest first, by time range and in pages.
func TestActivity(t *testing.T) {
	projectiontest.Each(t, fast, historyProjections, testActivity)
}

func testActivity(t *testing.T, h *projectiontest.Harness) {
	nurse, officer := newID(), newID()
	mine, ada, ben := activityWorld(t, h, nurse, officer)
	h.Sync()
	list := func(q projections.ActivityQuery) ([]projections.ActivityRow, string) {
		t.Helper()
		q.ActorID = nurse
		rows, next, err := projections.ActivityOf(t.Context(), h.Pool, q)
		if err != nil {
			t.Fatalf("activity %+v: %v", q, err)
		}
		return rows, next
	}

	rows, next := list(projections.ActivityQuery{Limit: 100})
	if next != "" || len(rows) != len(mine) {
		t.Fatalf("%d rows, next %q; want %d", len(rows), next, len(mine))
	}
	var got []string
	for i, r := range rows {
		e := mine[i]
		if r.Position != e.Position || r.EventID != e.ID.String() || r.Stream != e.Stream ||
			r.Type != e.Type || !r.RecordedAt.Equal(e.RecordedAt) {
			t.Errorf("row %d: %+v, want %s at %d", i, r, e.Type, e.Position)
		}
		got = append(got, r.Type+" "+r.Outcome+" "+strings.Join(r.StudentIDs, ","))
	}
	want := []string{
		"AllergyRecorded  " + ada,
		"BreakGlassOpened  " + ben,
		"PHIAccessRefused refused ",
		"PHIAccessRefused refused " + ben,
		"PHIAccessed read " + ada + "," + ben,
		"StudentEnrolled  " + ada,
	}
	if !slices.Equal(got, want) {
		t.Errorf("activity, newest first:\n%q\nwant\n%q", got, want)
	}

	t.Run("time range", func(t *testing.T) {
		from, to := mine[4].RecordedAt, mine[1].RecordedAt
		rows, _ := list(projections.ActivityQuery{From: from, To: to, Limit: 100})
		if got := activityPositions(rows); !slices.Equal(got, eventPositions(mine[2:5])) {
			t.Errorf("from %s to %s: %d, want %d", from, to, got, eventPositions(mine[2:5]))
		}
	})
	t.Run("pages", func(t *testing.T) {
		var walked []uint64
		q := projections.ActivityQuery{Limit: 4}
		for range 10 {
			rows, next := list(q)
			walked = append(walked, activityPositions(rows)...)
			if q.After = next; next == "" {
				break
			}
		}
		if !slices.Equal(walked, eventPositions(mine)) {
			t.Errorf("walked %d, want %d", walked, eventPositions(mine))
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		_, _, err := projections.ActivityOf(t.Context(), h.Pool, projections.ActivityQuery{ActorID: nurse, After: "x"})
		if !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("activity: %v, want ErrInvalidCursor", err)
		}
	})
	t.Run("another account", func(t *testing.T) {
		rows, _, err := projections.ActivityOf(t.Context(), h.Pool, projections.ActivityQuery{ActorID: officer})
		if err != nil || len(rows) != 1 || rows[0].Outcome != projections.OutcomeRead {
			t.Errorf("the officer's activity: %+v, %v", rows, err)
		}
	})
}

func activityPositions(rows []projections.ActivityRow) []uint64 {
	return each(rows, func(r projections.ActivityRow) uint64 { return r.Position })
}

func eventPositions(events []eventstore.Event) []uint64 {
	var out []uint64
	for _, e := range events {
		out = append(out, e.Position)
	}
	return out
}
