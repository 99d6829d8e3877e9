package loadtest

import (
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// RouteStats are one route's figures in a load. The percentiles are
// those of the requests that got an answer, expected or not.
type RouteStats struct {
	Route      string
	Requests   int
	Unexpected int
	P50, P99   time.Duration
	Max        time.Duration
}

// Stats returns the figures of each route, by name, and of all of them.
func (r *Result) Stats() (routes []RouteStats, all RouteStats) {
	by := map[string][]Outcome{}
	for _, o := range r.Outcomes {
		by[o.Route] = append(by[o.Route], o)
	}
	for _, name := range slices.Sorted(maps.Keys(by)) {
		routes = append(routes, statsOf(name, by[name]))
	}
	return routes, statsOf("all", r.Outcomes)
}

func statsOf(route string, outcomes []Outcome) RouteStats {
	s := RouteStats{Route: route, Requests: len(outcomes)}
	var lat []time.Duration
	for _, o := range outcomes {
		if !o.Expected {
			s.Unexpected++
		}
		if o.Status != 0 {
			lat = append(lat, o.Latency)
		}
	}
	slices.Sort(lat)
	s.P50, s.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	return s
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// Elapsed is how long the load ran.
func (r *Result) Elapsed() time.Duration { return r.End.Sub(r.Start) }

// Throughput is the requests answered a second, over the whole load.
func (r *Result) Throughput() float64 {
	answered := 0
	for _, o := range r.Outcomes {
		if o.Status != 0 {
			answered++
		}
	}
	return float64(answered) / r.Elapsed().Seconds()
}

// WriteTable writes the load's figures: a line saying what ran where,
// then a row per route and one for all of them.
func (r *Result) WriteTable(w io.Writer, title string) error {
	fmt.Fprintf(w, "%s: %d clients for %s on %d cores (%s, %s), %s\n", title, r.Clients,
		r.Elapsed().Round(100*time.Millisecond), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH,
		runtime.Version(), r.Start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "throughput %.0f requests/s; %d commands' events acknowledged, %d doses blocked, "+
		"%d health-record reads answered\n\n", r.Throughput(), len(r.Acks), len(r.Blocked), len(r.PHIReads))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tREQUESTS\tPER S\tP50 MS\tP99 MS\tMAX MS\tUNEXPECTED")
	routes, all := r.Stats()
	for _, s := range append(routes, all) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%d\n", s.Route, s.Requests,
			float64(s.Requests)/r.Elapsed().Seconds(), ms(s.P50), ms(s.P99), ms(s.Max), s.Unexpected)
	}
	return tw.Flush()
}

// String returns the table of WriteTable under title "load".
func (r *Result) String() string {
	var b strings.Builder
	r.WriteTable(&b, "load")
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
