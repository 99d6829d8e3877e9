package readapi

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
)

// HistoryResponse is the answer of GET /v1/students/{id}/history.
type HistoryResponse = projections.HistoryPage

// ActivityList is the answer of GET /v1/users/{id}/activity.
type ActivityList struct {
	Activity []projections.ActivityRow `json:"activity"`
	Next     string                    `json:"next,omitempty"`
}

// The routes of the history queries, which their access events name.
const (
	chartAsOfRoute = chartRoute + "?as_of"
	historyPath    = "/v1/students/:id/history"
	activityPath   = "/v1/users/:id/activity"
)

// asOfParam asks GET /v1/students/{id} for the chart as it stood then.
var asOfParam = QueryParam{Name: "as_of", Format: "date-time",
	Description: "the chart as it stood at this time, folded from the events recorded up to it"}

// The parameters of the paged history queries.
var (
	cursorParam = QueryParam{Name: "cursor", Description: "the next of the previous page"}
	limitParam  = QueryParam{Name: "limit", Type: "integer", Description: "1 to 500, 50 by default"}
	fromParam   = QueryParam{Name: "from", Format: "date-time", Description: "included"}
	toParam     = QueryParam{Name: "to", Format: "date-time", Description: "excluded"}
)

// historyRoutes returns the compliance officers' replays: a student's
// history, an account's activity, and the accounting of disclosures.
func (h readModelHandlers) historyRoutes() []Route {
	history := Access{Capability: auth.ReadHistory}
	routes := []Route{
		{Method: http.MethodGet, Path: historyPath,
			Summary: "Every event of a student's chart in order, with who caused it, when, its data, " +
				"and the corrections that point at it",
			Access: history, Response: HistoryResponse{}, PHI: true,
			Query: []QueryParam{cursorParam, limitParam}, Handler: h.history},
		{Method: http.MethodGet, Path: activityPath,
			Summary: "Every event an account caused and every chart it read, newest first " +
				"(identifiers, types and positions only)",
			Access: history, Response: ActivityList{}, PHI: true,
			Query: []QueryParam{fromParam, toParam, cursorParam, limitParam, queryAfter}, Handler: h.activity},
	}
	return append(routes, h.disclosureRoutes()...)
}

// chartAsOf answers the chart of the student the path names as it stood
// at the time as_of names, folded from the log, scoped and recorded as
// the chart read is.
func (h readModelHandlers) chartAsOf(c echo.Context) error {
	var v ValidationError
	asOf := timeParam(c, "as_of", &v)
	if asOf.IsZero() && v.Err() == nil {
		v.Add("as_of", "must be a time as 2006-01-02T15:04:05Z07:00")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := h.waitAfter(c); err != nil {
		return err
	}
	scope, err := h.studentScope(c, chartAsOfRoute)
	if err != nil {
		return err
	}

	doc, ok, err := projections.ChartAsOf(c.Request().Context(), h.Log, scope.StudentID, asOf)
	if err != nil {
		return err
	}
	if !ok {
		return NotFound("the student was not enrolled yet at as_of")
	}
	if err := h.recordAccess(c, scope, chartAsOfRoute); err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, doc)
}

// history answers a page of the student's stream, from the log.
func (h readModelHandlers) history(c echo.Context) error {
	var v ValidationError
	limit := pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return err
	}
	id := c.Param("id")
	page, ok, err := projections.StudentHistory(c.Request().Context(), h.Log, id,
		c.QueryParam("cursor"), limit)
	if errors.Is(err, projections.ErrInvalidCursor) {
		return badCursor()
	}
	if err != nil {
		return err
	}
	if !ok {
		return NotFound("no student with this id")
	}
	if err := h.recordAccess(c, investigation(id), "GET "+historyPath); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// investigation is the scope of a replay of a student's records by a
// compliance officer: any student, for an investigation.
func investigation(student string) StudentScope {
	return StudentScope{StudentID: student, Purpose: domain.PurposeInvestigation}
}

// activity answers a page of what the account the path names did, from
// the activity read model. The page tells which charts the account read,
// so it is recorded as an access to the students it names.
func (h readModelHandlers) activity(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	q, err := activityQuery(c)
	if err != nil {
		return err
	}
	rows, next, err := projections.ActivityOf(c.Request().Context(), h.DB, q)
	if errors.Is(err, projections.ErrInvalidCursor) {
		return badCursor()
	}
	if err != nil {
		return err
	}
	if len(rows) == 0 && q.After == "" {
		if err := h.accountExists(c, q.ActorID); err != nil {
			return err
		}
	}

	var students []string
	for _, r := range rows {
		for _, s := range r.StudentIDs {
			if !slices.Contains(students, s) {
				students = append(students, s)
			}
		}
	}
	_, err = h.Auditor.Accessed(c.Request().Context(), meta(c), commands.Access{
		Actor: principal(c), StudentIDs: students, What: "GET " + activityPath,
		Purpose: domain.PurposeInvestigation,
	})
	if err != nil {
		return Unavailable("the access cannot be recorded, so no health information is sent")
	}
	if rows == nil {
		rows = []projections.ActivityRow{}
	}
	return c.JSON(http.StatusOK, ActivityList{Activity: rows, Next: next})
}

// activityQuery reads the query of GET /v1/users/{id}/activity, naming
// each bad parameter.
func activityQuery(c echo.Context) (projections.ActivityQuery, error) {
	var v ValidationError
	q := projections.ActivityQuery{ActorID: c.Param("id"), After: c.QueryParam("cursor")}
	if !domain.ValidID(q.ActorID) {
		v.Add("id", "must be an account ID")
	}
	q.From, q.To = timeRange(c, &v)
	q.Limit = pageLimit(c, &v)
	return q, v.Err()
}

// timeRange returns the from (included) and to (excluded) parameters,
// zero when absent, or adds their refusals to v.
func timeRange(c echo.Context, v *ValidationError) (from, to time.Time) {
	from, to = timeParam(c, "from", v), timeParam(c, "to", v)
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		v.Add("to", "must be after from")
	}
	return from, to
}

// accountExists returns 404 unless the log holds the account id.
func (h readModelHandlers) accountExists(c echo.Context, id string) error {
	_, err := h.Log.ReadStream(c.Request().Context(), domain.UserStream(id),
		eventstore.ReadOptions{Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return NotFound("no account with this id")
	}
	return err
}
