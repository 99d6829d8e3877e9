package projections

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whitecross/whitecross/eventstore"
)

// deferredTx is the transaction the Runner hands to Apply. It queues each
// Exec and sends the queue in one round trip when the Runner flushes it
// (after the event, with the checkpoint's update; after the batch, in a
// rebuild), or before any other use of the transaction. A queued Exec
// returns an empty CommandTag; its error is reported, as the failure of
// the event that queued it, when the queue is sent.
type deferredTx struct {
	pgx.Tx
	projection string

	// current is the event being applied; queued holds the statements
	// not yet sent and owners the event that queued each.
	current eventstore.Event
	queued  pgx.Batch
	owners  []eventstore.Event
	// last is the result of the last statement flush sent.
	last pgconn.CommandTag
}

// Exec queues sql.
func (t *deferredTx) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	t.queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

// queue adds sql to the statements to send, as the current event's.
func (t *deferredTx) queue(sql string, args ...any) {
	t.queued.Queue(sql, args...)
	t.owners = append(t.owners, t.current)
}

// flush sends the queued statements and returns an *ApplyError for the
// first that fails.
func (t *deferredTx) flush(ctx context.Context) error {
	if t.queued.Len() == 0 {
		return nil
	}
	queued, owners := t.queued, t.owners
	t.queued, t.owners = pgx.Batch{}, nil

	results := t.Tx.SendBatch(ctx, &queued)
	for _, owner := range owners {
		tag, err := results.Exec()
		if err != nil {
			results.Close()
			return newApplyError(t.projection, owner, err)
		}
		t.last = tag
	}
	if err := results.Close(); err != nil {
		return newApplyError(t.projection, t.current, err)
	}
	return nil
}

// Query sends the queue, then runs sql.
func (t *deferredTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Query(ctx, sql, args...)
}

// QueryRow sends the queue, then runs sql.
func (t *deferredTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.flush(ctx); err != nil {
		return errRow{err}
	}
	return t.Tx.QueryRow(ctx, sql, args...)
}

// SendBatch sends the queue, then b.
func (t *deferredTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := t.flush(ctx); err != nil {
		return errBatchResults{err}
	}
	return t.Tx.SendBatch(ctx, b)
}

// CopyFrom sends the queue, then copies.
func (t *deferredTx) CopyFrom(
	ctx context.Context,
	table pgx.Identifier,
	columns []string,
	rows pgx.CopyFromSource,
) (int64, error) {
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	return t.Tx.CopyFrom(ctx, table, columns, rows)
}

// Prepare sends the queue, then prepares sql.
func (t *deferredTx) Prepare(
	ctx context.Context,
	name, sql string,
) (*pgconn.StatementDescription, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Prepare(ctx, name, sql)
}

// Begin sends the queue, then starts a savepoint.
func (t *deferredTx) Begin(ctx context.Context) (pgx.Tx, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return t.Tx.Begin(ctx)
}

// Commit refuses: the rebuild owns the transaction.
func (t *deferredTx) Commit(context.Context) error { return errOwnedTx }

// Rollback refuses: the rebuild owns the transaction.
func (t *deferredTx) Rollback(context.Context) error { return errOwnedTx }

var errOwnedTx = errors.New("the transaction belongs to the projection runner")

// errRow is a row that failed before it was read.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errBatchResults are the results of a batch that was never sent.
type errBatchResults struct{ err error }

func (r errBatchResults) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, r.err }
func (r errBatchResults) Query() (pgx.Rows, error)         { return nil, r.err }
func (r errBatchResults) QueryRow() pgx.Row                { return errRow{r.err} }
func (r errBatchResults) Close() error                     { return r.err }
func (r errBatchResults) Tx() pgx.Tx                       { return nil }
