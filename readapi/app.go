package readapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
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
	for i := range routes {
		routes[i].Handler = inContext(routes[i].Access.Capability, routes[i].Handler)
	}
	return routes
}

type handlers struct{ Services }

// HeaderCorrelationID carries the ID that ties the requests of one
// piece of work together, across services; events record it.
const HeaderCorrelationID = "X-Correlation-ID"

// inContext runs next with the capability its route needs on record, for
// meta, after refusing a malformed X-Correlation-ID (400). The response
// carries the correlation ID the events record.
func inContext(capability auth.Capability, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderCorrelationID)
		if id != "" && !validRequestID(id) {
			var v ValidationError
			v.Add(HeaderCorrelationID, "must be 1 to 64 letters, digits, '.', '_' or '-'")
			return v
		}
		// The authentication middleware records it too, but only on a
		// route that is not public.
		c.Set(capabilityKey, capability)
		c.Response().Header().Set(HeaderCorrelationID, correlationID(c))
		return next(c)
	}
}

// correlationID returns the request's X-Correlation-ID, or its request
// ID when it has none.
func correlationID(c echo.Context) string {
	if id := c.Request().Header.Get(HeaderCorrelationID); validRequestID(id) {
		return id
	}
	return RequestID(c)
}

// meta is the context every command records: who, under which role, from
// which request and piece of work, under which idempotency key, and the
// digest of the request the key came with. The role is the first of the
// caller's roles that grants the route's capability; the commands of
// clinical records and of the roster name it themselves.
func meta(c echo.Context) commands.Meta {
	m := commands.Meta{
		RequestID:      RequestID(c),
		CorrelationID:  correlationID(c),
		IdempotencyKey: c.Request().Header.Get("Idempotency-Key"),
	}
	if m.IdempotencyKey != "" {
		// A body too large to read has the digest of what was read; a
		// handler that binds it has refused it already.
		m.RequestDigest, _ = requestDigest(c)
	}
	if p, ok := PrincipalOf(c); ok {
		m.ActorID = p.UserID
		m.ActorRole = string(roleOf(c, p))
		if len(p.Schools) == 1 {
			m.SchoolID = p.Schools[0]
		}
	}
	return m
}

// roleOf returns the role of p's that grants the capability of c's
// route, or p's first role for a route that needs none.
func roleOf(c echo.Context, p auth.Principal) domain.Role {
	if capability := grantingCapability(c); capability != "" {
		return p.RoleFor(capability)
	}
	if len(p.Roles) > 0 {
		return p.Roles[0]
	}
	return ""
}

const digestKey = "readapi.request_digest"

// requestDigest returns the SHA-256, in hex, of the request's method,
// path and body, reading the body once and leaving it to be read again.
// It returns the error of a body that cannot be read (one over the
// server's limit), with the digest of what was read of it.
func requestDigest(c echo.Context) (string, error) {
	if d, ok := c.Get(digestKey).(string); ok {
		return d, nil
	}
	req := c.Request()
	var body []byte
	var err error
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	h := sha256.New()
	h.Write([]byte(req.Method + "\x00" + req.URL.Path + "\x00"))
	h.Write(body)
	d := hex.EncodeToString(h.Sum(nil))
	if err == nil {
		c.Set(digestKey, d)
	}
	return d, err
}

// principal returns the caller of a route that is not public.
func principal(c echo.Context) auth.Principal {
	p, _ := PrincipalOf(c)
	return p
}

// bind decodes the request body into v. Under an idempotency key it
// digests the body first (requestDigest).
func bind(c echo.Context, v any) error {
	if c.Request().Header.Get("Idempotency-Key") != "" {
		if _, err := requestDigest(c); err != nil {
			return err
		}
	}
	if err := c.Bind(v); err != nil {
		return err
	}
	return nil
}

// Written is the answer to a command: the resource it made or changed,
// where its events landed, for a query that must wait until the read
// models have seen them, and the events themselves.
type Written struct {
	// ID is the resource the command made or changed.
	ID       string `json:"id,omitempty"`
	Position uint64 `json:"position"`
	// Event is the command's event, the first of Events; absent when the
	// command changed nothing.
	Event *RecordedEvent `json:"event,omitempty"`
	// Events are every event the command recorded, in order: a dose and
	// its count-back, a count and its discrepancy.
	Events []RecordedEvent `json:"events,omitempty"`
}

// RecordedEvent is an event as the log recorded it.
type RecordedEvent struct {
	ID            string    `json:"id"`
	Type          string    `json:"type"`
	SchemaVersion int       `json:"schema_version"`
	Stream        string    `json:"stream"`
	Revision      uint64    `json:"revision"`
	Position      uint64    `json:"position"`
	RecordedAt    time.Time `json:"recorded_at"`
	// Data is the event's data, byte for byte as recorded.
	Data json.RawMessage `json:"data"`
}

// written answers a command with res: 201 with its events when it
// recorded some (or an earlier request under the same idempotency key
// did), 200 when it changed nothing.
func written(c echo.Context, id string, res commands.Result) error {
	out := Written{ID: id, Position: res.Position}
	for _, e := range res.Recorded {
		out.Events = append(out.Events, RecordedEvent{
			ID: e.ID.String(), Type: e.Type, SchemaVersion: e.SchemaVersion, Stream: e.Stream,
			Revision: e.Revision, Position: e.Position, RecordedAt: e.RecordedAt, Data: e.Data,
		})
	}
	if len(out.Events) == 0 {
		return c.JSON(http.StatusOK, out)
	}
	out.Event = &out.Events[0]
	return c.JSON(http.StatusCreated, out)
}
