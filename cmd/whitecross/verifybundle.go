package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// runVerifyBundle answers `whitecross verify-bundle [--key FILE] FILE`:
// it checks an export bundle with nothing but the file and, when given,
// the key the log's operator published. It needs no database and no
// network. It exits 0 when the bundle is intact, 1 with the first
// problem otherwise.
func runVerifyBundle(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("whitecross verify-bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", loadConfig().LedgerVerifierKeyFile,
		"the log's verifier key, as its operator published it (WHITECROSS_LEDGER_VERIFIER_KEY_FILE)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: whitecross verify-bundle [--key FILE] BUNDLE.tar")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitError{code: 2}
	}
	var opts bundle.VerifyOptions
	if *keyFile != "" {
		text, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("--key: %w", err)
		}
		if _, err := ledger.ParseVerifierKey(string(text)); err != nil {
			return fmt.Errorf("--key %s: %w", *keyFile, err)
		}
		opts.TrustedKey = string(text)
	}
	start := time.Now()
	rep, err := bundle.VerifyFile(fs.Arg(0), opts)
	var p *bundle.Problem
	switch {
	case errors.As(err, &p):
		fmt.Fprintf(stdout, "BAD %s\n", p)
		return exitError{code: 1}
	case err != nil:
		return err
	}
	printBundleReport(stdout, rep, time.Since(start))
	return nil
}

func printBundleReport(w io.Writer, rep *bundle.Report, took time.Duration) {
	m, n := rep.Manifest, rep.Counts
	fmt.Fprintf(w, "OK: %d events of %d streams (%d with their payloads), %d proofs", n.Events,
		n.Streams, n.Payloads, n.Proofs)
	if n.AuditEvents > 0 {
		fmt.Fprintf(w, ", %d FHIR AuditEvents", n.AuditEvents)
	}
	fmt.Fprintf(w, ", checked in %s\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "scope %s; export %s made %s\n", scopeText(m.Scope), m.ExportID,
		m.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "every event is a leaf of the tree of %d leaves whose checkpoint %s signed:\n%s",
		rep.Checkpoint.Size, rep.Checkpoint.Origin, rep.Checkpoint.Note)
	if rep.Trusted {
		fmt.Fprintf(w, "signed with the trusted key %s\n", rep.VerifierKey)
		return
	}
	fmt.Fprintf(w, "NOTE: no trusted key was given (--key or WHITECROSS_LEDGER_VERIFIER_KEY_FILE).\n"+
		"The bundle is consistent with the key it carries, %s,\nwhich proves nothing about "+
		"who made it: compare that key with the one the log's operator published.\n",
		rep.VerifierKey)
}

func scopeText(s bundle.Scope) string {
	switch {
	case s.StudentID != "":
		return "student " + s.StudentID
	case s.ActorID != "":
		return "events caused by account " + s.ActorID
	case s.From != nil:
		return fmt.Sprintf("events recorded from %s to %s", s.From.Format(time.RFC3339Nano),
			s.To.Format(time.RFC3339Nano))
	}
	return "the whole log"
}
