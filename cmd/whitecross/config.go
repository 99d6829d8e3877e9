package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/whitecross/whitecross/migrations"
)

// config is every setting, read from WHITECROSS_* variables and then
// overridden by flags.
type config struct {
	DatabaseURL    string // owner URL: migrations run with it
	AppDatabaseURL string // when set, the service connects with it instead
	DBRole         string // role the service assumes on DatabaseURL
	EventStore     string // "postgres" or an esdb:// URL
	HTTPAddr       string
	LogLevel       string
}

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/whitecross?sslmode=disable"

func loadConfig() config {
	return config{
		DatabaseURL:    env("WHITECROSS_DATABASE_URL", defaultDatabaseURL),
		AppDatabaseURL: env("WHITECROSS_APP_DATABASE_URL", ""),
		DBRole:         env("WHITECROSS_DB_ROLE", migrations.AppRole),
		EventStore:     env("WHITECROSS_EVENTSTORE", "postgres"),
		HTTPAddr:       env("WHITECROSS_HTTP_ADDR", ":8080"),
		LogLevel:       env("WHITECROSS_LOG_LEVEL", "info"),
	}
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// flags returns a FlagSet for a command with the database and event-store
// flags every command shares.
func (c *config) flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("whitecross "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL,
		"Postgres URL of the schema owner (WHITECROSS_DATABASE_URL)")
	fs.StringVar(&c.EventStore, "eventstore", c.EventStore,
		`event log backend: "postgres" or an esdb:// URL (WHITECROSS_EVENTSTORE)`)
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (WHITECROSS_LOG_LEVEL)")
	return fs
}

// parse reads args into fs, then checks the whole configuration.
func (c *config) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	return c.validate()
}

func (c *config) validate() error {
	switch {
	case c.DatabaseURL == "":
		return fmt.Errorf("WHITECROSS_DATABASE_URL: must not be empty")
	case c.EventStore != "postgres" && !strings.HasPrefix(c.EventStore, "esdb://") &&
		!strings.HasPrefix(c.EventStore, "esdb+discover://"):
		return fmt.Errorf(`WHITECROSS_EVENTSTORE: want "postgres" or an esdb:// URL`)
	}
	return nil
}
