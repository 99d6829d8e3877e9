package readapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// EchoRoutes returns what Echo's router holds, for tests that compare it
// with the OpenAPI document.
func EchoRoutes(s *Server) []*echo.Route { return s.echo.Routes() }

// HTTPServer returns the http.Server that Serve would run.
func HTTPServer(s *Server) (*http.Server, error) { return s.httpServer() }
