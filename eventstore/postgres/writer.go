package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whitecross/whitecross/eventstore"
)

// appendRequest is one Append waiting for the writer.
type appendRequest struct {
	ctx      context.Context
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.Event
	done     chan appendReply
}

type appendReply struct {
	result eventstore.AppendResult
	err    error
}

// errDuplicateID marks a batch that hit the unique index on event_id: it is
// tried again with each event ID looked up first.
var errDuplicateID = errors.New("an event id is already stored")

// Append implements eventstore.Store.
func (l *Log) Append(
	ctx context.Context,
	stream string,
	expected eventstore.ExpectedRevision,
	events ...eventstore.EventData,
) (eventstore.AppendResult, error) {
	prepared, err := eventstore.Prepare(stream, events, time.Now())
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	req := &appendRequest{
		ctx: ctx, stream: stream, expected: expected, events: prepared,
		done: make(chan appendReply, 1),
	}
	select {
	case l.appends <- req:
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	case <-l.ctx.Done():
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	select {
	case r := <-req.done:
		return r.result, r.err
	case <-l.stopped:
		// The writer stopped; it may have answered this append first.
		select {
		case r := <-req.done:
			return r.result, r.err
		default:
			return eventstore.AppendResult{}, eventstore.ErrClosed
		}
	case <-ctx.Done():
		// The append may still commit; a retry with the same event IDs is
		// safe, since the log recognises them.
		return eventstore.AppendResult{}, ctx.Err()
	}
}

// write is the writer goroutine: it takes every append waiting, commits
// them together and answers each.
func (l *Log) write() {
	for {
		var first *appendRequest
		select {
		case first = <-l.appends:
		case <-l.ctx.Done():
			l.failQueued()
			close(l.stopped)
			return
		}
		l.commitBatch(l.gather(first))
	}
}

// gather returns first and the appends queued behind it, up to the batch
// limit, leaving out those whose callers have given up.
func (l *Log) gather(first *appendRequest) []*appendRequest {
	batch := []*appendRequest{first}
	n := len(first.events)
	for n < l.cfg.MaxBatchEvents {
		select {
		case r := <-l.appends:
			batch = append(batch, r)
			n += len(r.events)
			continue
		default:
		}
		break
	}
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendReply{err: err}
			continue
		}
		live = append(live, r)
	}
	return live
}

func (l *Log) failQueued() {
	for {
		select {
		case r := <-l.appends:
			r.done <- appendReply{err: eventstore.ErrClosed}
		default:
			return
		}
	}
}

// staleRetries is how many times more a commit that lost its connection
// is tried, each on another connection, before its appends are failed as
// unavailable.
const staleRetries = 3

// commitBatch commits batch in one transaction. When that fails for the
// whole batch, each append is tried alone, so that one bad append cannot
// fail the others.
func (l *Log) commitBatch(batch []*appendRequest) {
	if len(batch) == 0 {
		return
	}
	replies, err := l.commit(batch, false)
	// A connection the pool kept from before the database restarted fails
	// on its first use; its idle neighbours are as old. Drop them all and
	// try again on fresh ones, looking the IDs up, since the first try may
	// have committed. While the database is still away, each try fails at
	// once.
	for try := 0; try < staleRetries && unreachable(err) && l.ctx.Err() == nil; try++ {
		if try == 0 {
			l.pool.Reset()
		}
		replies, err = l.commit(batch, true)
	}
	if errors.Is(err, errDuplicateID) {
		replies, err = l.commit(batch, true)
	}
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			l.commitBatch([]*appendRequest{r})
		}
		return
	}
	for i, r := range batch {
		if err != nil {
			replies[i] = appendReply{err: fmt.Errorf("append %s: %w", r.stream, unavailable(err))}
		}
		r.done <- replies[i]
	}
	if err == nil {
		l.hub.broadcast()
	}
}

// commit runs one append transaction in two round trips: BEGIN with the
// writer lock and every read the decisions need, then the insert with the
// COMMIT. With lookup, every event ID is looked up first, so that an append
// repeated with the same content is answered with its original result.
func (l *Log) commit(batch []*appendRequest, lookup bool) ([]appendReply, error) {
	if l.ctx.Err() != nil {
		return make([]appendReply, len(batch)), eventstore.ErrClosed
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.CommitTimeout)
	defer cancel()
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return make([]appendReply, len(batch)), err
	}
	// A connection left inside a transaction is closed, not reused.
	defer conn.Release()

	replies, err := l.commitOn(ctx, conn.Conn(), batch, lookup)
	if err != nil {
		conn.Conn().Exec(ctx, "ROLLBACK")
	}
	if isDuplicateID(err) {
		return make([]appendReply, len(batch)), errDuplicateID
	}
	if err != nil {
		return make([]appendReply, len(batch)), err
	}
	return replies, nil
}

func (l *Log) commitOn(
	ctx context.Context,
	conn *pgx.Conn,
	batch []*appendRequest,
	lookup bool,
) ([]appendReply, error) {
	p, err := l.loadPlan(ctx, conn, batch, lookup)
	if err != nil {
		return nil, err
	}
	replies := p.decide(batch)
	if refused := p.refused(batch, replies); !lookup && len(refused) > 0 {
		// A refused append may be a repeat of one already stored: look
		// its IDs up and decide again.
		if err := p.lookUp(ctx, conn, refused); err != nil {
			return nil, err
		}
		replies = p.decide(batch)
	}
	return replies, p.finish(ctx, conn)
}

// copyThreshold is the batch size from which COPY, at the cost of one more
// round trip, inserts faster than one INSERT from arrays.
const copyThreshold = 64

// finish inserts the plan's rows and commits: small batches with one
// INSERT sent together with the COMMIT, large ones with COPY.
func (p *plan) finish(ctx context.Context, conn *pgx.Conn) error {
	b := &pgx.Batch{}
	switch n := p.rows.len(); {
	case n == 0:
		b.Queue("ROLLBACK")
	case n < copyThreshold:
		b.Queue(insertSQL, p.rows.args()...)
		b.Queue("COMMIT")
	default:
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, insertColumns,
			pgx.CopyFromSlice(n, p.rows.row)); err != nil {
			return err
		}
		b.Queue("COMMIT")
	}
	return conn.SendBatch(ctx, b).Close()
}

func isDuplicateID(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		pgErr.ConstraintName == "events_event_id_key"
}

// plan is what one transaction knows before it decides: the next
// position, each stream's head and, when looked up, the stored events
// whose IDs the batch reuses. decide works on copies, so that it can run
// again after a look-up.
type plan struct {
	first      uint64
	firstHeads map[string]head
	known      map[uuid.UUID]*eventstore.Event

	next   uint64
	heads  map[string]head
	stored map[uuid.UUID]*eventstore.Event
	rows   columns
}

type head struct {
	revision uint64
	hash     eventstore.Hash
}

// loadPlan opens the transaction, takes the writer lock and reads, in
// one round trip, what the batch's decisions need.
func (l *Log) loadPlan(
	ctx context.Context,
	conn *pgx.Conn,
	batch []*appendRequest,
	lookup bool,
) (*plan, error) {
	streams := make([]string, 0, len(batch))
	var ids []uuid.UUID
	for _, r := range batch {
		streams = append(streams, r.stream)
		for _, e := range r.events {
			if lookup {
				ids = append(ids, e.ID)
			}
		}
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(writerLockSQL, writerLockKey)
	b.Queue(notifySQL, l.cfg.Channel)
	b.Queue(lastPositionSQL)
	b.Queue(streamHeadsSQL, streams)
	if lookup {
		b.Queue(findEventsSQL, ids)
	}
	res := conn.SendBatch(ctx, b)
	defer res.Close()

	p := &plan{firstHeads: make(map[string]head), known: make(map[uuid.UUID]*eventstore.Event)}
	for range 3 {
		if _, err := res.Exec(); err != nil {
			return nil, err
		}
	}
	var last int64
	if err := res.QueryRow().Scan(&last); err != nil {
		return nil, err
	}
	p.first = uint64(last) + 1
	if err := p.readHeads(res); err != nil {
		return nil, err
	}
	if lookup {
		rows, _ := res.Query()
		if err := p.collectStored(rows); err != nil {
			return nil, err
		}
	}
	return p, res.Close()
}

func (p *plan) readHeads(res pgx.BatchResults) error {
	rows, _ := res.Query()
	var (
		stream   string
		revision int64
		hash     []byte
	)
	_, err := pgx.ForEachRow(rows, []any{&stream, &revision, &hash}, func() error {
		h := head{revision: uint64(revision)}
		copy(h.hash[:], hash)
		p.firstHeads[stream] = h
		return nil
	})
	return err
}

func (p *plan) collectStored(rows pgx.Rows) error {
	events, err := pgx.CollectRows(rows, scanEvent)
	for i := range events {
		p.known[events[i].ID] = &events[i]
	}
	return err
}

// refused returns the appends of batch refused for a wrong revision.
func (p *plan) refused(batch []*appendRequest, replies []appendReply) []*appendRequest {
	var out []*appendRequest
	for i, r := range replies {
		if errors.Is(r.err, eventstore.ErrWrongExpectedRevision) {
			out = append(out, batch[i])
		}
	}
	return out
}

// lookUp adds the stored events whose IDs the appends reuse.
func (p *plan) lookUp(ctx context.Context, conn *pgx.Conn, reqs []*appendRequest) error {
	var ids []uuid.UUID
	for _, r := range reqs {
		for _, e := range r.events {
			ids = append(ids, e.ID)
		}
	}
	rows, _ := conn.Query(ctx, findEventsSQL, ids)
	return p.collectStored(rows)
}

// decide answers each append of the batch in order, sealing and queueing
// the rows of those that may go in.
func (p *plan) decide(batch []*appendRequest) []appendReply {
	p.next = p.first
	p.rows.reset()
	p.heads = maps.Clone(p.firstHeads)
	p.stored = maps.Clone(p.known)
	replies := make([]appendReply, len(batch))
	for i, r := range batch {
		replies[i] = p.decideOne(r)
	}
	return replies
}

func (p *plan) decideOne(r *appendRequest) appendReply {
	if res, found, err := p.repeated(r); found || err != nil {
		return appendReply{result: res, err: err}
	}
	h, exists := p.heads[r.stream]
	if !r.expected.Allows(h.revision, exists) {
		return appendReply{err: &eventstore.WrongRevisionError{
			Stream: r.stream, Expected: r.expected, Actual: h.revision, Exists: exists,
		}}
	}
	first := uint64(0)
	if exists {
		first = h.revision + 1
	}
	eventstore.Seal(h.hash, first, r.events)
	for i := range r.events {
		e := &r.events[i]
		e.Position = p.next
		p.next++
		p.rows.add(e)
		p.stored[e.ID] = e
	}
	last := &r.events[len(r.events)-1]
	p.heads[r.stream] = head{revision: last.Revision, hash: last.Hash}
	return appendReply{result: eventstore.AppendResult{Revision: last.Revision, Position: last.Position}}
}

// repeated tells whether r's events are already stored (or accepted
// earlier in this batch). When all are, with the same content and in
// order, r is a repeat and gets the original result; when only some are,
// or with other content, r is refused.
func (p *plan) repeated(r *appendRequest) (eventstore.AppendResult, bool, error) {
	var found []*eventstore.Event
	for i := range r.events {
		if s, ok := p.stored[r.events[i].ID]; ok {
			found = append(found, s)
		}
	}
	if len(found) == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	for i := range r.events {
		if len(found) != len(r.events) || !eventstore.SameContent(found[i], &r.events[i]) ||
			found[i].Revision != found[0].Revision+uint64(i) {
			return eventstore.AppendResult{}, true, fmt.Errorf("append %s: event %s: %w",
				r.stream, r.events[min(i, len(r.events)-1)].ID, eventstore.ErrDuplicateEvent)
		}
	}
	last := found[len(found)-1]
	return eventstore.AppendResult{Revision: last.Revision, Position: last.Position}, true, nil
}
