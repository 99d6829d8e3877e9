package readapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/projections"
)

// AlertList is the answer of GET /v1/schools/{id}/alerts.
type AlertList struct {
	Alerts []projections.AlertRow `json:"alerts"`
	Next   string                 `json:"next,omitempty"`
}

// alertsPath is the path of a school's alerts, which its access events
// name.
const alertsPath = "/v1/schools/:id/alerts"

// alertStates are what the state parameter accepts: each state, active
// (raised or acknowledged) and all.
var alertStates = map[string][]string{
	"active":                           {projections.AlertStateRaised, projections.AlertStateAcknowledged},
	projections.AlertStateRaised:       {projections.AlertStateRaised},
	projections.AlertStateAcknowledged: {projections.AlertStateAcknowledged},
	projections.AlertStateResolved:     {projections.AlertStateResolved},
	"all":                              nil,
}

func (h readModelHandlers) alertReadRoutes() []Route {
	return []Route{{
		Method: http.MethodGet, Path: alertsPath,
		Summary: "A school's emergency alerts, newest first: the active ones (raised or " +
			"acknowledged), or those of state (raised, acknowledged, resolved, active, all)",
		Access: Access{Capability: auth.ReadClinical}, Response: AlertList{}, PHI: true,
		Query: append([]QueryParam{{Name: "state",
			Description: "raised, acknowledged, resolved, active (the default) or all"}},
			pageParams()...),
		Handler: h.alertsOf,
	}}
}

// alertsOf lists a school's alerts. The access event names every
// student of the page; a school out of the caller's scope is refused,
// and the refusal recorded.
func (h readModelHandlers) alertsOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	school := c.Param("id")
	purpose, err := h.schoolScope(c, school, "GET "+alertsPath)
	if err != nil {
		return err
	}
	var v ValidationError
	f := projections.AlertFilter{SchoolID: school, After: c.QueryParam("cursor"), Limit: pageLimit(c, &v)}
	state := c.QueryParam("state")
	states, ok := alertStates[state]
	switch {
	case state == "":
		f.States = alertStates["active"]
	case !ok:
		v.Add("state", "must be raised, acknowledged, resolved, active or all")
	default:
		f.States = states
	}
	if err := v.Err(); err != nil {
		return err
	}

	alerts, next, err := projections.AlertsOf(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}
	students := studentsIn(alerts, func(a projections.AlertRow) string { return a.StudentID })
	err = h.recordRead(c, commands.Access{StudentIDs: students, What: "GET " + alertsPath,
		Purpose: purpose})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, AlertList{Alerts: orNone(alerts), Next: next})
}
