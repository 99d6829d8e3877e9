// Package postgres is the default event log: a table in the same Postgres
// database as the read models, append-only by trigger and by grant.
//
// One writer goroutine per Log appends: it gathers the appends waiting at
// that moment into one transaction that holds a transaction-level advisory
// lock, reads the last position and each stream's head, decides every
// append's expected revision, seals the chains and copies the rows in.
// Positions are therefore gapless and follow commit order exactly, across
// every process that shares the database, and concurrent appends share one
// commit. Subscribers are woken by LISTEN/NOTIFY and by the local writer,
// never by busy polling. docs/event-log.md says why this beats a sequence
// with transaction-id visibility checks.
package postgres
