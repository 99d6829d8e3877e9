package eventstore

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// envelopeVersion is the version of the JSON envelope below.
const envelopeVersion = 1

// envelopeJSON is the part of an event a backend stores beside the event's
// ID, stream, revision, type and data when it has no column for it:
// EventStoreDB keeps it as the event's metadata.
type envelopeJSON struct {
	Version       int             `json:"v"`
	SchemaVersion int             `json:"schema_version"`
	RecordedAtUS  int64           `json:"recorded_at_us"`
	Metadata      json.RawMessage `json:"metadata"`
	DataSalt      string          `json:"data_salt,omitempty"`
	DataDigest    string          `json:"data_digest"`
	PrevHash      string          `json:"prev_hash"`
	Hash          string          `json:"hash"`
}

// EncodeEnvelope returns the JSON envelope of e: schema version, recorded
// time, metadata (its stored bytes, verbatim), salt, digest and hashes.
func EncodeEnvelope(e *Event) ([]byte, error) {
	if !json.Valid(e.Metadata) {
		return nil, fmt.Errorf("encode envelope of %s: metadata is not JSON", e.ID)
	}
	env := envelopeJSON{
		Version:       envelopeVersion,
		SchemaVersion: e.SchemaVersion,
		RecordedAtUS:  e.RecordedAt.UnixMicro(),
		Metadata:      e.Metadata,
		DataDigest:    e.DataDigest.String(),
		PrevHash:      e.PrevHash.String(),
		Hash:          e.Hash.String(),
	}
	if e.DataSalt != nil {
		env.DataSalt = hex.EncodeToString(e.DataSalt)
	}
	return json.Marshal(env)
}

// DecodeEnvelope fills e's schema version, recorded time, metadata, salt,
// digest and hashes from an envelope made by EncodeEnvelope. It refuses an
// envelope of another version, a metadata value that is not an object, and
// hashes or salts of the wrong length, naming the field.
func DecodeEnvelope(b []byte, e *Event) error {
	var env envelopeJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("decode envelope: trailing data")
	}
	if err := env.check(); err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	e.SchemaVersion = env.SchemaVersion
	e.RecordedAt = time.UnixMicro(env.RecordedAtUS).UTC()
	e.Metadata = bytes.Clone(env.Metadata)
	e.DataSalt = nil
	if env.DataSalt != "" {
		e.DataSalt, _ = hex.DecodeString(env.DataSalt)
	}
	decodeHash(env.DataDigest, &e.DataDigest)
	decodeHash(env.PrevHash, &e.PrevHash)
	decodeHash(env.Hash, &e.Hash)
	return nil
}

func (env *envelopeJSON) check() error {
	switch {
	case env.Version != envelopeVersion:
		return fmt.Errorf("v: version %d, want %d", env.Version, envelopeVersion)
	case env.SchemaVersion < 1:
		return fmt.Errorf("schema_version: %d, want at least 1", env.SchemaVersion)
	case len(env.Metadata) == 0 || env.Metadata[0] != '{':
		return fmt.Errorf("metadata: not a JSON object")
	}
	if env.DataSalt != "" {
		if s, err := hex.DecodeString(env.DataSalt); err != nil || len(s) != SaltSize {
			return fmt.Errorf("data_salt: want %d bytes in lower-case hex", SaltSize)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"data_digest", env.DataDigest},
		{"prev_hash", env.PrevHash},
		{"hash", env.Hash},
	} {
		if err := decodeHash(f.value, new(Hash)); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

func decodeHash(s string, h *Hash) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return fmt.Errorf("want %d bytes in hex", len(h))
	}
	copy(h[:], b)
	return nil
}
