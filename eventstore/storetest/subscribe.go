package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// ofStreams keeps only the events of the given streams, so that a test on
// a shared log ignores what other tests append.
func ofStreams(evs []eventstore.Event, streams ...string) []eventstore.Event {
	var out []eventstore.Event
	for _, e := range evs {
		for _, s := range streams {
			if e.Stream == s {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// receiveOf takes events from sub until n of them belong to streams.
func receiveOf(t *testing.T, sub *eventstore.Subscription, n int, streams ...string) []eventstore.Event {
	t.Helper()
	var out []eventstore.Event
	for len(out) < n {
		out = append(out, ofStreams(receive(t, sub, 1), streams...)...)
	}
	return out
}

func (s suite) testSubscribe(t *testing.T) {
	st := s.open(t)

	t.Run("catch up then live", func(t *testing.T) {
		stream := newStream("sub")
		mustAppend(t, st, stream, eventstore.NoStream, events(3)...)
		first := mustRead(t, st, stream)[0]

		sub, err := st.Subscribe(t.Context(), first.Position)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		got := receiveOf(t, sub, 3, stream)
		if got[0].ID != first.ID {
			t.Fatalf("first event delivered is %s, want %s", got[0].ID, first.ID)
		}
		mustAppend(t, st, stream, eventstore.Exact(2), events(2)...)
		got = append(got, receiveOf(t, sub, 2, stream)...)
		for i, e := range got {
			if e.Revision != uint64(i) {
				t.Fatalf("event %d has revision %d", i, e.Revision)
			}
			if e.Hash != eventstore.ComputeHash(&e) {
				t.Fatalf("event %d delivered with a hash that does not match", i)
			}
		}
	})

	t.Run("from the end", func(t *testing.T) {
		last, err := st.LastPosition(t.Context())
		if err != nil {
			t.Fatalf("last position: %v", err)
		}
		sub, err := st.Subscribe(t.Context(), last+1)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		stream := newStream("sub-end")
		res := mustAppend(t, st, stream, eventstore.NoStream, events(1)...)
		got := receiveOf(t, sub, 1, stream)
		if got[0].Position != res.Position {
			t.Fatalf("delivered position %d, append said %d", got[0].Position, res.Position)
		}
	})

	t.Run("close", func(t *testing.T) {
		sub, err := st.Subscribe(t.Context(), 0)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		if err := sub.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		for range sub.Events() {
		}
		if err := sub.Err(); err != nil {
			t.Fatalf("err after close: %v", err)
		}
	})

	t.Run("context ends it", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sub, err := st.Subscribe(ctx, 0)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		cancel()
		select {
		case <-sub.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("subscription still running 10s after its context ended")
		}
		if err := sub.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("err: got %v, want context.Canceled", err)
		}
	})
}
