package ledger

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
)

// The states of whitecross_ledger_sealer_state.
const (
	// stateSealing: this process holds the lock and follows the log.
	stateSealing = "sealing"
	// stateStandby: another process holds the lock; this one waits to
	// take over.
	stateStandby = "standby"
	// stateRetrying: sealing failed (a database outage, a witness that
	// cannot be written) and starts over shortly.
	stateRetrying = "retrying"
	// stateStopped: an event does not match its hash; sealing stays
	// stopped until an operator looks.
	stateStopped = "stopped"
)

var sealerStates = []string{stateSealing, stateStandby, stateRetrying, stateStopped}

// otherType is the type label of an event whose type is not among
// SealerConfig.EventTypes.
const otherType = "other"

// metrics are a Sealer's Prometheus series. They describe this process's
// sealer only: the ages read 0 unless it is the one sealing, so that the
// maximum over every instance is the sealing one's.
type metrics struct {
	sealed   prometheus.Counter
	treeSize prometheus.Gauge
	cpSize   prometheus.Gauge
	state    *prometheus.GaugeVec
	events   *prometheus.CounterVec
	types    map[string]bool
	now      func() time.Time

	sealing atomic.Bool
	// signedAt is when the newest checkpoint was signed, and
	// unsignedSince when the oldest leaf it does not cover was sealed,
	// both in Unix nanoseconds; 0 for none.
	signedAt      atomic.Int64
	unsignedSince atomic.Int64
}

// newMetrics makes the sealer's series, with a series at 0 for each of
// types, and registers them with reg when it is not nil.
func newMetrics(reg prometheus.Registerer, types []string, now func() time.Time) (*metrics, error) {
	m := &metrics{
		sealed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "whitecross_ledger_leaves_sealed_total",
			Help: "Leaves this process has added to the ledger's tree, one per event of the log.",
		}),
		treeSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whitecross_ledger_tree_size",
			Help: "Leaves in the ledger's tree, as this process's sealer last saw it.",
		}),
		cpSize: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whitecross_ledger_checkpoint_size",
			Help: "Tree size of the newest signed checkpoint, as this process's sealer last saw it.",
		}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "whitecross_ledger_sealer_state",
			Help: "1 for the state this process's sealer is in (sealing, standby, retrying, " +
				"stopped at an event that does not match its hash), 0 for the others.",
		}, []string{"state"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whitecross_log_events_total",
			Help: "Events of the log sealed by this process, by type: each event is " +
				"counted once, by the instance that seals it.",
		}, []string{"type"}),
		types: make(map[string]bool, len(types)),
		now:   now,
	}
	for _, t := range types {
		m.types[t] = true
		m.events.WithLabelValues(t)
	}
	m.events.WithLabelValues(otherType)
	if reg == nil {
		return m, nil
	}
	return m, m.register(reg)
}

func (m *metrics) register(reg prometheus.Registerer) error {
	collectors := []prometheus.Collector{
		m.sealed, m.treeSize, m.cpSize, m.state, m.events,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "whitecross_ledger_checkpoint_age_seconds",
			Help: "Seconds since the newest checkpoint was signed; 0 unless this process " +
				"seals, or before any checkpoint.",
		}, func() float64 { return m.since(&m.signedAt) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "whitecross_ledger_unsigned_seconds",
			Help: "Seconds the oldest leaf that no checkpoint covers has waited; 0 when " +
				"every leaf is signed, or unless this process seals.",
		}, func() float64 { return m.since(&m.unsignedSince) }),
	}
	var errs []error
	for _, c := range collectors {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("register ledger metrics: %w", err)
	}
	return nil
}

// since returns the seconds from the time t holds until now; 0 when it
// holds none or this process does not seal.
func (m *metrics) since(t *atomic.Int64) float64 {
	at := t.Load()
	if at == 0 || !m.sealing.Load() {
		return 0
	}
	return max(m.now().Sub(time.Unix(0, at)).Seconds(), 0)
}

// setState records the sealer's state.
func (m *metrics) setState(state string) {
	m.sealing.Store(state == stateSealing)
	for _, s := range sealerStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(s).Set(v)
	}
}

// started records the tree a sealer found when it took the lock: size
// leaves, the newest checkpoint of signedSize signed at signedAt (the
// zero time when there is none).
func (m *metrics) started(size, signedSize int64, signedAt time.Time) {
	m.treeSize.Set(float64(size))
	m.cpSize.Set(float64(signedSize))
	m.signedAt.Store(0)
	if !signedAt.IsZero() {
		m.signedAt.Store(signedAt.UnixNano())
	}
	m.unsignedSince.Store(0)
	if size > signedSize {
		m.unsignedSince.Store(m.now().UnixNano())
	}
}

// sealedLeaves records events added to the tree, which now holds size
// leaves. The tree's size is set last, so that a reader who sees it has
// the rest.
func (m *metrics) sealedLeaves(events []eventstore.Event, size int64) {
	m.unsignedSince.CompareAndSwap(0, m.now().UnixNano())
	for i := range events {
		t := events[i].Type
		if !m.types[t] {
			t = otherType
		}
		m.events.WithLabelValues(t).Inc()
	}
	m.sealed.Add(float64(len(events)))
	m.treeSize.Set(float64(size))
}

// signed records a checkpoint signed at.
func (m *metrics) signed(c Checkpoint, at time.Time) {
	m.cpSize.Set(float64(c.Size))
	m.signedAt.Store(at.UnixNano())
	m.unsignedSince.Store(0)
}
