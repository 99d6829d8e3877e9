//go:build faults

package loadtest_test

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/internal/loadtest"
)

var outage = flag.Duration("load.outage", 3*time.Second, "how long PostgreSQL stays stopped")

// faultAt is when, into the load, the fault strikes.
func faultAt() time.Duration { return *duration * 2 / 5 }

// TestCrashDuringLoad kills the server with SIGKILL two fifths into the
// load and starts it again on the same database while the callers go
// on. Only requests that overlap the time the process was down may go
// without an answer; every other answer must be one its request may get.
// Then every event a command was acknowledged with is in the log where
// its answer placed it, every dose answered 422 is recorded as blocked,
// every chart or list of health information answered has its access
// event, the read models equal a rebuild from the log, and `whitecross
// verify` exits 0.
func TestCrashDuringLoad(t *testing.T) {
	st := newStage(t)
	done := make(chan *loadtest.Result, 1)
	go func() { done <- loadtest.Play(t.Context(), st.client, st.district, st.config()) }()

	time.Sleep(faultAt())
	killed := time.Now()
	st.server.Kill()
	st.server.Start()
	up := time.Now()
	if err := st.server.WaitReady(time.Minute); err != nil {
		t.Fatal(err)
	}
	ready := time.Now()
	res := <-done

	lost, unexpected := splitByWindow(res.Unexpected(), func(o loadtest.Outcome) bool {
		return o.Status == 0 && overlaps(o, killed, up)
	})
	failOnUnexpected(t, unexpected)
	servedAfter(t, res, ready)
	loadtest.CheckPromises(t.Context(), t, st.checker, res)
	caughtUp := loadtest.CheckRebuild(t.Context(), t, st.server, st.checker)

	report(t, "faults-crash.txt", "load with a crash", res, caughtUp,
		fmt.Sprintf("SIGKILL %s into the load; /healthz answered %s after it, /readyz 200 %s after it",
			faultAt(), seconds(up.Sub(killed)), seconds(ready.Sub(killed))),
		fmt.Sprintf("%d requests got no answer while the process was down; %d other answers unexpected",
			len(lost), len(unexpected)))
}

// TestPostgresRestartDuringLoad stops a private PostgreSQL cluster (fast
// shutdown: every connection is cut) two fifths into the load, keeps it
// down for -load.outage, and starts it again, while the callers go on
// and /readyz is asked every 100ms. The service must recover by itself:
// /readyz answers something other than 200 while the database is down,
// and 200 again after; a request may be answered 503 only if it was still
// being served when the stop began, or sent before /readyz was 200 again,
// and every other answer must be one its
// request may get. Then, as after a crash: nothing acknowledged is
// missing, no health information went out without its access event, the
// read models equal a rebuild, and verify exits 0.
func TestPostgresRestartDuringLoad(t *testing.T) {
	cluster := loadtest.NewCluster(t)
	t.Setenv("WHITECROSS_DATABASE_URL", cluster.URL)
	st := newStage(t)
	watch, stopWatching := context.WithCancel(t.Context())
	samples := st.server.WatchReady(watch, 100*time.Millisecond)
	done := make(chan *loadtest.Result, 1)
	go func() { done <- loadtest.Play(t.Context(), st.client, st.district, st.config()) }()

	time.Sleep(faultAt())
	stopping := time.Now()
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(*outage)
	starting := time.Now()
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	res := <-done
	stopWatching()
	ready := samples()

	begin, end, ok := loadtest.Outage(ready, stopping)
	switch {
	case !ok:
		t.Fatal("/readyz answered 200 throughout the outage")
	case end.IsZero():
		t.Fatalf("/readyz did not answer 200 again after the database came back")
	}
	for _, s := range ready {
		if s.At.After(stopped) && s.At.Before(starting) && s.Status == 200 {
			t.Errorf("/readyz answered 200 at %s, while the database was down", s.At.Format("15:04:05.000"))
		}
	}
	// A request still being served when the stop began may meet it too.
	refused, unexpected := splitByWindow(res.Unexpected(), func(o loadtest.Outcome) bool {
		return o.Status == 503 && !o.Start.Add(o.Latency).Before(stopping) && !o.Start.After(end)
	})
	failOnUnexpected(t, unexpected)
	servedAfter(t, res, end)
	checker := loadtest.NewChecker(st.db.AdminPool(t))
	loadtest.CheckPromises(t.Context(), t, checker, res)
	caughtUp := loadtest.CheckRebuild(t.Context(), t, st.server, checker)

	report(t, "faults-postgres.txt", "load with a database restart", res, caughtUp,
		fmt.Sprintf("PostgreSQL stopped %s into the load (the fast shutdown took %s), down %s, "+
			"started again (the start took %s)", faultAt(), seconds(stopped.Sub(stopping)),
			seconds(starting.Sub(stopped)), seconds(started.Sub(starting))),
		fmt.Sprintf("/readyz not 200 from %s after the stop began to %s after the start began: "+
			"a window of %s", seconds(begin.Sub(stopping)), seconds(end.Sub(starting)), seconds(end.Sub(begin))),
		fmt.Sprintf("%d requests answered 503 in that window; %d other answers unexpected",
			len(refused), len(unexpected)))
}

// servedAfter fails t unless the load got the answers it expected, reads
// and commands, to requests sent after recovered.
func servedAfter(t *testing.T, res *loadtest.Result, recovered time.Time) {
	t.Helper()
	reads, commands := 0, 0
	for _, o := range res.Outcomes {
		switch {
		case !o.Expected || o.Start.Before(recovered):
		case strings.HasPrefix(o.Route, "GET "):
			reads++
		default:
			commands++
		}
	}
	if reads == 0 || commands == 0 {
		t.Errorf("after the recovery %d reads and %d commands got the answer expected, want some of each",
			reads, commands)
	}
}

// splitByWindow returns the outcomes accepted by allowed, and the rest.
func splitByWindow(outcomes []loadtest.Outcome, allowed func(loadtest.Outcome) bool) (in, out []loadtest.Outcome) {
	for _, o := range outcomes {
		if allowed(o) {
			in = append(in, o)
		} else {
			out = append(out, o)
		}
	}
	return in, out
}

// overlaps reports whether o was on its way at some time from from to
// to.
func overlaps(o loadtest.Outcome, from, to time.Time) bool {
	return !o.Start.After(to) && !o.Start.Add(o.Latency).Before(from)
}
