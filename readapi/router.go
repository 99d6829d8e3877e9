package readapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// openAPIPath is where the OpenAPI document is served.
const openAPIPath = "/v1/openapi.json"

// builtinRoutes are the routes every Server has besides cfg.Routes. The
// metrics are not among them: they have a listener of their own
// (Config.MetricsAddr).
func (s *Server) builtinRoutes() []Route {
	public := Access{Public: true}
	return []Route{{
		Method:   http.MethodGet,
		Path:     "/healthz",
		Summary:  "Liveness: 200 while the process is up.",
		Access:   public,
		Response: healthStatus{},
		Handler:  s.healthz,
	}, {
		Method:   http.MethodGet,
		Path:     "/readyz",
		Summary:  "Readiness: 200 when every dependency is usable, 503 naming the failing ones.",
		Access:   public,
		Response: readiness{},
		Handler:  s.readyz,
	}, {
		Method:   http.MethodGet,
		Path:     openAPIPath,
		Summary:  "This API's OpenAPI 3.1 document.",
		Access:   public,
		Response: map[string]any{},
		Handler:  s.serveOpenAPI,
	}}
}

// register adds the built-in routes and cfg.Routes to the router, then
// builds the OpenAPI document from all of them. cfg.Routes were checked
// by Validate.
func (s *Server) register() error {
	for _, r := range s.builtinRoutes() {
		s.add(r)
	}
	for _, r := range s.cfg.Routes {
		s.add(r)
	}
	doc, err := s.openAPIDocument()
	if err != nil {
		return err
	}
	s.openAPI = doc
	return nil
}

// add registers r with its guards: authentication and capability unless
// it is public, no-store when it serves PHI, and a query of text.
func (s *Server) add(r Route) {
	var guards []echo.MiddlewareFunc
	if r.PHI {
		guards = append(guards, noStore)
	}
	if !r.Access.Public {
		guards = append(guards, s.authorize(r))
	}
	guards = append(guards, textQuery)
	s.echo.Add(r.Method, r.Path, r.Handler, guards...)
	s.routes = append(s.routes, r)
	s.patterns[r.Path] = true
}

// routeMethods are the methods an application route may have.
var routeMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
}

// validateRoutes returns one error for each fault of routes: a path not
// under /v1, an unknown method, no handler, no or a contradictory access
// policy, a protected route with no way to authenticate, or a method and
// path registered twice.
func validateRoutes(routes []Route, canAuthenticate bool) []error {
	var errs []error
	seen := map[string]bool{http.MethodGet + " " + openAPIPath: true}
	for _, r := range routes {
		name := r.Method + " " + r.Path
		fault := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("route %s: "+format, append([]any{name}, args...)...))
		}
		if !strings.HasPrefix(r.Path, "/v1/") {
			fault("path is not under /v1")
		}
		if !slices.Contains(routeMethods, r.Method) {
			fault("method is not one of %s", strings.Join(routeMethods, ", "))
		}
		if r.Handler == nil {
			fault("no handler")
		}
		if err := validateAccess(r.Access); err != nil {
			fault("%w", err)
		}
		if !r.Access.Public && !canAuthenticate {
			fault("protected, but Config.Authenticate is nil")
		}
		key := r.Method + " " + routeShape(r.Path)
		if seen[key] {
			fault("registered twice")
		}
		seen[key] = true
	}
	return errs
}

// ErrNoAccess is the fault of a route whose Access is the zero value.
// Test for it with errors.Is on New's error.
var ErrNoAccess = errors.New("no access policy")

// validateAccess refuses an Access that says nothing, one that is public
// and asks for more, and a capability that no role grants.
func validateAccess(a Access) error {
	switch {
	case a == Access{}:
		return ErrNoAccess
	case a.Public && (a.Authenticated || a.Capability != ""):
		return errors.New("public, yet asks for authentication or a capability")
	case a.Capability != "" && !granted(a.Capability):
		return fmt.Errorf("capability %q is granted to no role", a.Capability)
	}
	return nil
}

func granted(c auth.Capability) bool {
	return slices.ContainsFunc(domain.Roles, func(r domain.Role) bool {
		return auth.Can(r, c)
	})
}

// routeShape returns path with its parameters unnamed: Echo routes
// /v1/users/:id and /v1/users/:uid to the same handler.
func routeShape(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return strings.Join(segs, "/")
}
