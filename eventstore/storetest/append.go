package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

func (s suite) testAppend(t *testing.T) {
	st := s.open(t)
	stream := newStream("append")
	before := time.Now().UTC().Add(-time.Second)

	evs := events(3)
	res := mustAppend(t, st, stream, eventstore.NoStream, evs...)
	if res.Revision != 2 {
		t.Fatalf("revision of last event: got %d, want 2", res.Revision)
	}
	got := mustRead(t, st, stream)
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, e := range got {
		if e.ID != evs[i].ID || e.Type != "Tested" || e.Revision != uint64(i) || e.Stream != stream {
			t.Errorf("event %d: got id %s type %s revision %d stream %s", i, e.ID, e.Type, e.Revision, e.Stream)
		}
		if !bytes.Equal(e.Data, evs[i].Data) {
			t.Errorf("event %d data: got %s, want %s", i, e.Data, evs[i].Data)
		}
		if e.SchemaVersion != 1 {
			t.Errorf("event %d schema version: got %d, want 1", i, e.SchemaVersion)
		}
		if e.RecordedAt.Location() != time.UTC || e.RecordedAt.Before(before) ||
			e.RecordedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("event %d recorded at %v, want UTC and about now", i, e.RecordedAt)
		}
		m, err := e.DecodeMetadata()
		if err != nil || m.ActorID != "actor-1" || m.RequestID != "req-1" {
			t.Errorf("event %d metadata: got %+v (%v)", i, m, err)
		}
	}
	if got[2].Position != res.Position {
		t.Errorf("position of last event: read %d, append said %d", got[2].Position, res.Position)
	}
	s.checkPositions(t, got)

	t.Run("zero ID is assigned", func(t *testing.T) {
		stream := newStream("zero-id")
		mustAppend(t, st, stream, eventstore.NoStream,
			eventstore.EventData{Type: "Tested", Data: []byte(`{}`)})
		if e := mustRead(t, st, stream)[0]; e.ID == uuid.Nil {
			t.Fatal("stored event has the nil ID")
		}
	})
	t.Run("schema version kept", func(t *testing.T) {
		stream := newStream("schema")
		mustAppend(t, st, stream, eventstore.NoStream,
			eventstore.EventData{Type: "Tested", SchemaVersion: 3, Data: []byte(`{}`)})
		if e := mustRead(t, st, stream)[0]; e.SchemaVersion != 3 {
			t.Fatalf("schema version: got %d, want 3", e.SchemaVersion)
		}
	})
}

// checkPositions checks that a stream's events have increasing positions,
// consecutive when the backend promises it and they were appended together.
func (s suite) checkPositions(t *testing.T, evs []eventstore.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		prev, cur := evs[i-1].Position, evs[i].Position
		if cur <= prev {
			t.Fatalf("position %d follows %d", cur, prev)
		}
		if s.features.ContiguousPositions && cur != prev+1 {
			t.Fatalf("position %d follows %d in one append", cur, prev)
		}
	}
}

func (s suite) testExpectedRevision(t *testing.T) {
	st := s.open(t)
	type state int
	const (
		absent state = iota
		atZero
		atTwo
	)
	cases := []struct {
		name     string
		state    state
		expected eventstore.ExpectedRevision
		ok       bool
	}{
		{"any on absent", absent, eventstore.Any, true},
		{"any on existing", atTwo, eventstore.Any, true},
		{"no stream on absent", absent, eventstore.NoStream, true},
		{"no stream on existing", atZero, eventstore.NoStream, false},
		{"exists on absent", absent, eventstore.StreamExists, false},
		{"exists on existing", atZero, eventstore.StreamExists, true},
		{"exact on absent", absent, eventstore.Exact(0), false},
		{"exact right", atTwo, eventstore.Exact(2), true},
		{"exact behind", atTwo, eventstore.Exact(1), false},
		{"exact ahead", atZero, eventstore.Exact(1), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := newStream("expect")
			var before int
			switch c.state {
			case atZero:
				mustAppend(t, st, stream, eventstore.NoStream, events(1)...)
				before = 1
			case atTwo:
				mustAppend(t, st, stream, eventstore.NoStream, events(3)...)
				before = 3
			}
			_, err := st.Append(t.Context(), stream, c.expected, events(2)...)
			if c.ok {
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				if n := len(mustRead(t, st, stream)); n != before+2 {
					t.Fatalf("stream has %d events, want %d", n, before+2)
				}
				return
			}
			wantErr(t, err, eventstore.ErrWrongExpectedRevision)
			var wr *eventstore.WrongRevisionError
			if !errors.As(err, &wr) || wr.Stream != stream {
				t.Fatalf("error %v is not a *WrongRevisionError for %s", err, stream)
			}
			if wr.Exists != (before > 0) || (wr.Exists && wr.Actual != uint64(before-1)) {
				t.Fatalf("error says exists=%v actual=%d; stream had %d events", wr.Exists, wr.Actual, before)
			}
			s.checkLength(t, st, stream, before)
		})
	}
}

func (s suite) checkLength(t *testing.T, st eventstore.Store, stream string, want int) {
	t.Helper()
	evs, err := st.ReadStream(t.Context(), stream, eventstore.ReadOptions{})
	if want == 0 {
		wantErr(t, err, eventstore.ErrStreamNotFound)
		return
	}
	if err != nil || len(evs) != want {
		t.Fatalf("stream has %d events (%v), want %d", len(evs), err, want)
	}
}

func (s suite) testInvalid(t *testing.T) {
	st := s.open(t)
	good := events(1)[0]
	dup := events(2)
	dup[1].ID = dup[0].ID
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
		field  string
	}{
		{"empty stream", "", events(1), "stream"},
		{"system stream", "$all", events(1), "stream"},
		{"NUL in stream", "a\x00b", events(1), "stream"},
		{"no events", newStream("invalid"), nil, "events"},
		{"empty type", "", []eventstore.EventData{{Data: good.Data}}, "type"},
		{"type with space", "", []eventstore.EventData{{Type: "A B", Data: good.Data}}, "type"},
		{"data not JSON", "", []eventstore.EventData{{Type: "T", Data: []byte("{")}}, "data"},
		{"no data", "", []eventstore.EventData{{Type: "T"}}, "data"},
		{"duplicate id", "", dup, "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := c.stream
			if stream == "" && c.field != "stream" {
				stream = newStream("invalid")
			}
			_, err := st.Append(t.Context(), stream, eventstore.Any, c.events...)
			wantErr(t, err, eventstore.ErrInvalidEvent)
			var ie *eventstore.InvalidEventError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("error %v does not name field %q", err, c.field)
			}
			if c.field != "stream" {
				s.checkLength(t, st, stream, 0)
			}
		})
	}
}

func (s suite) testIdempotent(t *testing.T) {
	st := s.open(t)
	t.Run("same content returns the first result", func(t *testing.T) {
		stream := newStream("idem")
		evs := events(3)
		first := mustAppend(t, st, stream, eventstore.NoStream, evs...)
		evs[0].Metadata.RequestID = "a-retry"
		again := mustAppend(t, st, stream, eventstore.NoStream, evs...)
		if again != first {
			t.Fatalf("retry: got %+v, want %+v", again, first)
		}
		s.checkLength(t, st, stream, 3)
	})
	t.Run("other content is refused", func(t *testing.T) {
		stream := newStream("idem")
		evs := events(2)
		mustAppend(t, st, stream, eventstore.NoStream, evs...)
		evs[1].Data = []byte(`{"n":99}`)
		_, err := st.Append(t.Context(), stream, eventstore.Any, evs...)
		wantErr(t, err, eventstore.ErrDuplicateEvent)
		s.checkLength(t, st, stream, 2)
	})
	t.Run("same id on another stream is refused", func(t *testing.T) {
		if !s.features.UniqueIDsAcrossStreams {
			t.Skip("the backend checks event IDs within a stream only")
		}
		evs := events(1)
		mustAppend(t, st, newStream("idem"), eventstore.NoStream, evs...)
		other := newStream("idem")
		_, err := st.Append(t.Context(), other, eventstore.Any, evs...)
		wantErr(t, err, eventstore.ErrDuplicateEvent)
		s.checkLength(t, st, other, 0)
	})
	t.Run("a stored id among new ones is refused", func(t *testing.T) {
		stream := newStream("idem")
		evs := events(2)
		mustAppend(t, st, stream, eventstore.NoStream, evs[0])
		_, err := st.Append(t.Context(), stream, eventstore.Any, events(1)[0], evs[0])
		wantErr(t, err, eventstore.ErrDuplicateEvent)
		s.checkLength(t, st, stream, 1)
	})
}
