// Package pgtest gives tests a real Postgres database of their own. The
// server is the one WHITECROSS_DATABASE_URL names (make test sets it),
// else the one on 127.0.0.1:5432.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/internal/database"
	"github.com/whitecross/whitecross/migrations"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the URL of the server tests use; its role must be
// allowed to create databases.
func ServerURL() string {
	if u := os.Getenv("WHITECROSS_DATABASE_URL"); u != "" {
		return u
	}
	return defaultURL
}

// DB is a database made for one test.
type DB struct {
	// URL connects as the server URL's role, which owns the database.
	URL  string
	Name string
}

// New creates an empty database, applies the migrations and drops it when
// the test ends.
func New(tb testing.TB) *DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		tb.Fatalf("no Postgres for tests at WHITECROSS_DATABASE_URL or 127.0.0.1:5432 "+
			"(run the tests with `make test`, which finds or starts one): %v", err)
	}
	defer admin.Close(ctx)

	name := "whitecross_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() { drop(tb, name) })

	db := &DB{URL: withDatabase(tb, ServerURL(), name), Name: name}
	if err := migrations.Apply(ctx, db.URL); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return db
}

// AppURL connects as the service does: its own login, with no privilege
// but those of the service's role.
func (db *DB) AppURL(tb testing.TB) string {
	tb.Helper()
	u, err := database.LoginAs(db.URL, migrations.ServiceLogin)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// AppPool opens a pool that connects as the service does (AppURL), closed
// when the test ends.
func (db *DB) AppPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return db.pool(tb, db.AppURL(tb), migrations.AppRole)
}

// AdminPool opens a pool with the owner's privileges, for tests that must
// do what the service may not (tampering with the log).
func (db *DB) AdminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	return db.pool(tb, db.URL, "")
}

func (db *DB) pool(tb testing.TB, url, role string) *pgxpool.Pool {
	tb.Helper()
	pool, err := database.Open(context.Background(), url, database.Options{Role: role})
	if err != nil {
		tb.Fatalf("open pool on %s: %v", db.Name, err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

func drop(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		tb.Logf("drop test database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Logf("drop test database %s: %v", name, err)
	}
}

func withDatabase(tb testing.TB, server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("WHITECROSS_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
