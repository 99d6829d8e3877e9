package main

import (
	"strings"
	"testing"
	"time"
)

const sample = `goos: linux
cpu: Test CPU @ 2.0GHz
BenchmarkAppend/writers=32/batch=1/log-2   	   64797	     85044 ns/op	     11000 events/s
BenchmarkAppend/writers=32/batch=1/log-2   	   64797	     85044 ns/op	     12000 events/s
BenchmarkAppend/writers=32/batch=1/log-2   	   64797	     85044 ns/op	     13000 events/s
BenchmarkAppend/writers=32/batch=1/plain-2	   44479	    123940 ns/op	      8000 events/s
BenchmarkSubscriptionLag/log-2   	       1	3001502641 ns/op	         6.780 max-ms	         1.131 p50-ms	         2.609 p99-ms
BenchmarkSubscriptionLag/commit-2	       1	3001502641 ns/op	         4.100 max-ms	         0.900 p50-ms	         1.900 p99-ms
BenchmarkRebuildClinical/all-2         	       1	2500000000 ns/op	     15000 events/s
BenchmarkRebuildClinical/students-2    	       5	 300000000 ns/op	    120000 events/s
PASS
`

func TestReport(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if m, n, _ := res.median("Append/writers=32/batch=1/log", "events/s"); m != 12000 || n != 3 {
		t.Fatalf("median: got %v over %d runs, want 12000 over 3", m, n)
	}
	doc := []byte("# Benchmarks\n\nprose\n\n" + startMark + "\nold\n" + endMark + "\n\nmore prose\n")
	out := string(splice(doc, render(res, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))))
	for _, want := range []string{
		"prose", "more prose", "2026-12-03", "Test CPU",
		"| 12,000 events/s (n=3) | 8,000 events/s (Append/writers=32/batch=1/plain) | 150% |",
		"| 2.609 p99-ms (n=1) | 1.900 p99-ms (SubscriptionLag/commit) |", "not measured",
		"| projection rebuild from the start (the slowest read model, each rebuilt alone from a health office's log) | 120,000 events/s (n=1, RebuildClinical/students) |",
		"| the same, every read model at once, as `whitecross replay` rebuilds them | 15,000 events/s (n=1) |",
		"| ≥ 20,000 events/s | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "old") {
		t.Errorf("old section kept:\n%s", out)
	}
}

// FuzzParse reads arbitrary benchmark output: neither parse nor render
// may panic, and render keeps its table between the marks whatever the
// figures.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkX-2 1 NaN events/s\ncpu: \n")
	f.Add("BenchmarkAppend/writers=32/batch=1/log-2 1 1e309 events/s 5")
	f.Fuzz(func(t *testing.T, output string) {
		res, err := parse(strings.NewReader(output))
		if err != nil {
			return
		}
		doc := []byte(startMark + "\n" + endMark + "\n")
		out := string(splice(doc, render(res, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))))
		if !strings.HasPrefix(out, startMark) || !strings.Contains(out, endMark) {
			t.Fatalf("the report of %q lost its marks:\n%s", output, out)
		}
	})
}
