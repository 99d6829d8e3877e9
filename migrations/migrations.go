// Package migrations holds the database schema as numbered SQL files,
// embedded in the binary and applied in order by Apply. Each file is a
// jackc/tern migration; a file, once released, is never edited: a change is
// a new file.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

// VersionTable records which migrations have been applied.
const VersionTable = "schema_version"

// AppRole is the database role the service runs as: it may read the event
// log and append to it, nothing more.
const AppRole = "whitecross_app"

// ServiceLogin is the login the service connects with when it is given no
// URL of its own: a member of AppRole with no privilege of its own.
const ServiceLogin = "whitecross_service"

// Apply brings the database at url up to the latest migration. Concurrent
// callers are serialised by an advisory lock, so a migration runs once.
// url must name a role that owns the schema (or a superuser).
func Apply(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(ctx)

	m, err := newMigrator(ctx, conn)
	if err != nil {
		return err
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Querier is what Status needs of a connection or pool.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Status returns the version the database is at and the latest version
// this binary knows. It only reads, so the service's role may call it.
func Status(ctx context.Context, q Querier) (current, latest int32, err error) {
	latest, err = Latest()
	if err != nil {
		return 0, 0, err
	}
	err = q.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&current)
	if err != nil {
		return 0, latest, fmt.Errorf("migration status: %w", err)
	}
	return current, latest, nil
}

// Latest returns the number of the newest migration.
func Latest() (int32, error) {
	names, err := migrate.FindMigrations(files)
	return int32(len(names)), err
}

func newMigrator(ctx context.Context, conn *pgx.Conn) (*migrate.Migrator, error) {
	m, err := migrate.NewMigratorEx(ctx, conn, VersionTable, &migrate.MigratorOptions{})
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return nil, fmt.Errorf("migrate: load: %w", err)
	}
	return m, nil
}
