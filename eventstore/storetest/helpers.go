package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// newStream returns a stream name no other test uses.
func newStream(prefix string) string {
	return prefix + "-" + uuid.NewString()
}

// events makes n events of type "Tested" whose data is {"n":i}.
func events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{
			ID:       uuid.New(),
			Type:     "Tested",
			Data:     fmt.Appendf(nil, `{"n":%d}`, i),
			Metadata: eventstore.Metadata{ActorID: "actor-1", RequestID: "req-1"},
		}
	}
	return out
}

func mustAppend(
	t *testing.T,
	s eventstore.Store,
	stream string,
	x eventstore.ExpectedRevision,
	evs ...eventstore.EventData,
) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), stream, x, evs...)
	if err != nil {
		t.Fatalf("append %s (expected %s): %v", stream, x, err)
	}
	return res
}

func mustRead(t *testing.T, s eventstore.Store, stream string) []eventstore.Event {
	t.Helper()
	evs, err := s.ReadStream(t.Context(), stream, eventstore.ReadOptions{Limit: 100000})
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return evs
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func dataN(t *testing.T, e eventstore.Event) int {
	t.Helper()
	var d struct{ N int }
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("decode data of %s: %v", e.ID, err)
	}
	return d.N
}

// receive takes n events from sub, failing after a generous timeout.
func receive(t *testing.T, sub *eventstore.Subscription, n int) []eventstore.Event {
	t.Helper()
	out := make([]eventstore.Event, 0, n)
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(out), n, sub.Err())
			}
			out = append(out, e)
		case <-timeout:
			t.Fatalf("received %d of %d events in 30s", len(out), n)
		}
	}
	return out
}
