package main

import (
	"context"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/migrations"
	"github.com/whitecross/whitecross/readapi"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := c.flags("serve", stderr)
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "address to listen on (WHITECROSS_HTTP_ADDR)")
	c.medicationFlags(fs)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr,
		`address of the Prometheus metrics, on a listener of their own; "off" for none (WHITECROSS_METRICS_ADDR)`)
	var demo demoOptions
	demo.flags(fs)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if c.MetricsAddr == "off" {
		c.MetricsAddr = ""
	}
	if demo.on {
		if err := seedDemo(ctx, c, demo, stdout, stderr); err != nil {
			return err
		}
	}
	return serve(ctx, c)
}

// serve runs the HTTP API, its projections and the ledger's sealing with
// c until ctx ends.
func serve(ctx context.Context, c config) error {
	if err := migrations.Apply(ctx, c.DatabaseURL); err != nil {
		return err
	}
	d, err := openDeps(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	log, pool, store := d.log, d.pool, d.store
	key, err := signingKey(c, log)
	if err != nil {
		return err
	}
	accounts, err := newAccounts(c, d, key)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	runner, err := newRunner(d, registry)
	if err != nil {
		return err
	}
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- runner.Run(runCtx) }()
	defer func() {
		stopRunner()
		<-runnerDone
	}()
	auditor := commands.NewAuditor(store, nil)
	routes, err := appRoutes(c, accounts, d, runner, auditor)
	if err != nil {
		return err
	}

	sealing, err := startSealing(runCtx, c, d, registry)
	if err != nil {
		return err
	}
	defer func() {
		stopRunner()
		sealing.wait()
	}()
	routes = append(routes, readapi.LedgerRoutes(sealing.ledger)...)
	exports, err := startExports(runCtx, c, d, sealing)
	if err != nil {
		return err
	}
	defer func() {
		stopRunner()
		exports.wait()
	}()
	routes = append(routes, readapi.ExportRoutes(readapi.Exports{
		Service: exports.service, Auditor: commands.NewAuditor(store, nil),
	})...)

	api, err := readapi.New(readapi.Config{
		Metrics:        registry,
		MetricsAddr:    c.MetricsAddr,
		Logger:         log,
		Routes:         routes,
		Authenticate:   readapi.Authenticator(accounts),
		AllowedOrigins: c.AllowedOrigins,
		TLSCert:        c.TLSCert,
		TLSKey:         c.TLSKey,
		Auditor:        auditor,
		Checks: map[string]readapi.Check{
			"database": pool.Ping,
			"migrations": func(ctx context.Context) error {
				current, latest, err := migrations.Status(ctx, pool)
				if err == nil && current != latest {
					err = fmt.Errorf("database at migration %d, binary at %d", current, latest)
				}
				return err
			},
			"projections": func(context.Context) error { return projectionsReady(runner) },
			"ledger":      func(context.Context) error { return sealing.ready() },
			"event_log": func(ctx context.Context) error {
				_, err := store.LastPosition(ctx)
				return err
			},
		},
	})
	if err != nil {
		return err
	}
	log.Info().Str("addr", c.HTTPAddr).Str("metrics_addr", c.MetricsAddr).
		Str("eventstore", backendName(c)).Msg("serving")
	err = api.Serve(ctx, c.HTTPAddr)
	log.Info().Msg("stopped")
	return err
}

// backendName names the event log without its URL, which may hold a
// password.
func backendName(c config) string {
	if c.EventStore == "postgres" {
		return "postgres"
	}
	return "esdb"
}
