// Command benchreport turns the output of `go test -bench` into the
// results section of docs/benchmarks.md: the median of every metric over
// the runs, each target beside its figure and the limit measured in the
// same run. It rewrites only the text between the markers
// "<!-- bench:start -->" and "<!-- bench:end -->".
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	startMark = "<!-- bench:start -->"
	endMark   = "<!-- bench:end -->"
)

func main() {
	in := flag.String("in", ".data/bench.txt", "go test -bench output")
	out := flag.String("out", "docs/benchmarks.md", "document to update")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := parse(f)
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := render(res, time.Now())
	return os.WriteFile(out, splice(doc, section), 0o644)
}

// results holds every value of every metric, by benchmark and unit.
type results struct {
	cpu     string
	values  map[string]map[string][]float64
	ordered []string
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (*results, error) {
	res := &results{values: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			res.cpu = cpu
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := strings.TrimPrefix(m[1], "Benchmark")
		if res.values[name] == nil {
			res.values[name] = map[string][]float64{}
			res.ordered = append(res.ordered, name)
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			res.values[name][fields[i+1]] = append(res.values[name][fields[i+1]], v)
		}
	}
	if len(res.ordered) == 0 {
		return nil, fmt.Errorf("no benchmark results found")
	}
	return res, sc.Err()
}

// slowest returns the benchmark named prefix+something, "all" aside, whose
// median of unit is the lowest; "" when there is none.
func (r *results) slowest(prefix, unit string) string {
	best, low := "", 0.0
	for _, name := range r.ordered {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "all" {
			continue
		}
		if m, _, ok := r.median(name, unit); ok && (best == "" || m < low) {
			best, low = name, m
		}
	}
	return best
}

// median returns the median of name's unit and how many runs it has.
func (r *results) median(name, unit string) (float64, int, bool) {
	vs := slices.Clone(r.values[name][unit])
	if len(vs) == 0 {
		return 0, 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], len(vs), true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, len(vs), true
}

// target is one row of the design's table of targets.
type target struct {
	what        string
	bench, unit string
	limit       string // the benchmark measured beside it, same unit
	// check returns whether the figure meets the target, and the target
	// as written.
	check func(figure, limit float64) (bool, string)
}

var targets = []target{
	{"durable appends, 1 event each, 32 writers on distinct streams",
		"Append/writers=32/batch=1/log", "events/s", "Append/writers=32/batch=1/plain",
		atLeastShare(0.5)},
	{"the same, against a plain table with the log's indexes",
		"Append/writers=32/batch=1/log", "events/s", "Append/writers=32/batch=1/plain-indexed",
		forComparison},
	{"durable appends in batches of 100, 8 writers",
		"Append/writers=8/batch=100/log", "events/s", "Append/writers=8/batch=100/plain",
		atLeastShare(0.5)},
	{"the same, against a plain table with the log's indexes",
		"Append/writers=8/batch=100/log", "events/s", "Append/writers=8/batch=100/plain-indexed",
		forComparison},
	{"subscription delivery lag at 1,000 appends/s (p99)",
		"SubscriptionLag/log", "p99-ms", "SubscriptionLag/commit",
		func(f, _ float64) (bool, string) { return f < 50, "p99 < 50 ms" }},
	{"medication administration end to end at 500 commands/s (p99)",
		"Administration/administer", "p99-ms", "Administration/noop",
		func(f, _ float64) (bool, string) { return f < 25, "p99 < 25 ms" }},
	{"PHI read with its access event, 64 concurrent clients (throughput)",
		"ChartRead/audited", "reads/s", "ChartRead/unaudited", atLeastShare(0.5)},
	{"PHI read with its access event, 64 concurrent clients (p99)",
		"ChartRead/audited", "p99-ms", "ChartRead/unaudited",
		func(f, _ float64) (bool, string) { return f < 20, "p99 < 20 ms" }},
	{"projection rebuild from the start (the slowest read model, each rebuilt alone from a health office's log)",
		"RebuildClinical/*", "events/s", "Verify/read",
		func(f, _ float64) (bool, string) { return f >= 20000, "≥ 20,000 events/s" }},
	{"the same, every read model at once, as `whitecross replay` rebuilds them",
		"RebuildClinical/all", "events/s", "Verify/read", forComparison},
	{"the same, the students read model alone",
		"Rebuild", "events/s", "Verify/read",
		forComparison},
	{"`whitecross verify` over the whole log",
		"Verify/verify", "events/s", "Verify/read",
		func(f, _ float64) (bool, string) { return f >= 200000, "≥ 200,000 events/s" }},
	{"the same, beside SHA-256 of the bytes it hashes, already in memory",
		"Verify/verify", "events/s", "Verify/sha256",
		forComparison},
	{"hashing one event (digest and chain hash)",
		"Hash/event", "events/s", "Hash/sha256",
		forComparison},
	{"sealing a 200,000-event log into the ledger's tree, from empty",
		"Seal/seal", "events/s", "Seal/sha256",
		forComparison},
	{"export bundle of a 1,000,000-event log, whole, digests only",
		"Export/all", "events/s", "Verify/read", forComparison},
	{"the same, the most heap held (the bundle is about 580 MiB)",
		"Export/all", "peak-heap-MiB", "", forComparison},
	{"export bundle of half the log's time range",
		"Export/time-range", "events/s", "Verify/read", forComparison},
	{"`whitecross verify-bundle` of the 1,000,000-event bundle",
		"Export/verify", "events/s", "Verify/verify", forComparison},
	{"the same, the most heap held",
		"Export/verify", "peak-heap-MiB", "", forComparison},
}

// forComparison marks a row shown for comparison, with no target of its own.
func forComparison(float64, float64) (bool, string) { return true, "" }

func atLeastShare(share float64) func(float64, float64) (bool, string) {
	return func(f, l float64) (bool, string) {
		return l > 0 && f >= share*l, fmt.Sprintf("≥ %.0f%% of the limit", share*100)
	}
}

func render(r *results, now time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Measured %s on %s (%d cores as Go sees them, %s, %s/%s).\n",
		now.UTC().Format("2006-01-02"), orUnknown(r.cpu), runtime.NumCPU(), memTotal(),
		runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "Each figure is the median of the runs in one `make bench`; the limit beside it\n")
	fmt.Fprintf(&b, "was measured in the same run.\n\n")
	fmt.Fprintln(&b, "| what | figure | limit measured beside it | ratio | target | met |")
	fmt.Fprintln(&b, "| --- | --- | --- | --- | --- | --- |")
	for _, t := range targets {
		bench := t.bench
		if prefix, ok := strings.CutSuffix(bench, "/*"); ok {
			bench = r.slowest(prefix+"/", t.unit)
		}
		fig, n, ok := r.median(bench, t.unit)
		if !ok {
			fmt.Fprintf(&b, "| %s | not measured | | | | |\n", t.what)
			continue
		}
		lim, _, hasLim := r.median(t.limit, t.unit)
		met, want := t.check(fig, lim)
		limit, ratio := "", ""
		if hasLim {
			limit = fmt.Sprintf("%s %s (%s)", num(lim), t.unit, t.limit)
			ratio = fmt.Sprintf("%.0f%%", 100*fig/lim)
		}
		verdict := yesNo(met)
		if want == "" {
			want, verdict = "(for comparison)", "—"
		}
		which := ""
		if bench != t.bench {
			which = ", " + bench
		}
		fmt.Fprintf(&b, "| %s | %s %s (n=%d%s) | %s | %s | %s | %s |\n",
			t.what, num(fig), t.unit, n, which, limit, ratio, want, verdict)
	}
	fmt.Fprintln(&b, "\nEvery benchmark, medians:")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| benchmark | runs | medians |")
	fmt.Fprintln(&b, "| --- | --- | --- |")
	for _, name := range r.ordered {
		units := make([]string, 0, len(r.values[name]))
		for u := range r.values[name] {
			units = append(units, u)
		}
		slices.Sort(units)
		var parts []string
		var runs int
		for _, u := range units {
			v, n, _ := r.median(name, u)
			runs = n
			parts = append(parts, num(v)+" "+u)
		}
		fmt.Fprintf(&b, "| %s | %d | %s |\n", name, runs, strings.Join(parts, ", "))
	}
	return b.Bytes()
}

func num(v float64) string {
	switch {
	case v >= 1000:
		s := strconv.FormatFloat(v, 'f', 0, 64)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed CPU"
	}
	return s
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.0f GiB of memory", kb/(1<<20))
		}
	}
	return "memory unknown"
}

// splice puts section between the markers of doc, appending the markers
// when doc has none.
func splice(doc, section []byte) []byte {
	start := bytes.Index(doc, []byte(startMark))
	end := bytes.Index(doc, []byte(endMark))
	if start < 0 || end < start {
		doc = append(doc, "\n"+startMark+"\n"+endMark+"\n"...)
		start = bytes.Index(doc, []byte(startMark))
		end = bytes.Index(doc, []byte(endMark))
	}
	var out bytes.Buffer
	out.Write(doc[:start+len(startMark)])
	out.WriteString("\n")
	out.Write(section)
	out.Write(doc[end:])
	return out.Bytes()
}
