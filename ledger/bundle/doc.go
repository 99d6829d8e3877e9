// Package bundle writes and verifies export bundles: one plain tar file
// that holds events of the log byte for byte as stored, the proofs that
// they are leaves of a signed checkpoint's tree, the checkpoint, the key
// it verifies with, optionally the same events as FHIR R4 AuditEvent
// resources, a README for the auditor, and a manifest of every file's
// SHA-256, signed with the ledger's key. Write streams a bundle from the
// log; Verify checks one offline, with nothing but the file, and names the
// first problem it finds. docs/auditor-guide.md describes the format byte
// for byte.
//
// It imports eventstore, ledger and the standard library (and the Merkle
// and signed-note packages the ledger uses); readapi's wiring in
// cmd/whitecross imports it.
package bundle
