package readapi

import (
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// StudentScope is why a caller may read one student's health
// information: the purpose its access event records.
type StudentScope struct {
	StudentID string
	SchoolID  string
	Purpose   string
	// BreakGlass and GrantID are set when only an emergency-access grant
	// lets the caller in.
	BreakGlass bool
	GrantID    string
}

// studentScope decides, from the read models, whether the caller may
// read the health information of the student the path's :id names, as
// Clinic.Student decides for the log: a nurse at the student's school,
// for treatment; a compliance officer anywhere, for an investigation;
// anyone else who may read clinical records, for an emergency, while a
// break-glass grant of theirs for the student is active (opened, neither
// expired nor closed at the time of the request).
// A refusal is recorded as a refused access to what before it is
// answered; an unknown student is 404 and recorded as nothing, since
// there is no chart to protect.
func (h readModelHandlers) studentScope(c echo.Context, what string) (StudentScope, error) {
	id := c.Param("id")
	school, ok, err := studentSchoolOf(c, h, id)
	if err != nil {
		return StudentScope{}, Unavailable("the read models cannot be read")
	}
	if !ok {
		return StudentScope{}, NotFound("no student with this id")
	}
	return h.scopeAt(c, id, school, what)
}

// scopeAt decides as studentScope does for student id, whom a read model
// has at school.
func (h readModelHandlers) scopeAt(c echo.Context, id, school, what string) (StudentScope, error) {
	p := principal(c)
	scope := StudentScope{StudentID: id, SchoolID: school}
	switch {
	case p.Can(auth.ReadClinical) && p.AtSchool(school):
		scope.Purpose = domain.PurposeTreatment
	case p.Can(auth.ReadClinical) && p.Can(auth.ReadHistory):
		scope.Purpose = domain.PurposeInvestigation
	case p.Can(auth.ReadClinical):
		grant, ok, err := projections.ActiveGrant(c.Request().Context(), h.DB, p.UserID, id, h.Now())
		if err != nil {
			return StudentScope{}, Unavailable("the read models cannot be read")
		}
		if !ok {
			return StudentScope{}, h.refuseScope(c, id, what)
		}
		scope.Purpose, scope.BreakGlass, scope.GrantID = domain.PurposeEmergency, true, grant
	default:
		return StudentScope{}, h.refuseScope(c, id, what)
	}
	return scope, nil
}

// refuseScope records a refused access to student's what and returns
// the refusal. The refusal stands even when it cannot be recorded.
func (h readModelHandlers) refuseScope(c echo.Context, student, what string) error {
	h.recordRefusal(c, commands.Refusal{StudentID: student, What: what, Reason: "scope"})
	return Forbidden("the student is not at one of your schools")
}

// recordRefusal records r, a refused attempt of the caller's under the
// route's capability. A refusal stands even when it cannot be recorded.
func (h readModelHandlers) recordRefusal(c echo.Context, r commands.Refusal) {
	r.Actor, r.Capability = principal(c), grantingCapability(c)
	_ = h.Auditor.Refused(c.Request().Context(), meta(c), r)
}

func studentSchoolOf(c echo.Context, h readModelHandlers, id string) (string, bool, error) {
	return projections.StudentSchool(c.Request().Context(), h.DB, id)
}

// recordAccess records a read of scope's student's health information
// before the answer leaves; when it cannot, the answer is 503 and no
// health information leaves (fail closed).
func (h readModelHandlers) recordAccess(c echo.Context, scope StudentScope, what string) error {
	return h.recordRead(c, commands.Access{
		StudentIDs: []string{scope.StudentID}, What: what,
		Purpose: scope.Purpose, BreakGlass: scope.BreakGlass, GrantID: scope.GrantID,
	})
}

// recordRead records a, a read of the caller's under the route's
// capability, before the answer leaves; when it cannot, the answer is
// 503 and no health information leaves (fail closed).
func (h readModelHandlers) recordRead(c echo.Context, a commands.Access) error {
	a.Actor, a.Capability = principal(c), grantingCapability(c)
	if _, err := h.Auditor.Accessed(c.Request().Context(), meta(c), a); err != nil {
		return Unavailable("the access cannot be recorded, so no health information is sent")
	}
	return nil
}

// studentsIn returns the student of each row, each once, in order.
func studentsIn[T any](rows []T, student func(T) string) []string {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		if id := student(r); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// schoolPurpose decides whether the caller may read what a school's
// health office holds: a nurse of the school, for treatment; a
// compliance officer, any school, for an investigation. It records
// nothing: schoolScope does, for lists that carry health information.
func schoolPurpose(c echo.Context, school string) (string, error) {
	purpose, ok, err := schoolAccess(c, school)
	if err == nil && !ok {
		err = forbiddenSchool()
	}
	return purpose, err
}

// schoolScope decides as schoolPurpose does, for a list of the school's
// students' health information (what names it), and records a refusal
// as a refused access to the school before answering it.
func (h readModelHandlers) schoolScope(c echo.Context, school, what string) (string, error) {
	purpose, ok, err := schoolAccess(c, school)
	if err != nil {
		return "", err
	}
	if !ok {
		h.recordRefusal(c, commands.Refusal{SchoolID: school, What: what, Reason: "scope"})
		return "", forbiddenSchool()
	}
	return purpose, nil
}

// schoolAccess returns the purpose of the caller's read of school, or
// false when the school is outside the caller's scope.
func schoolAccess(c echo.Context, school string) (string, bool, error) {
	p := principal(c)
	switch {
	case !domain.ValidID(school):
		return "", false, ValidationError{Fields: []FieldError{{Field: "id", Reason: "must be a school ID"}}}
	case p.AtSchool(school):
		return domain.PurposeTreatment, true, nil
	case p.Can(auth.ReadHistory):
		return domain.PurposeInvestigation, true, nil
	}
	return "", false, nil
}

func forbiddenSchool() error { return Forbidden("the school is not one of yours") }
