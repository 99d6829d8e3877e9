// Package database opens the service's Postgres connection pool.
package database

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tunes Open.
type Options struct {
	// Role, when set, is assumed by every connection (SET ROLE), so that
	// the objects the pool creates belong to that role whichever login
	// made them. It confines the pool only when the login itself has no
	// more privileges than Role: RESET ROLE goes back to the login.
	Role string
	// MaxConns caps the pool; zero means 16.
	MaxConns int32
}

// Open returns a pool on url that has checked it can connect.
func Open(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	cfg.MaxConns = 16
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Role != "" {
		setRole := "SET ROLE " + pgx.Identifier{opts.Role}.Sanitize()
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, setRole)
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return pool, nil
}

// LoginAs returns url with its user replaced by login and its password
// removed: the same server and database, reached as another login.
func LoginAs(rawURL, login string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		// The parse error repeats the URL, which may hold a password.
		return "", fmt.Errorf("database url: not a postgres:// URL")
	}
	u.User = url.User(login)
	return u.String(), nil
}
