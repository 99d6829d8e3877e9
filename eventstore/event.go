package eventstore

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// SaltSize is the length in bytes of the random salt mixed into a data
// digest.
const SaltSize = 16

// Hash is a SHA-256 value: an event hash or a data digest.
type Hash [32]byte

// String returns the hash as lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero bytes, the previous hash of a
// stream's first event.
func (h Hash) IsZero() bool { return h == Hash{} }

// Metadata describes who caused an event and in what context. It holds
// identifiers and codes only, never PHI: free text belongs in the event data,
// whose digest can outlive it.
type Metadata struct {
	ActorID       string `json:"actor_id,omitempty"`
	ActorRole     string `json:"actor_role,omitempty"`
	SchoolID      string `json:"school_id,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	Reason        string `json:"reason,omitempty"`
	BreakGlass    bool   `json:"break_glass,omitempty"`
}

// EventData is an event as a caller hands it to Append.
type EventData struct {
	// ID identifies the event in the whole log. Callers that may retry set
	// it deterministically; a zero ID is replaced by a new random one.
	ID uuid.UUID
	// Type names the event, for example "StudentEnrolled".
	Type string
	// SchemaVersion is the version of Type's data layout; zero means 1.
	SchemaVersion int
	// Data is the event's payload, a JSON value.
	Data []byte
	// Metadata is encoded once, at append, and stored byte for byte.
	Metadata Metadata
}

// Event is an event as the log recorded it.
type Event struct {
	ID            uuid.UUID
	Stream        string
	Revision      uint64 // 0 for a stream's first event
	Position      uint64 // place in the whole log; strictly increasing
	Type          string
	SchemaVersion int
	RecordedAt    time.Time // UTC, microsecond precision

	// Metadata is the stored JSON, byte for byte as hashed.
	Metadata []byte
	// Data and DataSalt are nil once a payload has been destroyed; the
	// digest and the chain stay intact.
	Data       []byte
	DataSalt   []byte
	DataDigest Hash
	PrevHash   Hash
	Hash       Hash
}

// DecodeMetadata parses the event's stored metadata.
func (e *Event) DecodeMetadata() (Metadata, error) {
	var m Metadata
	err := json.Unmarshal(e.Metadata, &m)
	return m, err
}
