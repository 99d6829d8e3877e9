package esdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// Subscribe implements eventstore.Store. The subscription first reads $all
// page by page, then follows it through an EventStoreDB subscription that
// starts after the last event read. It ends with eventstore.ErrClosed when
// the store closes, and with the client's error when EventStoreDB drops it.
func (s *Store) Subscribe(ctx context.Context, from uint64) (*eventstore.Subscription, error) {
	if s.isClosed() {
		return nil, fmt.Errorf("subscribe from %d: %w", from, eventstore.ErrClosed)
	}
	f := &follower{s: s, next: from}
	return eventstore.NewSubscription(ctx, s.cfg.SubscriptionBuffer, f.run), nil
}

// follower feeds one subscription.
type follower struct {
	s *Store
	// next is the lowest position still to deliver: from at first, then
	// one past the last event delivered.
	next uint64
	// last is the ID of the last event delivered, at position next-1.
	last uuid.UUID
}

func (f *follower) run(ctx context.Context, emit eventstore.Emit) error {
	ctx, cancel := f.s.bind(ctx)
	defer cancel()
	err := f.follow(ctx, emit)
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return fmt.Errorf("subscription, next position %d: %w", f.next, err)
}

func (f *follower) follow(ctx context.Context, emit eventstore.Emit) error {
	cur, err := f.catchUp(ctx, emit)
	if err != nil {
		return err
	}
	return f.live(ctx, cur.at, emit)
}

// catchUp delivers the events already stored, a page at a time, and
// returns where the last page ended.
func (f *follower) catchUp(ctx context.Context, emit eventstore.Emit) (cursor, error) {
	var cur cursor
	err := f.s.call(ctx, func(ctx context.Context) (err error) {
		cur, err = f.s.resolve(ctx, f.next)
		return err
	})
	if err != nil {
		return cursor{}, err
	}
	for {
		var p page
		err := f.s.call(ctx, func(ctx context.Context) (err error) {
			p, err = f.s.readPage(ctx, cur, f.s.cfg.PageSize)
			return err
		})
		if err != nil {
			return cursor{}, err
		}
		for _, r := range p.events {
			if err := f.deliver(r, emit); err != nil {
				return cursor{}, err
			}
		}
		if !p.more {
			return p.next, nil
		}
		cur = p.next
	}
}

// live follows $all from after (exclusive, or from the start when after is
// esdb.Start) until the subscription is dropped or ctx ends.
func (f *follower) live(ctx context.Context, after esdb.AllPosition, emit eventstore.Emit) error {
	sub, err := f.s.subscribeAll(ctx, after)
	if err != nil {
		return err
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			return fmt.Errorf("dropped: %w", ev.SubscriptionDropped.Error)
		case ev.EventAppeared != nil:
			if r := ev.EventAppeared.OriginalEvent(); r != nil {
				if err := f.deliver(r, emit); err != nil {
					return err
				}
			}
		}
		// Checkpoints, caught-up and fell-behind notices carry no event.
	}
}

// deliver hands r to the subscriber unless it is a system event or lies
// below an event already delivered. The log's positions are EventStoreDB's
// commit positions, which this backend takes to be one per event; should
// another event arrive at the position of the last one delivered, it
// fails rather than drop the event unseen.
func (f *follower) deliver(r *esdb.RecordedEvent, emit eventstore.Emit) error {
	if isSystem(r) {
		return nil
	}
	if f.next > 0 && r.Position.Commit == f.next-1 && r.EventID != f.last {
		return fmt.Errorf("event %s shares commit position %d with event %s: %w",
			r.EventID, r.Position.Commit, f.last, errSharedPosition)
	}
	if r.Position.Commit < f.next {
		return nil
	}
	e, err := decode(r)
	if err != nil {
		return err
	}
	if err := emit(e); err != nil {
		return err
	}
	f.next, f.last = e.Position+1, e.ID
	return nil
}

// errSharedPosition stops a subscription that met two events at one
// commit position, which would otherwise let it skip one.
var errSharedPosition = errors.New("two events share one position in $all")

// subscribeAll starts an EventStoreDB subscription to $all, without
// system events, after the position given. The subscription lives as long
// as ctx, so it is started under s.mu but not kept there: it never calls
// back into the client's connection machinery.
func (s *Store) subscribeAll(
	ctx context.Context,
	after esdb.AllPosition,
) (*esdb.Subscription, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	return s.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{
		From:   after,
		Filter: esdb.ExcludeSystemEventsFilter(),
	})
}
