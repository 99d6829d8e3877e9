// Package commands holds the application services: each command loads a
// stream from the event log, lets the domain decide, and appends the result
// with the expected revision, deciding again a bounded number of times when
// another writer got there first. An idempotency key makes a command's
// event IDs deterministic, so that a retried request appends nothing new.
//
// It imports domain, auth and eventstore.
package commands
