package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The SQL of ownership. A projection is run by the one process that holds
// its owner lock, a session-level advisory lock kept on a connection of
// the Runner's own; the others follow its checkpoint.
const (
	// ownerLockKey is the first key of every owner lock, "WCPO"; rebuilds
	// use "WCPR".
	ownerLockKey int32 = 0x5743504f

	// keepAliveSQL makes the server notice within about a minute that the
	// owner's connection is gone, and so free its locks.
	keepAliveSQL = `SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10;
		SET tcp_keepalives_count = 3`

	tryOwnSQL = `SELECT pg_try_advisory_lock($1, hashtext($2))`

	// followSQL tries to take the owner lock of each projection named, and
	// reads where each stands.
	followSQL = `
		SELECT name, position, state, coalesce(last_error, ''),
			pg_try_advisory_lock($1, hashtext(name))
		FROM projection_checkpoints WHERE name = ANY($2)`

	disownSQL = `SELECT pg_advisory_unlock($1, hashtext($2))`
)

// owner holds the Runner's owner locks on a connection of its own,
// made with the pool's settings but outside it: it takes none of the
// pool's connections, and closing the pool does not wait for it. Only
// the goroutine that runs Run and, once it has started, the follow loop
// use it, one after the other.
type owner struct {
	pool *pgxpool.Pool
	conn *pgx.Conn // nil while there is none
}

// connect opens the owner's connection when it has none.
func (o *owner) connect(ctx context.Context) (*pgx.Conn, error) {
	if o.conn != nil {
		return o.conn, nil
	}
	conn, err := pgx.ConnectConfig(ctx, o.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("owner connection: %w", err)
	}
	if _, err := conn.Exec(ctx, keepAliveSQL); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("owner connection: %w", err)
	}
	o.conn = conn
	return conn, nil
}

// close ends the owner's session, which frees every lock it holds.
func (o *owner) close() {
	if o.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o.conn.Close(ctx)
	o.conn = nil
}

// tryOwn takes name's owner lock when no process holds it.
func (o *owner) tryOwn(ctx context.Context, name string) (bool, error) {
	conn, err := o.connect(ctx)
	if err != nil {
		return false, err
	}
	var got bool
	if err := conn.QueryRow(ctx, tryOwnSQL, ownerLockKey, name).Scan(&got); err != nil {
		o.close()
		return false, fmt.Errorf("own %s: %w", name, err)
	}
	return got, nil
}

// disown frees name's owner lock, or the whole session when it cannot.
func (o *owner) disown(ctx context.Context, name string) {
	if o.conn == nil {
		return
	}
	if _, err := o.conn.Exec(ctx, disownSQL, ownerLockKey, name); err != nil {
		o.close()
	}
}

// standing is where a projection run elsewhere stands, as its checkpoint
// says, and whether this process has just taken it over.
type standing struct {
	name      string
	position  uint64
	state     State
	lastError string
	taken     bool
}

// follow tries to take over each of names and reads where each stands.
// A failure loses the connection, and with it every lock the Runner held.
func (o *owner) follow(ctx context.Context, names []string) ([]standing, error) {
	conn, err := o.connect(ctx)
	if err != nil {
		return nil, err
	}
	rows, _ := conn.Query(ctx, followSQL, ownerLockKey, names)
	var s standing
	var position int64
	var out []standing
	_, err = pgx.ForEachRow(rows,
		[]any{&s.name, &position, &s.state, &s.lastError, &s.taken},
		func() error {
			s.position = uint64(position)
			out = append(out, s)
			return nil
		})
	if err != nil {
		o.close()
		return nil, fmt.Errorf("follow projections: %w", err)
	}
	return out, nil
}

// claim takes, when Run starts, the owner lock of every projection no
// other process runs, and returns whether it owns each, by name.
func (r *Runner) claim(ctx context.Context) (map[string]bool, error) {
	owned := make(map[string]bool, len(r.projections))
	for _, p := range r.projections {
		got, err := r.owner.tryOwn(ctx, p.Name())
		if err != nil {
			return nil, err
		}
		owned[p.Name()] = got
	}
	return owned, nil
}

// standBy sets p following the process that runs it, from its
// checkpoint.
func (r *Runner) standBy(ctx context.Context, p *projection) error {
	if _, err := r.pool.Exec(ctx, ensureCheckpointSQL, p.Name()); err != nil {
		return fmt.Errorf("follow %s: %w", p.Name(), err)
	}
	at, err := readCheckpoint(ctx, r.pool, p.Name())
	if err != nil {
		return fmt.Errorf("follow %s: %w", p.Name(), err)
	}
	return r.setStarted(ctx, p, at, at, false)
}

// followEvery follows the projections other processes run, and takes
// over those whose owner has gone, until ctx ends.
func (r *Runner) followEvery(ctx context.Context) {
	t := time.NewTicker(r.cfg.FollowInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// A failure drops the Runner's locks; the next tick takes
			// them again where no other process has.
			if err := r.followOnce(ctx); err != nil {
				r.disownAll()
			}
		case <-ctx.Done():
			return
		}
	}
}

// followOnce reads where the projections run elsewhere stand, moves them
// here to match, and starts those whose owner lock it has taken.
func (r *Runner) followOnce(ctx context.Context) error {
	var names []string
	for _, p := range r.projections {
		if !r.owns(p) {
			names = append(names, p.Name())
		}
	}
	standings, err := r.owner.follow(ctx, names)
	if err != nil {
		return err
	}
	for _, s := range standings {
		p := r.byName[s.name]
		if !s.taken {
			r.mirror(p, s)
			continue
		}
		if err := r.takeOver(ctx, p); err != nil {
			r.owner.disown(ctx, p.Name())
		}
	}
	return nil
}

// mirror moves p, which another process runs, to where s says it stands:
// its position, and whether it has failed there.
func (r *Runner) mirror(p *projection, s standing) {
	r.advanced(p, s.position)

	r.mu.Lock()
	var elsewhere *failedElsewhere
	changed := false
	switch {
	case s.state == StateFailed && p.failed == nil:
		p.failed = &failedElsewhere{projection: p.Name(), lastError: s.lastError}
		p.state, changed = StateFailed, true
	case s.state != StateFailed && errors.As(p.failed, &elsewhere):
		p.failed, p.state, changed = nil, StateRunning, true
	}
	if changed {
		r.metrics.setState(p.Name(), p.state, 0)
		r.notify()
	}
	r.mu.Unlock()
}

// failedElsewhere is the failure of a projection that another process
// runs, as its checkpoint records it.
type failedElsewhere struct {
	projection, lastError string
}

func (f *failedElsewhere) Error() string {
	return fmt.Sprintf("projection %s stopped in another process: %s", f.projection, f.lastError)
}

// takeOver starts p here, whose owner lock this process has just taken:
// the process that ran it has stopped.
func (r *Runner) takeOver(ctx context.Context, p *projection) error {
	at, err := r.markRunning(ctx, p,
		func(ctx context.Context, tx pgx.Tx, p Projection) (uint64, error) {
			return lockCheckpoint(ctx, tx, p.Name())
		})
	if err != nil {
		return fmt.Errorf("take over %s: %w", p.Name(), err)
	}
	// What this process has passed over or seen applied meanwhile may be
	// ahead of the checkpoint; its subscription is past it already.
	return r.setStarted(ctx, p, max(at, r.positionOf(p)), at, true)
}

// disownAll records that the Runner has lost its owner locks: the
// projections it ran wait, as the others do, for whoever takes them.
func (r *Runner) disownAll() {
	r.mu.Lock()
	var lost []string
	for _, p := range r.projections {
		if p.owned {
			p.owned = false
			lost = append(lost, p.Name())
		}
	}
	r.notify()
	r.mu.Unlock()
	for _, name := range lost {
		r.metrics.owned.WithLabelValues(name).Set(0)
	}
}

func (r *Runner) owns(p *projection) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.owned
}

// awaitOwner returns once p's position has reached position, applied by
// the process that runs p, or once this process runs p; or with ctx's
// error when ctx ends first.
func (r *Runner) awaitOwner(ctx context.Context, p *projection, position uint64) error {
	for {
		r.mu.Lock()
		done := p.owned || p.position >= position
		changed := r.changed
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
