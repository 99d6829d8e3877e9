package readapi

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/eventstore"
)

// Services are what the application's routes call.
type Services struct {
	Accounts *commands.Accounts
	Clinic   *commands.Clinic
	// Auditor records every read of health information; required with
	// Clinic.
	Auditor *commands.Auditor
	Log     eventstore.Store
	// LoginByAccount and LoginByAddress limit login attempts per address
	// typed and per client address; nil means no limit.
	LoginByAccount *auth.Limiter
	LoginByAddress *auth.Limiter
	Now            func() time.Time
}

// Authenticator returns the Config.Authenticate that checks bearer tokens
// and their sessions with accounts.
func Authenticator(accounts *commands.Accounts) func(echo.Context) (auth.Principal, error) {
	return func(c echo.Context) (auth.Principal, error) {
		token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || token == "" {
			return auth.Principal{}, errors.New("no bearer token")
		}
		p, err := accounts.Authenticate(c.Request().Context(), token)
		switch {
		case err == nil:
			return p, nil
		case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, commands.ErrSessionEnded),
			errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return auth.Principal{}, err
		}
		// The session could not be checked: the log is out of reach.
		return auth.Principal{}, Unavailable("sessions cannot be checked right now")
	}
}

// AppRoutes returns every application route.
func AppRoutes(s Services) []Route {
	if s.Now == nil {
		s.Now = time.Now
	}
	h := handlers{s}
	var routes []Route
	routes = append(routes, h.authRoutes()...)
	routes = append(routes, h.userRoutes()...)
	routes = append(routes, h.organisationRoutes()...)
	routes = append(routes, h.breakGlassRoutes()...)
	routes = append(routes, h.selfRoutes()...)
	if s.Clinic != nil {
		routes = append(routes, h.studentRoutes()...)
		routes = append(routes, h.entryRoutes()...)
		routes = append(routes, h.medicationRoutes()...)
		routes = append(routes, h.alertRoutes()...)
		routes = append(routes, h.controlledRoutes()...)
	}
	return routes
}

type handlers struct{ Services }

// meta is the context every command records: who, from which request,
// under which idempotency key.
func meta(c echo.Context) commands.Meta {
	m := commands.Meta{
		RequestID:      RequestID(c),
		CorrelationID:  RequestID(c),
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
	}
	if p, ok := PrincipalOf(c); ok {
		m.ActorID = p.UserID
		if len(p.Roles) > 0 {
			m.ActorRole = string(p.Roles[0])
		}
		if len(p.Schools) == 1 {
			m.SchoolID = p.Schools[0]
		}
	}
	return m
}

// principal returns the caller of a route that is not public.
func principal(c echo.Context) auth.Principal {
	p, _ := PrincipalOf(c)
	return p
}

// bind decodes the request body into v.
func bind(c echo.Context, v any) error {
	if err := c.Bind(v); err != nil {
		return err
	}
	return nil
}

// Written is the answer to a command: where its events landed, for a query
// that must wait until the read models have seen them.
type Written struct {
	ID       string `json:"id,omitempty"`
	Position uint64 `json:"position"`
}
