package eventstore

import (
	"context"
	"errors"
	"sync"
)

// Subscription is a live feed of the log, in position order. Receive from
// Events until it is closed, then call Err to learn why it ended.
type Subscription struct {
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	err    error
	closed bool
}

// Emit hands one event to the subscriber, blocking until it is taken. It
// returns an error when the subscription is closed or its context ends; the
// feeding loop must then return.
type Emit func(Event) error

// NewSubscription starts feed in its own goroutine and returns the
// Subscription it feeds. Backends build their subscriptions with it. feed
// runs until it returns; its error, unless caused by Close, is what Err
// reports.
func NewSubscription(
	ctx context.Context,
	buffer int,
	feed func(ctx context.Context, emit Emit) error,
) *Subscription {
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{
		events: make(chan Event, buffer),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	emit := func(e Event) error {
		select {
		case s.events <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	go func() {
		defer close(s.done)
		defer close(s.events)
		err := feed(ctx, emit)
		s.finish(err)
	}()
	return s
}

func (s *Subscription) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed && errors.Is(err, context.Canceled) {
		err = nil
	}
	s.err = err
}

// Events delivers the events. It is closed when the subscription ends.
func (s *Subscription) Events() <-chan Event { return s.events }

// Done is closed once the subscription has ended.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// Err reports why the subscription ended: nil after Close, the context's
// error when the context ended, or the backend's failure. It is nil while
// the subscription runs.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription and waits until its feed has stopped.
func (s *Subscription) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	for range s.events {
		// Drain so that the feed is never stuck on a send.
	}
	<-s.done
	return nil
}
