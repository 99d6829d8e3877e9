package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// The bounds of a sharedFeed: how many of the newest events its tail
// keeps (up to twice as many before it forgets the oldest), and how many
// a subscription reads at a time.
const (
	sharedEvents = 4096
	sharedPage   = 512
)

// sharedFeed serves every subscription of a Subscriber from one
// subscription to the log, its tail, so that a commit is read from the
// log once, not once per projection. The tail starts with the first
// subscription, after the log's head at that moment, and keeps the
// newest events it has received; a subscription that is behind what the
// tail keeps (a projection catching up, or starting over) reads the log
// itself, a page at a time, until it reaches them. The tail ends when
// the last subscription does.
type sharedFeed struct {
	log eventstore.Store

	mu    sync.Mutex
	tail  *tail
	users int
}

// tail is one run of a sharedFeed's subscription to the log.
type tail struct {
	mu sync.Mutex
	// events are the newest events received, in position order. The log
	// holds no event at or after covered, up to the last of events, that
	// events lacks.
	events  []eventstore.Event
	covered uint64
	// changed is closed, and replaced, when the tail receives an event
	// or ends.
	changed chan struct{}
	// err is why the tail ended; nil while it runs.
	err  error
	stop context.CancelFunc
}

func newSharedFeed(log eventstore.Store) *sharedFeed {
	return &sharedFeed{log: log}
}

// subscribe returns a subscription to the log from position from,
// served from the tail where it can be. It ends when ctx does, or with
// the tail's error once the tail has ended and its events are delivered.
// A failure to read the log is retried, after a pause that grows to 5s.
func (f *sharedFeed) subscribe(ctx context.Context, from uint64) (*eventstore.Subscription, error) {
	t, err := f.join(ctx)
	if err != nil {
		return nil, err
	}
	next := max(from, 1)
	feed := func(ctx context.Context, emit eventstore.Emit) error {
		defer f.leave()
		pause := time.Duration(0)
		for {
			events, wake, err := t.read(ctx, f.log, next)
			if err != nil {
				if pause, err = retryRead(ctx, pause, err); err != nil {
					return err
				}
				continue
			}
			pause = 0
			for _, e := range events {
				if err := emit(e); err != nil {
					return err
				}
				next = e.Position + 1
			}
			if len(events) > 0 {
				continue
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return eventstore.NewSubscription(ctx, sharedPage, feed), nil
}

// errTailEnded wraps the error that ended a feed's tail.
var errTailEnded = errors.New("the log's subscription ended")

// retryRead waits before a read of the log is tried again after err, and
// returns the next pause; it returns err itself when it must not be
// retried: the tail ended, the log is closed, or ctx ended.
func retryRead(ctx context.Context, pause time.Duration, err error) (time.Duration, error) {
	if errors.Is(err, errTailEnded) || errors.Is(err, eventstore.ErrClosed) || ctx.Err() != nil {
		return 0, err
	}
	pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
	select {
	case <-time.After(pause):
		return pause, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// join counts a subscription in and returns the tail to read, starting
// one after the log's head when it is the first.
func (f *sharedFeed) join(ctx context.Context) (*tail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users > 0 {
		f.users++
		return f.tail, nil
	}
	head, err := f.log.LastPosition(ctx)
	if err != nil {
		return nil, fmt.Errorf("start the shared subscription: %w", err)
	}
	tailCtx, stop := context.WithCancel(context.Background())
	t := &tail{covered: head + 1, changed: make(chan struct{}), stop: stop}
	go t.follow(tailCtx, f.log)
	f.tail, f.users = t, 1
	return t, nil
}

// leave counts a subscription out, and ends the tail with the last.
func (f *sharedFeed) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users--
	if f.users == 0 {
		f.tail.stop()
		f.tail = nil
	}
}

// follow receives every event of log from t.covered on, as it is
// committed, until ctx ends or the log's subscription fails.
func (t *tail) follow(ctx context.Context, log eventstore.Store) {
	sub, err := log.Subscribe(ctx, t.covered)
	if err == nil {
		for e := range sub.Events() {
			t.received(e)
		}
		err = sub.Err()
		sub.Close()
	}
	if err == nil {
		err = eventstore.ErrClosed
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.err = fmt.Errorf("%w: %w", errTailEnded, err)
	t.broadcast()
}

// received adds e to the tail's events; past twice sharedEvents, the
// oldest beyond sharedEvents are forgotten.
func (t *tail) received(e eventstore.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
	if n := len(t.events) - sharedEvents; n >= sharedEvents {
		t.covered = t.events[n-1].Position + 1
		t.events = slices.Clone(t.events[n:])
	}
	t.broadcast()
}

// broadcast wakes the subscriptions waiting for the tail. t.mu must be
// held.
func (t *tail) broadcast() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// read returns the events from position next on, at most a page: from
// the tail when it holds next, from log when next is older than what the
// tail keeps. It returns none when next is past the tail's newest event,
// with wake, which is closed when the tail has more; and the tail's
// error once it has ended and nothing is left to read.
func (t *tail) read(
	ctx context.Context,
	log eventstore.Store,
	next uint64,
) ([]eventstore.Event, <-chan struct{}, error) {
	t.mu.Lock()
	wake, ended := t.changed, t.err
	older := next < t.covered
	var events []eventstore.Event
	if !older {
		i := sort.Search(len(t.events), func(i int) bool { return t.events[i].Position >= next })
		events = slices.Clone(t.events[i:min(i+sharedPage, len(t.events))])
	}
	t.mu.Unlock()

	switch {
	case older:
		events, err := log.ReadAll(ctx, next, sharedPage)
		return events, wake, err
	case len(events) > 0:
		return events, wake, nil
	}
	return nil, wake, ended
}
