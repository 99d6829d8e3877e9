package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

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

	TokenKeyFile    string // Ed25519 PEM; made on first start when missing
	SecretKeyFile   string // AES-256 key, base64; made on first start when missing
	TLSCert, TLSKey string
	AllowedOrigins  []string
	SessionIdle     time.Duration
	SessionMax      time.Duration
	LockoutWindow   time.Duration // failures counted within it
	LockoutFor      time.Duration // how long a lock lasts
	LockoutFailures int           // failures that lock

	LedgerKeyFile         string // checkpoint signer key; made on first start when missing
	LedgerVerifierKeyFile string // verifier key, for verify where the signer key is not
	LedgerOrigin          string // the log's name, given to a key when it is made
	WitnessDir            string // where every checkpoint is written once
	CheckpointEvery       int
	CheckpointInterval    time.Duration

	ExportDir     string // where export bundles are kept
	ExportWorkers int    // exports made at once
}

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/whitecross?sslmode=disable"

func loadConfig() config {
	return config{
		DatabaseURL:     env("WHITECROSS_DATABASE_URL", defaultDatabaseURL),
		AppDatabaseURL:  env("WHITECROSS_APP_DATABASE_URL", ""),
		DBRole:          env("WHITECROSS_DB_ROLE", migrations.AppRole),
		EventStore:      env("WHITECROSS_EVENTSTORE", "postgres"),
		HTTPAddr:        env("WHITECROSS_HTTP_ADDR", ":8080"),
		LogLevel:        env("WHITECROSS_LOG_LEVEL", "info"),
		TokenKeyFile:    env("WHITECROSS_TOKEN_KEY_FILE", ""),
		SecretKeyFile:   env("WHITECROSS_SECRET_KEY_FILE", ""),
		TLSCert:         env("WHITECROSS_TLS_CERT", ""),
		TLSKey:          env("WHITECROSS_TLS_KEY", ""),
		AllowedOrigins:  list(env("WHITECROSS_CORS_ORIGINS", "")),
		SessionIdle:     duration("WHITECROSS_SESSION_IDLE", 8*time.Hour),
		SessionMax:      duration("WHITECROSS_SESSION_MAX", 12*time.Hour),
		LockoutWindow:   duration("WHITECROSS_LOCKOUT_WINDOW", 15*time.Minute),
		LockoutFor:      duration("WHITECROSS_LOCKOUT_DURATION", 15*time.Minute),
		LockoutFailures: number("WHITECROSS_LOCKOUT_FAILURES", 5),

		LedgerKeyFile:         env("WHITECROSS_LEDGER_KEY_FILE", ""),
		LedgerVerifierKeyFile: env("WHITECROSS_LEDGER_VERIFIER_KEY_FILE", ""),
		LedgerOrigin:          env("WHITECROSS_LEDGER_ORIGIN", "whitecross.local/log"),
		WitnessDir:            env("WHITECROSS_WITNESS_DIR", ""),
		CheckpointEvery:       number("WHITECROSS_CHECKPOINT_EVERY", 1000),
		CheckpointInterval:    duration("WHITECROSS_CHECKPOINT_INTERVAL", 10*time.Second),

		ExportDir:     env("WHITECROSS_EXPORT_DIR", ""),
		ExportWorkers: number("WHITECROSS_EXPORT_WORKERS", 1),
	}
}

// number reads a positive whole number; a value that does not parse is
// -1, which validate reports.
func number(name string, def int) int {
	v := env(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

func list(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// duration reads a Go duration ("8h", "90m"); a value that does not parse
// leaves the default, and validate reports it.
func duration(name string, def time.Duration) time.Duration {
	v := env(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return -1
	}
	return d
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
	case c.SessionIdle < 0:
		return fmt.Errorf("WHITECROSS_SESSION_IDLE: want a positive duration such as 8h")
	case c.SessionMax < 0:
		return fmt.Errorf("WHITECROSS_SESSION_MAX: want a positive duration such as 12h")
	case c.LockoutWindow < 0 || c.LockoutFor < 0:
		return fmt.Errorf("WHITECROSS_LOCKOUT_WINDOW, _DURATION: want positive durations such as 15m")
	case c.LockoutFailures < 0:
		return fmt.Errorf("WHITECROSS_LOCKOUT_FAILURES: want a positive whole number")
	case c.CheckpointEvery < 0:
		return fmt.Errorf("WHITECROSS_CHECKPOINT_EVERY: want a positive whole number")
	case c.ExportWorkers < 0:
		return fmt.Errorf("WHITECROSS_EXPORT_WORKERS: want a positive whole number")
	case c.CheckpointInterval < 0:
		return fmt.Errorf("WHITECROSS_CHECKPOINT_INTERVAL: want a positive duration such as 10s")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("WHITECROSS_TLS_CERT and WHITECROSS_TLS_KEY: set both or neither")
	case c.DatabaseURL == "":
		return fmt.Errorf("WHITECROSS_DATABASE_URL: must not be empty")
	case c.EventStore != "postgres" && !strings.HasPrefix(c.EventStore, "esdb://") &&
		!strings.HasPrefix(c.EventStore, "esdb+discover://"):
		return fmt.Errorf(`WHITECROSS_EVENTSTORE: want "postgres" or an esdb:// URL`)
	}
	return nil
}
