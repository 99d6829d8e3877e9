package readapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/readapi"
)

func TestReadiness(t *testing.T) {
	ok := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	stopped := func(context.Context) error {
		return fmt.Errorf("projections: %w", readapi.CheckFailure{Detail: "charts stopped at position 42"})
	}
	cases := []struct {
		name    string
		checks  map[string]readapi.Check
		status  int
		states  map[string]string
		details map[string]string
	}{
		{"all up", map[string]readapi.Check{"database": ok, "event_log": ok},
			http.StatusOK, map[string]string{"database": "ok", "event_log": "ok"}, nil},
		{"event log down", map[string]readapi.Check{"database": ok, "event_log": down},
			http.StatusServiceUnavailable, map[string]string{"database": "ok", "event_log": "failing"}, nil},
		{"a failure that says what", map[string]readapi.Check{"event_log": down, "projections": stopped},
			http.StatusServiceUnavailable, map[string]string{"projections": "failing"},
			map[string]string{"projections": "charts stopped at position 42"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api, err := readapi.New(readapi.Config{Checks: c.checks, Logger: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(api.Handler())
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Status  string
				Checks  map[string]string
				Details map[string]string
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, c.status)
			}
			for name, want := range c.states {
				if body.Checks[name] != want {
					t.Errorf("check %s: got %q, want %q", name, body.Checks[name], want)
				}
			}
			if !maps.Equal(body.Details, c.details) {
				t.Errorf("details: got %q, want %q: the others' errors stay in the log", body.Details, c.details)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control: %q", resp.Header.Get("Cache-Control"))
			}
		})
	}
}
