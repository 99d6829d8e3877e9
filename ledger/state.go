package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// sealing is a sealer's state while it holds the lock: the tree's
// frontier, the position of the last event sealed, and the checkpoint
// due.
type sealing struct {
	s        *Sealer
	f        *frontier
	sealedTo uint64
	signed   int64     // size of the newest checkpoint
	dueAt    time.Time // when the oldest unsigned leaf wants a checkpoint
	waiting  []request
}

func (s *Sealer) start(ctx context.Context) (*sealing, error) {
	f, sealedTo, err := s.tree.loadFrontier(ctx)
	if err != nil {
		return nil, err
	}
	st := &sealing{s: s, f: f, sealedTo: sealedTo}
	latest, err := s.tree.LatestCheckpoint(ctx)
	switch {
	case err == nil:
		st.signed = latest.Size
	case err != ErrNotSealed:
		return nil, err
	}
	s.m.started(f.n, st.signed, latest.SignedAt)
	if st.f.n > st.signed {
		st.dueAt = s.cfg.Now()
	}
	return st, nil
}

// follow seals the events sub delivers, a batch at a time, and signs
// checkpoints when they fall due or are asked for.
func (st *sealing) follow(ctx context.Context, sub *eventstore.Subscription) (err error) {
	timer := time.NewTimer(st.s.cfg.Interval)
	defer timer.Stop()
	defer func() {
		for _, r := range st.waiting {
			r.reply <- result{err: fmt.Errorf("ledger: sealing stopped: %w", err)}
		}
	}()
	for {
		var batch []eventstore.Event
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-sub.Events():
			if !ok {
				return fmt.Errorf("ledger: the log's subscription ended: %v", sub.Err())
			}
			batch = st.drain(append(batch, e), sub)
		case r := <-st.s.requests:
			st.waiting = append(st.waiting, r)
		case <-timer.C:
		}
		if err := st.seal(ctx, batch); err != nil {
			return err
		}
		if err := st.signIfDue(ctx); err != nil {
			return err
		}
		timer.Reset(st.untilDue())
	}
}

// drain adds to batch every event already waiting, up to a batch's size.
func (st *sealing) drain(batch []eventstore.Event, sub *eventstore.Subscription) []eventstore.Event {
	for len(batch) < st.s.cfg.Batch {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return batch
			}
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// seal checks events and adds them to the tree.
func (st *sealing) seal(ctx context.Context, events []eventstore.Event) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		e := &events[i]
		if e.Position <= st.sealedTo {
			return fmt.Errorf("ledger: position %d arrived after %d", e.Position, st.sealedTo)
		}
		if err := checkEvent(e); err != nil {
			return err
		}
	}
	if err := st.s.tree.appendLeaves(ctx, st.f, events); err != nil {
		return err
	}
	st.s.m.sealedLeaves(events, st.f.n)
	if st.dueAt.IsZero() {
		st.dueAt = st.s.cfg.Now().Add(st.s.cfg.Interval)
	}
	st.sealedTo = events[len(events)-1].Position
	return nil
}

// signIfDue signs a checkpoint when enough leaves wait, when the oldest
// has waited long enough, or when a waiting request is covered, and
// answers the requests it covers.
func (st *sealing) signIfDue(ctx context.Context) error {
	unsigned := st.f.n - st.signed
	due := unsigned >= int64(st.s.cfg.Every) ||
		(unsigned > 0 && !st.s.cfg.Now().Before(st.dueAt))
	covered := st.covered()
	if !due && len(covered) == 0 {
		return nil
	}
	c, err := st.sign(ctx)
	for _, r := range covered {
		r.reply <- result{c: c, err: err}
	}
	return err
}

// covered takes from waiting the requests the sealed log now covers.
func (st *sealing) covered() []request {
	var done, still []request
	for _, r := range st.waiting {
		if r.upTo <= st.sealedTo {
			done = append(done, r)
		} else {
			still = append(still, r)
		}
	}
	st.waiting = still
	return done
}

// untilDue is how long until the next checkpoint falls due; the interval
// when none is.
func (st *sealing) untilDue() time.Duration {
	if st.f.n == st.signed {
		return st.s.cfg.Interval
	}
	return max(st.dueAt.Sub(st.s.cfg.Now()), time.Millisecond)
}

// sign signs, keeps and witnesses a checkpoint of the whole tree; when
// nothing was added since the newest checkpoint, it returns that one.
func (st *sealing) sign(ctx context.Context) (Checkpoint, error) {
	if st.f.n == 0 {
		return Checkpoint{}, ErrEmptyLog
	}
	if st.f.n == st.signed {
		latest, err := st.s.tree.LatestCheckpoint(ctx)
		return latest.Checkpoint, err
	}
	root, err := st.f.root()
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := SignCheckpoint(st.s.signer, st.f.n, root)
	if err != nil {
		return Checkpoint{}, err
	}
	at := st.s.cfg.Now().UTC()
	if err := st.s.tree.saveCheckpoint(ctx, c, at); err != nil {
		return Checkpoint{}, err
	}
	if w := st.s.cfg.Witness; w != nil {
		if err := w.Write(c); err != nil {
			return Checkpoint{}, err
		}
	}
	st.s.m.signed(c, at)
	st.signed, st.dueAt = c.Size, time.Time{}
	st.s.cfg.OnCheckpoint(c)
	return c, nil
}
