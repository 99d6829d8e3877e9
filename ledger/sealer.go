package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/eventstore"
)

// ErrSealerBusy is returned by Seal when another process holds the
// database's sealer lock: only one sealer grows a tree. Test with
// errors.Is.
var ErrSealerBusy = errors.New("another process seals this ledger")

// ErrEmptyLog is returned when a checkpoint is asked of a log with no
// event yet.
var ErrEmptyLog = errors.New("the log holds no event to sign")

// SealerConfig tunes a Sealer. The zero value signs a checkpoint every
// 1,000 leaves or 10 seconds, whichever comes first.
type SealerConfig struct {
	// Every is how many new leaves make a checkpoint due; 0 means 1000.
	Every int
	// Interval is how long a new leaf waits at most for a checkpoint; 0
	// means 10 seconds.
	Interval time.Duration
	// Batch is how many leaves one transaction adds at most; 0 means 1000.
	Batch int
	// Witness, when set, receives every checkpoint signed.
	Witness *Witness
	// OnCheckpoint is called after each checkpoint is kept and witnessed.
	OnCheckpoint func(Checkpoint)
	// OnError is told what went wrong before Run retries: another sealer
	// holding the lock, a database outage.
	OnError func(error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registerer, when set, registers the sealer's metrics.
	Registerer prometheus.Registerer
	// EventTypes are the values of the type label of
	// whitecross_log_events_total, each counted from 0; an event of any
	// other type is counted as "other", so that what the log holds cannot
	// make up label values.
	EventTypes []string
}

func (c SealerConfig) withDefaults() SealerConfig {
	if c.Every <= 0 {
		c.Every = 1000
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.OnError == nil {
		c.OnError = func(error) {}
	}
	if c.OnCheckpoint == nil {
		c.OnCheckpoint = func(Checkpoint) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Sealer follows the log and grows the tree, one leaf per event in
// position order, signing checkpoints as they fall due. One sealer runs per
// database: it holds an advisory lock while it works.
type Sealer struct {
	log    eventstore.Store
	tree   *Tree
	pool   *pgxpool.Pool
	signer note.Signer
	cfg    SealerConfig
	m      *metrics

	// requests carries Checkpoint calls to a running Run.
	requests chan request
	running  chan struct{} // holds a token while Run owns the lock
}

type request struct {
	upTo  uint64 // the log position the checkpoint must cover
	reply chan result
}

type result struct {
	c   Checkpoint
	err error
}

// NewSealer returns a sealer of log into the tree kept in pool's database,
// signing with signer.
func NewSealer(
	log eventstore.Store,
	pool *pgxpool.Pool,
	signer note.Signer,
	cfg SealerConfig,
) (*Sealer, error) {
	if log == nil || pool == nil || signer == nil {
		return nil, errors.New("ledger: a sealer needs a log, a database and a signer")
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer, cfg.EventTypes, cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Sealer{
		log: log, tree: NewTree(pool), pool: pool, signer: signer,
		cfg:      cfg,
		m:        m,
		requests: make(chan request),
		running:  make(chan struct{}, 1),
	}, nil
}

// Tree returns the tree the sealer grows.
func (s *Sealer) Tree() *Tree { return s.tree }

// Run seals the log as it grows until ctx ends, waiting for the lock while
// another process holds it and starting over after a failure. It returns
// ctx's error, or at once an error wrapping ErrTampered: an event that does
// not match its hash is never sealed, and sealing stops there until an
// operator looks.
func (s *Sealer) Run(ctx context.Context) error {
	for {
		err := s.runOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrTampered):
			s.m.setState(stateStopped)
			return err
		case errors.Is(err, ErrSealerBusy):
			s.m.setState(stateStandby)
		default:
			s.m.setState(stateRetrying)
		}
		s.cfg.OnError(err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// runOnce takes the lock and seals until something fails.
func (s *Sealer) runOnce(ctx context.Context) error {
	release, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.running <- struct{}{}
	defer func() { <-s.running }()
	s.m.setState(stateSealing)

	st, err := s.start(ctx)
	if err != nil {
		return err
	}
	sub, err := s.log.Subscribe(ctx, st.sealedTo+1)
	if err != nil {
		return err
	}
	defer sub.Close()
	return st.follow(ctx, sub)
}

// lock takes the database's sealer lock on a connection of its own, kept
// until release is called.
func (s *Sealer) lock(ctx context.Context) (release func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger lock: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, tryLockSQL, int64(sealerLockKey)).Scan(&got); err != nil {
		conn.Release()
		return nil, fmt.Errorf("ledger lock: %w", err)
	}
	if !got {
		conn.Release()
		return nil, ErrSealerBusy
	}
	return func() {
		// Unlocked at once, so that the next sealer, in this process or
		// another, may take it; a connection that cannot unlock is closed,
		// and its session's end drops the lock, though not at once.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, unlockSQL, int64(sealerLockKey)); err != nil {
			conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}

// Checkpoint returns a checkpoint signed now that covers every event in
// the log at the moment of the call. A running Run signs it; otherwise
// the call seals the log itself, which fails with ErrSealerBusy while
// another process does.
func (s *Sealer) Checkpoint(ctx context.Context) (Checkpoint, error) {
	upTo, err := s.log.LastPosition(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if upTo == 0 {
		return Checkpoint{}, ErrEmptyLog
	}
	if len(s.running) == 0 {
		return s.sealOnce(ctx, upTo)
	}
	req := request{upTo: upTo, reply: make(chan result, 1)}
	select {
	case s.requests <- req:
	case <-ctx.Done():
		return Checkpoint{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.c, r.err
	case <-ctx.Done():
		return Checkpoint{}, ctx.Err()
	}
}

// sealOnce seals up to position upTo under the lock and signs a
// checkpoint, as a process without a running Run does.
func (s *Sealer) sealOnce(ctx context.Context, upTo uint64) (Checkpoint, error) {
	release, err := s.lock(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	defer release()
	st, err := s.start(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	for st.sealedTo < upTo {
		evs, err := s.log.ReadAll(ctx, st.sealedTo+1, s.cfg.Batch)
		if err != nil {
			return Checkpoint{}, err
		}
		if len(evs) == 0 {
			break
		}
		if err := st.seal(ctx, evs); err != nil {
			return Checkpoint{}, err
		}
	}
	return st.sign(ctx)
}
