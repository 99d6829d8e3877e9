package loadtest

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/projections"
)

// CheckPromises fails tb for every answer of res that the log does not
// bear out: an event of a command answered 2xx that is not where its
// answer placed it, a dose answered 422 whose blocked attempt is not
// recorded, a read of health information answered 200 that no access
// event names.
func CheckPromises(ctx context.Context, tb testing.TB, c *Checker, res *Result) {
	tb.Helper()
	acks, err := c.MissingAcks(ctx, res.Acks)
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range first(acks, 10) {
		tb.Errorf("event %s, acknowledged at position %d, is not there in the log", a.EventID, a.Position)
	}
	blocked, err := c.MissingBlocked(ctx, res.Blocked)
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range first(blocked, 10) {
		tb.Errorf("dose attempt %s was answered 422, but the log holds no blocked attempt of it", id)
	}
	reads, err := c.MissingAccesses(ctx, res.PHIReads)
	if err != nil {
		tb.Fatal(err)
	}
	for _, id := range first(reads, 10) {
		tb.Errorf("request %s was answered health information, but no access event names it", id)
	}
	if len(acks)+len(blocked)+len(reads) > 0 {
		tb.Errorf("of %d acknowledged events %d missing; of %d blocked doses %d missing; "+
			"of %d reads %d without their access event", len(res.Acks), len(acks),
			len(res.Blocked), len(blocked), len(res.PHIReads), len(reads))
	}
}

// CheckRebuild waits until the projections have reached the log's head,
// stops s, and fails tb unless `whitecross replay`, which rebuilds every
// read model from the log, leaves every table of every read model with
// the rows it had, and `whitecross verify` exits 0. It returns how long
// the projections took to reach the head.
func CheckRebuild(ctx context.Context, tb testing.TB, s *Server, c *Checker) time.Duration {
	tb.Helper()
	start := time.Now()
	if err := c.WaitProjections(ctx, 2*time.Minute); err != nil {
		tb.Fatal(err)
	}
	caughtUp := time.Since(start)
	s.Stop()
	live, err := c.ReadModels(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if code, out := s.Run(ctx, nil, "replay"); code != 0 {
		tb.Fatalf("whitecross replay: exit %d\n%s", code, out)
	}
	rebuilt, err := c.ReadModels(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	sameRows(tb, live, rebuilt)
	if code, out := s.Run(ctx, nil, "verify"); code != 0 {
		tb.Errorf("whitecross verify: exit %d\n%s", code, out)
	}
	return caughtUp
}

// sameRows fails tb for each table whose rows differ between live and
// rebuilt, and when a table the load gives rows to is empty.
func sameRows(tb testing.TB, live, rebuilt map[string][]string) {
	tb.Helper()
	for _, table := range slices.Sorted(maps.Keys(live)) {
		got, want := rebuilt[table], live[table]
		if !slices.Equal(got, want) {
			tb.Errorf("%s: %d rows live, %d rebuilt; first difference:\n live:    %s\n rebuilt: %s",
				table, len(want), len(got), firstDifference(want, got), firstDifference(got, want))
		}
	}
	for _, table := range []string{projections.StudentsTable, projections.ChartsTable,
		projections.AccessTable, projections.MedicationDosesTable} {
		if len(live[table]) == 0 {
			tb.Errorf("%s is empty after the load: the comparison proves nothing of it", table)
		}
	}
}

// firstDifference returns the first row of a that b lacks, cut short.
func firstDifference(a, b []string) string {
	in := map[string]bool{}
	for _, r := range b {
		in[r] = true
	}
	for _, r := range a {
		if !in[r] {
			return cut(r, 300)
		}
	}
	return "(none)"
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func first[T any](s []T, n int) []T { return s[:min(n, len(s))] }

// Describe returns what o got, in a few words: its status, or why no
// answer came.
func (o Outcome) Describe() string {
	if o.Status == 0 {
		return "no answer: " + strings.TrimSpace(o.Err)
	}
	return "status " + strconv.Itoa(o.Status) + " " + o.Problem
}
