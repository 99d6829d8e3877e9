package loadtest_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/internal/loadtest"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// stage is a service under test: its process, a client, the district
// seeded on it and a checker of its database.
type stage struct {
	db       *pgtest.DB
	server   *loadtest.Server
	client   *loadtest.Client
	district *loadtest.District
	checker  *loadtest.Checker
}

// newStage starts the service on a fresh database of the server that
// pgtest uses, seeds a district with three students per caller, and
// waits until the read models hold it.
func newStage(t *testing.T) *stage {
	t.Helper()
	st := &stage{db: pgtest.New(t)}
	st.server = loadtest.NewServer(t, bin, st.db.URL)
	st.server.Start()
	st.client = loadtest.NewClient(st.server.URL(), *clients)
	var err error
	st.district, err = loadtest.SeedDistrict(t.Context(), st.server, st.client,
		loadtest.DistrictConfig{Students: max(96, 3*(*clients))})
	if err != nil {
		t.Fatalf("seed the district: %v", err)
	}
	st.checker = loadtest.NewChecker(st.db.AdminPool(t))
	// The load reads what the seeding wrote: the read models must have
	// it first, as a caller's after= would ask.
	if err := st.checker.WaitProjections(t.Context(), time.Minute); err != nil {
		t.Fatal(err)
	}
	return st
}

func (st *stage) config() loadtest.Config {
	return loadtest.Config{Clients: *clients, Duration: *duration, Seed: 1}
}

// TestLoad plays the mixed load (four reads in five, one command in
// five) on the real binary for -load.duration (5s in `make test`, 60s in
// `make load`) and reports p50 and p99 per route and the throughput. It
// fails on any answer a request may not get (a 5xx, another status, no
// answer), then holds every answer against the log, and the read models
// against a rebuild.
func TestLoad(t *testing.T) {
	st := newStage(t)
	res := loadtest.Play(t.Context(), st.client, st.district, st.config())
	if len(res.Outcomes) == 0 || len(res.Acks) == 0 || len(res.Blocked) == 0 {
		t.Fatalf("the load sent %d requests, %d commands acknowledged, %d doses blocked: too few to judge",
			len(res.Outcomes), len(res.Acks), len(res.Blocked))
	}
	failOnUnexpected(t, res.Unexpected())
	loadtest.CheckPromises(t.Context(), t, st.checker, res)
	caughtUp := loadtest.CheckRebuild(t.Context(), t, st.server, st.checker)
	report(t, "load.txt", "load", res, caughtUp)
}

// report logs, and writes to file, what a fault test saw: lines, how
// long the projections took to reach the head after the load, whether
// the checks passed, then the load's table under title.
func report(t *testing.T, file, title string, res *loadtest.Result, caughtUp time.Duration, lines ...string) {
	t.Helper()
	verdict := "every check passed"
	if t.Failed() {
		verdict = "checks FAILED (see the test's log)"
	}
	lines = append(lines, fmt.Sprintf("after the load the projections reached the head in %s; %s",
		seconds(caughtUp), verdict))
	var b strings.Builder
	b.WriteString(strings.Join(lines, "\n") + "\n\n")
	res.WriteTable(&b, title)
	t.Logf("\n%s", b.String())
	writeReport(t, file, b.String())
}

// failOnUnexpected fails t for the outcomes, naming the first few.
func failOnUnexpected(t *testing.T, outcomes []loadtest.Outcome) {
	t.Helper()
	if len(outcomes) == 0 {
		return
	}
	var lines []string
	for _, o := range outcomes[:min(5, len(outcomes))] {
		lines = append(lines, fmt.Sprintf("  %s at %s (request %s): %s", o.Route,
			o.Start.Format("15:04:05.000"), o.RequestID, o.Describe()))
	}
	kinds := map[string]int{}
	for _, o := range outcomes {
		kinds[fmt.Sprintf("%s: %d", o.Route, o.Status)]++
	}
	lines = append(lines, "  by route and status:")
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		lines = append(lines, fmt.Sprintf("    %s ×%d", k, kinds[k]))
	}
	t.Errorf("%d answers a request may not get, the first:\n%s", len(outcomes), strings.Join(lines, "\n"))
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
