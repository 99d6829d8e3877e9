package readapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

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
	resp, body := call(t, http.MethodGet, srv.URL+"/metrics", "", nil)
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
