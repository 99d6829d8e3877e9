package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whitecross/whitecross/eventstore"
)

// unavailable returns err wrapped in eventstore.ErrUnavailable when it
// says the database cannot be reached (unreachable), else err itself.
func unavailable(err error) error {
	if !unreachable(err) || errors.Is(err, eventstore.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
}

// unreachable reports whether err is the database refusing or dropping
// the connection rather than refusing the statement: no connection
// could be made, it broke, or the server closed it (SQLSTATE class 08,
// a connection exception; 57P01 to 57P03, the server shutting down or
// starting; 53300, too many connections). A caller that gave up, or a
// commit that timed out, is not the database's answer.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	return Disconnected(err)
}

// Disconnected reports whether err is a failure of the connection to
// the database rather than an answer from it: none could be made, it
// broke or was cut short, or pgx knows the statement was never sent.
func Disconnected(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		netErr     net.Error
	)
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		pgconn.SafeToRetry(err)
}
