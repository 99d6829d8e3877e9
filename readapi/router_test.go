package readapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/readapi"
)

func ok(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

func TestNewRefusesRoutes(t *testing.T) {
	public := readapi.Access{Public: true}
	cases := []struct {
		name   string
		routes []readapi.Route
		noAuth bool
		want   string
	}{
		{"zero access", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Handler: ok},
		}, false, "no access policy"},
		{"duplicate", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Access: public, Handler: ok},
			{Method: http.MethodGet, Path: "/v1/a", Access: public, Handler: ok},
		}, false, "registered twice"},
		{"duplicate under another parameter name", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a/:id", Access: public, Handler: ok},
			{Method: http.MethodGet, Path: "/v1/a/:aid", Access: public, Handler: ok},
		}, false, "registered twice"},
		{"duplicate of a built-in", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/openapi.json", Access: public, Handler: ok},
		}, false, "registered twice"},
		{"outside /v1", []readapi.Route{
			{Method: http.MethodGet, Path: "/admin", Access: public, Handler: ok},
		}, false, "not under /v1"},
		{"unknown method", []readapi.Route{
			{Method: "get", Path: "/v1/a", Access: public, Handler: ok},
		}, false, "method is not one of"},
		{"no handler", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Access: public},
		}, false, "no handler"},
		{"public with a capability", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Handler: ok,
				Access: readapi.Access{Public: true, Capability: auth.ReadClinical}},
		}, false, "public, yet"},
		{"capability no role grants", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Handler: ok,
				Access: readapi.Access{Capability: "clinical.raed"}},
		}, false, "granted to no role"},
		{"protected without Authenticate", []readapi.Route{
			{Method: http.MethodGet, Path: "/v1/a", Handler: ok,
				Access: readapi.Access{Authenticated: true}},
		}, true, "Authenticate is nil"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := readapi.Config{Routes: c.routes, Authenticate: authenticate}
			if c.noAuth {
				cfg.Authenticate = nil
			}
			_, err := readapi.New(cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestNewZeroAccessIsErrNoAccess(t *testing.T) {
	_, err := readapi.New(readapi.Config{Routes: []readapi.Route{
		{Method: http.MethodGet, Path: "/v1/a", Handler: ok},
	}})
	if !errors.Is(err, readapi.ErrNoAccess) {
		t.Fatalf("New: got %v, want ErrNoAccess", err)
	}
}

func TestRoutesIncludeBuiltins(t *testing.T) {
	api, err := readapi.New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range api.Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	for _, want := range []string{
		"GET /healthz", "GET /readyz", "GET /v1/openapi.json",
		"GET /v1/things/:id", "POST /v1/things",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Routes() lacks %s; has %v", want, got)
		}
	}
}

func TestProtectedRoute(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	cases := []struct {
		name      string
		token     string
		status    int
		typ       string
		challenge string
	}{
		{"no token", "", http.StatusUnauthorized, readapi.TypeUnauthenticated,
			`Bearer realm="whitecross"`},
		{"token refused", "forged", http.StatusUnauthorized, readapi.TypeUnauthenticated,
			`Bearer realm="whitecross", error="invalid_token"`},
		{"lacks the capability", auditorToken, http.StatusForbidden, readapi.TypeForbidden, ""},
		{"Authenticate answers a problem", downToken, http.StatusServiceUnavailable,
			readapi.TypeUnavailable, ""},
		{"has the capability", nurseToken, http.StatusOK, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := call(t, http.MethodGet, srv.URL+"/v1/things/t-1", c.token, nil)
			if got := resp.Header.Get(echo.HeaderWWWAuthenticate); got != c.challenge {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, c.challenge)
			}
			if c.typ != "" {
				mustProblem(t, resp, body, c.status, c.typ)
				return
			}
			if resp.StatusCode != c.status {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			var got thing
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.ID != "t-1" || got.ReadBy != "u-nurse" {
				t.Errorf("body: got %+v, want id t-1 read by u-nurse", got)
			}
		})
	}
}

func TestAuthenticatedRouteNeedsNoCapability(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	body := strings.NewReader(`{"name":"x","dose":1}`)
	resp, b := call(t, http.MethodPost, srv.URL+"/v1/things", auditorToken, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status: got %d, want 201 (%s)", resp.StatusCode, b)
	}
}
