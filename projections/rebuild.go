package projections

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
)

// The SQL of a rebuild.
const (
	// rebuildLockSQL takes the session lock that keeps two rebuilds of a
	// projection apart, in any process; the first key sets the lock apart
	// from every other advisory lock of the service.
	rebuildLockSQL   = `SELECT pg_try_advisory_lock($1, hashtext($2))`
	rebuildUnlockSQL = `SELECT pg_advisory_unlock($1, hashtext($2))`

	// dependentsSQL lists what a table names after itself: its indexes
	// (which carry the names of primary key, unique and exclusion
	// constraints), its other constraints and its sequences.
	dependentsSQL = `
		SELECT 'INDEX', c.relname
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = $1::text::regclass
		UNION ALL
		SELECT 'CONSTRAINT', conname FROM pg_constraint
		WHERE conrelid = $1::text::regclass AND contype NOT IN ('p', 'u', 'x')
		UNION ALL
		SELECT 'SEQUENCE', s.relname
		FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
		WHERE d.refobjid = $1::text::regclass
			AND d.classid = 'pg_class'::regclass AND s.relkind = 'S'`
)

// rebuildLockKey is the first key of every rebuild's advisory lock.
const rebuildLockKey int32 = 0x57435052 // "WCPR"

// Rebuild replaces the tables of projection name with tables built
// afresh from the whole log, for example after its Schema or its Apply
// changed. It may run while the Runner runs, here or in another process;
// queries go on reading the old tables, which go on following the log,
// until the new ones take their place.
//
// It creates the tables with the suffix "_rebuild" (dropping any left by
// a rebuild that did not finish) and replays the log into them in
// batches. Then, in one transaction, it locks the projection's
// checkpoint row, which pauses the live handler, applies the events
// appended meanwhile, drops the live tables, renames the new ones and
// their indexes and constraints to the live names, and sets the
// checkpoint to the last event applied.
//
// It returns an error wrapping ErrUnknownProjection for a name the Runner
// does not have, ErrRebuildRunning while another rebuild of it runs, and
// an *ApplyError when an event fails; the live tables are then left as
// they were.
func (r *Runner) Rebuild(ctx context.Context, name string) error {
	p, ok := r.byName[name]
	if !ok {
		return fmt.Errorf("rebuild %s: %w", name, ErrUnknownProjection)
	}
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	defer conn.Release()
	if err := lockRebuild(ctx, conn, name); err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	defer unlockRebuild(conn, name)

	at, err := r.rebuild(ctx, conn.Conn(), p)
	if err != nil {
		endRebuild(conn, name)
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	r.advanced(p, at)
	r.stored(p, at)
	return nil
}

// RebuildAll rebuilds every projection of the Runner, as Rebuild does
// each, parallel of them at a time (at least one), each on a connection
// of its own: on two cores, two rebuilds share the work of reading the
// log and of Postgres. done, when not nil, is told of each projection as
// it is rebuilt. It returns the first error; the projections rebuilt
// before it stay rebuilt, and those not yet begun are left as they were.
func (r *Runner) RebuildAll(ctx context.Context, parallel int, done func(name string)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	names := make(chan string, len(r.projections))
	for _, p := range r.projections {
		names <- p.Name()
	}
	close(names)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range max(parallel, 1) {
		wg.Go(func() {
			for name := range names {
				if ctx.Err() != nil {
					return
				}
				if err := r.Rebuild(ctx, name); err != nil {
					cancel(err)
					return
				}
				if done != nil {
					mu.Lock()
					done(name)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// lockRebuild takes name's rebuild lock for conn's session.
func lockRebuild(ctx context.Context, conn *pgxpool.Conn, name string) error {
	var locked bool
	if err := conn.QueryRow(ctx, rebuildLockSQL, rebuildLockKey, name).Scan(&locked); err != nil {
		return err
	}
	if !locked {
		return ErrRebuildRunning
	}
	return nil
}

// unlockRebuild releases name's rebuild lock, or closes conn, which
// releases it too, when it cannot.
func unlockRebuild(conn *pgxpool.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, rebuildUnlockSQL, rebuildLockKey, name); err != nil {
		conn.Conn().Close(ctx)
	}
}

// endRebuild sets a projection whose rebuild failed back to running; a
// failure here only leaves Status saying "rebuilding" until the next
// start or rebuild.
func endRebuild(conn *pgxpool.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, rebuildEndedSQL, name)
}

// rebuild builds p's tables afresh on conn and swaps them in. It returns
// the position of the last event applied.
func (r *Runner) rebuild(ctx context.Context, conn *pgx.Conn, p *projection) (uint64, error) {
	if _, err := conn.Exec(ctx, ensureCheckpointSQL, p.Name()); err != nil {
		return 0, fmt.Errorf("make checkpoint: %w", err)
	}
	if _, err := conn.Exec(ctx, rebuildingSQL, p.Name()); err != nil {
		return 0, fmt.Errorf("mark rebuilding: %w", err)
	}
	if err := createRebuildTables(ctx, conn, p); err != nil {
		return 0, err
	}

	last, err := r.replay(ctx, conn, p)
	if err != nil {
		return 0, err
	}

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		live, err := lockCheckpoint(ctx, tx, p.Name())
		if err != nil {
			return err
		}
		if last, err = r.catchUp(ctx, tx, p, last); err != nil {
			return err
		}
		if err := flushBuffered(ctx, tx, p); err != nil {
			return err
		}
		if last < live {
			return fmt.Errorf("log read up to %d, behind the checkpoint %d", last, live)
		}
		return swap(ctx, tx, p, last)
	})
	return last, err
}

// createRebuildTables creates p's tables with the rebuild suffix, in
// place of any left over.
func createRebuildTables(ctx context.Context, conn *pgx.Conn, p *projection) error {
	if b, ok := p.Projection.(Buffered); ok {
		b.Discard(rebuildSuffix)
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := dropTables(ctx, tx, p.Tables(), rebuildSuffix); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, p.Schema(rebuildSuffix)); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
		return nil
	})
}

// replay applies the whole log to p's rebuild tables, one transaction per
// batch, and returns the position of the last event applied.
func (r *Runner) replay(ctx context.Context, conn *pgx.Conn, p *projection) (uint64, error) {
	var last uint64
	for {
		events, err := r.log.ReadAll(ctx, last+1, r.cfg.BatchSize)
		if err != nil || len(events) == 0 {
			return last, err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			return applyAll(ctx, tx, p, events)
		})
		if err != nil {
			return 0, err
		}
		last = events[len(events)-1].Position
	}
}

// catchUp applies to p's rebuild tables, within tx, every event after
// last, and returns the position of the last one.
func (r *Runner) catchUp(
	ctx context.Context,
	tx pgx.Tx,
	p *projection,
	last uint64,
) (uint64, error) {
	for {
		events, err := r.log.ReadAll(ctx, last+1, r.cfg.BatchSize)
		if err != nil || len(events) == 0 {
			return last, err
		}
		if err := applyAll(ctx, tx, p, events); err != nil {
			return 0, err
		}
		last = events[len(events)-1].Position
	}
}

// applyAll applies events to p's rebuild tables, deferring the
// statements of a batch until its end, and turns a panic into an error as
// the live handler does.
func applyAll(
	ctx context.Context,
	tx pgx.Tx,
	p *projection,
	events []eventstore.Event,
) (err error) {
	deferred := &deferredTx{Tx: tx, projection: p.Name()}
	defer func() {
		if v := recover(); v != nil {
			err = newApplyError(p.Name(), deferred.current, errPanic{v})
		}
	}()

	for _, e := range events {
		deferred.current = e
		if err := p.Apply(ctx, deferred, e, rebuildSuffix); err != nil {
			return asApplyError(p.Name(), e, err)
		}
	}
	return deferred.flush(ctx)
}

// flushBuffered writes, within tx, what a Buffered p held back for its
// rebuild tables.
func flushBuffered(ctx context.Context, tx pgx.Tx, p *projection) error {
	b, ok := p.Projection.(Buffered)
	if !ok {
		return nil
	}
	deferred := &deferredTx{Tx: tx, projection: p.Name()}
	if err := b.Flush(ctx, deferred, rebuildSuffix); err != nil {
		return fmt.Errorf("flush %s: %w", p.Name(), err)
	}
	return deferred.flush(ctx)
}

// errPanic is a panic of Apply during a rebuild.
type errPanic struct{ value any }

func (e errPanic) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// swap drops p's live tables, gives the rebuilt ones their names, and
// sets p's checkpoint to last.
func swap(ctx context.Context, tx pgx.Tx, p *projection, last uint64) error {
	if err := dropTables(ctx, tx, p.Tables(), ""); err != nil {
		return err
	}
	for _, t := range p.Tables() {
		if err := renameRebuilt(ctx, tx, t); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, swappedSQL, p.Name(), int64(last)); err != nil {
		return fmt.Errorf("set checkpoint: %w", err)
	}
	return nil
}

// renameRebuilt renames table's rebuilt copy to table, and each index,
// constraint and sequence that has the rebuild suffix in its name to the
// name without it.
func renameRebuilt(ctx context.Context, tx pgx.Tx, table string) error {
	schema, name, _ := splitTable(table)
	rebuilt := tableIdent(table, rebuildSuffix)
	rows, _ := tx.Query(ctx, dependentsSQL, rebuilt)
	deps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[dependent])
	if err != nil {
		return fmt.Errorf("list what %s names: %w", rebuilt, err)
	}

	renames := []string{
		"ALTER TABLE " + rebuilt + " RENAME TO " + pgx.Identifier{name}.Sanitize(),
	}
	for _, d := range deps {
		if sql, ok := d.rename(schema, tableIdent(table, "")); ok {
			renames = append(renames, sql)
		}
	}
	for _, sql := range renames {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return fmt.Errorf("rename %s: %w", rebuilt, err)
		}
	}
	return nil
}

// dependent is an object a table names after itself.
type dependent struct {
	Kind string // INDEX, CONSTRAINT or SEQUENCE
	Name string
}

// rename returns the statement that takes the rebuild suffix out of d's
// name, and false when its name has none. table is d's table, renamed.
func (d dependent) rename(schema, table string) (string, bool) {
	if !strings.Contains(d.Name, rebuildSuffix) {
		return "", false
	}
	to := pgx.Identifier{strings.Replace(d.Name, rebuildSuffix, "", 1)}.Sanitize()
	if d.Kind == "CONSTRAINT" {
		from := pgx.Identifier{d.Name}.Sanitize()
		return "ALTER TABLE " + table + " RENAME CONSTRAINT " + from + " TO " + to, true
	}
	from := pgx.Identifier{schema, d.Name}.Sanitize()
	return "ALTER " + d.Kind + " " + from + " RENAME TO " + to, true
}
