// Package esdb is the event log on EventStoreDB, through its official gRPC
// client (github.com/EventStore/EventStore-Client-Go/v4, whose package is
// also named esdb). Store implements eventstore.Store; esdb_test.go runs the
// contract suite of eventstore/storetest against the server that
// WHITECROSS_TEST_ESDB_URL names, and docker-compose.yml starts one.
//
// Each stream of the log is an EventStoreDB stream of the same name. An
// event keeps its ID, type and data in EventStoreDB's own fields; its schema
// version, recorded time, metadata, salt, data digest, previous hash and
// hash live in the event's metadata, as the JSON envelope that
// eventstore.EncodeEnvelope writes. Append reads the stream's head, chains
// the new events to its hash and appends them expecting exactly that head,
// so that no other writer can slip in between and break the chain.
//
// Positions are EventStoreDB commit positions: byte offsets in its
// transaction log, increasing in commit order but with gaps. EventStoreDB
// reads $all only from a place where a record starts, so a read from any
// other position (one past an event's, typically) first finds such a place
// at or before it.
//
// EventStoreDB has no index by event ID. Append therefore looks for the IDs
// it is given among the newest events of their own stream only
// (Config.IdempotencyWindow): a retry is recognised when it comes soon after
// the append it repeats, and an ID already stored on another stream, or
// further back, is not found.
//
// EventStoreDB refuses an append larger than its MaxAppendSize (1 MiB by
// default), whatever the size of each event: a batch that Prepare accepts
// can fail there.
//
// The package imports eventstore, github.com/google/uuid and the
// EventStoreDB client.
package esdb
