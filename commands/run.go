package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// Store is what commands need of the event log.
type Store interface {
	Append(
		ctx context.Context,
		stream string,
		expected eventstore.ExpectedRevision,
		events ...eventstore.EventData,
	) (eventstore.AppendResult, error)
	ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.Event, error)
}

// maxAttempts bounds how often a command decides again after losing a race
// for its stream.
const maxAttempts = 5

// Meta is the context of one command: who, from which request, and the
// client's idempotency key. It becomes every event's metadata.
type Meta struct {
	ActorID        string
	ActorRole      string
	SchoolID       string
	RequestID      string
	CorrelationID  string
	Reason         string
	BreakGlass     bool
	IdempotencyKey string
}

func (m Meta) metadata() eventstore.Metadata {
	return eventstore.Metadata{
		ActorID: m.ActorID, ActorRole: m.ActorRole, SchoolID: m.SchoolID,
		RequestID: m.RequestID, CorrelationID: m.CorrelationID,
		Reason: m.Reason, BreakGlass: m.BreakGlass,
	}
}

// Result is where a command's events landed.
type Result struct {
	Stream   string
	Revision uint64
	// Position is the log position of the last event, for a query that
	// must wait until the read models have seen it.
	Position uint64
	// Repeated is true when an earlier request with the same idempotency
	// key had already done this; nothing new was appended, and Events are
	// the events that request appended.
	Repeated bool
	Events   []domain.Event
}

// history is a stream as a command sees it: its decoded events and where
// it ends.
type history struct {
	events    []domain.Event
	ids       []uuid.UUID
	positions []uint64
	last      eventstore.Event
	revision  uint64
	exists    bool
}

func (h history) expected() eventstore.ExpectedRevision {
	if !h.exists {
		return eventstore.NoStream
	}
	return eventstore.Exact(h.revision)
}

// load reads a whole stream and decodes its events; a stream with no
// event is an empty history.
func load(ctx context.Context, store Store, stream string) (history, error) {
	var h history
	for from := uint64(0); ; {
		page, err := store.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Limit: 1000})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		for _, e := range page {
			ev, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return h, fmt.Errorf("load %s revision %d: %w", stream, e.Revision, err)
			}
			h.events = append(h.events, ev)
			h.ids = append(h.ids, e.ID)
			h.positions = append(h.positions, e.Position)
			h.last, h.revision, h.exists = e, e.Revision, true
		}
		if len(page) < 1000 {
			return h, nil
		}
		from = h.revision + 1
	}
}

// decider turns a stream's history into the events a command adds. It
// returns no events when there is nothing to do. A refusal may come with
// events, which are appended before the refusal is returned.
type decider func(history []domain.Event) ([]domain.Event, error)

// execute runs one command on one stream: load, decide, append with the
// expected revision, and on a lost race, again. The decider may complete
// meta (the school, once the stream tells it) before the events are
// encoded.
func execute(
	ctx context.Context,
	store Store,
	stream string,
	meta *Meta,
	decide decider,
) (Result, error) {
	for attempt := 1; ; attempt++ {
		h, err := load(ctx, store, stream)
		if err != nil {
			return Result{}, err
		}
		if res, ok := repeated(stream, *meta, h); ok {
			return res, nil
		}
		events, refusal := decide(h.events)
		if len(events) == 0 {
			return Result{Stream: stream, Revision: h.revision, Position: h.last.Position}, refusal
		}
		data, err := encode(stream, *meta, events)
		if err != nil {
			return Result{}, err
		}
		res, err := store.Append(ctx, stream, h.expected(), data...)
		if errors.Is(err, eventstore.ErrWrongExpectedRevision) && attempt < maxAttempts {
			continue
		}
		if err != nil {
			return Result{}, err
		}
		// A refusal that comes with events (a lockout, a reused refresh
		// token) is recorded first, then returned.
		return Result{Stream: stream, Revision: res.Revision, Position: res.Position}, refusal
	}
}

// repeated reports whether the stream already holds the events this
// command appended under its idempotency key, and where they landed.
func repeated(stream string, meta Meta, h history) (Result, bool) {
	if meta.IdempotencyKey == "" {
		return Result{}, false
	}
	first := eventID(meta.IdempotencyKey, stream, 0)
	for i, id := range h.ids {
		if id != first {
			continue
		}
		last := i
		for last+1 < len(h.ids) && h.ids[last+1] == eventID(meta.IdempotencyKey, stream, last+1-i) {
			last++
		}
		return Result{Stream: stream, Revision: uint64(last), Position: h.positions[last],
			Repeated: true, Events: h.events[i : last+1]}, true
	}
	return Result{}, false
}

// idempotencyNamespace scopes the event IDs made from idempotency keys.
var idempotencyNamespace = uuid.MustParse("6f0c1a52-2b7e-4f43-9a51-3c8e2d7b9e10")

// eventID is the ID of the i-th event a command appends to stream under an
// idempotency key: the same key, stream and index give the same ID.
func eventID(key, stream string, i int) uuid.UUID {
	return uuid.NewSHA1(idempotencyNamespace, fmt.Appendf(nil, "%s\x00%s\x00%d", key, stream, i))
}

func encode(stream string, meta Meta, events []domain.Event) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(events))
	for i, ev := range events {
		typ, version, data, err := domain.EncodeEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("encode %T for %s: %w", ev, stream, err)
		}
		out[i] = eventstore.EventData{
			Type: typ, SchemaVersion: version, Data: data, Metadata: meta.metadata(),
		}
		if meta.IdempotencyKey != "" {
			out[i].ID = eventID(meta.IdempotencyKey, stream, i)
		}
	}
	return out, nil
}
