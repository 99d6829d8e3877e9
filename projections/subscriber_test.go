package projections_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// TestSubscriber delivers the log from the position From gives, one
// message at a time, again after a nack, and each message carries its
// event whole but for the salt and hashes.
func TestSubscriber(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, projections.Config{})
	_, err := h.Log.Append(t.Context(), "test-"+newID(), eventstore.NoStream,
		eventstore.EventData{Type: "First", Data: []byte(`{"n":1}`)},
		eventstore.EventData{Type: "Second", Data: []byte(`{"n":2}`),
			Metadata: eventstore.Metadata{ActorID: newID(), RequestID: "req-1"}},
		eventstore.EventData{Type: "Third", Data: []byte(`{"n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := h.Log.ReadAll(t.Context(), 1, 10)
	if err != nil {
		t.Fatal(err)
	}

	sub, err := projections.NewSubscriber(h.Log, projections.SubscriberConfig{
		From: func(context.Context, string) (uint64, error) { return 2, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	messages, err := sub.Subscribe(t.Context(), "tested")
	if err != nil {
		t.Fatal(err)
	}

	first := receive(t, messages)
	sameEvent(t, first, stored[1])
	noMessage(t, messages)
	first.Nack()
	again := receive(t, messages)
	if again.UUID != first.UUID {
		t.Fatalf("after a nack: message %s, want %s again", again.UUID, first.UUID)
	}
	again.Ack()
	next := receive(t, messages)
	sameEvent(t, next, stored[2])

	sub.Close()
	if _, open := <-messages; open {
		t.Error("a message after Close")
	}
}

// TestSubscriberContext closes the channel when the subscribing context
// ends.
func TestSubscriberContext(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, projections.Config{})
	sub, err := projections.NewSubscriber(h.Log, projections.SubscriberConfig{
		From: func(context.Context, string) (uint64, error) { return 1, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(t.Context())
	messages, err := sub.Subscribe(ctx, "tested")
	if err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case _, open := <-messages:
		if open {
			t.Error("a message from an empty log")
		}
	case <-time.After(waitTimeout):
		t.Error("the channel is still open after the context ended")
	}
}

// TestSubscriberPassesOver sends messages for the events its topic
// takes only, and tells the position of each other, in log order.
func TestSubscriberPassesOver(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, projections.Config{})
	var passed []uint64
	sub, err := projections.NewSubscriber(h.Log, projections.SubscriberConfig{
		From:    func(context.Context, string) (uint64, error) { return 1, nil },
		Selects: func(topic string, e eventstore.Event) bool { return e.Type == "Taken" },
		OnPass: func(topic string, position uint64) {
			if topic == "picky" {
				passed = append(passed, position)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	appendEvents(t, h, "Other", 2)
	appendEvents(t, h, "Taken", 1)
	appendEvents(t, h, "Other", 1)
	taken := appendEvents(t, h, "Taken", 1)

	messages, err := sub.Subscribe(t.Context(), "picky")
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for range 2 {
		msg := receive(t, messages)
		e, err := projections.EventOf(msg)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Position)
		msg.Ack()
	}
	if !slices.Equal(got, []uint64{3, taken.Position}) || !slices.Equal(passed, []uint64{1, 2, 4}) {
		t.Errorf("messages at %v, passed over %v; want 3 and 5, and 1, 2 and 4", got, passed)
	}
}

// TestSubscriberTopicsApart follows the log with two topics, one acking
// each message as it comes and one left behind while the log grows by
// more than the shared subscription keeps: each receives every event
// once, in order, the one behind from the log itself, then both from the
// shared subscription.
func TestSubscriberTopicsApart(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, projections.Config{})
	sub, err := projections.NewSubscriber(h.Log, projections.SubscriberConfig{
		From: func(context.Context, string) (uint64, error) { return 1, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	appendEvents(t, h, "Early", 10)
	fast, err := sub.Subscribe(t.Context(), "fast")
	if err != nil {
		t.Fatal(err)
	}
	slow, err := sub.Subscribe(t.Context(), "slow")
	if err != nil {
		t.Fatal(err)
	}

	const total = 10 + 20*500
	fastDone := make(chan []uint64, 1)
	go func() { fastDone <- consume(t, fast, total) }()
	for range 20 {
		appendEvents(t, h, "Later", 500)
	}
	for name, got := range map[string][]uint64{"fast": <-fastDone, "slow": consume(t, slow, total)} {
		if len(got) != total {
			t.Errorf("%s received %d events, want %d", name, len(got), total)
			continue
		}
		for i, p := range got {
			if p != uint64(i+1) {
				t.Errorf("%s: event %d at position %d, want %d", name, i, p, i+1)
				break
			}
		}
	}
}

// consume acks n messages and returns their events' positions.
func consume(t *testing.T, messages <-chan *message.Message, n int) []uint64 {
	var got []uint64
	for range n {
		select {
		case msg, ok := <-messages:
			if !ok {
				return got
			}
			e, err := projections.EventOf(msg)
			if err != nil {
				return got
			}
			got = append(got, e.Position)
			msg.Ack()
		case <-time.After(waitTimeout):
			return got
		}
	}
	return got
}

// TestSubscriberAfterTheContext answers a subscription whose context has
// ended, whose start fails for that reason, with a closed channel rather
// than an error, so that a router stopped while it starts its handlers
// stops each of them at once; any other failure is an error.
func TestSubscriberAfterTheContext(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, projections.Config{})
	sub, err := projections.NewSubscriber(h.Log, projections.SubscriberConfig{
		From: func(ctx context.Context, _ string) (uint64, error) {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			return 0, errors.New("no checkpoint")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	messages, err := sub.Subscribe(ctx, "tested")
	if err != nil {
		t.Fatalf("subscribe after the context ended: %v", err)
	}
	if _, open := <-messages; open {
		t.Error("a message after the context ended")
	}
	if _, err := sub.Subscribe(t.Context(), "tested"); err == nil {
		t.Error("a failure of From, with the context alive, is no error")
	}
}

func receive(t *testing.T, messages <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-messages:
		if !ok {
			t.Fatal("the channel closed")
		}
		return msg
	case <-time.After(waitTimeout):
		t.Fatal("no message")
	}
	return nil
}

// noMessage fails t when a message arrives within a short while.
func noMessage(t *testing.T, messages <-chan *message.Message) {
	t.Helper()
	select {
	case msg := <-messages:
		t.Fatalf("message %s before the previous one was acked", msg.UUID)
	case <-time.After(100 * time.Millisecond):
	}
}

// sameEvent fails t unless msg carries want, salt and hashes aside.
func sameEvent(t *testing.T, msg *message.Message, want eventstore.Event) {
	t.Helper()
	got, err := projections.EventOf(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Stream != want.Stream || got.Revision != want.Revision ||
		got.Position != want.Position || got.Type != want.Type ||
		got.SchemaVersion != want.SchemaVersion || !got.RecordedAt.Equal(want.RecordedAt) ||
		!bytes.Equal(got.Metadata, want.Metadata) || !bytes.Equal(got.Data, want.Data) {
		t.Errorf("event of message:\ngot  %+v\nwant %+v", got, want)
	}
}
