package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/esdb"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/database"
	"github.com/whitecross/whitecross/migrations"
)

// newLogger returns the JSON logger every command uses.
func newLogger(level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger()
}

// deps are what a command that works on the log needs: a logger, the
// service's connection pool and the configured event log.
type deps struct {
	log   zerolog.Logger
	pool  *pgxpool.Pool
	store eventstore.Store
	// contiguous tells whether the log's positions have no gaps, which
	// verify then checks too.
	contiguous bool
}

// openDeps connects to the database and opens the event log.
func openDeps(ctx context.Context, c config) (*deps, error) {
	d := &deps{log: newLogger(c.LogLevel)}
	var err error
	if d.pool, err = openPool(ctx, c); err != nil {
		return nil, err
	}
	if d.store, d.contiguous, err = openStore(ctx, c, d.pool, d.log); err != nil {
		d.pool.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the log, then the pool.
func (d *deps) Close() {
	d.store.Close()
	d.pool.Close()
}

// openPool connects as the service: with the app URL when one is given,
// else as the service's own login on the owner's server and database.
// Either way each connection then assumes c.DBRole, so that the read
// models it creates belong to that role whichever login made them.
func openPool(ctx context.Context, c config) (*pgxpool.Pool, error) {
	url := c.AppDatabaseURL
	if url == "" {
		var err error
		if url, err = database.LoginAs(c.DatabaseURL, migrations.ServiceLogin); err != nil {
			return nil, err
		}
	}
	pool, err := database.Open(ctx, url, database.Options{Role: c.DBRole})
	if err != nil && c.AppDatabaseURL == "" {
		return nil, fmt.Errorf("%w (the service logs in as %s, without a password; "+
			"where the server wants one, set WHITECROSS_APP_DATABASE_URL to a login "+
			"that is a member of %s)", err, migrations.ServiceLogin, c.DBRole)
	}
	return pool, err
}

// openStore opens the configured event log and tells whether its
// positions are contiguous.
func openStore(
	ctx context.Context,
	c config,
	pool *pgxpool.Pool,
	log zerolog.Logger,
) (store eventstore.Store, contiguous bool, err error) {
	if c.EventStore == "postgres" {
		return postgres.New(pool, postgres.Config{
			OnError: func(op string, err error) {
				log.Warn().Str("op", op).Err(err).Msg("event_log_recovering")
			},
		}), true, nil
	}
	s, err := esdb.Open(ctx, c.EventStore, esdb.Config{})
	if err != nil {
		return nil, false, fmt.Errorf("open EventStoreDB: %w", err)
	}
	return s, false, nil
}
