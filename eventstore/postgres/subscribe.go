package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/eventstore"
)

// hub wakes every waiting subscriber when the log may have grown.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newHub() hub { return hub{ch: make(chan struct{})} }

// wait returns a channel that is closed at the next broadcast. Take it
// before reading, so that an append committed during the read still wakes
// the reader.
func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *hub) broadcast() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.ch)
	h.ch = make(chan struct{})
}

// Subscribe implements eventstore.Store. The subscription reads pages in
// position order; since positions are gapless and assigned in commit
// order, reading "position >= next" can never pass over an event that
// commits later.
func (l *Log) Subscribe(ctx context.Context, from uint64) (*eventstore.Subscription, error) {
	next := max(from, 1)
	feed := func(ctx context.Context, emit eventstore.Emit) error {
		return l.feed(ctx, next, emit)
	}
	return eventstore.NewSubscription(ctx, l.cfg.PageSize, feed), nil
}

func (l *Log) feed(ctx context.Context, next uint64, emit eventstore.Emit) error {
	backoff := newBackoff()
	for {
		wake := l.hub.wait()
		events, err := l.ReadAll(ctx, next, l.cfg.PageSize)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			l.cfg.OnError("subscription_read", err)
			if err := sleep(ctx, l.ctx, backoff.next()); err != nil {
				return err
			}
			continue
		}
		backoff.reset()
		for _, e := range events {
			if err := emit(e); err != nil {
				return err
			}
			next = e.Position + 1
		}
		if len(events) == l.cfg.PageSize {
			continue
		}
		select {
		case <-wake:
		case <-time.After(l.cfg.PollInterval):
		case <-ctx.Done():
			return ctx.Err()
		case <-l.ctx.Done():
			return eventstore.ErrClosed
		}
	}
}

// listen keeps a connection that LISTENs on the log's channel and wakes
// the subscribers on every notification, reconnecting after a failure.
func (l *Log) listen() {
	backoff := newBackoff()
	for l.ctx.Err() == nil {
		err := l.listenOnce(backoff)
		if l.ctx.Err() != nil {
			return
		}
		l.cfg.OnError("listen", err)
		if sleep(l.ctx, l.ctx, backoff.next()) != nil {
			return
		}
	}
}

func (l *Log) listenOnce(backoff *backoff) error {
	conn, err := pgx.ConnectConfig(l.ctx, l.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(l.ctx, "LISTEN "+pgx.Identifier{l.cfg.Channel}.Sanitize()); err != nil {
		return err
	}
	backoff.reset()
	// Whatever was committed while no one listened is read now.
	l.hub.broadcast()
	for {
		if _, err := conn.WaitForNotification(l.ctx); err != nil {
			return err
		}
		l.hub.broadcast()
	}
}

// backoff doubles a delay from 50ms up to 5s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, 50*time.Millisecond), 5*time.Second)
	return b.d
}

// sleep waits d unless ctx or the log's context ends first.
func sleep(ctx, logCtx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-logCtx.Done():
		return eventstore.ErrClosed
	}
}
