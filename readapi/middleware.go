package readapi

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// use installs the middleware that every request passes, outermost
// first. The access log handles the error of everything inside it, so
// the metrics around it see the final status.
func (s *Server) use() {
	s.echo.Use(
		requestID,
		s.metrics.middleware(s.routeLabel),
		s.accessLog,
		securityHeaders(s.cfg.tls()),
	)
	if len(s.cfg.AllowedOrigins) > 0 {
		s.echo.Use(cors(s.cfg.AllowedOrigins))
	}
	s.echo.Use(
		recoverer(),
		bodyLimit(s.cfg.MaxBodyBytes),
		middleware.ContextTimeout(s.cfg.RequestTimeout),
	)
}

// textQuery refuses, 400 naming each parameter, a query whose names or
// values are not UTF-8 text or hold a NUL: no read model holds such text,
// and the database refuses to compare anything with it.
func textQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var v ValidationError
		params := c.QueryParams()
		for _, name := range slices.Sorted(maps.Keys(params)) {
			if !isText(name) {
				v.Add("query", "parameter names must be UTF-8 text without NUL")
				continue
			}
			if slices.ContainsFunc(params[name], func(s string) bool { return !isText(s) }) {
				v.Add(name, "must be UTF-8 text without NUL")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		return next(c)
	}
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// requestID keeps the caller's X-Request-Id when it is a short token of
// letters, digits, '.', '_' and '-', and makes a new one otherwise. The
// response carries it.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// RequestID returns the ID of c's request, as its response carries it in
// X-Request-Id; empty outside a Server.
func RequestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// accessLog writes one line per request: identifiers, route, status and
// latency. The route is the pattern ("/v1/students/:id"), not the path,
// and no header, query or body is logged. It hands the error of the
// handler to the server's error handler.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		ev := s.cfg.Logger.Info().
			Str("request_id", RequestID(c)).
			Str("method", methodLabel(c.Request().Method)).
			Str("route", s.routeLabel(c)).
			Int("status", c.Response().Status).
			Float64("latency_ms", float64(time.Since(start).Microseconds())/1000)
		if p, ok := PrincipalOf(c); ok {
			ev = ev.Str("actor_id", p.UserID)
		}
		ev.Msg("http_request")
		return nil
	}
}

// panicError is a panic of a handler, with the stack where it happened.
// It is always an internal error, whatever the panic's value.
type panicError struct {
	err   error
	stack []byte
}

func (e *panicError) Error() string { return "panic: " + e.err.Error() }

// recoverer turns a panic into a panicError, which the error handler
// logs once, stack included, and answers 500.
func recoverer() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll:     true,
		DisableErrorHandler: true,
		LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
			return &panicError{err: err, stack: stack}
		},
	})
}

const (
	principalKey  = "readapi.principal"
	capabilityKey = "readapi.capability"
)

// grantingCapability returns the capability c's route asked for and the
// caller holds; empty on a route that asks for none.
func grantingCapability(c echo.Context) auth.Capability {
	capability, _ := c.Get(capabilityKey).(auth.Capability)
	return capability
}

// SetPrincipal records who c's request comes from. The router calls it
// for every route that is not public; a public handler that establishes
// the caller (login) may call it too, so that the access log names them.
func SetPrincipal(c echo.Context, p auth.Principal) {
	c.Set(principalKey, p)
}

// PrincipalOf returns who c's request comes from, and false on a public
// route where no one was established.
func PrincipalOf(c echo.Context) (auth.Principal, bool) {
	p, ok := c.Get(principalKey).(auth.Principal)
	return p, ok
}

// bearerChallenge is the WWW-Authenticate header of every 401.
const bearerChallenge = `Bearer realm="whitecross"`

// authorize guards a route that is not public: the caller must
// authenticate and, when the route says so, hold its capability. Scope
// (which schools) is left to the handler.
func (s *Server) authorize(r Route) echo.MiddlewareFunc {
	a := r.Access
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := s.cfg.Authenticate(c)
			if err == nil && p.UserID == "" {
				err = errors.New("principal without a user id")
			}
			if err != nil {
				return s.refuseAuthentication(c, err)
			}
			SetPrincipal(c, p)

			if a.Capability != "" && !p.Can(a.Capability) {
				return s.refuseCapability(c, r, p)
			}
			c.Set(capabilityKey, a.Capability)
			return next(c)
		}
	}
}

// refuseCapability answers 403 to p, whose roles do not grant r's
// capability. On a route that carries health information the refusal is
// recorded in the log first, naming the student or school the path names
// (identifiers only); it stands even when it cannot be recorded.
func (s *Server) refuseCapability(c echo.Context, r Route, p auth.Principal) error {
	s.cfg.Logger.Info().
		Str("request_id", RequestID(c)).
		Str("actor_id", p.UserID).
		Str("route", s.routeLabel(c)).
		Str("capability", string(r.Access.Capability)).
		Msg("access_denied")
	if r.PHI && s.cfg.Auditor != nil {
		refusal := commands.Refusal{Actor: p, Capability: r.Access.Capability,
			What: r.Method + " " + r.Path, Reason: "role"}
		refusal.StudentID, refusal.SchoolID = refusalTarget(c, r.Path)
		_ = s.cfg.Auditor.Refused(c.Request().Context(), meta(c), refusal)
	}
	return Forbidden("the caller's roles do not grant " + string(r.Access.Capability))
}

// refusalTarget returns the student or the school a request's path names
// by its :id, when it is an ID; both empty for any other path.
func refusalTarget(c echo.Context, path string) (student, school string) {
	id := c.Param("id")
	if !domain.ValidID(id) {
		return "", ""
	}
	switch {
	case strings.HasPrefix(path, "/v1/students/:id"):
		return id, ""
	case strings.HasPrefix(path, "/v1/schools/:id"):
		return "", id
	}
	return "", ""
}

// refuseAuthentication answers an error of Authenticate: a problem or a
// context error as itself, anything else 401.
func (s *Server) refuseAuthentication(c echo.Context, err error) error {
	var pe problemError
	if errors.As(err, &pe) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	s.cfg.Logger.Info().
		Str("request_id", RequestID(c)).
		Str("route", s.routeLabel(c)).
		Err(err).
		Msg("authentication_refused")

	// RFC 6750: a request that sent no token gets the bare challenge.
	challenge := bearerChallenge
	if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
		challenge += `, error="invalid_token"`
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
	return Unauthenticated("a valid bearer token is required")
}
