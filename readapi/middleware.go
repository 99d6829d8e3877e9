package readapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// accessLog writes one line per request: identifiers, route, status and
// latency. The route is the pattern ("/v1/students/:id"), not the path,
// and no header, query or body is logged.
func accessLog(log zerolog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			log.Info().
				Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
				Str("method", c.Request().Method).
				Str("route", c.Path()).
				Int("status", c.Response().Status).
				Float64("latency_ms", float64(time.Since(start).Microseconds())/1000).
				Msg("http_request")
			return nil
		}
	}
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// problemHandler turns every error into an application/problem+json
// response. Internal errors are logged with the request ID and answered
// with a generic message.
func problemHandler(log zerolog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problem{Type: "about:blank", Status: http.StatusInternalServerError,
			Title: http.StatusText(http.StatusInternalServerError)}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			p.Status, p.Title = he.Code, http.StatusText(he.Code)
		} else {
			log.Error().Err(err).
				Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
				Msg("http_internal_error")
		}
		body, _ := json.Marshal(p)
		_ = c.Blob(p.Status, "application/problem+json", body)
	}
}
