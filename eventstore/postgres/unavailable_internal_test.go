package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestUnreachable tells a database out of reach from one that refuses a
// statement.
func TestUnreachable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", fmt.Errorf("read: %w", &pgconn.PgError{Code: "08006"}), true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection refused", fmt.Errorf("read: %w", refused), true},
		{"connection cut", io.ErrUnexpectedEOF, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"permission denied", &pgconn.PgError{Code: "42501"}, false},
		{"query canceled", &pgconn.PgError{Code: "57014"}, false},
		{"caller gone", fmt.Errorf("read: %w", context.Canceled), false},
		{"commit timeout", context.DeadlineExceeded, false},
		{"other", errors.New("boom"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unreachable(c.err); got != c.want {
				t.Errorf("unreachable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}
