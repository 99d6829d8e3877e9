package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// httpMetrics count and time requests by method, route pattern and
// status. The route is always a registered pattern or "unmatched": never
// a raw path, which carries identifiers.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// unrecorded counts the access events the log could not append, by
	// event type.
	unrecorded *prometheus.CounterVec
}

// auditedTypes are the access events whose failures are counted, each
// from 0 so that the first failure shows as an increase.
var auditedTypes = []string{
	domain.PHIAccessed{}.EventType(), domain.PHIAccessRefused{}.EventType(),
}

// newHTTPMetrics registers the HTTP metrics and the Go and process
// collectors in reg. A registry shared by two servers keeps the first
// server's collectors, and both count into them.
func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	requests, err := registerOnce(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whitecross_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status.",
	}, []string{"method", "route", "status"}))
	if err != nil {
		return nil, err
	}
	duration, err := registerOnce(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "whitecross_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by method and route pattern.",
		Buckets: []float64{
			.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10,
		},
	}, []string{"method", "route"}))
	if err != nil {
		return nil, err
	}
	unrecorded, err := registerOnce(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whitecross_access_event_failures_total",
		Help: "Access events the log could not append, by type: each PHIAccessed one is " +
			"a read answered 503 without its health information.",
	}, []string{"type"}))
	if err != nil {
		return nil, err
	}
	for _, t := range auditedTypes {
		unrecorded.WithLabelValues(t)
	}
	if _, err := registerOnce(reg, collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	_, err = registerOnce(reg, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err != nil {
		return nil, err
	}
	return &httpMetrics{requests: requests, duration: duration, unrecorded: unrecorded}, nil
}

// countUnrecorded makes a count every access event a's log refuses.
func (m *httpMetrics) countUnrecorded(a *commands.Auditor) {
	a.OnUnrecorded(func(eventType string) {
		if !slices.Contains(auditedTypes, eventType) {
			eventType = "other"
		}
		m.unrecorded.WithLabelValues(eventType).Inc()
	})
}

// registerOnce registers c in reg, or returns the collector already
// registered in its place.
func registerOnce[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		return c, fmt.Errorf("register collector: %w", err)
	}
	return c, nil
}

// middleware observes every request once its status is final.
func (m *httpMetrics) middleware(route func(echo.Context) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			method, r := methodLabel(c.Request().Method), route(c)
			status := strconv.Itoa(c.Response().Status)
			m.requests.WithLabelValues(method, r, status).Inc()
			m.duration.WithLabelValues(method, r).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// routeLabel returns the pattern of the route c matched, or "unmatched"
// for a path no route has (a 404), whose raw path is never a label.
func (s *Server) routeLabel(c echo.Context) string {
	if p := c.Path(); s.patterns[p] {
		return p
	}
	return "unmatched"
}

// methodLabel returns method when it is a standard one and "other"
// otherwise, so that a client cannot make up label values.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}

// readinessCollector reports, at each scrape, whether each of /readyz's
// checks passes: whitecross_ready{check} is 1 when it does, 0 when it
// fails. The checks run as /readyz runs them, within CheckTimeout.
type readinessCollector struct {
	s    *Server
	desc *prometheus.Desc
}

func newReadinessCollector(s *Server) *readinessCollector {
	return &readinessCollector{s: s, desc: prometheus.NewDesc("whitecross_ready",
		"1 when the readiness check passes, 0 when it fails, as GET /readyz would answer now.",
		[]string{"check"}, nil)}
}

func (c *readinessCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *readinessCollector) Collect(ch chan<- prometheus.Metric) {
	for name, err := range c.s.runChecks(context.Background()) {
		v := 1.0
		if err != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name)
	}
}
