package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// AlertRequest raises an emergency alert.
type AlertRequest struct {
	AlertID  string `json:"alert_id"`
	Kind     string `json:"kind"`
	Location string `json:"location"`
}

// ResolveRequest resolves an alert.
type ResolveRequest struct {
	Outcome string `json:"outcome"`
}

func (h handlers) alertRoutes() []Route {
	write := Access{Capability: auth.WriteClinical}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/students/:id/alerts", Summary: "Raise an emergency alert",
			Access: write, Request: AlertRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(func(c echo.Context) (commands.ChartChange, error) {
				var r AlertRequest
				by := principal(c).UserID
				return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
					return s.RaiseAlert(domain.RaiseAlert{AlertID: r.AlertID, Kind: domain.AlertKind(r.Kind),
						Location: r.Location, RaisedBy: by}, now)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/alerts/:alert/acknowledge",
			Summary: "Acknowledge an alert; 200 when acknowledged already",
			Access:  write, Response: Written{}, Status: http.StatusCreated, Handler: h.clinical(func(c echo.Context) (commands.ChartChange, error) {
				alert, by := c.Param("alert"), principal(c).UserID
				return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
					return s.AcknowledgeAlert(alert, by, now)
				}, nil
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/alerts/:alert/resolve", Summary: "Resolve an alert",
			Access: write, Request: ResolveRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(func(c echo.Context) (commands.ChartChange, error) {
				var r ResolveRequest
				alert, by := c.Param("alert"), principal(c).UserID
				return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
					return s.ResolveAlert(domain.ResolveAlert{AlertID: alert, By: by, Outcome: r.Outcome}, now)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/alerts/:alert/entered-in-error",
			Summary: "Mark an alert entered in error (raised for the wrong student): it is no longer active",
			Access:  write, Request: InErrorRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(markInErrorBy("alert", (*domain.Student).MarkAlertInError))},
	}
}
