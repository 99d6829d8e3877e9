package main

import (
	"context"
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
	if err := c.parse(fs, args); err != nil {
		return err
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()

	problems := 0
	var also eventstore.Checker
	about := "one stream: the ledger is compared with the whole log only"
	if *stream == "" {
		check, text, bad, err := ledgerCheck(ctx, c, d)
		if err != nil {
			return err
		}
		also, about = check, text
		for _, b := range bad {
			problems++
			fmt.Fprintf(stdout, "BAD %s\n", b)
		}
	}
	start := time.Now()
	checked, err := eventstore.Verify(ctx, d.store, eventstore.VerifyOptions{
		Stream:              *stream,
		ContiguousPositions: d.contiguous,
		Also:                also,
	}, func(p eventstore.Problem) bool {
		problems++
		fmt.Fprintf(stdout, "BAD %s\n", describeProblem(p))
		return problems < *maxProblems
	})
	elapsed := time.Since(start)
	rate := float64(checked) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "checked %d events in %s (%.0f events/s)\n",
		checked, elapsed.Round(time.Millisecond), rate)
	fmt.Fprintf(stdout, "ledger: %s\n", about)
	if err != nil {
		return fmt.Errorf("verify stopped after %d events: %w", checked, err)
	}
	if problems > 0 {
		fmt.Fprintf(stdout, "NOT INTACT: %d problem(s); the first is listed first\n", problems)
		return exitError{code: 1}
	}
	fmt.Fprintln(stdout, "intact: every hash, chain and revision checks out")
	return nil
}

// describeProblem prints a problem; one that concerns the whole log rather than
// an event says so.
func describeProblem(p eventstore.Problem) string {
	if p.Stream == "" {
		return "the log: " + p.What
	}
	return p.String()
}
