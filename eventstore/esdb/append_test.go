package esdb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

func TestReplay(t *testing.T) {
	const stream = "student-1"
	stored := sealed(t, stream, `{"n":0}`, `{"n":1}`, phi)
	recent := make([]*esdb.RecordedEvent, len(stored))
	for i := range stored {
		// Newest first, as a backwards read returns them.
		recent[len(stored)-1-i] = recorded(t, &stored[i], 1000+uint64(i)*100)
	}
	// again prepares anew the stored events at the given indexes, as a
	// retry would, with the data given (the stored data when empty).
	again := func(data map[int]string, indexes ...int) []eventstore.Event {
		in := make([]eventstore.EventData, len(indexes))
		for j, i := range indexes {
			d := string(stored[i].Data)
			if data[i] != "" {
				d = data[i]
			}
			in[j] = eventstore.EventData{ID: stored[i].ID, Type: stored[i].Type, Data: []byte(d),
				Metadata: eventstore.Metadata{RequestID: "a-retry"}}
		}
		evs, err := eventstore.Prepare(stream, in, time.Now())
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		return evs
	}
	fresh := sealed(t, stream, `{"n":9}`)

	cases := []struct {
		name     string
		recent   []*esdb.RecordedEvent
		events   []eventstore.Event
		wantDone bool
		wantRes  eventstore.AppendResult
		wantDup  bool
	}{
		{"new stream", nil, fresh, false, eventstore.AppendResult{}, false},
		{"new events", recent, fresh, false, eventstore.AppendResult{}, false},
		{"the whole append again", recent, again(nil, 0, 1, 2),
			true, eventstore.AppendResult{Revision: 2, Position: 1200}, false},
		{"an earlier append again", recent, again(nil, 0, 1),
			true, eventstore.AppendResult{Revision: 1, Position: 1100}, false},
		{"other content", recent, again(map[int]string{1: `{"n":99}`}, 0, 1),
			false, eventstore.AppendResult{}, true},
		{"a stored event among new ones", recent, append(fresh, again(nil, 2)...),
			false, eventstore.AppendResult{}, true},
		{"out of order", recent, again(nil, 1, 0),
			false, eventstore.AppendResult{}, true},
		{"not in a row", recent, again(nil, 0, 2),
			false, eventstore.AppendResult{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, done, err := replay(c.recent, c.events)
			if c.wantDup {
				if !errors.Is(err, eventstore.ErrDuplicateEvent) {
					t.Fatalf("got error %v, want %v", err, eventstore.ErrDuplicateEvent)
				}
				if strings.Contains(err.Error(), "peanut") || strings.Contains(err.Error(), `"n"`) {
					t.Fatalf("error %q shows event data", err)
				}
				return
			}
			if err != nil || done != c.wantDone || res != c.wantRes {
				t.Fatalf("got %+v, done %v, %v; want %+v, done %v",
					res, done, err, c.wantRes, c.wantDone)
			}
		})
	}
}

func TestEventData(t *testing.T) {
	evs := sealed(t, "student-1", phi)
	data, err := eventData(evs)
	if err != nil {
		t.Fatalf("event data: %v", err)
	}
	d := data[0]
	if d.EventID != evs[0].ID || d.EventType != "AllergyRecorded" ||
		d.ContentType != esdb.ContentTypeJson || !bytes.Equal(d.Data, evs[0].Data) {
		t.Fatalf("got id %s type %s content type %d data %s", d.EventID, d.EventType,
			d.ContentType, d.Data)
	}
	if d.EventID == uuid.Nil {
		t.Fatal("the event ID is left for the client to draw")
	}
	var back eventstore.Event
	if err := eventstore.DecodeEnvelope(d.Metadata, &back); err != nil {
		t.Fatalf("the metadata is not an envelope: %v", err)
	}
	if back.Hash != evs[0].Hash || !bytes.Equal(back.DataSalt, evs[0].DataSalt) {
		t.Fatal("the envelope does not carry the event's hash and salt")
	}
}
