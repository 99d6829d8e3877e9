package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/whitecross/whitecross/domain"
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
	MetricsAddr    string // "" when metrics are off
	LogLevel       string

	TokenKeyFile string // Ed25519 PEM; made on first start when missing
	// TokenVerifyKeyFiles are other token keys whose tokens are accepted
	// too, during a rotation.
	TokenVerifyKeyFiles []string
	SecretKeyFile       string // AES-256 key, base64; made on first start when missing
	TLSCert, TLSKey     string
	AllowedOrigins      []string
	SessionIdle         time.Duration
	SessionMax          time.Duration
	LockoutWindow       time.Duration // failures counted within it
	LockoutFor          time.Duration // how long a lock lasts
	LockoutFailures     int           // failures that lock

	LedgerKeyFile         string // checkpoint signer key; made on first start when missing
	LedgerVerifierKeyFile string // verifier key, for verify where the signer key is not
	LedgerOrigin          string // the log's name, given to a key when it is made
	WitnessDir            string // where every checkpoint is written once
	CheckpointEvery       int
	CheckpointInterval    time.Duration
	// The medication rules: how far from its scheduled time a dose may
	// be given, and who may override an allergy warning.
	DoseWindowTimeCritical time.Duration
	DoseWindowStandard     time.Duration
	AllergyOverrideRoles   roleList

	ExportDir     string // where export bundles are kept
	ExportWorkers int    // exports made at once
}

// The bound of a dose window, as the medication rules have it.
const maxDoseWindow = 4 * time.Hour

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/whitecross?sslmode=disable"

func loadConfig() config {
	return config{
		DatabaseURL:         env("WHITECROSS_DATABASE_URL", defaultDatabaseURL),
		AppDatabaseURL:      env("WHITECROSS_APP_DATABASE_URL", ""),
		DBRole:              env("WHITECROSS_DB_ROLE", migrations.AppRole),
		EventStore:          env("WHITECROSS_EVENTSTORE", "postgres"),
		HTTPAddr:            env("WHITECROSS_HTTP_ADDR", ":8080"),
		MetricsAddr:         env("WHITECROSS_METRICS_ADDR", "127.0.0.1:9464"),
		LogLevel:            env("WHITECROSS_LOG_LEVEL", "info"),
		TokenKeyFile:        env("WHITECROSS_TOKEN_KEY_FILE", ""),
		TokenVerifyKeyFiles: list(env("WHITECROSS_TOKEN_VERIFY_KEY_FILES", "")),
		SecretKeyFile:       env("WHITECROSS_SECRET_KEY_FILE", ""),
		TLSCert:             env("WHITECROSS_TLS_CERT", ""),
		TLSKey:              env("WHITECROSS_TLS_KEY", ""),
		AllowedOrigins:      list(env("WHITECROSS_CORS_ORIGINS", "")),
		SessionIdle:         duration("WHITECROSS_SESSION_IDLE", 8*time.Hour),
		SessionMax:          duration("WHITECROSS_SESSION_MAX", 12*time.Hour),
		LockoutWindow:       duration("WHITECROSS_LOCKOUT_WINDOW", 15*time.Minute),
		LockoutFor:          duration("WHITECROSS_LOCKOUT_DURATION", 15*time.Minute),
		LockoutFailures:     number("WHITECROSS_LOCKOUT_FAILURES", 5),

		LedgerKeyFile:          env("WHITECROSS_LEDGER_KEY_FILE", ""),
		LedgerVerifierKeyFile:  env("WHITECROSS_LEDGER_VERIFIER_KEY_FILE", ""),
		LedgerOrigin:           env("WHITECROSS_LEDGER_ORIGIN", "whitecross.local/log"),
		WitnessDir:             env("WHITECROSS_WITNESS_DIR", ""),
		CheckpointEvery:        number("WHITECROSS_CHECKPOINT_EVERY", 1000),
		CheckpointInterval:     duration("WHITECROSS_CHECKPOINT_INTERVAL", 10*time.Second),
		DoseWindowTimeCritical: duration("WHITECROSS_DOSE_WINDOW_TIME_CRITICAL", 30*time.Minute),
		DoseWindowStandard:     duration("WHITECROSS_DOSE_WINDOW_STANDARD", 60*time.Minute),
		AllergyOverrideRoles:   roleListOf("WHITECROSS_ALLERGY_OVERRIDE_ROLES", "nurse"),

		ExportDir:     env("WHITECROSS_EXPORT_DIR", ""),
		ExportWorkers: number("WHITECROSS_EXPORT_WORKERS", 1),
	}
}

// roleList is a comma-separated list of roles, or "none" for the empty
// list; it is a flag.Value. Its text is kept as given, for validate to
// report.
type roleList struct {
	text  string
	roles []domain.Role // nil until the text parses
}

func roleListOf(name, def string) roleList {
	var l roleList
	l.Set(env(name, def))
	return l
}

// Set reads s; a role it does not know leaves the list nil, which
// validate reports.
func (l *roleList) Set(s string) error {
	l.text, l.roles = s, []domain.Role{}
	if strings.TrimSpace(s) == "none" {
		return nil
	}
	for _, item := range list(s) {
		r := domain.Role(item)
		if !r.Valid() {
			l.roles = nil
			return nil
		}
		l.roles = append(l.roles, r)
	}
	if len(l.roles) == 0 {
		l.roles = nil
	}
	return nil
}

func (l *roleList) String() string { return l.text }

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
	case c.DoseWindowTimeCritical <= 0 || c.DoseWindowTimeCritical > maxDoseWindow:
		return fmt.Errorf("WHITECROSS_DOSE_WINDOW_TIME_CRITICAL: want a duration of at most 4h, such as 30m")
	case c.DoseWindowStandard <= 0 || c.DoseWindowStandard > maxDoseWindow:
		return fmt.Errorf("WHITECROSS_DOSE_WINDOW_STANDARD: want a duration of at most 4h, such as 60m")
	case c.AllergyOverrideRoles.roles == nil:
		return fmt.Errorf(`WHITECROSS_ALLERGY_OVERRIDE_ROLES: want roles separated by commas, such as nurse, or "none"`)
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

// medicationFlags adds the flags of the medication rules to fs.
func (c *config) medicationFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.DoseWindowTimeCritical, "dose-window-time-critical", c.DoseWindowTimeCritical,
		"how far from its scheduled time a time-critical dose may be given (WHITECROSS_DOSE_WINDOW_TIME_CRITICAL)")
	fs.DurationVar(&c.DoseWindowStandard, "dose-window-standard", c.DoseWindowStandard,
		"the same for any other scheduled dose (WHITECROSS_DOSE_WINDOW_STANDARD)")
	fs.Var(&c.AllergyOverrideRoles, "allergy-override-roles",
		`roles that may override a mild or moderate allergy warning, or "none" (WHITECROSS_ALLERGY_OVERRIDE_ROLES)`)
}
