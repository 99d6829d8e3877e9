package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/eventstore"
)

// The problem types. Each is a stable URI: clients may switch on it, and
// it never changes for a given kind of failure.
const (
	problemBase = "https://whitecross.dev/problems/"

	// TypeValidation is a malformed or invalid request (400); its errors
	// name every bad field.
	TypeValidation = problemBase + "validation"
	// TypeUnauthenticated is a request without a valid token (401).
	TypeUnauthenticated = problemBase + "unauthenticated"
	// TypeForbidden is a caller whose roles or scope do not allow the
	// request (403).
	TypeForbidden = problemBase + "forbidden"
	// TypeNotFound is a resource or route that does not exist (404).
	TypeNotFound = problemBase + "not-found"
	// TypeMethodNotAllowed is a route that exists without the method (405).
	TypeMethodNotAllowed = problemBase + "method-not-allowed"
	// TypeConflict is a command made against a stale expected revision
	// (409): read again and retry.
	TypeConflict = problemBase + "conflict"
	// TypeBodyTooLarge is a request body over the server's limit (413).
	TypeBodyTooLarge = problemBase + "body-too-large"
	// TypeRuleRefused is a command a clinical rule refused (422); its
	// checks name every failed check.
	TypeRuleRefused = problemBase + "rule-refused"
	// TypeIdempotencyKeyReused is an Idempotency-Key sent again by another
	// caller or with another request (422): nothing was done; send the
	// request under a new key.
	TypeIdempotencyKeyReused = problemBase + "idempotency-key-reused"
	// TypeRateLimited is a caller over its rate (429); Retry-After says
	// when to try again.
	TypeRateLimited = problemBase + "rate-limited"
	// TypeInternal is a failure of the server (500). Its detail is
	// generic; the error is in the log under the request ID.
	TypeInternal = problemBase + "internal"
	// TypeUnavailable is a dependency that cannot serve the request, above
	// all an audit log that cannot be written (503).
	TypeUnavailable = problemBase + "unavailable"
)

// titles are the fixed titles of the types: a title never changes from
// one occurrence of a type to the next.
var titles = map[string]string{
	TypeValidation:           "Invalid request",
	TypeUnauthenticated:      "Authentication required",
	TypeForbidden:            "Forbidden",
	TypeNotFound:             "Not found",
	TypeMethodNotAllowed:     "Method not allowed",
	TypeConflict:             "Conflict with the current state",
	TypeBodyTooLarge:         "Request body too large",
	TypeRuleRefused:          "Refused by a clinical rule",
	TypeIdempotencyKeyReused: "Idempotency key already used",
	TypeRateLimited:          "Too many requests",
	TypeInternal:             "Internal error",
	TypeUnavailable:          "Service unavailable",
}

// Problem is an RFC 9457 problem document, and an error a handler may
// return: the server answers it as application/problem+json. Its detail
// is read by the caller, so it never holds PHI, a token or a body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// RequestID is the response's X-Request-Id, for the caller to quote.
	RequestID string `json:"request_id,omitempty"`
	// Errors name the bad fields of a validation problem.
	Errors []FieldError `json:"errors,omitempty"`
	// Checks name the failed checks of a rule-refused problem.
	Checks []FailedCheck `json:"checks,omitempty"`
	// RetryAfter, when positive, is sent as Retry-After in whole seconds.
	RetryAfter time.Duration `json:"-"`
}

// FieldError names one bad field of a request and what is wrong with it.
// Reason says what is expected; it never repeats the value sent.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// FailedCheck names one clinical check that refused a command and why.
// The allergy check also names the allergy, for the nurse: its entry,
// allergen and severity. Those are never logged: Error and the problem's
// detail carry the check and its reason only.
type FailedCheck struct {
	Check       string `json:"check"`
	Reason      string `json:"reason"`
	EntryID     string `json:"entry_id,omitempty"`
	Allergen    string `json:"allergen,omitempty"`
	Severity    string `json:"severity,omitempty"`
	Overridable bool   `json:"overridable,omitempty"`
}

// NewProblem returns a problem of any status and type. Prefer the
// constructors below, whose types and titles are fixed.
func NewProblem(status int, typ, title, detail string) *Problem {
	return &Problem{Type: typ, Title: title, Status: status, Detail: detail}
}

func newProblem(status int, typ, detail string) *Problem {
	return NewProblem(status, typ, titles[typ], detail)
}

// Unauthenticated returns a 401 problem; the response carries
// WWW-Authenticate: Bearer.
func Unauthenticated(detail string) *Problem {
	return newProblem(http.StatusUnauthorized, TypeUnauthenticated, detail)
}

// Forbidden returns a 403 problem, for a caller without the capability or
// outside the scope (school, district) of the resource.
func Forbidden(detail string) *Problem {
	return newProblem(http.StatusForbidden, TypeForbidden, detail)
}

// NotFound returns a 404 problem.
func NotFound(detail string) *Problem {
	return newProblem(http.StatusNotFound, TypeNotFound, detail)
}

// Conflict returns a 409 problem, for a stale expected revision.
func Conflict(detail string) *Problem {
	return newProblem(http.StatusConflict, TypeConflict, detail)
}

// RateLimited returns a 429 problem telling the caller to wait retryAfter.
func RateLimited(retryAfter time.Duration) *Problem {
	p := newProblem(http.StatusTooManyRequests, TypeRateLimited,
		"too many requests; retry after the time in Retry-After")
	p.RetryAfter = retryAfter
	return p
}

// Unavailable returns a 503 problem: a dependency cannot serve the request,
// for example the audit log cannot record a read of PHI.
func Unavailable(detail string) *Problem {
	return newProblem(http.StatusServiceUnavailable, TypeUnavailable, detail)
}

// Error describes p for logs.
func (p *Problem) Error() string {
	return fmt.Sprintf("problem %d %s: %s", p.Status, p.Type, p.Detail)
}

func (p *Problem) problem() Problem { return *p }

// ValidationError is a 400 problem naming every bad field. A handler
// collects fields with Add and returns Err:
//
//	var v readapi.ValidationError
//	if req.Dose <= 0 {
//		v.Add("dose", "must be positive")
//	}
//	if err := v.Err(); err != nil {
//		return err
//	}
type ValidationError struct {
	Fields []FieldError
}

// Add records that field is invalid for reason.
func (v *ValidationError) Add(field, reason string) {
	v.Fields = append(v.Fields, FieldError{Field: field, Reason: reason})
}

// Err returns v as an error, or nil when no field was added.
func (v *ValidationError) Err() error {
	if len(v.Fields) == 0 {
		return nil
	}
	return v
}

// Error names the bad fields and their reasons.
func (v ValidationError) Error() string {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

func (v ValidationError) problem() Problem {
	names := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		names[i] = f.Field
	}
	p := newProblem(http.StatusBadRequest, TypeValidation,
		"invalid fields: "+strings.Join(names, ", "))
	p.Errors = v.Fields
	return *p
}

// RuleRefusedError is a 422 problem: a clinical rule refused the command.
// Checks name every check that failed.
type RuleRefusedError struct {
	Checks []FailedCheck
}

// Error names the failed checks and their reasons.
func (r RuleRefusedError) Error() string {
	parts := make([]string, len(r.Checks))
	for i, c := range r.Checks {
		parts[i] = c.Check + ": " + c.Reason
	}
	return "refused by rule: " + strings.Join(parts, "; ")
}

func (r RuleRefusedError) problem() Problem {
	names := make([]string, len(r.Checks))
	for i, c := range r.Checks {
		names[i] = c.Check
	}
	p := newProblem(http.StatusUnprocessableEntity, TypeRuleRefused,
		"failed checks: "+strings.Join(names, ", "))
	p.Checks = r.Checks
	return *p
}

// problemError is an error that is answered as a given problem.
type problemError interface {
	error
	problem() Problem
}

// problemOf maps err to the problem that answers it: it is the one place
// where errors become HTTP statuses, so handlers return the errors of
// commands as they are. It reports internal when err is a failure of the
// server, to be logged.
func problemOf(err error) (p Problem, internal bool) {
	var pe problemError
	var be *echo.BindingError
	var he *echo.HTTPError
	if p, ok := commandProblem(err); ok {
		return p, false
	}
	switch {
	case errors.As(err, &pe):
		p = pe.problem()
		return p, p.Status >= http.StatusInternalServerError &&
			p.Status != http.StatusServiceUnavailable
	case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		return *newProblem(http.StatusRequestEntityTooLarge, TypeBodyTooLarge,
			"the request body is over the server's limit"), false
	case errors.Is(err, context.DeadlineExceeded):
		return *Unavailable("the request took too long"), false
	case errors.Is(err, context.Canceled):
		return *Unavailable("the request was canceled"), false
	case errors.Is(err, eventstore.ErrWrongExpectedRevision):
		return *Conflict("the resource has changed since it was read; read it again"), false
	case errors.Is(err, eventstore.ErrClosed):
		return *Unavailable("the event log is unavailable"), false
	case errors.Is(err, eventstore.ErrUnavailable):
		p := Unavailable("the event log cannot be reached right now; send the request again, " +
			"a command under the same Idempotency-Key")
		p.RetryAfter = time.Second
		return *p, false
	case errors.As(err, &be):
		return ValidationError{Fields: []FieldError{
			{Field: be.Field, Reason: "invalid value"},
		}}.problem(), false
	case errors.As(err, &he):
		return problemOfStatus(he)
	}
	return internalProblem(), true
}

// problemOfStatus maps an echo.HTTPError, from the router, a middleware or
// the binder, by its status. Its message is not used: the binder's
// quotes the body.
func problemOfStatus(he *echo.HTTPError) (Problem, bool) {
	types := map[int]string{
		http.StatusUnauthorized:        TypeUnauthenticated,
		http.StatusForbidden:           TypeForbidden,
		http.StatusNotFound:            TypeNotFound,
		http.StatusMethodNotAllowed:    TypeMethodNotAllowed,
		http.StatusConflict:            TypeConflict,
		http.StatusUnprocessableEntity: TypeRuleRefused,
		http.StatusTooManyRequests:     TypeRateLimited,
		http.StatusServiceUnavailable:  TypeUnavailable,
	}
	switch {
	case he.Code == http.StatusBadRequest:
		return bindProblem(he.Internal), false
	case types[he.Code] != "":
		return *newProblem(he.Code, types[he.Code], ""), false
	case he.Code >= http.StatusInternalServerError:
		return internalProblem(), true
	}
	// A status with no meaning of ours, such as 415: RFC 9457's
	// about:blank says the status is all there is to know.
	return *NewProblem(he.Code, "about:blank", http.StatusText(he.Code), ""), false
}

// bindProblem names the field of a binder error: the JSON field of a type
// mismatch, "body" for malformed JSON, "request" otherwise.
func bindProblem(err error) Problem {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	f := FieldError{Field: "request", Reason: "malformed request"}
	switch {
	case errors.As(err, &ute):
		f = FieldError{Field: "body", Reason: "must be " + jsonType(ute.Type)}
		if ute.Field != "" {
			f.Field = ute.Field
		}
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		f = FieldError{Field: "body", Reason: "malformed JSON"}
	}
	return ValidationError{Fields: []FieldError{f}}.problem()
}

// jsonType names the JSON type that a Go type is decoded from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "a valid value"
	}
	if s, ok := schemaFor(t, nil)["type"].(string); ok {
		return "a JSON " + s
	}
	return "a valid value"
}

func internalProblem() Problem {
	return *newProblem(http.StatusInternalServerError, TypeInternal,
		"the server failed; quote the request_id when reporting it")
}

// handleError is the server's one error handler: every error of a handler
// or middleware becomes a problem here. Internal errors are logged with
// the request ID; the caller gets a generic detail.
func (s *Server) handleError(err error, c echo.Context) {
	p, internal := problemOf(err)
	switch {
	case internal:
		s.logInternal(c, err)
	case errors.Is(err, context.DeadlineExceeded):
		s.cfg.Logger.Warn().
			Str("request_id", RequestID(c)).
			Str("route", s.routeLabel(c)).
			Msg("http_request_timeout")
	}
	if c.Response().Committed {
		return
	}
	p.RequestID = RequestID(c)
	h := c.Response().Header()
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	if p.Status == http.StatusUnauthorized && h.Get(echo.HeaderWWWAuthenticate) == "" {
		h.Set(echo.HeaderWWWAuthenticate, bearerChallenge)
	}
	body, mErr := json.Marshal(p)
	if mErr != nil {
		s.logInternal(c, fmt.Errorf("marshal problem: %w", mErr))
		body = []byte(`{"type":"` + TypeInternal + `","status":500}`)
	}
	if wErr := c.Blob(p.Status, "application/problem+json", body); wErr != nil {
		s.cfg.Logger.Debug().Str("request_id", p.RequestID).Err(wErr).
			Msg("http_problem_not_written")
	}
}

func (s *Server) logInternal(c echo.Context, err error) {
	ev := s.cfg.Logger.Error().
		Str("request_id", RequestID(c)).
		Str("method", methodLabel(c.Request().Method)).
		Str("route", s.routeLabel(c)).
		Err(err)
	var pe *panicError
	if errors.As(err, &pe) {
		ev = ev.Str("stack", string(pe.stack))
	}
	ev.Msg("http_internal_error")
}
