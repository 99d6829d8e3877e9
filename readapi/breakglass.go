package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// BreakGlassRequest is the body of POST /v1/access/break-glass.
type BreakGlassRequest struct {
	StudentID string `json:"student_id"`
	// ReasonCode is medical_emergency, continuity_of_care, investigation
	// or other.
	ReasonCode string `json:"reason_code"`
	Reason     string `json:"reason"`
	// Minutes the grant lasts; the configured default (60) when zero.
	Minutes int `json:"minutes,omitempty"`
}

// BreakGlassGrant is one emergency-access grant.
type BreakGlassGrant struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	StudentID  string    `json:"student_id"`
	ReasonCode string    `json:"reason_code"`
	Reason     string    `json:"reason"`
	OpenedAt   time.Time `json:"opened_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// ClosedAt is absent while the grant was not closed.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Active says whether the grant gives access at the time of the
	// answer.
	Active bool `json:"active"`
	// Position is the log position of the grant's opening: pass it as
	// after= to read under the grant at once.
	Position uint64 `json:"position,omitempty"`
}

// BreakGlassList is the answer of GET /v1/access/break-glass.
type BreakGlassList struct {
	Grants []BreakGlassGrant `json:"grants"`
	Next   string            `json:"next,omitempty"`
}

func (h handlers) breakGlassRoutes() []Route {
	return []Route{
		{Method: http.MethodPost, Path: "/v1/access/break-glass",
			Summary: "Open emergency access to one student outside the caller's scope",
			Access:  Access{Capability: auth.OpenBreakGlass}, Request: BreakGlassRequest{},
			Response: BreakGlassGrant{}, Status: http.StatusCreated, Handler: h.openBreakGlass},
	}
}

func (h handlers) openBreakGlass(c echo.Context) error {
	var req BreakGlassRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Minutes < 0 {
		return ValidationError{Fields: []FieldError{{Field: "minutes", Reason: "must not be negative"}}}
	}
	g, res, err := h.Accounts.OpenBreakGlass(c.Request().Context(), principal(c), meta(c),
		req.StudentID, domain.BreakGlassReason(req.ReasonCode), req.Reason, time.Duration(req.Minutes)*time.Minute)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, BreakGlassGrant{
		ID: g.ID, UserID: g.UserID, StudentID: g.StudentID, ReasonCode: string(g.ReasonCode),
		Reason: g.Reason, OpenedAt: g.OpenedAt, ExpiresAt: g.ExpiresAt,
		Active: g.ActiveAt(h.Now()), Position: res.Position,
	})
}

// breakGlassListRoute names the list of grants in access events.
const breakGlassListRoute = "GET /v1/access/break-glass"

func (h readModelHandlers) breakGlassReviewRoutes() []Route {
	return []Route{{
		Method: http.MethodGet, Path: "/v1/access/break-glass",
		Summary: "Open and past emergency-access grants, newest first, by user (actor), " +
			"student and whether still open (open=true)",
		Access: Access{Capability: auth.ReviewBreakGlass}, Response: BreakGlassList{}, PHI: true,
		Query: []QueryParam{queryAfter,
			queryID("actor", "Only the grants of this user."),
			queryID("student", "Only the grants to this student."),
			{Name: "open", Type: "boolean", Description: "true: only the grants active now."},
			queryCursor, queryLimit(50, 500)},
		Handler: h.listBreakGlass,
	}}
}

// listBreakGlass answers a page of grants from the break-glass read model.
// The grants name students and why their charts were needed, so the
// answer is recorded as an access to each student it lists.
func (h readModelHandlers) listBreakGlass(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	now := h.Now()
	f, err := grantFilter(c, now)
	if err != nil {
		return err
	}
	rows, next, err := projections.Grants(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}

	out := BreakGlassList{Grants: make([]BreakGlassGrant, 0, len(rows)), Next: next}
	for _, g := range rows {
		out.Grants = append(out.Grants, BreakGlassGrant{
			ID: g.GrantID, UserID: g.ActorID, StudentID: g.StudentID,
			ReasonCode: string(g.ReasonCode), Reason: g.Reason, OpenedAt: g.OpenedAt,
			ExpiresAt: g.ExpiresAt, ClosedAt: g.ClosedAt, Active: g.ActiveAt(now),
			Position: g.Position,
		})
	}
	students := studentsIn(rows, func(g projections.GrantRow) string { return g.StudentID })
	err = h.recordRead(c, commands.Access{StudentIDs: students, What: breakGlassListRoute,
		Purpose: domain.PurposeInvestigation})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// grantFilter reads the query of GET /v1/access/break-glass: actor and
// student (IDs), open (true or false), cursor and limit (1 to 500).
func grantFilter(c echo.Context, now time.Time) (projections.GrantFilter, error) {
	f := projections.GrantFilter{
		ActorID: c.QueryParam("actor"), StudentID: c.QueryParam("student"),
		After: c.QueryParam("cursor"), At: now,
	}
	var v ValidationError
	for _, p := range []struct{ field, value string }{{"actor", f.ActorID}, {"student", f.StudentID}} {
		if p.value != "" && !domain.ValidID(p.value) {
			v.Add(p.field, "must be an ID")
		}
	}
	switch open := c.QueryParam("open"); open {
	case "", "false":
	case "true":
		f.Open = true
	default:
		v.Add("open", "must be true or false")
	}
	f.Limit = pageLimit(c, &v)
	return f, v.Err()
}
