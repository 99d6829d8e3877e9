// Package loadtest puts a district's workload on the real service and
// checks afterwards what its answers promised.
//
// It builds the whitecross binary, runs `whitecross serve` as a process
// of its own on a database of its own (Server), seeds a district through
// the HTTP API with real accounts and tokens (SeedDistrict), and plays a
// mix of reads and commands from many clients (Play). What the answers
// said is then held against the database: every command answered 2xx has
// its events in the log where the answer placed them, every health
// record answered 200 has its access event, the read models equal a
// rebuild from the log (Checker). A private PostgreSQL cluster (Cluster)
// lets a test stop and start the database under the service.
//
// The load test runs in `make test` for a few seconds and in `make load`
// for a minute; the fault tests are behind the build tag faults (`make
// faults`). docs/faults.md describes each and the figures measured.
//
// It calls the service over HTTP only, with the API's request types from
// readapi, and reads the database as its owner to check the log.
package loadtest
