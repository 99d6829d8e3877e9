package readapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// securityHeaders sets, on every response, the headers that keep a
// browser from sniffing, framing or caching it, or sending it elsewhere.
// HSTS is sent only when the server itself serves TLS.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			// The API serves health data: no response of it is cached,
			// errors included.
			if underV1(c.Request().URL.Path) {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}

func underV1(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/")
}

// noStore marks a route's responses as not to be cached. Every /v1
// response already is; this keeps PHI routes so whatever their path.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// cors lets the web app's origins call the API. Tokens travel in the
// Authorization header, never in cookies, so credentials are not allowed.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins: origins,
		AllowMethods: []string{
			http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodOptions,
		},
		AllowHeaders: []string{
			echo.HeaderAuthorization, echo.HeaderContentType,
			"Idempotency-Key", echo.HeaderXRequestID,
		},
		ExposeHeaders:    []string{echo.HeaderXRequestID},
		AllowCredentials: false,
		MaxAge:           600,
	})
}

// validateOrigin accepts an exact origin, scheme://host[:port], and
// refuses wildcards and anything with a path, query or user.
func validateOrigin(o string) error {
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return fmt.Errorf("allowed origin %q: %w", o, err)
	case strings.Contains(o, "*"):
		return fmt.Errorf("allowed origin %q: wildcards are not allowed", o)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("allowed origin %q: scheme must be https or http", o)
	case u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("allowed origin %q: must be scheme://host[:port]", o)
	}
	return nil
}

// bodyLimit refuses a request body over limit bytes with 413, at once
// when Content-Length says so, otherwise when the reader passes it.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return middleware.BodyLimit(strconv.FormatInt(limit, 10) + "B")
}
