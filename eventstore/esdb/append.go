package esdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// Append implements eventstore.Store. It returns eventstore.ErrInvalidEvent
// errors from eventstore.Prepare unchanged, and a
// *eventstore.WrongRevisionError when the stream is not as expected, or
// when an append expecting Any or StreamExists lost the race to other
// writers more than Config.AppendRetries times.
func (s *Store) Append(
	ctx context.Context,
	stream string,
	expected eventstore.ExpectedRevision,
	events ...eventstore.EventData,
) (eventstore.AppendResult, error) {
	prepared, err := eventstore.Prepare(stream, events, time.Now())
	if err != nil {
		return eventstore.AppendResult{}, err
	}

	var res eventstore.AppendResult
	err = s.call(ctx, func(ctx context.Context) (err error) {
		res, err = s.appendEvents(ctx, stream, expected, prepared)
		return err
	})
	var wrong *eventstore.WrongRevisionError
	switch {
	case errors.As(err, &wrong):
		return eventstore.AppendResult{}, err // it names the stream
	case err != nil:
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	return res, nil
}

// appendEvents reads the stream's newest events, returns the original
// result if events were appended before, and otherwise seals and writes
// them after the head it read. When another writer got in first, it starts
// over.
func (s *Store) appendEvents(
	ctx context.Context,
	stream string,
	expected eventstore.ExpectedRevision,
	events []eventstore.Event,
) (eventstore.AppendResult, error) {
	for attempt := 0; ; attempt++ {
		recent, err := s.recent(ctx, stream, s.cfg.IdempotencyWindow+len(events))
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if res, done, err := replay(recent, events); done || err != nil {
			return res, err
		}
		h, err := headOf(recent)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if !expected.Allows(h.revision, h.exists) || attempt > s.cfg.AppendRetries {
			return eventstore.AppendResult{}, h.wrong(stream, expected)
		}

		res, err := s.write(ctx, stream, h, events)
		if !isConflict(err) {
			return res, err
		}
		// Another writer appended since recent was read: read again.
	}
}

// recent returns up to n of the stream's newest events, newest first, and
// none when the stream has no event.
func (s *Store) recent(ctx context.Context, stream string, n int) ([]*esdb.RecordedEvent, error) {
	raw, err := s.readStreamRaw(ctx, stream, esdb.Backwards, esdb.End{}, n)
	if isNotFound(err) {
		return nil, nil
	}
	return raw, err
}

// replay looks for events among recent, the newest events of their stream.
// When all of them are there, in a row and with the same content, the
// append already happened: replay returns its result and done. When only
// some are there, or with other content, it returns an error wrapping
// eventstore.ErrDuplicateEvent that names the event's ID.
func replay(
	recent []*esdb.RecordedEvent,
	events []eventstore.Event,
) (res eventstore.AppendResult, done bool, err error) {
	if len(recent) == 0 {
		return res, false, nil
	}
	byID := make(map[uuid.UUID]*esdb.RecordedEvent, len(recent))
	for _, r := range recent {
		byID[r.EventID] = r
	}
	var found []*esdb.RecordedEvent
	for i := range events {
		r, ok := byID[events[i].ID]
		if !ok {
			continue
		}
		stored, err := decode(r)
		if err != nil {
			return res, false, err
		}
		if !eventstore.SameContent(&stored, &events[i]) {
			return res, false, fmt.Errorf("event %s: %w", r.EventID, eventstore.ErrDuplicateEvent)
		}
		found = append(found, r)
	}
	return replayed(found, len(events))
}

// replayed judges the stored events that an append of n events repeats.
func replayed(
	found []*esdb.RecordedEvent,
	n int,
) (res eventstore.AppendResult, done bool, err error) {
	switch {
	case len(found) == 0:
		return res, false, nil
	case len(found) < n:
		return res, false, fmt.Errorf("event %s is stored, but not every event of this append: %w",
			found[0].EventID, eventstore.ErrDuplicateEvent)
	}
	for i, r := range found {
		if r.EventNumber != found[0].EventNumber+uint64(i) {
			return res, false, fmt.Errorf("event %s is stored apart from the others of this append: %w",
				r.EventID, eventstore.ErrDuplicateEvent)
		}
	}
	last := found[len(found)-1]
	res = eventstore.AppendResult{Revision: last.EventNumber, Position: last.Position.Commit}
	return res, true, nil
}

// head is the last event of a stream, to which an append chains.
type head struct {
	revision uint64
	hash     eventstore.Hash
	exists   bool
}

// headOf returns the head of a stream whose newest events are recent.
func headOf(recent []*esdb.RecordedEvent) (head, error) {
	if len(recent) == 0 {
		return head{}, nil
	}
	e, err := decode(recent[0])
	if err != nil {
		return head{}, err
	}
	return head{revision: e.Revision, hash: e.Hash, exists: true}, nil
}

func (h head) wrong(stream string, expected eventstore.ExpectedRevision) error {
	return &eventstore.WrongRevisionError{
		Stream:   stream,
		Expected: expected,
		Actual:   h.revision,
		Exists:   h.exists,
	}
}

// write seals events onto h and appends them, telling EventStoreDB to
// expect exactly h whatever the caller expected: the chain holds only if
// no event came in between.
//
// TODO: when another request appends the same event IDs between our read
// and our write, EventStoreDB reports our write as done (it recognises the
// IDs at the revision we expect) without comparing contents; a read back
// would tell, at the cost of every append.
func (s *Store) write(
	ctx context.Context,
	stream string,
	h head,
	events []eventstore.Event,
) (eventstore.AppendResult, error) {
	var first uint64
	var expect esdb.ExpectedRevision = esdb.NoStream{}
	if h.exists {
		first, expect = h.revision+1, esdb.Revision(h.revision)
	}
	eventstore.Seal(h.hash, first, events)
	data, err := eventData(events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}

	opts := esdb.AppendToStreamOptions{ExpectedRevision: expect}
	wr, err := s.client.AppendToStream(ctx, stream, opts, data...)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	// The commit position EventStoreDB reports is that of the last event.
	last := events[len(events)-1]
	return eventstore.AppendResult{Revision: last.Revision, Position: wr.CommitPosition}, nil
}

// eventData turns sealed events into what the client appends. The event
// ID is always ours: the client would draw a random one for a zero ID, and
// a retried append would then store its events twice.
func eventData(events []eventstore.Event) ([]esdb.EventData, error) {
	out := make([]esdb.EventData, len(events))
	for i := range events {
		e := &events[i]
		envelope, err := eventstore.EncodeEnvelope(e)
		if err != nil {
			return nil, err
		}
		out[i] = esdb.EventData{
			EventID:     e.ID,
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    envelope,
		}
	}
	return out, nil
}
