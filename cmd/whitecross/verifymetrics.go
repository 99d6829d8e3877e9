package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// verifyOutcome is what a run of verify found.
type verifyOutcome struct {
	start    time.Time
	checked  uint64
	problems int
}

// The series of a verify's metrics file.
const (
	verifyLastRun     = "whitecross_verify_last_run_timestamp_seconds"
	verifyLastSuccess = "whitecross_verify_last_success_timestamp_seconds"
	verifyProblems    = "whitecross_verify_problems"
	verifyChecked     = "whitecross_verify_events_checked"
)

// checkMetricsFile refuses a metrics file that node_exporter's textfile
// collector would not read, or one asked of a verify of a single stream,
// which says nothing of the whole log.
func checkMetricsFile(path, stream string) error {
	switch {
	case path == "":
		return nil
	case stream != "":
		return errors.New("--metrics-file: it reports a verify of the whole log; drop --stream")
	case !strings.HasSuffix(path, ".prom"):
		return errors.New("--metrics-file: the textfile collector reads only files named *.prom")
	}
	return nil
}

// writeVerifyMetrics replaces the file at path with the outcome of a run:
// when it ran, when a run last found the log intact (now when intact is
// true, else what the file said before), the problems it found and the
// events it checked. The file is written beside path and renamed onto
// it, so that a scrape never reads half of it.
func writeVerifyMetrics(path string, out verifyOutcome, intact bool) error {
	lastSuccess, err := previousSuccess(path)
	if err != nil {
		return err
	}
	if intact {
		lastSuccess = float64(out.start.Unix())
	}

	reg := prometheus.NewRegistry()
	for _, g := range []struct {
		name, help string
		value      float64
	}{
		{verifyLastRun, "When whitecross verify last ran, in Unix seconds.", float64(out.start.Unix())},
		{verifyLastSuccess, "When whitecross verify last found the log intact, in Unix seconds; " +
			"0 before it ever has.", lastSuccess},
		{verifyProblems, "Problems the last run of whitecross verify reported.", float64(out.problems)},
		{verifyChecked, "Events the last run of whitecross verify checked.", float64(out.checked)},
	} {
		gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: g.name, Help: g.help})
		gauge.Set(g.value)
		reg.MustRegister(gauge)
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("--metrics-file: %w", err)
	}
	return nil
}

// previousSuccess reads the time of the last intact run from the metrics
// file at path; 0 when there is no file or it has none.
func previousSuccess(path string) (float64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("--metrics-file: %w", err)
	}
	defer f.Close()

	lines := bufio.NewScanner(f)
	for lines.Scan() {
		value, ok := strings.CutPrefix(lines.Text(), verifyLastSuccess+" ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			return v, nil
		}
	}
	return 0, lines.Err()
}
