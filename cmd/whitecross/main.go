// Command whitecross is the White Cross service and its tools:
//
//	whitecross serve     run the HTTP API (applies migrations first)
//	whitecross migrate   apply database migrations and exit
//	whitecross verify    recompute every hash in the event log
//	whitecross users add create an account, the first administrator
//	whitecross keys      make the key that signs the ledger's checkpoints
//	whitecross ledger    seal the log and sign a checkpoint now
//	whitecross log       print the log's events: positions, types, actors
//	whitecross verify-bundle FILE  check an export bundle offline
//	whitecross simulate  create a demo district and play its school days
//	whitecross health    ask the local service whether it is ready
//
// Configuration comes from WHITECROSS_* environment variables, overridden
// by flags; see `whitecross COMMAND -h`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var subcommands = []command{
	{"serve", "run the HTTP API", runServe},
	{"migrate", "apply database migrations", runMigrate},
	{"verify", "recompute every hash of the event log and check every chain", runVerify},
	{"users", "users add: create an account (the first administrator)", runUsers},
	{"log", "log [--stream NAME] [--from POS] [--limit N]: the events, identifiers only", runLog},
	{"projections", "projections status: every read model's position, lag and state", runProjections},
	{"replay", "replay [--projection NAME]: rebuild read models from the log and swap them in", runReplay},
	{"keys", "keys generate|public: the key that signs the ledger's checkpoints", runKeys},
	{"ledger", "ledger seal: seal the log into the ledger and sign a checkpoint now", runLedger},
	{"verify-bundle", "verify-bundle FILE: check an export bundle offline, without a database",
		runVerifyBundle},
	{"simulate", "simulate [--schools N --students N --days N --seed N --url URL]: play a district's school days", runSimulate},
	{"health", "health [--path /readyz|/healthz]: ask the local service, for a container's check", runHealth},
}

// exitError carries an exit status other than 1.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	for _, c := range subcommands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var exit exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 2
		case errors.As(err, &exit):
			return exit.code
		}
		fmt.Fprintf(stderr, "whitecross %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "whitecross: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: whitecross COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range subcommands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
}
