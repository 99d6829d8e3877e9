// Package eventstore holds the event log's contract: the envelope every event
// carries, the hash chain that links the events of a stream, the Store
// interface both backends implement, and the Verifier that recomputes every
// hash from stored bytes.
//
// The backends live in sub-packages: postgres (the default) and esdb
// (EventStoreDB). Both pass the suite in storetest.
//
// This package imports only the standard library and github.com/google/uuid.
package eventstore
