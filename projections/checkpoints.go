package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The SQL of the checkpoints (migrations/002_projections.sql). Every
// transaction that applies events or swaps tables locks the projection's
// row first, so that they take turns.
const (
	// startCheckpointSQL makes a projection's row when it has none, and
	// sets it running again when a Runner starts.
	startCheckpointSQL = `
		INSERT INTO projection_checkpoints (name, position, updated_at, state)
		VALUES ($1, 0, now(), 'running')
		ON CONFLICT (name) DO UPDATE SET state = 'running', updated_at = now()
		WHERE projection_checkpoints.state <> 'running'`

	ensureCheckpointSQL = `
		INSERT INTO projection_checkpoints (name) VALUES ($1)
		ON CONFLICT (name) DO NOTHING`

	lockCheckpointSQL = `
		SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE`

	readCheckpointSQL = `SELECT position FROM projection_checkpoints WHERE name = $1`

	// claimCheckpointSQL advances a checkpoint, whose row the transaction
	// has locked, to the event it applies, unless it stands there already.
	claimCheckpointSQL = `
		UPDATE projection_checkpoints SET position = $2, updated_at = now()
		WHERE name = $1 AND position < $2`

	advanceCheckpointSQL = `
		INSERT INTO projection_checkpoints (name, position, updated_at)
		VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE
		SET position = excluded.position, updated_at = excluded.updated_at`

	failCheckpointSQL = `
		UPDATE projection_checkpoints
		SET state = 'failed', last_error = $2, updated_at = now()
		WHERE name = $1`

	// The states of a rebuild leave a failed projection failed: only a
	// Runner's start sets it running again.
	rebuildingSQL = `
		UPDATE projection_checkpoints SET state = 'rebuilding', updated_at = now()
		WHERE name = $1 AND state <> 'failed'`

	rebuildEndedSQL = `
		UPDATE projection_checkpoints SET state = 'running', updated_at = now()
		WHERE name = $1 AND state = 'rebuilding'`

	swappedSQL = `
		UPDATE projection_checkpoints
		SET position = $2, updated_at = now(),
			state = CASE state WHEN 'failed' THEN 'failed' ELSE 'running' END
		WHERE name = $1`

	statusSQL = `
		SELECT name, position, state, coalesce(last_error, ''), updated_at
		FROM projection_checkpoints WHERE name = ANY($1)`

	tableExistsSQL = `SELECT to_regclass($1) IS NOT NULL`
)

// lockCheckpoint locks name's checkpoint row until tx ends and returns its
// position, 0 when it has none.
func lockCheckpoint(ctx context.Context, tx pgx.Tx, name string) (uint64, error) {
	var at int64
	err := tx.QueryRow(ctx, lockCheckpointSQL, name).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lock checkpoint %s: %w", name, err)
	}
	return uint64(at), nil
}

// readCheckpoint returns name's checkpoint, 0 when it has none.
func readCheckpoint(ctx context.Context, q querier, name string) (uint64, error) {
	var at int64
	err := q.QueryRow(ctx, readCheckpointSQL, name).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", name, err)
	}
	return uint64(at), nil
}

// querier is what a read needs of a pool, a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// prepareTables makes p's live tables when any is missing: it drops the
// others and starts the checkpoint over, since the rows they held can no
// longer be trusted to match it. It returns p's checkpoint.
func prepareTables(ctx context.Context, tx pgx.Tx, p Projection) (uint64, error) {
	at, err := lockCheckpoint(ctx, tx, p.Name())
	if err != nil {
		return 0, err
	}
	missing, err := anyMissing(ctx, tx, p.Tables())
	if err != nil || !missing {
		return at, err
	}

	if err := dropTables(ctx, tx, p.Tables(), ""); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, p.Schema("")); err != nil {
		return 0, fmt.Errorf("create tables of %s: %w", p.Name(), err)
	}
	if _, err := tx.Exec(ctx, advanceCheckpointSQL, p.Name(), 0); err != nil {
		return 0, fmt.Errorf("reset checkpoint %s: %w", p.Name(), err)
	}
	return 0, nil
}

func anyMissing(ctx context.Context, tx pgx.Tx, tables []string) (bool, error) {
	for _, t := range tables {
		var exists bool
		if err := tx.QueryRow(ctx, tableExistsSQL, tableIdent(t, "")).Scan(&exists); err != nil {
			return false, fmt.Errorf("find table %s: %w", t, err)
		}
		if !exists {
			return true, nil
		}
	}
	return false, nil
}

// dropTables drops tables, named with suffix, where they exist.
func dropTables(ctx context.Context, tx pgx.Tx, tables []string, suffix string) error {
	for _, t := range tables {
		if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+tableIdent(t, suffix)); err != nil {
			return fmt.Errorf("drop %s%s: %w", t, suffix, err)
		}
	}
	return nil
}
