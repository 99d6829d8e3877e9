package readapi

import (
	"context"
	"net/http"
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
	h := readModelHandlers{rm}
	return []Route{
		{Method: http.MethodGet, Path: "/v1/students/:id/access",
			Summary: "Who read a student's chart, when, what and why, and the refused attempts (newest first)",
			Access:  Access{Capability: auth.ReadHistory}, Response: AccessList{}, PHI: true,
			Handler: h.accessOf},
	}
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

func (h readModelHandlers) accessOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	if limit == 0 {
		limit = 100
	}
	student := c.Param("id")
	rows, next, err := projections.AccessOf(c.Request().Context(), h.DB, student, c.QueryParam("cursor"), limit)
	if err != nil {
		return ValidationError{Fields: []FieldError{{Field: "cursor", Reason: "is not a cursor of this list"}}}
	}
	p := principal(c)
	_, err = h.Auditor.Accessed(c.Request().Context(), meta(c), commands.Access{
		Actor: p, StudentIDs: []string{student}, What: "GET /v1/students/:id/access",
		Purpose: domain.PurposeInvestigation,
	})
	if err != nil {
		return Unavailable("the access cannot be recorded, so no health information is sent")
	}
	if rows == nil {
		rows = []projections.AccessRow{}
	}
	return c.JSON(http.StatusOK, AccessList{Accesses: rows, Next: next})
}
