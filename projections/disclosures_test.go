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

// disclosureWorld is two students whose charts were written at different
// times, and disclosures of one, of the other, of the whole log and of
// time ranges of it.
type disclosureWorld struct {
	ada, ben string
	// adaOnly, benOnly: a disclosure of the student's own records; all,
	// of the whole log; adaRange and benRange, of a time range holding
	// only that student's events; beforeBen, of the whole log before
	// Ben's first event; old, of Ada's records seven years ago.
	adaOnly, benOnly, all, adaRange, benRange, beforeBen, old string
	// refused is a refused request for Ada's chart.
	refused string
}

func newDisclosureWorld(t *testing.T, h *projectiontest.Harness) disclosureWorld {
	t.Helper()
	w := disclosureWorld{ada: newID(), ben: newID()}
	school, officer := newID(), newID()
	adaEvents := appendByActor(t, h, domain.StudentStream(w.ada), officer, domain.RoleNurse,
		enrolment(w.ada, school, "Ada", "Lovelace", "S-1", "3"))
	benEvents := appendByActor(t, h, domain.StudentStream(w.ben), officer, domain.RoleNurse,
		enrolment(w.ben, school, "Ben", "Okri", "S-2", "4"))
	adaAt, benAt := adaEvents[0].RecordedAt, benEvents[0].RecordedAt
	if !benAt.After(adaAt) {
		t.Fatalf("the enrolments were recorded at the same time")
	}
	now := benAt.Add(time.Minute)

	disclose := func(d domain.PHIDisclosed) string {
		d.DisclosureID, d.ActorID, d.ActorRole = newID(), officer, domain.RoleComplianceOfficer
		d.Recipient, d.What, d.Purpose = "external auditor", "the log", "annual audit"
		if d.At.IsZero() {
			d.At = now
		}
		appendByActor(t, h, domain.DisclosureStream(d.DisclosureID), officer, domain.RoleComplianceOfficer, d)
		return d.DisclosureID
	}
	w.adaOnly = disclose(domain.PHIDisclosed{Kind: domain.DisclosureOther, StudentIDs: []string{w.ada},
		At: now.Add(-2 * time.Hour)})
	w.benOnly = disclose(domain.PHIDisclosed{Kind: domain.DisclosureExport, ExportID: newID(),
		StudentIDs: []string{w.ben, w.ben}})
	w.all = disclose(domain.PHIDisclosed{Kind: domain.DisclosureExport, ExportID: newID(), AllStudents: true,
		At: now.Add(time.Second)})
	w.adaRange = disclose(domain.PHIDisclosed{Kind: domain.DisclosureExport, AllStudents: true,
		From: &adaAt, To: &adaAt, At: now.Add(2 * time.Second)})
	w.benRange = disclose(domain.PHIDisclosed{Kind: domain.DisclosureExport, AllStudents: true,
		From: &benAt, At: now.Add(3 * time.Second)})
	w.beforeBen = disclose(domain.PHIDisclosed{Kind: domain.DisclosureExport, AllStudents: true,
		At: benAt.Add(-time.Microsecond)})
	w.old = disclose(domain.PHIDisclosed{Kind: domain.DisclosureOther, StudentIDs: []string{w.ada},
		At: now.AddDate(-7, 0, 0)})

	w.refused = newID()
	appendByActor(t, h, domain.AccessStream(w.refused), newID(), domain.RoleNurse, domain.PHIAccessRefused{
		AccessID: w.refused, ActorID: newID(), ActorRole: domain.RoleNurse, StudentID: w.ada,
		What: "GET /v1/students/:id", Reason: "scope", At: now})
	appendByActor(t, h, domain.AccessStream(newID()), newID(), domain.RoleNurse, domain.PHIAccessRefused{
		AccessID: newID(), SchoolID: school, What: "GET /v1/schools/:id/doses", Reason: "scope", At: now})
	return w
}

// TestDisclosures lists each student's disclosures: those naming the
// student, and those of the whole log or of a time range of it in which
// the student has an event, newest first, within a time range, with the
// refused requests for the student's records beside them.
func TestDisclosures(t *testing.T) {
	projectiontest.Each(t, fast, historyProjections, testDisclosures)
}

func testDisclosures(t *testing.T, h *projectiontest.Harness) {
	w := newDisclosureWorld(t, h)
	h.Sync()
	of := func(q projections.DisclosureQuery) projections.DisclosurePage {
		t.Helper()
		page, err := projections.DisclosuresOf(t.Context(), h.Pool, q)
		if err != nil {
			t.Fatalf("disclosures %+v: %v", q, err)
		}
		return page
	}

	tests := []struct {
		name     string
		query    projections.DisclosureQuery
		want     []string
		requests []string
	}{
		{"Ada", projections.DisclosureQuery{StudentID: w.ada},
			[]string{w.adaRange, w.all, w.beforeBen, w.adaOnly, w.old}, []string{w.refused}},
		{"Ben", projections.DisclosureQuery{StudentID: w.ben},
			[]string{w.benRange, w.all, w.benOnly}, nil},
		{"Ada, six years", projections.DisclosureQuery{StudentID: w.ada, From: time.Now().AddDate(-6, 0, 0)},
			[]string{w.adaRange, w.all, w.beforeBen, w.adaOnly}, []string{w.refused}},
		{"Ada, before the requests", projections.DisclosureQuery{StudentID: w.ada,
			From: time.Now().AddDate(-6, 0, 0), To: time.Now().Add(-time.Hour)},
			[]string{w.adaOnly}, nil},
		{"a student with no record", projections.DisclosureQuery{StudentID: newID()}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.query.Limit = 100
			page := of(tt.query)
			if got := disclosureIDs(page); !slices.Equal(got, tt.want) || page.Next != "" {
				t.Errorf("disclosures %q, next %q; want %q", got, page.Next, tt.want)
			}
			if got := requestIDs(page); !slices.Equal(got, tt.requests) {
				t.Errorf("requests %q, want %q", got, tt.requests)
			}
		})
	}

	t.Run("fields", func(t *testing.T) {
		page := of(projections.DisclosureQuery{StudentID: w.ben, Limit: 100})
		d := page.Disclosures[0]
		if d.Kind != domain.DisclosureExport || !d.AllStudents || d.From == nil || d.To != nil ||
			d.Recipient != "external auditor" || d.What != "the log" || d.Purpose != "annual audit" ||
			d.RecordedByRole != "compliance_officer" || d.Position == 0 {
			t.Errorf("Ben's newest disclosure: %+v", d)
		}
		if len(page.Disclosures[2].ExportID) == 0 {
			t.Errorf("an export's disclosure without its export: %+v", page.Disclosures[2])
		}
	})
	t.Run("pages", func(t *testing.T) {
		q := projections.DisclosureQuery{StudentID: w.ada, Limit: 2}
		var disclosures, requests []string
		for range 10 {
			page := of(q)
			disclosures = append(disclosures, disclosureIDs(page)...)
			requests = append(requests, requestIDs(page)...)
			if q.After = page.Next; q.After == "" {
				break
			}
		}
		want := []string{w.adaRange, w.all, w.beforeBen, w.adaOnly, w.old}
		if !slices.Equal(disclosures, want) || !slices.Equal(requests, []string{w.refused}) {
			t.Errorf("pages: %q and %q", disclosures, requests)
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		for _, cursor := range []string{"x", "12", "0.5", "end.end", "5.-1"} {
			_, err := projections.DisclosuresOf(t.Context(), h.Pool,
				projections.DisclosureQuery{StudentID: w.ada, After: cursor})
			if !errors.Is(err, projections.ErrInvalidCursor) {
				t.Errorf("cursor %q: %v, want ErrInvalidCursor", cursor, err)
			}
		}
	})
}

func disclosureIDs(p projections.DisclosurePage) []string {
	var out []string
	for _, d := range p.Disclosures {
		out = append(out, d.DisclosureID)
	}
	return out
}

func requestIDs(p projections.DisclosurePage) []string {
	var out []string
	for _, r := range p.Requests {
		out = append(out, r.AccessID)
	}
	return out
}

// TestHistoryReadModelsRebuildMatchLive projects a chart, accesses and
// disclosures live, rebuilds the activity and disclosures read models,
// and compares them row by row.
func TestHistoryReadModelsRebuildMatchLive(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast, historyProjections()...)
	h.Start(t.Context())
	activityWorld(t, h, newID(), newID())
	newDisclosureWorld(t, h)
	appendChart(t, h, newID(), newID())
	rebuildMatchesLive(t, h)
}
