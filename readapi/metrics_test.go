package readapi_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/internal/promtest"
	"github.com/whitecross/whitecross/readapi"
)

func TestMetricsByRoutePattern(t *testing.T) {
	api, srv := mustServe(t, testConfig())
	other := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "whitecross_test_total", Help: "A metric of another package.",
	})
	api.Registry().MustRegister(other)
	other.Inc()

	call(t, http.MethodGet, srv.URL+"/v1/things/3f2a-student-id", nurseToken, nil)
	call(t, http.MethodGet, srv.URL+"/v1/things/9c1d-student-id", nurseToken, nil)
	call(t, http.MethodGet, srv.URL+"/v1/things/9c1d-student-id", "", nil)
	call(t, http.MethodGet, srv.URL+"/v1/nothing/7e5b-student-id", "", nil)
	metrics := httptest.NewServer(api.MetricsHandler())
	defer metrics.Close()
	resp, body := call(t, http.MethodGet, metrics.URL+"/metrics", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}

	scrape := string(body)
	for _, want := range []string{
		`whitecross_http_requests_total{method="GET",route="/v1/things/:id",status="200"} 2`,
		`whitecross_http_requests_total{method="GET",route="/v1/things/:id",status="401"} 1`,
		`whitecross_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`whitecross_http_request_duration_seconds_count{method="GET",route="/v1/things/:id"} 3`,
		`whitecross_test_total 1`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(scrape, "student-id") {
		t.Error("scrape holds a raw path")
	}
}

// TestMetricsHaveTheirOwnListener: Serve answers the metrics on
// MetricsAddr, and the API's address does not serve them.
func TestMetricsHaveTheirOwnListener(t *testing.T) {
	cfg := testConfig()
	cfg.MetricsAddr = freeAddr(t)
	api, err := readapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cancel, addr, done := serve(t, api)
	waitUp(t, http.DefaultClient, "http://"+addr+"/healthz").Body.Close()

	resp := waitUp(t, http.DefaultClient, "http://"+cfg.MetricsAddr+"/metrics")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "whitecross_http_requests_total") {
		t.Errorf("GET /metrics on the metrics address: %d", resp.StatusCode)
	}
	if resp, _ := call(t, http.MethodGet, "http://"+addr+"/metrics", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the API's address: %d, want 404", resp.StatusCode)
	}
	if resp, _ := call(t, http.MethodGet, "http://"+cfg.MetricsAddr+"/healthz", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the API on the metrics address: %d, want 404", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
}

// TestServeRefusesAMetricsAddressInUse: an address that cannot be
// listened on fails Serve at once, the API's included.
func TestServeRefusesAMetricsAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig()
	cfg.MetricsAddr = taken.Addr().String()
	api, err := readapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	if err := api.Serve(t.Context(), addr); err == nil {
		t.Fatal("Serve with the metrics address in use: nil error")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the API answers although Serve failed")
	}
}

func TestServersShareARegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	for range 2 {
		cfg := testConfig()
		cfg.Metrics = reg
		if _, err := readapi.New(cfg); err != nil {
			t.Fatalf("New with a shared registry: %v", err)
		}
	}
}

// TestReadinessOnMetrics: each readiness check is a series, 1 while it
// passes and 0 once it fails, measured at each scrape.
func TestReadinessOnMetrics(t *testing.T) {
	var down atomic.Bool
	cfg := testConfig()
	cfg.Checks = map[string]readapi.Check{
		"database": func(context.Context) error { return nil },
		"ledger": func(context.Context) error {
			if down.Load() {
				return errors.New("sealing stopped")
			}
			return nil
		},
	}
	api, _ := mustServe(t, cfg)
	for _, tt := range []struct {
		down   bool
		ledger float64
	}{
		{false, 1},
		{true, 0},
	} {
		down.Store(tt.down)
		if got := promtest.Value(t, api.Registry(), "whitecross_ready", "check", "database"); got != 1 {
			t.Errorf("ledger down %v: database ready %v, want 1", tt.down, got)
		}
		if got := promtest.Value(t, api.Registry(), "whitecross_ready", "check", "ledger"); got != tt.ledger {
			t.Errorf("ledger down %v: ledger ready %v, want %v", tt.down, got, tt.ledger)
		}
	}
}
