package projections_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// appendAs appends events to stream with meta as their metadata, and
// returns where the last one landed.
func appendAs(
	t testing.TB,
	h *projectiontest.Harness,
	stream string,
	meta eventstore.Metadata,
	events ...domain.Event,
) eventstore.AppendResult {
	t.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		data[i] = eventstore.EventData{Type: typ, SchemaVersion: version, Data: payload, Metadata: meta}
	}
	res, err := h.Log.Append(t.Context(), stream, eventstore.Any, data...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// TestLogIndex indexes events of every kind of stream, and finds them by
// each filter, by time, in both orders and page by page.
func TestLogIndex(t *testing.T) {
	projectiontest.Each(t, fast, func() []projections.Projection {
		return []projections.Projection{projections.LogIndex{}}
	}, testLogIndex)
}

func testLogIndex(t *testing.T, h *projectiontest.Harness) {
	school, other, nurse, officer := newID(), newID(), newID(), newID()
	ada, ben := newID(), newID()
	asNurse := eventstore.Metadata{ActorID: nurse, ActorRole: "nurse", SchoolID: school}

	enrolled := appendAs(t, h, domain.StudentStream(ada), asNurse,
		enrolment(ada, school, "Ada", "Lovelace", "S-1", "3"))
	blocked := appendAs(t, h, domain.StudentStream(ada), asNurse,
		domain.MedicationAdministrationBlocked{AttemptID: newID(), OrderID: newID(), StudentID: ada,
			DrugName: "Albuterol", DoseAmount: "4", DoseUnit: "puff", Route: "inhaled", GivenAt: t0,
			AttemptedAt: t0, NurseID: nurse,
			Failed: []domain.FailedCheck{{Check: domain.CheckRightDose, Reason: "not the order's"}}})
	access := newID()
	read := appendAs(t, h, domain.AccessStream(access), asNurse, domain.PHIAccessed{
		AccessID: access, ActorID: nurse, ActorRole: domain.RoleNurse,
		StudentIDs: []string{ada, ben, ada}, What: "GET /v1/schools/:id/doses",
		Purpose: domain.PurposeTreatment, At: t0})
	refusal := newID()
	refused := appendAs(t, h, domain.AccessStream(refusal), asNurse, domain.PHIAccessRefused{
		AccessID: refusal, ActorID: nurse, ActorRole: domain.RoleNurse, SchoolID: other,
		What: "GET /v1/schools/:id/doses", Reason: "scope", At: t0})
	grant := newID()
	asOfficer := eventstore.Metadata{ActorID: officer, ActorRole: "compliance_officer"}
	opened := appendAs(t, h, domain.BreakGlassStream(grant), asOfficer, domain.BreakGlassOpened{
		GrantID: grant, UserID: officer, StudentID: ben, ReasonCode: domain.ReasonInvestigation,
		Reason: "a complaint about a dose given twice", OpenedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	closed := appendAs(t, h, domain.BreakGlassStream(grant), asOfficer,
		domain.BreakGlassClosed{At: t0.Add(time.Minute), By: officer})
	created := appendAs(t, h, domain.SchoolStream(other), eventstore.Metadata{},
		domain.SchoolCreated{SchoolID: other, DistrictID: district, Name: "Other"})
	failed := appendAs(t, h, domain.UserStream(nurse), eventstore.Metadata{ActorID: nurse},
		domain.LoginFailed{ReasonCode: domain.LoginBadPassword, AttemptAt: t0})
	h.Sync()

	all, next, err := projections.SearchLog(t.Context(), h.Pool, projections.LogFilter{})
	if err != nil || next != "" || len(all) != 8 {
		t.Fatalf("the whole index: %d entries, next %q, error %v", len(all), next, err)
	}
	byPosition := map[uint64]projections.LogEntry{}
	for _, e := range all {
		byPosition[e.Position] = e
	}
	want := []struct {
		name     string
		at       uint64
		students []string
		school   string
		outcome  string
		actor    string
	}{
		{"enrolment", enrolled.Position, []string{ada}, school, "success", nurse},
		{"blocked dose", blocked.Position, []string{ada}, school, "blocked", nurse},
		{"read of two students", read.Position, []string{ada, ben}, school, "success", nurse},
		{"refusal at a school", refused.Position, []string{}, other, "refused", nurse},
		{"grant opened", opened.Position, []string{ben}, "", "success", officer},
		{"grant closed", closed.Position, []string{ben}, "", "success", officer},
		{"school created", created.Position, []string{}, other, "success", ""},
		{"login failed", failed.Position, []string{}, "", "failed", nurse},
	}
	for _, w := range want {
		got := byPosition[w.at]
		if !slices.Equal(got.StudentIDs, w.students) || got.SchoolID != w.school ||
			got.Outcome != w.outcome || got.ActorID != w.actor {
			t.Errorf("%s: %+v, want students %q, school %q, outcome %s, actor %q",
				w.name, got, w.students, w.school, w.outcome, w.actor)
		}
	}
	if e := byPosition[read.Position]; e.Type != "PHIAccessed" || e.ActorRole != "nurse" ||
		e.Stream != domain.AccessStream(access) || e.RecordedAt.IsZero() {
		t.Errorf("the read's envelope: %+v", e)
	}

	filters := []struct {
		name string
		f    projections.LogFilter
		want []uint64
	}{
		{"student", projections.LogFilter{StudentID: ben}, []uint64{closed.Position, opened.Position, read.Position}},
		{"school", projections.LogFilter{SchoolID: other}, []uint64{created.Position, refused.Position}},
		{"actor and role", projections.LogFilter{ActorID: officer, ActorRole: "compliance_officer"},
			[]uint64{closed.Position, opened.Position}},
		{"type", projections.LogFilter{Type: "PHIAccessRefused"}, []uint64{refused.Position}},
		{"stream", projections.LogFilter{Stream: domain.StudentStream(ada)},
			[]uint64{blocked.Position, enrolled.Position}},
		{"outcome", projections.LogFilter{Outcome: projections.OutcomeFailed}, []uint64{failed.Position}},
		{"oldest first", projections.LogFilter{StudentID: ada, Ascending: true},
			[]uint64{enrolled.Position, blocked.Position, read.Position}},
		{"nothing", projections.LogFilter{StudentID: newID()}, nil},
	}
	for _, tt := range filters {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := projections.SearchLog(t.Context(), h.Pool, tt.f)
			if err != nil || !slices.Equal(positions(got), tt.want) {
				t.Errorf("positions %v (error %v), want %v", positions(got), err, tt.want)
			}
		})
	}

	// The time range: the first four events' time, to the end.
	from := byPosition[refused.Position].RecordedAt
	got, _, err := projections.SearchLog(t.Context(), h.Pool, projections.LogFilter{From: from,
		To: byPosition[failed.Position].RecordedAt.Add(time.Microsecond), Ascending: true})
	if err != nil || len(got) == 0 || got[0].Position > refused.Position ||
		got[len(got)-1].Position != failed.Position {
		t.Errorf("from the refusal on: %v (error %v)", positions(got), err)
	}
	if got, _, _ := projections.SearchLog(t.Context(), h.Pool, projections.LogFilter{
		To: byPosition[enrolled.Position].RecordedAt}); len(got) != 0 {
		t.Errorf("before the first event: %v", positions(got))
	}

	for _, ascending := range []bool{false, true} {
		var paged []uint64
		f := projections.LogFilter{Limit: 3, Ascending: ascending}
		for range 4 {
			page, next, err := projections.SearchLog(t.Context(), h.Pool, f)
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, positions(page)...)
			if f.After = next; next == "" {
				break
			}
		}
		wantAll := positions(all)
		if ascending {
			slices.Reverse(wantAll)
		}
		if !slices.Equal(paged, wantAll) {
			t.Errorf("pages of 3, ascending %v: %v, want %v", ascending, paged, wantAll)
		}
	}
	_, _, err = projections.SearchLog(t.Context(), h.Pool, projections.LogFilter{After: "not a cursor"})
	if !errors.Is(err, projections.ErrInvalidCursor) {
		t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
	}
}

func positions(entries []projections.LogEntry) []uint64 {
	return each(entries, func(e projections.LogEntry) uint64 { return e.Position })
}
