package commands

import (
	"bytes"
	"context"
	"crypto/sha256"
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
	// RequestDigest identifies the request an idempotency key came with
	// (the HTTP layer hashes its method, path and body). With ActorID it
	// ties the key to one caller and one request: the key sent again by
	// another caller, or with another request, is refused
	// (ErrIdempotencyKeyReused).
	RequestDigest string
}

// ErrIdempotencyKeyReused is returned by a command whose idempotency key
// already named another request on its stream: one of another caller, or
// with another body. Nothing is appended. Test with errors.Is.
var ErrIdempotencyKeyReused = errors.New("idempotency key already used for another request")

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
	// Recorded are the command's events as the log recorded them, with
	// their envelopes, in the order appended: those of this request, or of
	// the earlier one it repeated. Empty when the command changed nothing.
	Recorded []eventstore.Event
}

// history is a stream as a command sees it: its events as recorded and
// decoded, and where it ends.
type history struct {
	events   []domain.Event
	raw      []eventstore.Event
	revision uint64
	exists   bool
}

// last is the stream's last event; the zero Event for an empty stream.
func (h history) last() eventstore.Event {
	if len(h.raw) == 0 {
		return eventstore.Event{}
	}
	return h.raw[len(h.raw)-1]
}

// idStrings returns the IDs of h's events, by revision.
func (h history) idStrings() []string {
	ids := make([]string, len(h.raw))
	for i, e := range h.raw {
		ids[i] = e.ID.String()
	}
	return ids
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
			h.raw = append(h.raw, e)
			h.revision, h.exists = e.Revision, true
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
	return executeOn(ctx, store, stream, meta, func(h history) ([]domain.Event, error) {
		return decide(h.events)
	})
}

// executeOn is execute with a decider that sees the stream as recorded,
// envelopes included.
func executeOn(
	ctx context.Context,
	store Store,
	stream string,
	meta *Meta,
	decide func(h history) ([]domain.Event, error),
) (Result, error) {
	for attempt := 1; ; attempt++ {
		h, err := load(ctx, store, stream)
		if err != nil {
			return Result{}, err
		}
		if res, ok, err := repeated(stream, *meta, h); ok || err != nil {
			return res, err
		}
		events, refusal := decide(h)
		if len(events) == 0 {
			return Result{Stream: stream, Revision: h.revision, Position: h.last().Position}, refusal
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
		recorded, err := readBack(ctx, store, stream, res, len(data))
		if err != nil {
			return Result{}, err
		}
		// A refusal that comes with events (a lockout, a reused refresh
		// token) is recorded first, then returned.
		return Result{Stream: stream, Revision: res.Revision, Position: res.Position,
			Events: events, Recorded: recorded}, refusal
	}
}

// readBack returns the n events an append that ended at res recorded,
// with the envelopes the log gave them.
func readBack(
	ctx context.Context,
	store Store,
	stream string,
	res eventstore.AppendResult,
	n int,
) ([]eventstore.Event, error) {
	from := res.Revision + 1 - uint64(n)
	recorded, err := store.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Limit: n})
	if err != nil {
		return nil, fmt.Errorf("read back %s from revision %d: %w", stream, from, err)
	}
	return recorded, nil
}

// repeated reports whether the stream already holds the events this
// command appended under its idempotency key, and returns where they
// landed. It returns ErrIdempotencyKeyReused when the key named another
// caller's request, or another request, on this stream.
func repeated(stream string, meta Meta, h history) (Result, bool, error) {
	if meta.IdempotencyKey == "" {
		return Result{}, false, nil
	}
	first := eventID(meta, stream, 0)
	for i, e := range h.raw {
		if !sameKey(e.ID, first) {
			continue
		}
		if e.ID != first {
			return Result{}, false, fmt.Errorf("%s: %w", stream, ErrIdempotencyKeyReused)
		}
		last := i
		for last+1 < len(h.raw) && h.raw[last+1].ID == eventID(meta, stream, last+1-i) {
			last++
		}
		return Result{Stream: stream, Revision: uint64(last), Position: h.raw[last].Position,
			Repeated: true, Events: h.events[i : last+1], Recorded: h.raw[i : last+1]}, true, nil
	}
	return Result{}, false, nil
}

// idempotencyNamespace scopes the event IDs made from idempotency keys.
var idempotencyNamespace = uuid.MustParse("6f0c1a52-2b7e-4f43-9a51-3c8e2d7b9e10")

// eventID is the ID of the i-th event a command appends to stream under
// meta's idempotency key. It is a UUID of version 8 in two halves: the
// first 8 bytes hash the namespace, key, stream and index, so that a key
// used again on the stream is found whatever the request; the last 8 hash
// the key with the caller and the request digest, so that a request that
// repeats the first is told from one that merely reuses its key. The
// same key, caller, request, stream and index give the same ID.
func eventID(meta Meta, stream string, i int) uuid.UUID {
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d",
		idempotencyNamespace, meta.IdempotencyKey, stream, i))
	scope := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s",
		meta.IdempotencyKey, meta.ActorID, meta.RequestDigest))
	var id uuid.UUID
	copy(id[:8], key[:8])
	copy(id[8:], scope[:8])
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // the RFC 9562 variant
	return id
}

// sameKey reports whether two IDs eventID made share their key half.
func sameKey(a, b uuid.UUID) bool { return bytes.Equal(a[:8], b[:8]) }

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
			out[i].ID = eventID(meta, stream, i)
		}
	}
	return out, nil
}
