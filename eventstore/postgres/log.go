package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
)

var _ eventstore.Store = (*Log)(nil)

// Config tunes a Log. The zero value works.
type Config struct {
	// MaxBatchEvents caps how many events one commit carries; default 4096.
	MaxBatchEvents int
	// Channel is the LISTEN/NOTIFY channel; default "whitecross_events".
	Channel string
	// PollInterval is how often an idle subscriber looks for new events in
	// case a notification was lost; default 5s. It is a safety net, not
	// the way events arrive.
	PollInterval time.Duration
	// PageSize is how many events a subscriber reads at a time; default 1000.
	PageSize int
	// CommitTimeout bounds one append transaction; default 30s.
	CommitTimeout time.Duration
	// OnError, when set, hears errors the log recovers from by itself (a
	// lost listener connection, a subscriber's failed read). It must not
	// block.
	OnError func(op string, err error)
}

func (c Config) withDefaults() Config {
	if c.MaxBatchEvents <= 0 {
		c.MaxBatchEvents = 4096
	}
	if c.Channel == "" {
		c.Channel = "whitecross_events"
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.PageSize <= 0 {
		c.PageSize = 1000
	}
	if c.CommitTimeout <= 0 {
		c.CommitTimeout = 30 * time.Second
	}
	if c.OnError == nil {
		c.OnError = func(string, error) {}
	}
	return c
}

// Log is the Postgres event log. Create it with New and Close it when done.
type Log struct {
	pool    *pgxpool.Pool
	cfg     Config
	appends chan *appendRequest
	hub     hub

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	// stopped is closed when the writer has answered its last append.
	stopped chan struct{}
}

// New starts a Log over pool: its writer and its listener. The pool's
// role needs SELECT and INSERT on events (the migrations grant them to
// whitecross_app); the pool stays the caller's to close, after the Log.
func New(pool *pgxpool.Pool, cfg Config) *Log {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Log{
		pool:    pool,
		cfg:     cfg.withDefaults(),
		appends: make(chan *appendRequest, 1024),
		hub:     newHub(),
		ctx:     ctx,
		cancel:  cancel,
		stopped: make(chan struct{}),
	}
	l.wg.Go(l.write)
	l.wg.Go(l.listen)
	return l
}

// Close stops the writer and the listener. Appends still waiting fail
// with eventstore.ErrClosed; subscriptions end.
func (l *Log) Close() error {
	l.once.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
	return nil
}

// ReadStream implements eventstore.Store.
func (l *Log) ReadStream(
	ctx context.Context,
	stream string,
	opts eventstore.ReadOptions,
) ([]eventstore.Event, error) {
	query, from := readForwardSQL, opts.From
	if opts.Backwards {
		query = readBackwardSQL
		from = min(from, 1<<63-1)
	}
	if from > 1<<63-1 {
		return []eventstore.Event{}, nil
	}
	rows, _ := l.pool.Query(ctx, query, stream, int64(from), opts.LimitOrDefault())
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, unavailable(err))
	}
	if len(events) > 0 {
		return events, nil
	}
	var exists bool
	if err := l.pool.QueryRow(ctx, streamExistsSQL, stream).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, unavailable(err))
	}
	if !exists {
		return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrStreamNotFound)
	}
	return []eventstore.Event{}, nil
}

// ReadAll implements eventstore.Store.
func (l *Log) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.Event, error) {
	if limit <= 0 {
		limit = l.cfg.PageSize
	}
	if from > 1<<63-1 {
		return []eventstore.Event{}, nil
	}
	rows, _ := l.pool.Query(ctx, readAllSQL, int64(from), limit)
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read log from %d: %w", from, unavailable(err))
	}
	return events, nil
}

// LastPosition implements eventstore.Store.
func (l *Log) LastPosition(ctx context.Context) (uint64, error) {
	var last int64
	if err := l.pool.QueryRow(ctx, lastPositionSQL).Scan(&last); err != nil {
		return 0, fmt.Errorf("last position: %w", unavailable(err))
	}
	return uint64(last), nil
}

// isClosed reports whether err comes from the Log's own shutdown.
func (l *Log) isClosed(err error) bool {
	return l.ctx.Err() != nil && errors.Is(err, context.Canceled)
}
