package eventstore

import (
	"context"
	"math"
)

// End, as ReadOptions.From of a backwards read, starts at a stream's last
// event.
const End = math.MaxUint64

// Store is the event log. It appends and reads; nothing is ever updated or
// deleted through it.
type Store interface {
	// Append adds events to the end of stream, atomically, if the stream is
	// in the expected state. It returns the revision and position of the
	// last event appended. When every event's ID is already stored with the
	// same content, it returns the original result and stores nothing.
	Append(
		ctx context.Context,
		stream string,
		expected ExpectedRevision,
		events ...EventData,
	) (AppendResult, error)

	// ReadStream returns up to opts.Limit events of one stream, in revision
	// order (or reverse order when opts.Backwards). It returns
	// ErrStreamNotFound when the stream has no event at all, and an empty
	// slice when the stream exists but has no event in the range asked for.
	ReadStream(ctx context.Context, stream string, opts ReadOptions) ([]Event, error)

	// ReadAll returns up to limit events of the whole log whose position is
	// at least from, in position order.
	ReadAll(ctx context.Context, from uint64, limit int) ([]Event, error)

	// Subscribe delivers every event whose position is at least from, in
	// position order: first those already stored, then each new one as it
	// is committed. A subscriber never receives an event below one it has
	// already received, and never misses one.
	Subscribe(ctx context.Context, from uint64) (*Subscription, error)

	// LastPosition returns the position of the newest event, 0 for an empty
	// log.
	LastPosition(ctx context.Context) (uint64, error)

	// Close releases the store's resources. Appends still queued fail with
	// ErrClosed.
	Close() error
}

// AppendResult tells where the last event of an Append landed.
type AppendResult struct {
	Revision uint64 // revision of the last event in its stream
	Position uint64 // position of the last event in the log
}

// ReadOptions selects a range of a stream.
type ReadOptions struct {
	// From is the first revision read: the lowest going forwards, the
	// highest going backwards (End for the last event).
	From      uint64
	Backwards bool
	// Limit caps the number of events returned; zero means 1000.
	Limit int
}

// LimitOrDefault returns Limit, or 1000 when it is not positive.
func (o ReadOptions) LimitOrDefault() int {
	if o.Limit <= 0 {
		return 1000
	}
	return o.Limit
}
