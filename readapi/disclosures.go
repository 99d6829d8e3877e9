package readapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/projections"
)

// DisclosureRequest is the body of POST /v1/students/{id}/disclosures: a
// disclosure of the student's health information made outside the
// system.
type DisclosureRequest struct {
	// Recipient is who received it (1 to 200 characters).
	Recipient string `json:"recipient"`
	// What was disclosed and Purpose, why (1 to 2,000 characters each).
	What    string `json:"what"`
	Purpose string `json:"purpose"`
	// At is when, an RFC 3339 time no later than now.
	At string `json:"at"`
}

// DisclosureList is the answer of GET /v1/students/{id}/disclosures.
type DisclosureList = projections.DisclosurePage

// disclosuresPath is the accounting of a student's disclosures.
const disclosuresPath = "/v1/students/:id/disclosures"

// disclosureYears is how far back the accounting reaches by default: the
// six years of HIPAA 45 CFR 164.528.
const disclosureYears = 6

func (h readModelHandlers) disclosureRoutes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: disclosuresPath,
			Summary: "The accounting of a student's disclosures (exports and others: date, recipient, " +
				"what, why) and the refused requests for the student's records, newest first; " +
				"six years back unless from says otherwise",
			Access: Access{Capability: auth.ReadHistory}, Response: DisclosureList{}, PHI: true,
			Query: []QueryParam{fromParam, toParam, cursorParam, limitParam, queryAfter}, Handler: h.disclosuresOf},
		{Method: http.MethodPost, Path: disclosuresPath,
			Summary: "Record a disclosure of a student's health information made outside the system",
			Access:  Access{Capability: auth.RecordDisclosures}, Request: DisclosureRequest{},
			Response: Written{}, Status: http.StatusCreated, Handler: h.recordDisclosure},
	}
}

// disclosuresOf answers a page of the student's accounting of
// disclosures from the disclosures read model, recorded as an access to
// the student's records.
func (h readModelHandlers) disclosuresOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	q := projections.DisclosureQuery{StudentID: c.Param("id"), After: c.QueryParam("cursor")}
	var v ValidationError
	q.From, q.To = timeRange(c, &v)
	q.Limit = pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return err
	}
	if q.From.IsZero() {
		q.From = h.now().AddDate(-disclosureYears, 0, 0)
	}
	_, ok, err := studentSchoolOf(c, h, q.StudentID)
	if err != nil {
		return Unavailable("the read models cannot be read")
	}
	if !ok {
		return NotFound("no student with this id")
	}

	page, err := projections.DisclosuresOf(c.Request().Context(), h.DB, q)
	if errors.Is(err, projections.ErrInvalidCursor) {
		return badCursor()
	}
	if err != nil {
		return err
	}
	if err := h.recordAccess(c, investigation(q.StudentID), "GET "+disclosuresPath); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// recordDisclosure records a disclosure of the student's health
// information made outside the system, which the accounting then lists
// with the kind other.
func (h readModelHandlers) recordDisclosure(c echo.Context) error {
	var req DisclosureRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	id, res, err := h.Auditor.Disclosed(c.Request().Context(), principal(c), meta(c), commands.Disclosure{
		StudentID: c.Param("id"), Recipient: req.Recipient, What: req.What,
		Purpose: req.Purpose, At: req.At,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: id, Position: res.Position})
}
