package eventstore

import "strconv"

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// ExpectedRevision is what an appender believes about a stream before it
// appends: optimistic concurrency control.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

var (
	// Any appends whatever the stream's state.
	Any = ExpectedRevision{kind: expectAny}
	// NoStream appends only when the stream has no event yet.
	NoStream = ExpectedRevision{kind: expectNoStream}
	// StreamExists appends only when the stream has at least one event.
	StreamExists = ExpectedRevision{kind: expectStreamExists}
)

// Exact appends only when the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision {
	return ExpectedRevision{kind: expectExact, revision: r}
}

// Revision returns the exact revision expected, and false for Any,
// NoStream and StreamExists.
func (x ExpectedRevision) Revision() (uint64, bool) {
	return x.revision, x.kind == expectExact
}

// IsAny, IsNoStream and IsStreamExists tell which kind of expectation x is.
func (x ExpectedRevision) IsAny() bool          { return x.kind == expectAny }
func (x ExpectedRevision) IsNoStream() bool     { return x.kind == expectNoStream }
func (x ExpectedRevision) IsStreamExists() bool { return x.kind == expectStreamExists }

// Allows reports whether a stream whose last revision is last (exists false
// when it has no event) satisfies x.
func (x ExpectedRevision) Allows(last uint64, exists bool) bool {
	switch x.kind {
	case expectNoStream:
		return !exists
	case expectStreamExists:
		return exists
	case expectExact:
		return exists && last == x.revision
	}
	return true
}

func (x ExpectedRevision) String() string {
	switch x.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return strconv.FormatUint(x.revision, 10)
	}
	return "any"
}
