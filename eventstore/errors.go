package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrWrongExpectedRevision is returned by Append when the stream is not
	// in the state the caller expected. Test with errors.Is; errors.As with
	// *WrongRevisionError gives the details.
	ErrWrongExpectedRevision = errors.New("wrong expected revision")

	// ErrStreamNotFound is returned by ReadStream for a stream with no event.
	ErrStreamNotFound = errors.New("stream not found")

	// ErrDuplicateEvent is returned by Append when an event ID is already
	// stored with other content. The same content appended again is not an
	// error: Append returns the original result and stores nothing.
	ErrDuplicateEvent = errors.New("event id already stored with other content")

	// ErrInvalidEvent is returned by Append for input it refuses before
	// touching the log: an empty stream name or type, data that is not JSON.
	ErrInvalidEvent = errors.New("invalid event")

	// ErrClosed is returned by a store that has been closed.
	ErrClosed = errors.New("event store closed")

	// ErrUnavailable wraps a failure to reach the store's database: it
	// refused or dropped the connection, or it is shutting down. The call
	// may be tried again once the database is back. An Append that failed
	// so may have committed; a retry with the same event IDs is answered
	// with its original result. Test with errors.Is.
	//
	// TODO: the EventStoreDB backend does not wrap its connection
	// failures in it yet (the client's ErrorCodeConnectionClosed and
	// gRPC's Unavailable); that wants a test against a running
	// EventStoreDB, which the build machines cannot run.
	ErrUnavailable = errors.New("event store unavailable")
)

// WrongRevisionError details an ErrWrongExpectedRevision.
type WrongRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// Actual is the stream's last revision; meaningless when !Exists.
	Actual uint64
	Exists bool
}

func (e *WrongRevisionError) Error() string {
	actual := "no stream"
	if e.Exists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("append %s: expected %s, stream is at %s: %v",
		e.Stream, e.Expected, actual, ErrWrongExpectedRevision)
}

// Is makes errors.Is(err, ErrWrongExpectedRevision) true.
func (e *WrongRevisionError) Is(target error) bool {
	return target == ErrWrongExpectedRevision
}

// InvalidEventError names the field of an EventData that was refused.
type InvalidEventError struct {
	Index  int // position of the event in the Append call
	Field  string
	Reason string
}

func (e *InvalidEventError) Error() string {
	return fmt.Sprintf("event %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidEvent) true.
func (e *InvalidEventError) Is(target error) bool { return target == ErrInvalidEvent }
