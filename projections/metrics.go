package projections

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Runner's Prometheus series, labelled by projection.
type metrics struct {
	position   *prometheus.GaugeVec
	lagEvents  *prometheus.GaugeVec
	lagSeconds *prometheus.GaugeVec
	failures   *prometheus.CounterVec
}

// newMetrics makes the series and registers them with reg, when it is not
// nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	label := []string{"projection"}
	m := &metrics{
		position: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_position",
			Help: "Position of the last event the projection applied.",
		}, label),
		lagEvents: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_lag_events",
			Help: "Events in the log that the projection has not applied yet.",
		}, label),
		lagSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_lag_seconds",
			Help: "Recorded time of the newest event minus that of the projection's last one.",
		}, label),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whitecross_projection_failures_total",
			Help: "Failed attempts to apply an event, retries included.",
		}, label),
	}
	if reg == nil {
		return m, nil
	}

	var errs []error
	for _, c := range []prometheus.Collector{m.position, m.lagEvents, m.lagSeconds, m.failures} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return m, nil
}

// lag records how far behind the log's head a projection is.
func (m *metrics) lag(projection string, events uint64, seconds float64) {
	m.lagEvents.WithLabelValues(projection).Set(float64(events))
	m.lagSeconds.WithLabelValues(projection).Set(seconds)
}
