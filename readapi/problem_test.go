package readapi_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/readapi"
)

func TestProblems(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		typ    string
		fields []readapi.FieldError
		checks []string
	}{
		{name: "no route", method: http.MethodGet, path: "/v1/nothing/42",
			status: http.StatusNotFound, typ: readapi.TypeNotFound},
		{name: "wrong method", method: http.MethodDelete, path: "/v1/public",
			status: http.StatusMethodNotAllowed, typ: readapi.TypeMethodNotAllowed},
		{name: "two invalid fields", method: http.MethodPost, path: "/v1/things", body: `{}`,
			status: http.StatusBadRequest, typ: readapi.TypeValidation,
			fields: []readapi.FieldError{
				{Field: "name", Reason: "is required"},
				{Field: "dose", Reason: "must be positive"},
			}},
		{name: "malformed JSON", method: http.MethodPost, path: "/v1/things", body: `{"name":`,
			status: http.StatusBadRequest, typ: readapi.TypeValidation,
			fields: []readapi.FieldError{{Field: "body", Reason: "malformed JSON"}}},
		{name: "wrong JSON type", method: http.MethodPost, path: "/v1/things",
			body: `{"name":"x","dose":"ten"}`, status: http.StatusBadRequest, typ: readapi.TypeValidation,
			fields: []readapi.FieldError{{Field: "dose", Reason: "must be a JSON integer"}}},
		{name: "query not text", method: http.MethodGet, path: "/v1/things/1?x=%00&name=%E8&ok=1",
			status: http.StatusBadRequest, typ: readapi.TypeValidation,
			fields: []readapi.FieldError{
				{Field: "name", Reason: "must be UTF-8 text without NUL"},
				{Field: "x", Reason: "must be UTF-8 text without NUL"},
			}},
		{name: "rule refused", method: http.MethodPost, path: "/v1/refused",
			status: http.StatusUnprocessableEntity, typ: readapi.TypeRuleRefused,
			checks: []string{"allergy", "interval"}},
		{name: "stale revision", method: http.MethodPost, path: "/v1/stale",
			status: http.StatusConflict, typ: readapi.TypeConflict},
		{name: "panic", method: http.MethodGet, path: "/v1/panic",
			status: http.StatusInternalServerError, typ: readapi.TypeInternal},

		// The errors of commands, as handlers return them.
		{name: "invalid fields", method: http.MethodPost, path: "/v1/commands/invalid",
			status: http.StatusBadRequest, typ: readapi.TypeValidation,
			fields: []readapi.FieldError{
				{Field: "email", Reason: "is required"},
				{Field: "schools[0]", Reason: "names no school"},
			}},
		{name: "out of scope", method: http.MethodPost, path: "/v1/commands/forbidden",
			status: http.StatusForbidden, typ: readapi.TypeForbidden},
		{name: "not found", method: http.MethodPost, path: "/v1/commands/missing",
			status: http.StatusNotFound, typ: readapi.TypeNotFound},
		{name: "conflict", method: http.MethodPost, path: "/v1/commands/conflict",
			status: http.StatusConflict, typ: readapi.TypeConflict},
		{name: "a rule", method: http.MethodPost, path: "/v1/commands/rule",
			status: http.StatusUnprocessableEntity, typ: readapi.TypeRuleRefused, checks: []string{"roles"}},
		{name: "a dose refused", method: http.MethodPost, path: "/v1/commands/dose%20refused",
			status: http.StatusUnprocessableEntity, typ: readapi.TypeRuleRefused, checks: []string{"allergy"}},
		{name: "login failed", method: http.MethodPost, path: "/v1/commands/login%20failed",
			status: http.StatusUnauthorized, typ: readapi.TypeUnauthenticated},
		{name: "session ended", method: http.MethodPost, path: "/v1/commands/session%20ended",
			status: http.StatusUnauthorized, typ: readapi.TypeUnauthenticated},
		{name: "rate limited", method: http.MethodPost, path: "/v1/commands/rate%20limited",
			status: http.StatusTooManyRequests, typ: readapi.TypeRateLimited},
		{name: "log unreachable", method: http.MethodPost, path: "/v1/commands/log%20unreachable",
			status: http.StatusServiceUnavailable, typ: readapi.TypeUnavailable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			resp, b := call(t, c.method, srv.URL+c.path, nurseToken, body)
			p := mustProblem(t, resp, b, c.status, c.typ)
			if c.fields != nil && !slices.Equal(p.Errors, c.fields) {
				t.Errorf("errors: got %+v, want %+v", p.Errors, c.fields)
			}
			var checks []string
			for _, f := range p.Checks {
				checks = append(checks, f.Check)
			}
			if !slices.Equal(checks, c.checks) {
				t.Errorf("checks: got %v, want %v", checks, c.checks)
			}
		})
	}
}

func TestMethodNotAllowedSaysAllow(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	resp, _ := call(t, http.MethodDelete, srv.URL+"/v1/public", "", nil)
	if got := resp.Header.Get(echo.HeaderAllow); !strings.Contains(got, http.MethodGet) {
		t.Errorf("Allow: got %q, want it to name GET", got)
	}
}

// TestRetryAfter says when to try again: after a rate limit, rounded up
// to whole seconds, and a second after the log could not be reached.
func TestRetryAfter(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	cases := []struct {
		name, method, path string
		status             int
		typ, want          string
	}{
		{"rate limited", http.MethodGet, "/v1/limited", http.StatusTooManyRequests,
			readapi.TypeRateLimited, "2"},
		{"log unreachable", http.MethodPost, "/v1/commands/log%20unreachable", http.StatusServiceUnavailable,
			readapi.TypeUnavailable, "1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := call(t, c.method, srv.URL+c.path, "", nil)
			mustProblem(t, resp, b, c.status, c.typ)
			if got := resp.Header.Get("Retry-After"); got != c.want {
				t.Errorf("Retry-After: got %q, want %s", got, c.want)
			}
		})
	}
}

// TestLogsCarryNoSecrets sends a token and a body that stand for PHI
// through every kind of failure and checks that the log holds neither,
// while it does hold the request ID of the internal error.
func TestLogsCarryNoSecrets(t *testing.T) {
	const phi = "PEANUT-ANAPHYLAXIS"
	var logs syncBuffer
	cfg := testConfig()
	cfg.Logger = zerolog.New(&logs)
	_, srv := mustServe(t, cfg)

	body := `{"name":"` + phi + `","dose":"` + phi + `"}`
	call(t, http.MethodPost, srv.URL+"/v1/things", nurseToken, strings.NewReader(body))
	call(t, http.MethodGet, srv.URL+"/v1/things/1", "forged-"+phi, nil)
	resp, _ := call(t, http.MethodGet, srv.URL+"/v1/panic", nurseToken, nil)

	out := logs.String()
	for _, secret := range []string{phi, nurseToken} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"request_id":"`+resp.Header.Get(echo.HeaderXRequestID)+`"`) ||
		!strings.Contains(out, "http_internal_error") {
		t.Errorf("log lacks the internal error with its request_id:\n%s", out)
	}
}
