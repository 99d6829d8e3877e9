package eventstore

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits on what Append accepts.
const (
	MaxStreamLen = 200
	MaxTypeLen   = 100
	MaxDataSize  = 1 << 20
)

// Prepare validates an Append's input and turns it into events ready for
// Seal: IDs set, metadata encoded, a salt drawn and the data digested.
// Stream, time and schema version are set; revisions and hashes are not.
func Prepare(stream string, in []EventData, now time.Time) ([]Event, error) {
	if err := ValidateStream(stream); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, &InvalidEventError{Field: "events", Reason: "at least one event is required"}
	}
	at := now.UTC().Truncate(time.Microsecond)
	out := make([]Event, len(in))
	salts := make([]byte, SaltSize*len(in))
	rand.Read(salts)
	for i := range in {
		e, err := prepareOne(i, &in[i], salts[i*SaltSize:(i+1)*SaltSize])
		if err != nil {
			return nil, err
		}
		e.Stream = stream
		e.RecordedAt = at
		out[i] = e
	}
	return out, checkUniqueIDs(out)
}

func prepareOne(i int, d *EventData, salt []byte) (Event, error) {
	if err := validateType(d.Type); err != nil {
		return Event{}, &InvalidEventError{Index: i, Field: "type", Reason: err.Error()}
	}
	if d.SchemaVersion < 0 {
		return Event{}, &InvalidEventError{Index: i, Field: "schema_version", Reason: "must not be negative"}
	}
	if len(d.Data) > MaxDataSize {
		return Event{}, &InvalidEventError{Index: i, Field: "data", Reason: "larger than 1 MiB"}
	}
	if !json.Valid(d.Data) {
		return Event{}, &InvalidEventError{Index: i, Field: "data", Reason: "not valid JSON"}
	}
	meta, err := json.Marshal(d.Metadata)
	if err != nil {
		return Event{}, &InvalidEventError{Index: i, Field: "metadata", Reason: err.Error()}
	}
	e := Event{
		ID:            d.ID,
		Type:          d.Type,
		SchemaVersion: max(d.SchemaVersion, 1),
		Metadata:      meta,
		Data:          bytes.Clone(d.Data),
		DataSalt:      salt,
	}
	if e.ID == uuid.Nil {
		e.ID = uuid.Must(uuid.NewV7())
	}
	e.DataDigest = DigestData(e.DataSalt, e.Data)
	return e, nil
}

func checkUniqueIDs(events []Event) error {
	seen := make(map[uuid.UUID]int, len(events))
	for i, e := range events {
		if j, dup := seen[e.ID]; dup {
			return &InvalidEventError{Index: i, Field: "id",
				Reason: fmt.Sprintf("same as event %d of this append", j)}
		}
		seen[e.ID] = i
	}
	return nil
}

// ValidateStream refuses stream names the log cannot store faithfully.
func ValidateStream(stream string) error {
	if err := validateName(stream, MaxStreamLen); err != nil {
		return &InvalidEventError{Index: -1, Field: "stream", Reason: err.Error()}
	}
	return nil
}

func validateType(t string) error {
	if err := validateName(t, MaxTypeLen); err != nil {
		return err
	}
	for _, r := range t {
		if !(r == '.' || r == '_' || r == '-' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return fmt.Errorf("may hold only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func validateName(s string, maxLen int) error {
	switch {
	case s == "":
		return fmt.Errorf("must not be empty")
	case len(s) > maxLen:
		return fmt.Errorf("longer than %d bytes", maxLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("not valid UTF-8")
	case bytes.ContainsAny([]byte(s), "\x00"):
		return fmt.Errorf("must not contain NUL")
	}
	if s[0] == '$' {
		return fmt.Errorf("must not start with '$' (reserved for system streams)")
	}
	return nil
}

// SameContent reports whether a stored event and a newly prepared one with
// the same ID carry the same content: stream, type, schema version and data.
// Metadata is left out, since a retry comes with a new request ID. A stored
// event whose payload was destroyed never matches.
func SameContent(stored, fresh *Event) bool {
	return stored.Stream == fresh.Stream &&
		stored.Type == fresh.Type &&
		stored.SchemaVersion == fresh.SchemaVersion &&
		stored.Data != nil &&
		bytes.Equal(stored.Data, fresh.Data)
}
