// Package ledger proves the event log whole. It keeps an RFC 6962 Merkle
// tree whose leaves are the log's event hashes in position order
// (golang.org/x/mod/sumdb/tlog), stored in Postgres, and signs checkpoints
// of its root in the C2SP tlog-checkpoint signed-note format with Ed25519
// (golang.org/x/mod/sumdb/note). The Sealer follows the log and grows the
// tree; checkpoints are kept in the database and written to a witness
// directory outside it; Check compares a log, event by event, with the
// tree and the witnessed checkpoints, and so finds what per-stream chains
// cannot: a truncated tail, a deleted stream, a history rewritten and
// chained anew.
//
// It imports eventstore and pgx; readapi and cmd/whitecross import it.
package ledger
