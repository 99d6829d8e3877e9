package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// TestHealth asks a running service, one that answers 503 and an address
// where nothing listens: exit 0 only for the first.
func TestHealth(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	addr, _, done := startServe(ctx, t, pgtest.New(t), &bytes.Buffer{})
	defer func() { cancel(); <-done }()
	waitFor(t, "http://"+addr+"/readyz")

	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer notReady.Close()

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ready", []string{"--http-addr", addr}, 0, "GET /readyz: ok"},
		{"live", []string{"--http-addr", ":" + port(t, addr), "--path", "/healthz"}, 0, "GET /healthz: ok"},
		{"not ready", []string{"--http-addr", strings.TrimPrefix(notReady.URL, "http://")}, 1,
			"503 Service Unavailable"},
		{"nothing listens", []string{"--http-addr", freeAddr(t)}, 1, "connection refused"},
		{"bad path", []string{"--http-addr", addr, "--path", "/metrics"}, 1, "--path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(t.Context(), append([]string{"health"}, tt.args...), &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("exit %d, output %q; want %d and %q", code, out.String(), tt.code, tt.want)
			}
		})
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
