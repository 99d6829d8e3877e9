package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/whitecross/whitecross/eventstore"
)

// Config tunes a Runner. The zero value works.
type Config struct {
	// Retries is how many times an event that failed is tried again
	// before its projection stops, after 100ms, then twice as long each
	// time up to 5s; zero means 5.
	Retries int
	// BatchSize is how many events a rebuild reads and applies in one
	// transaction; zero means 1000.
	BatchSize int
	// LagInterval is how often the lag metrics are measured against the
	// log's head; zero means 5s.
	LagInterval time.Duration
	// CheckpointInterval is how often the checkpoint of a Selective
	// projection is written after events it does not select, which move
	// it in memory only; zero means 1s. An event applied writes its
	// checkpoint at once, and so does the Runner's end.
	CheckpointInterval time.Duration
	// FollowInterval is how often the checkpoints of projections that
	// another process runs are read, for this one to follow them, and
	// their owner locks tried, for this one to take over from a process
	// that has stopped; zero means 100ms.
	FollowInterval time.Duration
	// Registerer, when set, registers the Runner's metrics.
	Registerer prometheus.Registerer
	// OnFailure, when set, hears each event that still fails after the
	// retries. stopped is true when its projection has stopped; false
	// when the database was unreachable, in which case the event is
	// delivered again. It must not block.
	OnFailure func(err *ApplyError, stopped bool)

	// afterCommit, set by tests, runs after an event's transaction has
	// committed and before its message is acked. An error fails the
	// delivery after the commit, as a crash before the ack would.
	afterCommit func(projection string, position uint64) error
}

// Validate refuses a negative setting.
func (c Config) Validate() error {
	switch {
	case c.Retries < 0:
		return errors.New("projections config: Retries must not be negative")
	case c.BatchSize < 0:
		return errors.New("projections config: BatchSize must not be negative")
	case c.LagInterval < 0:
		return errors.New("projections config: LagInterval must not be negative")
	case c.CheckpointInterval < 0:
		return errors.New("projections config: CheckpointInterval must not be negative")
	case c.FollowInterval < 0:
		return errors.New("projections config: FollowInterval must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Retries == 0 {
		c.Retries = 5
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.LagInterval == 0 {
		c.LagInterval = 5 * time.Second
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = time.Second
	}
	if c.FollowInterval == 0 {
		c.FollowInterval = 100 * time.Millisecond
	}
	if c.OnFailure == nil {
		c.OnFailure = func(*ApplyError, bool) {}
	}
	return c
}

// Runner feeds projections from the log through a Watermill router, one
// handler and one subscription per projection. Each event is applied
// and the projection's checkpoint advanced in one transaction, so that a
// crash at any point neither loses nor repeats an event. Create it with
// New.
//
// Several processes may run Runners of the same projections on one
// database: each projection is applied by one of them at a time, the one
// that holds its owner lock (a session-level advisory lock); the others
// follow its checkpoint, so that WaitFor and Status answer there too,
// and one of them takes the projection over when that process stops.
// Should two ever apply one projection at once, the checkpoint row's
// lock makes them take turns, and each skips what the other has applied.
type Runner struct {
	pool        *pgxpool.Pool
	log         eventstore.Store
	cfg         Config
	metrics     *metrics
	owner       *owner
	projections []*projection
	byName      map[string]*projection

	running atomic.Bool
	// head is the newest position the Runner has seen in the log.
	head atomic.Uint64

	mu sync.Mutex
	// changed is closed, and replaced, whenever a projection advances or
	// fails.
	changed chan struct{}
}

// projection is a Projection with what its Runner knows of it.
type projection struct {
	Projection
	begin pgx.TxOptions

	// Guarded by Runner.mu. position is the last event applied or passed
	// over; saved, the last the database's checkpoint is known to hold.
	position uint64
	saved    uint64
	failed   error // why it stopped; nil while it runs
	state    State
	// owned is true while this process holds the projection's owner
	// lock and applies its events.
	owned bool
	// catchUpTo is the log's head when the Runner started it.
	catchUpTo uint64
}

// New returns a Runner of projections, which must have distinct names,
// over the log and the read models' database pool. The pool's role needs
// the grants of migrations/002_projections.sql.
func New(
	pool *pgxpool.Pool,
	log eventstore.Store,
	cfg Config,
	projections ...Projection,
) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{
		pool:    pool,
		log:     log,
		cfg:     cfg.withDefaults(),
		byName:  make(map[string]*projection, len(projections)),
		changed: make(chan struct{}),
		owner:   &owner{pool: pool},
	}
	for _, p := range projections {
		if err := r.add(p); err != nil {
			return nil, err
		}
	}

	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	r.metrics = m
	return r, nil
}

func (r *Runner) add(p Projection) error {
	name := p.Name()
	if name == "" {
		return errors.New("add projection: empty name")
	}
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("add projection %s: name used twice", name)
	}
	for _, t := range p.Tables() {
		if _, _, err := splitTable(t); err != nil {
			return fmt.Errorf("add projection %s: %w", name, err)
		}
	}

	rp := &projection{Projection: p, begin: beginApply(name)}
	r.projections = append(r.projections, rp)
	r.byName[name] = rp
	return nil
}

// Run follows the log with every projection until ctx ends, then returns
// nil. It first takes the owner lock of every projection that no other
// process runs and sets each of those running, failed ones included,
// from its checkpoint; a projection that lacks any of its tables has them
// all made afresh and starts over from the first event. The others it
// follows, and takes over when their owner stops. Its locks are freed
// when it returns.
//
// A projection whose event still fails after the retries is marked
// failed (Status, Ready) and stops alone: its handler's subscription is
// closed before the event is acked, so that nothing after it is applied,
// and the others go on. A failure of the database itself does not stop
// a projection: its event is delivered again until it applies.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("run projections: already running")
	}
	defer r.running.Store(false)
	defer r.owner.close()

	owned, err := r.claim(ctx)
	if err != nil {
		return fmt.Errorf("run projections: %w", err)
	}
	for _, p := range r.projections {
		start := r.start
		if !owned[p.Name()] {
			start = r.standBy
		}
		if err := start(ctx, p); err != nil {
			return fmt.Errorf("run projections: %w", err)
		}
	}
	router, err := r.newRouter()
	if err != nil {
		return fmt.Errorf("run projections: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.measureLagEvery(runCtx) })
	wg.Go(func() { r.saveCheckpointsEvery(runCtx) })
	wg.Go(func() { r.followEvery(runCtx) })
	wg.Go(func() {
		<-runCtx.Done()
		router.Close()
	})

	err = router.Run(runCtx)
	if err == nil {
		// The router also ends when every projection has failed; Ready
		// and Status say so until ctx ends.
		<-ctx.Done()
	}
	cancel()
	wg.Wait()
	r.saveCheckpointsAtEnd(ctx)
	if err != nil {
		return fmt.Errorf("run projections: %w", err)
	}
	return nil
}

// start makes p's checkpoint and tables when they are missing and sets
// it running here from its checkpoint.
func (r *Runner) start(ctx context.Context, p *projection) error {
	at, err := r.markRunning(ctx, p, prepareTables)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name(), err)
	}
	return r.setStarted(ctx, p, at, at, true)
}

// markRunning sets p's checkpoint running, in one transaction with
// checkpoint, which returns where p's checkpoint stands.
func (r *Runner) markRunning(
	ctx context.Context,
	p *projection,
	checkpoint func(context.Context, pgx.Tx, Projection) (uint64, error),
) (uint64, error) {
	var at uint64
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, startCheckpointSQL, p.Name()); err != nil {
			return err
		}
		var err error
		at, err = checkpoint(ctx, tx, p)
		return err
	})
	return at, err
}

// setStarted sets p at position, whose checkpoint in the database holds
// saved: running here when owned is true, following the process that
// runs it otherwise, and catching up while the log's head is ahead of it.
func (r *Runner) setStarted(
	ctx context.Context,
	p *projection,
	position, saved uint64,
	owned bool,
) error {
	head, err := r.log.LastPosition(ctx)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name(), err)
	}
	at := position

	r.mu.Lock()
	p.position, p.saved, p.failed, p.catchUpTo = at, saved, nil, head
	p.owned = owned
	p.state = StateRunning
	if at < head {
		p.state = StateCatchingUp
	}
	state := p.state
	r.notify()
	r.mu.Unlock()
	r.metrics.position.WithLabelValues(p.Name()).Set(float64(at))
	r.metrics.failures.WithLabelValues(p.Name()).Add(0)
	r.metrics.setState(p.Name(), state, 0)
	r.metrics.setOwned(p.Name(), owned)
	return nil
}

// newRouter returns a router with one handler per projection, each
// wrapped, outermost first, in: stop on failure, retry, count failures,
// recover from a panic.
func (r *Runner) newRouter() (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		return nil, err
	}
	sub, err := NewSubscriber(r.log, SubscriberConfig{
		From:    r.from,
		OnEnd:   r.subscriptionEnded,
		Selects: func(topic string, e eventstore.Event) bool { return selects(r.byName[topic].Projection, e) },
		OnPass:  func(topic string, position uint64) { r.advanced(r.byName[topic], position) },
	})
	if err != nil {
		return nil, err
	}

	retry := middleware.Retry{
		MaxRetries:      r.cfg.Retries,
		InitialInterval: 100 * time.Millisecond,
		Multiplier:      2,
		MaxInterval:     5 * time.Second,
	}
	for _, p := range r.projections {
		h := router.AddNoPublisherHandler(p.Name(), p.Name(), sub, r.handler(p))
		h.AddMiddleware(
			r.stopOnFailure(p, h),
			retry.Middleware,
			r.countFailures(p),
			middleware.Recoverer,
		)
	}
	return router, nil
}

// from returns where projection topic's subscription starts: after its
// checkpoint.
func (r *Runner) from(ctx context.Context, topic string) (uint64, error) {
	at, err := readCheckpoint(ctx, r.pool, topic)
	return at + 1, err
}

func (r *Runner) handler(p *projection) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		e, err := EventOf(msg)
		if err != nil {
			return err
		}
		return r.handle(msg.Context(), p, e)
	}
}

// beginApply returns the options of the transaction that applies an
// event to projection name. Its first round trip begins it, spares it a
// disk flush at commit (a crash of the database may then lose the last
// events applied, but it loses their checkpoint with them, so they are
// applied again) and locks the projection's checkpoint row, so that a
// rebuild's swap, which locks it too, pauses the live handler.
func beginApply(name string) pgx.TxOptions {
	return pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL synchronous_commit = off; " +
		"SELECT 1 FROM projection_checkpoints WHERE name = " + quoteLiteral(name) + " FOR UPDATE"}
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// errAppliedElsewhere ends the transaction of an event that another
// process applied first.
var errAppliedElsewhere = errors.New("applied by another process")

// handle applies e to p and advances p's checkpoint to it, in one
// transaction that holds the checkpoint's lock from its start. An event
// at or below what p has applied here (delivered again after a crash
// between commit and ack) is acked without being applied; one that
// another process has applied meanwhile finds the checkpoint at or past
// it when the transaction claims it, and is rolled back. An event p does
// not select never reaches it: the subscriber passes it over, which moves
// p's checkpoint in memory only. While another process runs p, e waits
// until that process has applied it, or this one takes p over.
func (r *Runner) handle(ctx context.Context, p *projection, e eventstore.Event) error {
	if !r.owns(p) {
		if err := r.awaitOwner(ctx, p, e.Position); err != nil {
			return err
		}
	}
	if e.Position <= r.positionOf(p) {
		return r.done(p, e)
	}
	err := pgx.BeginTxFunc(ctx, r.pool, p.begin, func(tx pgx.Tx) error {
		deferred := &deferredTx{Tx: tx, projection: p.Name(), current: e}
		if err := p.Apply(ctx, deferred, e, ""); err != nil {
			return err
		}
		deferred.queue(claimCheckpointSQL, p.Name(), int64(e.Position))
		if err := deferred.flush(ctx); err != nil {
			return err
		}
		if deferred.last.RowsAffected() == 0 {
			return errAppliedElsewhere
		}
		return nil
	})
	if err != nil && !errors.Is(err, errAppliedElsewhere) && !r.appliedElsewhere(ctx, p, e) {
		return err
	}

	r.advanced(p, e.Position)
	r.stored(p, e.Position)
	return r.done(p, e)
}

// appliedElsewhere reports whether p's checkpoint has reached e, for an
// event whose Apply failed: applied again, an event another process
// applied first may fail on what it added.
func (r *Runner) appliedElsewhere(ctx context.Context, p *projection, e eventstore.Event) bool {
	at, err := readCheckpoint(ctx, r.pool, p.Name())
	return err == nil && at >= e.Position
}

// done ends the handling of e, before its ack; the tests' afterCommit
// hook may fail it there, as a crash before the ack would.
func (r *Runner) done(p *projection, e eventstore.Event) error {
	if r.cfg.afterCommit != nil {
		return r.cfg.afterCommit(p.Name(), e.Position)
	}
	return nil
}

// advanced records that p has applied or passed over every event up to
// position.
func (r *Runner) advanced(p *projection, position uint64) {
	r.mu.Lock()
	p.position = max(p.position, position)
	position = p.position
	if p.state == StateCatchingUp && position >= p.catchUpTo {
		p.state = StateRunning
		// Before the waiters wake, so that one that sees the position
		// sees the state too.
		r.metrics.setState(p.Name(), StateRunning, 0)
	}
	r.notify()
	r.mu.Unlock()

	head := storeMax(&r.head, position)
	r.metrics.position.WithLabelValues(p.Name()).Set(float64(position))
	r.metrics.lagEvents.WithLabelValues(p.Name()).Set(float64(head - position))
	if position == head {
		r.metrics.lagSeconds.WithLabelValues(p.Name()).Set(0)
	}
}

// stored records that p's checkpoint in the database holds position.
func (r *Runner) stored(p *projection, position uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.saved = max(p.saved, position)
}

// countFailures counts every failed attempt to apply an event, but not
// those cut short because the Runner is stopping.
func (r *Runner) countFailures(p *projection) message.HandlerMiddleware {
	failures := r.metrics.failures.WithLabelValues(p.Name())
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := next(msg)
			if err != nil && msg.Context().Err() == nil {
				failures.Inc()
			}
			return out, err
		}
	}
}

// stopOnFailure stops p's handler when an event still fails after the
// retries, unless the database is at fault. The Watermill router retries
// a failed message for ever, so the handler is stopped here, before the
// message is nacked: stopping cancels the handler's subscription, which
// then ends instead of delivering the message again.
func (r *Runner) stopOnFailure(p *projection, h *message.Handler) message.HandlerMiddleware {
	return func(next message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := next(msg)
			if err == nil || msg.Context().Err() != nil {
				return out, err
			}

			e, _ := EventOf(msg)
			failure := asApplyError(p.Name(), e, err)
			if transient(err) {
				r.cfg.OnFailure(failure, false)
				return nil, failure
			}
			r.fail(msg.Context(), p, failure)
			h.Stop()
			return nil, failure
		}
	}
}

// fail records that p has stopped at failure's event: in its checkpoint
// and to OnFailure first, then to Ready, Status, WaitFor and the metrics,
// so that whoever learns of the failure here finds it recorded there too
// (and so do the processes that follow p).
func (r *Runner) fail(ctx context.Context, p *projection, failure *ApplyError) {
	// The handler is stopping whatever happens here; a checkpoint that
	// cannot be marked still shows the failure through Ready and Status.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, _ = r.pool.Exec(ctx, failCheckpointSQL, p.Name(), failure.Error())
	r.cfg.OnFailure(failure, true)

	r.mu.Lock()
	p.failed, p.state = failure, StateFailed
	r.metrics.setState(p.Name(), StateFailed, failure.Position)
	r.notify()
	r.mu.Unlock()
}

// subscriptionEnded records that a projection's subscription to the log
// ended while the Runner was running: the projection has stopped.
func (r *Runner) subscriptionEnded(topic string, err error) {
	p := r.byName[topic]
	r.mu.Lock()
	p.failed = fmt.Errorf("projection %s: subscription ended: %w", topic, err)
	p.state = StateFailed
	r.metrics.setState(p.Name(), StateFailed, 0)
	r.notify()
	r.mu.Unlock()
}

// notify wakes WaitFor's callers. r.mu must be held.
func (r *Runner) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Ready returns nil unless a projection has failed: then an error that
// wraps ErrFailed and says which one, at which event.
func (r *Runner) Ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()

	var failed []error
	for _, p := range r.projections {
		if p.failed != nil {
			failed = append(failed, p.failed)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrFailed, errors.Join(failed...))
}

// Failure is why a projection stopped: the event that kept failing, or
// the end of its subscription to the log. It holds identifiers and
// kinds of error only, never event data.
type Failure struct {
	Projection string
	// Position and EventType name the event that kept failing; they are
	// 0 and "" when the subscription to the log ended instead.
	Position  uint64
	EventType string
	// Reason is the kind of error, as ApplyError.Reason says it.
	Reason string
}

// Failures returns the projections this Runner has seen stop, in the
// order given to New; none while every one runs.
func (r *Runner) Failures() []Failure {
	r.mu.Lock()
	defer r.mu.Unlock()

	var out []Failure
	for _, p := range r.projections {
		if p.failed == nil {
			continue
		}
		f := Failure{Projection: p.Name(), Reason: "subscription ended"}
		var applyErr *ApplyError
		var elsewhere *failedElsewhere
		switch {
		case errors.As(p.failed, &applyErr):
			f.Position, f.EventType, f.Reason = applyErr.Position, applyErr.EventType, applyErr.Reason
		case errors.As(p.failed, &elsewhere):
			f.Reason = "stopped in another process"
		}
		out = append(out, f)
	}
	return out
}

// WaitFor returns once every projection's checkpoint has reached
// position (a query then reads its own writes), or with ctx's error when
// ctx ends first. It returns at once an error wrapping ErrFailed when a
// projection that has not reached position has failed.
func (r *Runner) WaitFor(ctx context.Context, position uint64) error {
	for {
		r.mu.Lock()
		behind, err := r.behind(position)
		changed := r.changed
		r.mu.Unlock()
		if err != nil {
			return fmt.Errorf("wait for position %d: %w", position, err)
		}
		if !behind {
			return nil
		}

		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for position %d: %w", position, ctx.Err())
		}
	}
}

// behind reports whether a projection is below position, and fails when
// one below it has failed. r.mu must be held.
func (r *Runner) behind(position uint64) (bool, error) {
	behind := false
	for _, p := range r.projections {
		switch {
		case p.position >= position:
		case p.failed != nil:
			return true, fmt.Errorf("%w: %w", ErrFailed, p.failed)
		default:
			behind = true
		}
	}
	return behind, nil
}

// ProjectionStatus is where a projection stands against the log.
type ProjectionStatus struct {
	Name string
	// Position is the projection's checkpoint: the last event applied.
	Position uint64
	// Head is the position of the newest event in the log.
	Head uint64
	// LagEvents counts the events the projection has yet to apply.
	LagEvents uint64
	// LagSeconds is the recorded time of the newest event minus that of
	// the last event applied; 0 when the projection is caught up.
	LagSeconds float64
	State      State
	// LastError is the last failure recorded; it names an event by
	// position and type, never its data. It stays after a restart.
	LastError string
	UpdatedAt time.Time
}

// Status returns the status of every projection, in the order given to
// New, as the database records it; a projection that has stopped in
// this process is failed whatever the database says.
func (r *Runner) Status(ctx context.Context) ([]ProjectionStatus, error) {
	head, err := r.log.LastPosition(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	newest, err := r.recordedAt(ctx, head)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	stored, err := r.checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}

	out := make([]ProjectionStatus, len(r.projections))
	for i, p := range r.projections {
		s := stored[p.Name()]
		s.Name, s.Head = p.Name(), head
		// This Runner may have passed events over that the database's
		// checkpoint has yet to hear of.
		s.Position = max(s.Position, r.positionOf(p))
		if failed := r.failure(p); failed != nil {
			s.State, s.LastError = StateFailed, failed.Error()
		} else if r.stateOf(p) == StateCatchingUp && s.State == StateRunning {
			s.State = StateCatchingUp
		}
		s.LagEvents, s.LagSeconds, err = r.lag(ctx, s.Position, head, newest)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		out[i] = s
	}
	return out, nil
}

// checkpoints returns the stored checkpoints of the Runner's projections.
func (r *Runner) checkpoints(ctx context.Context) (map[string]ProjectionStatus, error) {
	names := make([]string, len(r.projections))
	for i, p := range r.projections {
		names[i] = p.Name()
	}
	rows, _ := r.pool.Query(ctx, statusSQL, names)
	stored := make(map[string]ProjectionStatus, len(names))
	var s ProjectionStatus
	var position int64
	_, err := pgx.ForEachRow(rows,
		[]any{&s.Name, &position, &s.State, &s.LastError, &s.UpdatedAt},
		func() error {
			s.Position = uint64(position)
			stored[s.Name] = s
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return stored, nil
}

func (r *Runner) failure(p *projection) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.failed
}

func (r *Runner) positionOf(p *projection) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.position
}

func (r *Runner) stateOf(p *projection) State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return p.state
}

// saveCheckpointSQL writes a checkpoint moved in memory past events its
// projection did not select; it never moves one back.
const saveCheckpointSQL = `
	UPDATE projection_checkpoints SET position = $2, updated_at = now()
	WHERE name = $1 AND position < $2`

// saveCheckpointsEvery writes the checkpoints moved in memory until ctx
// ends.
func (r *Runner) saveCheckpointsEvery(ctx context.Context) {
	t := time.NewTicker(r.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			// A failed write is tried again at the next tick; meanwhile a
			// restart would only pass the same events over again.
			_ = r.saveCheckpoints(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// saveCheckpointsAtEnd writes the checkpoints moved in memory once the
// handlers have stopped, within 5 seconds, whether or not ctx has ended.
func (r *Runner) saveCheckpointsAtEnd(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = r.saveCheckpoints(ctx)
}

// saveCheckpoints writes, in one round trip, every checkpoint of a
// projection run here that is ahead in memory of the database.
func (r *Runner) saveCheckpoints(ctx context.Context) error {
	var batch pgx.Batch
	type ahead struct {
		p        *projection
		position uint64
	}
	var saving []ahead
	r.mu.Lock()
	for _, p := range r.projections {
		if p.owned && p.position > p.saved {
			batch.Queue(saveCheckpointSQL, p.Name(), int64(p.position))
			saving = append(saving, ahead{p, p.position})
		}
	}
	r.mu.Unlock()
	if len(saving) == 0 {
		return nil
	}

	if err := r.pool.SendBatch(ctx, &batch).Close(); err != nil {
		return fmt.Errorf("save checkpoints: %w", err)
	}
	for _, s := range saving {
		r.stored(s.p, s.position)
	}
	return nil
}

// measureLagEvery refreshes the lag metrics until ctx ends.
func (r *Runner) measureLagEvery(ctx context.Context) {
	t := time.NewTicker(r.cfg.LagInterval)
	defer t.Stop()
	for {
		// A failed measure leaves the gauges as they were until the next.
		_ = r.measureLag(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// measureLag sets the lag metrics of every projection from the log's head.
func (r *Runner) measureLag(ctx context.Context) error {
	head, err := r.log.LastPosition(ctx)
	if err != nil {
		return err
	}
	head = storeMax(&r.head, head)
	newest, err := r.recordedAt(ctx, head)
	if err != nil {
		return err
	}

	for _, p := range r.projections {
		events, seconds, err := r.lag(ctx, r.positionOf(p), head, newest)
		if err != nil {
			return err
		}
		r.metrics.lag(p.Name(), events, seconds)
	}
	return nil
}

// lag returns how far a projection at position is behind head, whose
// event was recorded at newest: in events, and in seconds between the
// recorded times of the two events.
func (r *Runner) lag(
	ctx context.Context,
	position, head uint64,
	newest time.Time,
) (events uint64, seconds float64, err error) {
	if position >= head {
		return 0, 0, nil
	}
	at, err := r.recordedAt(ctx, max(position, 1))
	if err != nil {
		return 0, 0, err
	}
	return head - position, max(newest.Sub(at).Seconds(), 0), nil
}

// recordedAt returns when the event at position was recorded; the zero
// time for position 0.
func (r *Runner) recordedAt(ctx context.Context, position uint64) (time.Time, error) {
	if position == 0 {
		return time.Time{}, nil
	}
	events, err := r.log.ReadAll(ctx, position, 1)
	if err != nil || len(events) == 0 {
		return time.Time{}, err
	}
	return events[0].RecordedAt, nil
}

// storeMax raises v to at least n and returns its value.
func storeMax(v *atomic.Uint64, n uint64) uint64 {
	for {
		old := v.Load()
		if old >= n {
			return old
		}
		if v.CompareAndSwap(old, n) {
			return n
		}
	}
}
