package readapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// ReadModels are what the queries on read models need.
type ReadModels struct {
	Runner  *projections.Runner
	DB      projections.Querier
	Auditor *commands.Auditor
	// Log is the event log, which histories and charts as of a time are
	// folded from.
	Log projections.StreamReader
	// Now is the clock of the queries that depend on the time of day; nil
	// means time.Now. Medication sets their dose windows; a zero window
	// takes its default.
	Now        func() time.Time
	Medication domain.MedicationPolicy
}

// AccessList is the answer of GET /v1/students/{id}/access.
type AccessList struct {
	Accesses []projections.AccessRow `json:"accesses"`
	Next     string                  `json:"next,omitempty"`
}

// maxWait is how long a query waits for the read models to reach the
// position its after= parameter names.
const maxWait = 2 * time.Second

// ReadModelRoutes returns the routes served from read models.
func ReadModelRoutes(rm ReadModels) []Route {
	if rm.Now == nil {
		rm.Now = time.Now
	}
	h := readModelHandlers{rm}
	routes := []Route{
		{Method: http.MethodGet, Path: "/v1/students",
			Summary: "Search students by name or number (q), school and grade, within the caller's scope",
			Access:  Access{Capability: auth.ReadClinical}, Response: StudentList{}, PHI: true,
			Query: []QueryParam{queryAfter,
				{Name: "q", Description: "The start of a name or of a student number."},
				queryID("school", "Only this school's students; the caller's schools when absent."),
				{Name: "grade", Description: "Only students of this grade."},
				queryCursor, queryLimit(50, 200)},
			Handler: h.searchStudents},
		{Method: http.MethodGet, Path: "/v1/students/:id/access",
			Summary: "Who read a student's chart, when, what and why, and the refused attempts (newest first)",
			Access:  Access{Capability: auth.ReadHistory}, Response: AccessList{}, PHI: true,
			Query:   []QueryParam{queryAfter, queryCursor, queryLimit(100, 500)},
			Handler: h.accessOf},
	}
	routes = append(routes, h.chartRoutes()...)
	routes = append(routes, h.breakGlassReviewRoutes()...)
	routes = append(routes, h.medicationReadRoutes()...)
	routes = append(routes, h.historyRoutes()...)
	routes = append(routes, h.alertReadRoutes()...)
	routes = append(routes, h.logReadRoutes()...)
	routes = append(routes, h.adminReadRoutes()...)
	return routes
}

type readModelHandlers struct{ ReadModels }

// waitAfter waits, up to maxWait, until the read models have applied the
// position the request's after= parameter names (read your writes); when
// they have not, the answer says so in X-Read-Model-Behind.
func (h readModelHandlers) waitAfter(c echo.Context) error {
	after := c.QueryParam("after")
	if after == "" {
		return nil
	}
	position, err := strconv.ParseUint(after, 10, 64)
	if err != nil {
		return ValidationError{Fields: []FieldError{{Field: "after", Reason: "must be a log position"}}}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), maxWait)
	defer cancel()
	if err := h.Runner.WaitFor(ctx, position); err != nil {
		c.Response().Header().Set("X-Read-Model-Behind", "true")
	}
	return nil
}

// StudentSummary is one student in a search.
type StudentSummary struct {
	ID            string `json:"id"`
	StudentNumber string `json:"student_number"`
	SchoolID      string `json:"school_id"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	BirthDate     string `json:"birth_date"`
	Grade         string `json:"grade"`
	Enrolled      bool   `json:"enrolled"`
}

// StudentList is the answer of GET /v1/students.
type StudentList struct {
	Students []StudentSummary `json:"students"`
	Next     string           `json:"next,omitempty"`
}

// searchRoute names the student search in access events.
const searchRoute = "GET /v1/students"

// searchStudents finds students by name or number prefix (q), school and
// grade, among the schools the caller may see: a nurse's own; any for a
// compliance officer investigating. A school out of the caller's scope
// is refused, and the refusal recorded.
func (h readModelHandlers) searchStudents(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	f, purpose, err := h.studentFilter(c)
	if err != nil {
		return err
	}
	rows, next, err := projections.SearchStudents(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}

	out := StudentList{Students: []StudentSummary{}, Next: next}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		out.Students = append(out.Students, StudentSummary{ID: r.StudentID, StudentNumber: r.StudentNumber,
			SchoolID: r.SchoolID, GivenName: r.GivenName, FamilyName: r.FamilyName,
			BirthDate: string(r.BirthDate), Grade: string(r.Grade), Enrolled: r.Enrolled})
		ids = append(ids, r.StudentID)
	}
	err = h.recordRead(c, commands.Access{StudentIDs: ids, What: searchRoute, Purpose: purpose})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// studentFilter reads the query of GET /v1/students, naming each bad
// parameter, and decides the schools searched and the purpose of the
// read.
func (h readModelHandlers) studentFilter(c echo.Context) (projections.StudentFilter, string, error) {
	var v ValidationError
	f := projections.StudentFilter{Grade: domain.Grade(c.QueryParam("grade")),
		Query: c.QueryParam("q"), After: c.QueryParam("cursor"), Limit: pageLimit(c, &v)}
	if f.Grade != "" && !slices.Contains(domain.Grades, f.Grade) {
		v.Add("grade", "must be a grade: PK, K, or 1 to 12")
	}
	school := c.QueryParam("school")
	if school != "" && !domain.ValidID(school) {
		v.Add("school", "must be a school ID")
	}
	if err := v.Err(); err != nil {
		return f, "", err
	}

	p := principal(c)
	purpose := domain.PurposeTreatment
	if p.Can(auth.ReadHistory) {
		purpose = domain.PurposeInvestigation
	}
	switch {
	case school != "":
		scoped, err := h.schoolScope(c, school, searchRoute)
		if err != nil {
			return f, "", err
		}
		f.Schools, purpose = []string{school}, scoped
	case purpose == domain.PurposeInvestigation:
		f.AllSchools = true
	default:
		f.Schools = p.Schools
	}
	return f, purpose, nil
}

// accessOf lists who read a student's chart, for compliance; the list is
// itself recorded as a read of the student's.
func (h readModelHandlers) accessOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	var v ValidationError
	limit := pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return err
	}
	student := c.Param("id")
	rows, next, err := projections.AccessOf(c.Request().Context(), h.DB, student, c.QueryParam("cursor"), limit)
	if err != nil {
		return queryFailed(err)
	}
	err = h.recordRead(c, commands.Access{StudentIDs: []string{student},
		What: "GET /v1/students/:id/access", Purpose: domain.PurposeInvestigation})
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []projections.AccessRow{}
	}
	return c.JSON(http.StatusOK, AccessList{Accesses: rows, Next: next})
}
