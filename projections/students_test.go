package projections_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

func students() []projections.Projection {
	return []projections.Projection{projections.Students{}}
}

// TestStudents follows two students through enrolment, a demographics
// update, a transfer and a withdrawal, among events the read model
// ignores.
func TestStudents(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, students, testStudents)
}

func testStudents(t *testing.T, h *projectiontest.Harness) {
	schoolA, schoolB := newID(), newID()
	ada, ben := newID(), newID()
	adaStream, benStream := domain.StudentStream(ada), domain.StudentStream(ben)

	h.Append(adaStream, enrolment(ada, schoolA, "Ada", "Lovelace", "S-1", "3"))
	h.Append(benStream, enrolment(ben, schoolA, "Ben", "Babbage", "S-2", "4"))
	h.Append(adaStream, domain.ContactAdded{
		ContactID: newID(), Name: "Anne", Relationship: "mother",
		Phone: "5550100", Priority: 1,
	})
	adaUpdated := h.Append(adaStream, domain.DemographicsUpdated{GivenName: "Adah", Grade: "4"})
	h.Append(benStream, domain.StudentTransferred{
		FromSchoolID: schoolA, ToSchoolID: schoolB, On: "2024-01-08",
	})
	benWithdrawn := h.Append(benStream, domain.StudentWithdrawn{On: "2024-06-01", Reason: "moved"})
	h.Append(domain.SchoolStream(schoolA), domain.SchoolCreated{
		SchoolID: schoolA, DistrictID: district, Name: "Harbour Elementary",
	})
	h.Sync()

	got, next, err := projections.SearchStudents(t.Context(), h.Pool,
		projections.StudentFilter{AllSchools: true})
	if err != nil || next != "" {
		t.Fatalf("search: next %q, error %v", next, err)
	}
	want := []projections.StudentRow{{
		StudentID: ben, StudentNumber: "S-2", DistrictID: district, SchoolID: schoolB,
		GivenName: "Ben", FamilyName: "Babbage", BirthDate: "2015-04-02", Grade: "4",
		Enrolled: false, Revision: 2, UpdatedPosition: benWithdrawn.Position,
	}, {
		StudentID: ada, StudentNumber: "S-1", DistrictID: district, SchoolID: schoolA,
		GivenName: "Adah", FamilyName: "Lovelace", BirthDate: "2015-04-02", Grade: "4",
		Enrolled: true, Revision: 2, UpdatedPosition: adaUpdated.Position,
	}}
	if !slices.Equal(got, want) {
		t.Errorf("students:\ngot  %+v\nwant %+v", got, want)
	}
}

// TestSearchStudents filters by school, grade and name or number prefix,
// and pages through the results with the cursor.
func TestSearchStudents(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, students, testSearchStudents)
}

func testSearchStudents(t *testing.T, h *projectiontest.Harness) {
	schoolA, schoolB := newID(), newID()
	for _, s := range []struct {
		school, given, family, number string
		grade                         domain.Grade
	}{
		{schoolA, "Ada", "Lovelace", "S-1001", "3"},
		{schoolA, "Grace", "Hopper", "S-1002", "4"},
		{schoolB, "Alan", "Turing", "S-2001", "3"},
		{schoolB, "Ada", "Byron", "S-2002", "5"},
		{schoolA, "Edsger", "Dijkstra", "S-1003", "3"},
		{schoolB, "Barbara", "Liskov", "S-2003", "4"},
		{schoolA, "Audre", "Lorde", "S-1004", "5"},
		{schoolA, "Ben", "Hopper", "S-1005", "3"},
	} {
		enrol(h, s.school, s.given, s.family, s.number, s.grade)
	}
	h.Sync()

	everyone := []string{"Ada Byron", "Edsger Dijkstra", "Ben Hopper", "Grace Hopper",
		"Barbara Liskov", "Audre Lorde", "Ada Lovelace", "Alan Turing"}
	tests := []struct {
		name   string
		filter projections.StudentFilter
		want   []string
	}{
		{"all schools", projections.StudentFilter{AllSchools: true}, everyone},
		{"no school", projections.StudentFilter{}, nil},
		{"one school", projections.StudentFilter{Schools: []string{schoolB}},
			[]string{"Ada Byron", "Barbara Liskov", "Alan Turing"}},
		{"grade", projections.StudentFilter{AllSchools: true, Grade: "3"},
			[]string{"Edsger Dijkstra", "Ben Hopper", "Ada Lovelace", "Alan Turing"}},
		{"family name prefix, any case", projections.StudentFilter{AllSchools: true, Query: "lO"},
			[]string{"Audre Lorde", "Ada Lovelace"}},
		{"given name prefix", projections.StudentFilter{AllSchools: true, Query: "ADA"},
			[]string{"Ada Byron", "Ada Lovelace"}},
		{"number prefix", projections.StudentFilter{AllSchools: true, Query: "s-100"},
			[]string{"Edsger Dijkstra", "Ben Hopper", "Grace Hopper", "Audre Lorde", "Ada Lovelace"}},
		{"wildcards are literal", projections.StudentFilter{AllSchools: true, Query: "s_1"}, nil},
		{"every filter", projections.StudentFilter{
			Schools: []string{schoolA}, Grade: "3", Query: "h",
		}, []string{"Ben Hopper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next, err := projections.SearchStudents(t.Context(), h.Pool, tt.filter)
			if err != nil || next != "" {
				t.Fatalf("search: next %q, error %v", next, err)
			}
			if names := namesOf(got); !slices.Equal(names, tt.want) {
				t.Errorf("got %q, want %q", names, tt.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		pages := searchPages(t, h, projections.StudentFilter{AllSchools: true, Limit: 3})
		want := [][]string{everyone[:3], everyone[3:6], everyone[6:]}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages: got %q, want %q", pages, want)
		}
	})
	t.Run("pages of one school", func(t *testing.T) {
		f := projections.StudentFilter{Schools: []string{schoolA}, Limit: 2}
		pages := searchPages(t, h, f)
		want := [][]string{{"Edsger Dijkstra", "Ben Hopper"},
			{"Grace Hopper", "Audre Lorde"}, {"Ada Lovelace"}}
		if !slices.EqualFunc(pages, want, slices.Equal) {
			t.Errorf("pages: got %q, want %q", pages, want)
		}
	})
	t.Run("invalid cursor", func(t *testing.T) {
		f := projections.StudentFilter{AllSchools: true, After: "not a cursor"}
		_, _, err := projections.SearchStudents(t.Context(), h.Pool, f)
		if !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("search: %v, want ErrInvalidCursor", err)
		}
	})
}

// searchPages follows the cursor from the first page to the last and
// returns the names on each page.
func searchPages(t *testing.T, h *projectiontest.Harness, f projections.StudentFilter) [][]string {
	t.Helper()
	var pages [][]string
	for {
		rows, next, err := projections.SearchStudents(t.Context(), h.Pool, f)
		if err != nil {
			t.Fatalf("search after %q: %v", f.After, err)
		}
		pages = append(pages, namesOf(rows))
		if next == "" || len(pages) > 10 {
			return pages
		}
		f.After = next
	}
}

func namesOf(rows []projections.StudentRow) []string {
	var names []string
	for _, r := range rows {
		names = append(names, r.GivenName+" "+r.FamilyName)
	}
	return names
}
