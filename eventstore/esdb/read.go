package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/whitecross/whitecross/eventstore"
)

// scanPage is how many events a backwards scan of $all reads at a time.
const scanPage = 64

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(
	ctx context.Context,
	stream string,
	opts eventstore.ReadOptions,
) ([]eventstore.Event, error) {
	var events []eventstore.Event
	err := s.call(ctx, func(ctx context.Context) (err error) {
		events, err = s.readStream(ctx, stream, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return events, nil
}

func (s *Store) readStream(
	ctx context.Context,
	stream string,
	opts eventstore.ReadOptions,
) ([]eventstore.Event, error) {
	n := opts.LimitOrDefault()
	dir, from := streamStart(opts)
	raw, err := s.readStreamRaw(ctx, stream, dir, from, n)
	if err == nil && pastEnd(opts, raw) {
		raw, err = s.readStreamRaw(ctx, stream, dir, esdb.End{}, n)
	}
	switch {
	case isNotFound(err):
		return nil, eventstore.ErrStreamNotFound
	case err != nil:
		return nil, err
	}
	events := make([]eventstore.Event, len(raw))
	for i, r := range raw {
		if events[i], err = decode(r); err != nil {
			return nil, err
		}
	}
	return events, nil
}

// streamStart translates where a read of a stream begins.
func streamStart(o eventstore.ReadOptions) (esdb.Direction, esdb.StreamPosition) {
	switch {
	case !o.Backwards:
		return esdb.Forwards, esdb.Revision(min(o.From, math.MaxInt64))
	case o.From > math.MaxInt64: // eventstore.End, or past any revision
		return esdb.Backwards, esdb.End{}
	}
	return esdb.Backwards, esdb.Revision(o.From)
}

// pastEnd reports whether a backwards read began past the stream's last
// event, given what it returned. EventStoreDB then returns only the events
// of the range asked for that exist, so fewer than the contract wants: the
// read must start again from the end.
func pastEnd(o eventstore.ReadOptions, raw []*esdb.RecordedEvent) bool {
	return o.Backwards && o.From <= math.MaxInt64 &&
		(len(raw) == 0 || raw[0].EventNumber != o.From)
}

// ReadAll implements eventstore.Store. A limit of zero or less means 1000.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.Event, error) {
	limit = eventstore.ReadOptions{Limit: limit}.LimitOrDefault()
	var events []eventstore.Event
	err := s.call(ctx, func(ctx context.Context) (err error) {
		events, err = s.readAll(ctx, from, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read $all from %d: %w", from, err)
	}
	return events, nil
}

func (s *Store) readAll(ctx context.Context, from uint64, limit int) ([]eventstore.Event, error) {
	cur, err := s.resolve(ctx, from)
	if err != nil {
		return nil, err
	}
	events := make([]eventstore.Event, 0, min(limit, 1024))
	for {
		p, err := s.readPage(ctx, cur, limit-len(events))
		if err != nil {
			return nil, err
		}
		for _, r := range p.events {
			if isSystem(r) {
				continue
			}
			e, err := decode(r)
			if err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		if len(events) == limit || !p.more {
			return events, nil
		}
		cur = p.next
	}
}

// LastPosition implements eventstore.Store. EventStoreDB's own events
// (system streams, $-types) do not count.
func (s *Store) LastPosition(ctx context.Context) (uint64, error) {
	var last uint64
	err := s.call(ctx, func(ctx context.Context) error {
		r, err := s.scanBack(ctx, func(r *esdb.RecordedEvent) bool { return !isSystem(r) })
		if r != nil {
			last = r.Position.Commit
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("last position: %w", err)
	}
	return last, nil
}

// cursor is where a forward read of $all goes on: at is a position that
// EventStoreDB accepts (Start, or one it returned), next the lowest
// position still wanted.
type cursor struct {
	at   esdb.AllPosition
	next uint64
}

// page is one forward read of $all.
type page struct {
	// events are those at or after the cursor's next, system events
	// included.
	events []*esdb.RecordedEvent
	next   cursor
	// more is set when the read stopped at its count: there may be more.
	more bool
}

// readPage reads up to n events of $all from cur.
func (s *Store) readPage(ctx context.Context, cur cursor, n int) (page, error) {
	// One more than n, since the event at cur.at, already seen, comes back.
	raw, err := s.readAllRaw(ctx, esdb.Forwards, cur.at, n+1)
	if err != nil {
		return page{}, err
	}
	return cut(raw, cur, n), nil
}

// cut keeps up to n of raw, the answer to a read of n+1 events from cur.at,
// dropping those below cur.next.
func cut(raw []*esdb.RecordedEvent, cur cursor, n int) page {
	p := page{next: cur, more: len(raw) > n}
	for _, r := range raw {
		pos := r.Position.Commit
		if pos < cur.next {
			p.next.at = allPosition(pos)
			continue
		}
		if len(p.events) == n {
			break
		}
		p.events = append(p.events, r)
		p.next = cursor{at: allPosition(pos), next: pos + 1}
	}
	return p
}

// resolve returns a cursor from which a read of $all misses nothing at or
// after from. EventStoreDB reads $all only from where a record starts and
// fails elsewhere, and a position past the end reads as empty now but
// would fail once the log has grown past it. So resolve tries from itself
// (the position of an event), then from-1 (one past an event's, the usual
// next position to read), and accepts either only when a read from it
// returns an event. Otherwise it scans $all backwards for the newest event
// below from.
func (s *Store) resolve(ctx context.Context, from uint64) (cursor, error) {
	if from <= 1 {
		return cursor{at: esdb.Start{}, next: from}, nil
	}
	for _, p := range [...]uint64{from, from - 1} {
		raw, err := s.readAllRaw(ctx, esdb.Forwards, allPosition(p), 1)
		if err == nil && len(raw) == 0 {
			break // p is past the end of the log
		}
		if err == nil {
			return cursor{at: allPosition(p), next: from}, nil
		}
		if ctx.Err() != nil {
			return cursor{}, err
		}
		// p is not where a record starts.
	}
	below, err := s.scanBack(ctx, func(r *esdb.RecordedEvent) bool {
		return r.Position.Commit < from
	})
	switch {
	case err != nil:
		return cursor{}, err
	case below == nil:
		return cursor{at: esdb.Start{}, next: from}, nil
	}
	return cursor{at: allPosition(below.Position.Commit), next: from}, nil
}

// scanBack reads $all backwards from its end and returns the first event
// for which match is true, or nil when there is none.
func (s *Store) scanBack(
	ctx context.Context,
	match func(*esdb.RecordedEvent) bool,
) (*esdb.RecordedEvent, error) {
	var at esdb.AllPosition = esdb.End{}
	oldest := uint64(math.MaxUint64)
	for {
		raw, err := s.readAllRaw(ctx, esdb.Backwards, at, scanPage)
		if err != nil {
			return nil, err
		}
		advanced := false
		for _, r := range raw {
			if r.Position.Commit >= oldest {
				continue // seen on the page before
			}
			oldest, advanced = r.Position.Commit, true
			if match(r) {
				return r, nil
			}
		}
		if len(raw) < scanPage || !advanced {
			return nil, nil
		}
		at = allPosition(oldest)
	}
}

// allPosition is the position in $all of the event whose commit position
// is pos. For the events of an append, which EventStoreDB commits
// implicitly, the prepare position is the same.
func allPosition(pos uint64) esdb.Position {
	return esdb.Position{Commit: pos, Prepare: pos}
}

func (s *Store) readAllRaw(
	ctx context.Context,
	dir esdb.Direction,
	from esdb.AllPosition,
	n int,
) ([]*esdb.RecordedEvent, error) {
	opts := esdb.ReadAllOptions{Direction: dir, From: from}
	rs, err := s.client.ReadAll(ctx, opts, uint64(n))
	if err != nil {
		return nil, err
	}
	return collect(rs, n)
}

func (s *Store) readStreamRaw(
	ctx context.Context,
	stream string,
	dir esdb.Direction,
	from esdb.StreamPosition,
	n int,
) ([]*esdb.RecordedEvent, error) {
	opts := esdb.ReadStreamOptions{Direction: dir, From: from}
	rs, err := s.client.ReadStream(ctx, stream, opts, uint64(n))
	if err != nil {
		return nil, err
	}
	return collect(rs, n)
}

// collect reads rs to its end and closes it. A missing stream shows as an
// error on the first event.
func collect(rs *esdb.ReadStream, n int) ([]*esdb.RecordedEvent, error) {
	defer rs.Close()
	out := make([]*esdb.RecordedEvent, 0, min(n, 256))
	for {
		r, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return nil, err
		}
		if e := r.OriginalEvent(); e != nil {
			out = append(out, e)
		}
	}
}

// decode turns an event as EventStoreDB returns it into the log's Event:
// ID, stream, revision, position, type and data from EventStoreDB's fields,
// the rest from the envelope in its metadata. Its error names the stream,
// the revision and the field of the envelope that is wrong, never data.
func decode(r *esdb.RecordedEvent) (eventstore.Event, error) {
	e := eventstore.Event{
		ID:       r.EventID,
		Stream:   r.StreamID,
		Revision: r.EventNumber,
		Position: r.Position.Commit,
		Type:     r.EventType,
	}
	if len(r.Data) > 0 {
		e.Data = r.Data
	}
	if err := eventstore.DecodeEnvelope(r.UserMetadata, &e); err != nil {
		return eventstore.Event{}, fmt.Errorf("stream %s revision %d: %w",
			r.StreamID, r.EventNumber, err)
	}
	return e, nil
}

// isSystem reports whether r is one of EventStoreDB's own events: its
// stream or its type starts with '$', which ours never do.
func isSystem(r *esdb.RecordedEvent) bool {
	return strings.HasPrefix(r.StreamID, "$") || strings.HasPrefix(r.EventType, "$")
}
