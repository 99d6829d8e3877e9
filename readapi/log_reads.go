package readapi

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// LogList is the answer of GET /v1/log.
type LogList struct {
	Events []projections.LogEntry `json:"events"`
	Next   string                 `json:"next,omitempty"`
}

// logPath is the path of the compliance index of the log.
const logPath = "/v1/log"

// logFilters are the query parameters of GET /v1/log that select events;
// the access event of a read names them with their values.
var logFilters = []string{"stream", "type", "actor", "role", "student", "school", "outcome",
	"from", "to", "order"}

func (h readModelHandlers) logReadRoutes() []Route {
	return []Route{{
		Method: http.MethodGet, Path: logPath,
		Summary: "The index of the whole log for compliance: each event's position, time, stream, " +
			"type, actor and role, students, school and outcome (identifiers only, never data), " +
			"newest first or by position",
		Access: Access{Capability: auth.ReadAuditLog}, Response: LogList{}, PHI: true,
		Query: append([]QueryParam{
			{Name: "stream"}, {Name: "type", Description: "an event type, e.g. PHIAccessed"},
			{Name: "actor", Format: "uuid"}, {Name: "role"},
			{Name: "student", Format: "uuid"}, {Name: "school", Format: "uuid"},
			{Name: "outcome", Description: "success, refused, blocked or failed"},
			{Name: "from", Format: "date-time", Description: "recorded at or after"},
			{Name: "to", Format: "date-time", Description: "recorded before"},
			{Name: "order", Description: "newest (the default) or position (oldest first)"},
		}, pageParams()...),
		Handler: h.searchLog,
	}}
}

// searchLog answers a page of the log's index. The index tells who
// looked at which student and what was recorded for whom, so each page
// is recorded as an access, for an investigation, naming the query and
// the students it lists.
func (h readModelHandlers) searchLog(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	f, err := logFilter(c)
	if err != nil {
		return err
	}
	events, next, err := projections.SearchLog(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}

	var students []string
	for _, e := range events {
		for _, id := range e.StudentIDs {
			if !slices.Contains(students, id) {
				students = append(students, id)
			}
		}
	}
	err = h.recordRead(c, commands.Access{StudentIDs: orNone(students), What: logQuery(c),
		Purpose: domain.PurposeInvestigation})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, LogList{Events: orNone(events), Next: next})
}

// logQuery names a read of the index by its route and the filters it
// asked for: identifiers, types, codes and times only.
func logQuery(c echo.Context) string {
	q := url.Values{}
	for _, name := range logFilters {
		if v := c.QueryParam(name); v != "" {
			q.Set(name, v)
		}
	}
	if len(q) == 0 {
		return "GET " + logPath
	}
	return "GET " + logPath + "?" + q.Encode()
}

// logFilter reads the query of GET /v1/log, naming each bad parameter.
func logFilter(c echo.Context) (projections.LogFilter, error) {
	var v ValidationError
	f := projections.LogFilter{
		Stream: c.QueryParam("stream"), Type: c.QueryParam("type"),
		ActorID: idParam(c, "actor", &v), ActorRole: c.QueryParam("role"),
		StudentID: idParam(c, "student", &v), SchoolID: idParam(c, "school", &v),
		Outcome: c.QueryParam("outcome"),
		From:    timeParam(c, "from", &v), To: timeParam(c, "to", &v),
		After: c.QueryParam("cursor"), Limit: pageLimit(c, &v),
	}
	if !nameLike(f.Stream, 300) {
		v.Add("stream", "must be a stream name: letters, digits and '-'")
	}
	if !nameLike(f.Type, 100) {
		v.Add("type", "must be an event type, such as PHIAccessed")
	}
	if f.ActorRole != "" && !slices.Contains(domain.Roles, domain.Role(f.ActorRole)) {
		v.Add("role", "must be a role")
	}
	if f.Outcome != "" && !slices.Contains(projections.Outcomes, f.Outcome) {
		v.Add("outcome", "must be success, refused, blocked or failed")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("to", "must be after from")
	}
	switch c.QueryParam("order") {
	case "", "newest":
	case "position":
		f.Ascending = true
	default:
		v.Add("order", "must be newest or position")
	}
	return f, v.Err()
}

// nameLike reports whether s is empty, or at most size letters, digits
// and '-'.
func nameLike(s string, size int) bool {
	if len(s) > size {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
