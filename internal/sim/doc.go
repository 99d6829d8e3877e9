// Package sim creates a realistic school district through the service's
// HTTP API and plays school days in it: office visits with vital signs,
// scheduled and as-needed doses (a few refused, missed, held or blocked),
// screenings, emergency alerts, controlled-substance receipts and shift
// counts with a witness, and the reads of nurses, compliance officers and
// auditors. It is what `whitecross simulate` and the demo of `whitecross
// serve --demo` run, and what load tests drive a running server with.
//
// Everything but the first system administrator goes over HTTP with real
// tokens, as the accounts the simulation creates: a [Client] logs in and
// each [Session] sends requests as its account. The district is a pure
// function of [Config]: [NewPlan] draws every name, record and
// identifier from a source seeded by Config.Seed, and every command
// carries an Idempotency-Key drawn from it too, so that the service makes
// the same IDs for the same seed.
//
// It imports readapi (for the request and answer types of the API) and
// domain (for their enumerations); it never calls commands or touches the
// database.
package sim
