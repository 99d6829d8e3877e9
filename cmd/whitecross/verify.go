package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("verify", stderr)
	stream := fs.String("stream", "", "verify only this stream")
	maxProblems := fs.Int("max-problems", 20, "stop after reporting this many problems")
	metricsFile := fs.String("metrics-file", "",
		"write the outcome to this file (NAME.prom) for node_exporter's textfile collector")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := checkMetricsFile(*metricsFile, *stream); err != nil {
		return err
	}
	start := time.Now()
	out, err := verifyLog(ctx, c, *stream, *maxProblems, stdout)
	if *metricsFile == "" {
		return err
	}
	out.start = start
	if werr := writeVerifyMetrics(*metricsFile, out, err == nil); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// verifyLog verifies c's log, or one stream of it, printing each problem
// to stdout, up to maxProblems. It returns exitError 1 when the log is not
// intact.
func verifyLog(
	ctx context.Context,
	c config,
	stream string,
	maxProblems int,
	stdout io.Writer,
) (outcome verifyOutcome, err error) {
	d, err := openDeps(ctx, c)
	if err != nil {
		return outcome, err
	}
	defer d.Close()

	var also eventstore.Checker
	about := "one stream: the ledger is compared with the whole log only"
	if stream == "" {
		check, text, bad, err := ledgerCheck(ctx, c, d)
		if err != nil {
			return outcome, err
		}
		also, about = check, text
		for _, b := range bad {
			outcome.problems++
			fmt.Fprintf(stdout, "BAD %s\n", b)
		}
	}
	start := time.Now()
	outcome.checked, err = eventstore.Verify(ctx, d.store, eventstore.VerifyOptions{
		Stream:              stream,
		ContiguousPositions: d.contiguous,
		Also:                also,
	}, func(p eventstore.Problem) bool {
		outcome.problems++
		fmt.Fprintf(stdout, "BAD %s\n", describeProblem(p))
		return outcome.problems < maxProblems
	})
	elapsed := time.Since(start)
	rate := float64(outcome.checked) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "checked %d events in %s (%.0f events/s)\n",
		outcome.checked, elapsed.Round(time.Millisecond), rate)
	fmt.Fprintf(stdout, "ledger: %s\n", about)
	if err != nil {
		return outcome, fmt.Errorf("verify stopped after %d events: %w", outcome.checked, err)
	}
	if outcome.problems > 0 {
		fmt.Fprintf(stdout, "NOT INTACT: %d problem(s); the first is listed first\n", outcome.problems)
		return outcome, exitError{code: 1}
	}
	fmt.Fprintln(stdout, "intact: every hash, chain and revision checks out")
	return outcome, nil
}

// describeProblem prints a problem; one that concerns the whole log rather than
// an event says so.
func describeProblem(p eventstore.Problem) string {
	if p.Stream == "" {
		return "the log: " + p.What
	}
	return p.String()
}
