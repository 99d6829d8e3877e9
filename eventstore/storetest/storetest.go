// Package storetest is the contract suite every eventstore.Store backend
// passes. A backend's test calls Run with a function that opens a store.
package storetest

import (
	"testing"

	"github.com/whitecross/whitecross/eventstore"
)

// Features describes what a backend promises beyond the contract.
type Features struct {
	// ContiguousPositions: positions have no gaps (the Postgres log).
	ContiguousPositions bool
	// UniqueIDsAcrossStreams: an event ID is refused on every stream once
	// stored on one, not only on its own stream.
	UniqueIDsAcrossStreams bool
}

// Opener opens a store over a log that other tests may share; the suite
// uses fresh stream names so that tests never see each other's streams. The
// opener closes the store when t ends.
type Opener func(t *testing.T) eventstore.Store

// Run runs the whole contract suite.
func Run(t *testing.T, open Opener, f Features) {
	s := suite{open: open, features: f}
	t.Run("Append", s.testAppend)
	t.Run("ExpectedRevision", s.testExpectedRevision)
	t.Run("Invalid", s.testInvalid)
	t.Run("Idempotent", s.testIdempotent)
	t.Run("ReadStream", s.testReadStream)
	t.Run("ReadAll", s.testReadAll)
	t.Run("Chain", s.testChain)
	t.Run("Subscribe", s.testSubscribe)
	t.Run("Concurrency", s.testConcurrency)
}

type suite struct {
	open     Opener
	features Features
}
