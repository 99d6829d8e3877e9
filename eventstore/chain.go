package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
)

// The domain-separation tags that open every hashed message. They change
// only with a new version of the format; docs/event-log.md has the layout.
const (
	dataTag  = "whitecross/event-data/v1\x00"
	eventTag = "whitecross/event/v1\x00"
)

// DigestData returns the salted digest of an event's payload:
// SHA-256(dataTag || salt || data).
func DigestData(salt, data []byte) Hash {
	h := sha256.New()
	h.Write([]byte(dataTag))
	h.Write(salt)
	h.Write(data)
	var d Hash
	h.Sum(d[:0])
	return d
}

// ComputeHash returns the hash of e as stored: its previous hash, its
// envelope and its data digest. It reads PrevHash and DataDigest from e and
// never e.Hash.
func ComputeHash(e *Event) Hash {
	var buf [512]byte
	return sha256.Sum256(AppendEnvelope(buf[:0], e))
}

// AppendEnvelope appends the exact bytes that ComputeHash hashes.
func AppendEnvelope(b []byte, e *Event) []byte {
	b = append(b, eventTag...)
	b = append(b, e.PrevHash[:]...)
	b = append(b, e.ID[:]...)
	b = appendString(b, e.Stream)
	b = binary.BigEndian.AppendUint64(b, e.Revision)
	b = appendString(b, e.Type)
	b = binary.BigEndian.AppendUint32(b, uint32(e.SchemaVersion))
	b = binary.BigEndian.AppendUint64(b, uint64(e.RecordedAt.UnixMicro()))
	b = appendString(b, string(e.Metadata))
	return append(b, e.DataDigest[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Seal links prepared events into a stream's chain: it gives them their
// revisions from first on, their recorded time and their hashes, the first
// one chained to prev (the zero Hash for a new stream).
func Seal(prev Hash, first uint64, events []Event) {
	for i := range events {
		e := &events[i]
		e.Revision = first + uint64(i)
		e.PrevHash = prev
		e.Hash = ComputeHash(e)
		prev = e.Hash
	}
}
