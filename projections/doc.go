// Package projections feeds the Postgres read models from the event log, in
// log order, one handler per read model, each applying an event and
// advancing its checkpoint in one transaction. It imports eventstore and
// domain's event types.
package projections
