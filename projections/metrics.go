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
	// state is 1 for the state a projection is in and 0 for the others;
	// failedAt is the position of the event it stopped at.
	state    *prometheus.GaugeVec
	failedAt *prometheus.GaugeVec
	// owned is 1 while this process runs the projection, 0 while it
	// follows another that does.
	owned *prometheus.GaugeVec
}

// reportedStates are the values of the state label.
var reportedStates = []State{StateRunning, StateCatchingUp, StateFailed}

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
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_state",
			Help: "1 for the state the projection is in (running, catching_up, failed), 0 for the others.",
		}, []string{"projection", "state"}),
		failedAt: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_failed_position",
			Help: "Position of the event the projection stopped at; 0 while it runs, " +
				"or when it stopped because its subscription ended.",
		}, label),
		owned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_projection_owned",
			Help: "1 while this process applies the projection's events, 0 while it " +
				"follows another process that does.",
		}, label),
	}
	if reg == nil {
		return m, nil
	}

	var errs []error
	collectors := []prometheus.Collector{
		m.position, m.lagEvents, m.lagSeconds, m.failures, m.state, m.failedAt, m.owned,
	}
	for _, c := range collectors {
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

// setState records that projection is in state, stopped at the event at
// failedAt when it has failed.
func (m *metrics) setState(projection string, state State, failedAt uint64) {
	for _, s := range reportedStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(projection, string(s)).Set(v)
	}
	m.failedAt.WithLabelValues(projection).Set(float64(failedAt))
}

// setOwned records whether this process runs projection.
func (m *metrics) setOwned(projection string, owned bool) {
	v := 0.0
	if owned {
		v = 1
	}
	m.owned.WithLabelValues(projection).Set(v)
}
