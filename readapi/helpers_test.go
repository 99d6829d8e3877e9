package readapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/readapi"
)

// The tokens the test Authenticate knows; any other is refused.
const (
	nurseToken   = "nurse-token"
	auditorToken = "auditor-token"
	downToken    = "down-token"
)

// authenticate is Config.Authenticate for tests: a fixed token per role.
func authenticate(c echo.Context) (auth.Principal, error) {
	switch c.Request().Header.Get(echo.HeaderAuthorization) {
	case "Bearer " + nurseToken:
		return auth.Principal{UserID: "u-nurse", Roles: []domain.Role{domain.RoleNurse}}, nil
	case "Bearer " + auditorToken:
		return auth.Principal{UserID: "u-auditor", Roles: []domain.Role{domain.RoleAuditor}}, nil
	case "Bearer " + downToken:
		return auth.Principal{}, readapi.Unavailable("session store unreachable")
	case "":
		return auth.Principal{}, errors.New("no bearer token")
	}
	return auth.Principal{}, errors.New("token refused")
}

type thingRequest struct {
	Name string `json:"name"`
	Dose int    `json:"dose"`
}

type thing struct {
	ID       string    `json:"id"`
	ReadBy   string    `json:"read_by"`
	Recorded time.Time `json:"recorded"`
	Tags     []string  `json:"tags,omitempty"`
}

// testRoutes cover every kind of access and every kind of failure.
func testRoutes() []readapi.Route {
	return []readapi.Route{{
		Method: http.MethodGet, Path: "/v1/things/:id", Summary: "Read a thing.",
		Access:   readapi.Access{Capability: auth.ReadClinical},
		Response: thing{}, PHI: true,
		Handler: func(c echo.Context) error {
			p, _ := readapi.PrincipalOf(c)
			return c.JSON(http.StatusOK, thing{ID: c.Param("id"), ReadBy: p.UserID})
		},
	}, {
		Method: http.MethodPost, Path: "/v1/things", Summary: "Record a thing.",
		Access:  readapi.Access{Authenticated: true},
		Request: thingRequest{}, Response: thing{}, Status: http.StatusCreated,
		Handler: func(c echo.Context) error {
			var req thingRequest
			if err := c.Bind(&req); err != nil {
				return err
			}
			var v readapi.ValidationError
			if req.Name == "" {
				v.Add("name", "is required")
			}
			if req.Dose <= 0 {
				v.Add("dose", "must be positive")
			}
			if err := v.Err(); err != nil {
				return err
			}
			return c.JSON(http.StatusCreated, thing{ID: "t1"})
		},
	}, {
		Method: http.MethodGet, Path: "/v1/public", Access: readapi.Access{Public: true},
		Handler: func(c echo.Context) error { return c.NoContent(http.StatusNoContent) },
		Status:  http.StatusNoContent,
	}, {
		Method: http.MethodGet, Path: "/v1/panic", Access: readapi.Access{Public: true},
		Handler: func(echo.Context) error { panic("handler bug") },
	}, {
		Method: http.MethodGet, Path: "/v1/slow", Access: readapi.Access{Public: true},
		Handler: func(c echo.Context) error {
			<-c.Request().Context().Done()
			return fmt.Errorf("wait: %w", c.Request().Context().Err())
		},
	}, {
		Method: http.MethodPost, Path: "/v1/refused", Access: readapi.Access{Public: true},
		Handler: func(echo.Context) error {
			return readapi.RuleRefusedError{Checks: []readapi.FailedCheck{
				{Check: "allergy", Reason: "the student is allergic to an ingredient"},
				{Check: "interval", Reason: "the last dose was too recent"},
			}}
		},
	}, {
		Method: http.MethodPost, Path: "/v1/stale", Access: readapi.Access{Public: true},
		Handler: func(echo.Context) error {
			return fmt.Errorf("administer: %w", eventstore.ErrWrongExpectedRevision)
		},
	}, {
		Method: http.MethodGet, Path: "/v1/limited", Access: readapi.Access{Public: true},
		Handler: func(echo.Context) error { return readapi.RateLimited(1500 * time.Millisecond) },
	}, {
		// A command's error, returned as it is: the error mapper answers it.
		Method: http.MethodPost, Path: "/v1/commands/:kind", Access: readapi.Access{Public: true},
		Handler: func(c echo.Context) error { return commandErrors[c.Param("kind")] },
	}}
}

// commandErrors are errors of commands, by the name a test route takes.
var commandErrors = map[string]error{
	"invalid": fmt.Errorf("create user: %w", domain.Errors{
		{Code: domain.CodeInvalid, Field: "email", Message: "is required"},
		{Code: domain.CodeInvalid, Field: "schools[0]", Message: "names no school"},
	}),
	"forbidden": &domain.Error{Code: domain.CodeForbidden, Message: "your roles do not give the role auditor"},
	"missing":   fmt.Errorf("user 1: %w", commands.ErrNotFound),
	"conflict":  domain.Errors{{Code: domain.CodeConflict, Field: "email", Message: "is already used"}},
	"rule":      domain.Errors{{Code: domain.CodeRule, Field: "roles", Message: "an account keeps one role"}},
	"dose refused": &domain.Refusal{Checks: []domain.FailedCheck{
		{Check: "allergy", Reason: "the student is allergic", EntryID: "e1"},
	}},
	"login failed":  commands.ErrLoginFailed,
	"session ended": fmt.Errorf("%w: %w", commands.ErrSessionEnded, &domain.Error{Code: domain.CodeInvalid}),
	"rate limited":  fmt.Errorf("witness: %w", commands.ErrRateLimited),
	"log unreachable": fmt.Errorf("read student-1: %w",
		fmt.Errorf("%w: %w", eventstore.ErrUnavailable, errors.New("connection refused"))),
}

// syncBuffer is a log destination that tests read while servers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a Config with the test routes and Authenticate.
func testConfig() readapi.Config {
	return readapi.Config{
		Routes:       testRoutes(),
		Authenticate: authenticate,
		Logger:       zerolog.Nop(),
	}
}

// mustServe starts cfg's Server behind a real HTTP listener, closed at
// the end of the test.
func mustServe(t *testing.T, cfg readapi.Config) (*readapi.Server, *httptest.Server) {
	t.Helper()
	api, err := readapi.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return api, srv
}

// call sends one request and returns the response with its body read.
func call(
	t *testing.T,
	method, url, token string,
	body io.Reader,
	header ...string,
) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+token)
	}
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// problemBody is a problem as a client decodes it.
type problemBody struct {
	Type      string                `json:"type"`
	Title     string                `json:"title"`
	Status    int                   `json:"status"`
	Detail    string                `json:"detail"`
	RequestID string                `json:"request_id"`
	Errors    []readapi.FieldError  `json:"errors"`
	Checks    []readapi.FailedCheck `json:"checks"`
}

// mustProblem checks that resp is a problem of status and type typ, and
// returns it.
func mustProblem(
	t *testing.T,
	resp *http.Response,
	body []byte,
	status int,
	typ string,
) problemBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status: got %d, want %d (body %s)", resp.StatusCode, status, body)
	}
	ct := resp.Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type: got %q, want application/problem+json", ct)
	}
	var p problemBody
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode problem %s: %v", body, err)
	}
	if p.Type != typ || p.Status != status || p.Title == "" {
		t.Errorf("problem: got type %q status %d title %q, want type %q status %d",
			p.Type, p.Status, p.Title, typ, status)
	}
	if id := resp.Header.Get(echo.HeaderXRequestID); p.RequestID == "" || p.RequestID != id {
		t.Errorf("problem request_id %q, X-Request-Id %q", p.RequestID, id)
	}
	return p
}
