package esdb

import (
	"errors"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/whitecross/whitecross/eventstore"
)

func TestDeliver(t *testing.T) {
	evs := sealed(t, "student-1", `{"n":0}`, `{"n":1}`, `{"n":2}`)
	system := &esdb.RecordedEvent{StreamID: "$stats-1", EventType: "$statsCollected",
		Position: allPosition(20)}
	feed := []*esdb.RecordedEvent{
		recorded(t, &evs[0], 10),
		system,
		recorded(t, &evs[1], 5), // below an event delivered
		recorded(t, &evs[2], 30),
		recorded(t, &evs[2], 30), // delivered twice by the server
	}
	var got []uint64
	emit := func(e eventstore.Event) error {
		got = append(got, e.Position)
		return nil
	}
	f := &follower{next: 10}
	for _, r := range feed {
		if err := f.deliver(r, emit); err != nil {
			t.Fatalf("deliver: %v", err)
		}
	}
	if len(got) != 2 || got[0] != 10 || got[1] != 30 || f.next != 31 {
		t.Fatalf("delivered %v, next %d; want [10 30], next 31", got, f.next)
	}
}

// TestDeliverRefusesSharedPosition checks that a second event at the
// position of the one just delivered stops the subscription instead of
// being dropped as a repeat.
func TestDeliverRefusesSharedPosition(t *testing.T) {
	evs := sealed(t, "student-1", `{"n":0}`, `{"n":1}`)
	f := &follower{next: 10}
	emit := func(eventstore.Event) error { return nil }
	if err := f.deliver(recorded(t, &evs[0], 10), emit); err != nil {
		t.Fatalf("first event: %v", err)
	}
	err := f.deliver(recorded(t, &evs[1], 10), emit)
	if !errors.Is(err, errSharedPosition) {
		t.Fatalf("second event at the same position: got %v, want errSharedPosition", err)
	}
}
