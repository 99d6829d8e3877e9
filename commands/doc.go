// Package commands holds the application services: each command loads a
// stream from the event log, lets the domain decide, and appends the result
// with the expected revision, retrying a bounded number of times on a
// conflict. It imports domain and eventstore.
package commands
