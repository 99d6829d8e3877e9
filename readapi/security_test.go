package readapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/readapi"
)

func TestSecurityHeaders(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	always := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "no-referrer",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	cases := []struct {
		name, path, token, cacheControl string
	}{
		{"health", "/healthz", "", ""},
		{"public /v1", "/v1/public", "", "no-store"},
		{"PHI", "/v1/things/1", nurseToken, "no-store"},
		{"refused", "/v1/things/1", "", "no-store"},
		{"no route", "/v1/nothing", "", "no-store"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := call(t, http.MethodGet, srv.URL+c.path, c.token, nil)
			for name, want := range always {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s: got %q, want %q", name, got, want)
				}
			}
			if got := resp.Header.Get("Cache-Control"); got != c.cacheControl {
				t.Errorf("Cache-Control: got %q, want %q", got, c.cacheControl)
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Strict-Transport-Security without TLS: %q", got)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	const webApp = "https://nurse.example.org"
	cfg := testConfig()
	cfg.AllowedOrigins = []string{webApp}
	_, srv := mustServe(t, cfg)
	_, closed := mustServe(t, testConfig())

	cases := []struct {
		name, url, origin string
		allowed           bool
	}{
		{"configured origin", srv.URL, webApp, true},
		{"other origin", srv.URL, "https://evil.example.com", false},
		{"subdomain of the origin", srv.URL, "https://x.nurse.example.org", false},
		{"no origin configured", closed.URL, webApp, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := call(t, http.MethodOptions, c.url+"/v1/things/1", "", nil,
				echo.HeaderOrigin, c.origin,
				echo.HeaderAccessControlRequestMethod, http.MethodGet,
				echo.HeaderAccessControlRequestHeaders, "authorization,idempotency-key")
			got := resp.Header.Get(echo.HeaderAccessControlAllowOrigin)
			if !c.allowed {
				if got != "" {
					t.Errorf("preflight from %s allowed: %q", c.origin, got)
				}
				return
			}
			if resp.StatusCode != http.StatusNoContent || got != c.origin {
				t.Fatalf("preflight: status %d, Allow-Origin %q", resp.StatusCode, got)
			}
			methods := resp.Header.Get(echo.HeaderAccessControlAllowMethods)
			headers := resp.Header.Get(echo.HeaderAccessControlAllowHeaders)
			if !strings.Contains(methods, http.MethodPost) || !strings.Contains(headers, "Idempotency-Key") {
				t.Errorf("Allow-Methods %q, Allow-Headers %q", methods, headers)
			}
			if resp.Header.Get(echo.HeaderAccessControlAllowCredentials) != "" {
				t.Error("credentials allowed")
			}

			resp, _ = call(t, http.MethodGet, c.url+"/v1/things/1", nurseToken, nil,
				echo.HeaderOrigin, c.origin)
			if got := resp.Header.Get(echo.HeaderAccessControlExposeHeaders); got != echo.HeaderXRequestID {
				t.Errorf("Expose-Headers: got %q, want X-Request-Id", got)
			}
		})
	}
}

// unsized hides a reader's length, so that the request is sent chunked
// and only the reader can find the body too large.
type unsized struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 64
	_, srv := mustServe(t, cfg)
	big := `{"name":"` + strings.Repeat("x", 100) + `","dose":1}`
	cases := []struct {
		name  string
		token string
		body  io.Reader
	}{
		{"Content-Length over the limit, before authentication", "", strings.NewReader(big)},
		{"chunked body over the limit", nurseToken, unsized{strings.NewReader(big)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := call(t, http.MethodPost, srv.URL+"/v1/things", c.token, c.body)
			mustProblem(t, resp, b, http.StatusRequestEntityTooLarge, readapi.TypeBodyTooLarge)
		})
	}

	resp, b := call(t, http.MethodPost, srv.URL+"/v1/things", nurseToken,
		strings.NewReader(`{"name":"x","dose":1}`))
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("body under the limit: status %d (%s)", resp.StatusCode, b)
	}
}

func TestRequestTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.RequestTimeout = 50 * time.Millisecond
	_, srv := mustServe(t, cfg)
	resp, b := call(t, http.MethodGet, srv.URL+"/v1/slow", "", nil)
	mustProblem(t, resp, b, http.StatusServiceUnavailable, readapi.TypeUnavailable)
}

func TestRequestID(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"kept", "web-7f3a.9_b", true},
		{"none sent", "", false},
		{"unsafe replaced", "a b\"c", false},
		{"too long replaced", strings.Repeat("a", 65), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var header []string
			if c.sent != "" {
				header = []string{echo.HeaderXRequestID, c.sent}
			}
			resp, _ := call(t, http.MethodGet, srv.URL+"/healthz", "", nil, header...)
			got := resp.Header.Get(echo.HeaderXRequestID)
			switch {
			case c.kept && got != c.sent:
				t.Errorf("X-Request-Id: got %q, want %q", got, c.sent)
			case !c.kept && (got == "" || got == c.sent):
				t.Errorf("X-Request-Id: got %q, want a new one", got)
			}
		})
	}
}
