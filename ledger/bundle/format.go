package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// FormatVersion names this layout of a bundle; the manifest carries it.
const FormatVersion = "whitecross-bundle/1"

// The files of a bundle, in the order the tar holds them. AuditEvents is
// there only when the export asked for FHIR.
const (
	FileReadme      = "README.txt"
	FileVerifierKey = "verifier-key"
	FileCheckpoint  = "checkpoint"
	FileEvents      = "events.ndjson"
	FileProofs      = "proofs.ndjson"
	FileAuditEvents = "audit-events.fhir.ndjson"
	FileManifest    = "manifest.json"
	FileManifestSig = "manifest.sig"
)

// fileOrder is every file a bundle may hold, in order.
var fileOrder = []string{
	FileReadme, FileVerifierKey, FileCheckpoint, FileEvents, FileProofs,
	FileAuditEvents, FileManifest, FileManifestSig,
}

// maxUSTARSize is the largest file a USTAR header can state: 11 octal
// digits. A larger one needs a PAX header.
const maxUSTARSize = 1<<33 - 1

// header returns the one tar header a file of the bundle may have: a
// regular file, mode 0644, owned by uid and gid 0 with no user or group
// name, modified at the Unix epoch, in USTAR unless it is too large.
func header(name string, size int64) *tar.Header {
	h := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatUSTAR,
	}
	if size > maxUSTARSize {
		h.Format = tar.FormatPAX
	}
	return h
}

// recordedAtLayout is RFC 3339 in UTC with microseconds, as events.ndjson
// writes recorded_at.
const recordedAtLayout = "2006-01-02T15:04:05.000000Z"

// eventLine is one line of events.ndjson: the event's stored fields.
// The []byte fields are base64 (standard, padded) and null when absent.
type eventLine struct {
	ID            string `json:"id"`
	Stream        string `json:"stream"`
	Revision      uint64 `json:"revision"`
	Position      uint64 `json:"position"`
	Type          string `json:"type"`
	SchemaVersion int    `json:"schema_version"`
	RecordedAt    string `json:"recorded_at"`
	RecordedAtUS  int64  `json:"recorded_at_us"`
	Metadata      []byte `json:"metadata"`
	Data          []byte `json:"data"`
	DataSalt      []byte `json:"data_salt"`
	DataDigest    string `json:"data_digest"`
	PrevHash      string `json:"prev_hash"`
	Hash          string `json:"hash"`
}

// appendEventLine appends e's line, with its payload when payload is
// true and the log still holds it, and a newline: the bytes
// encoding/json writes for its eventLine, written here field by field,
// which is several times faster.
func appendEventLine(b []byte, e *eventstore.Event, payload bool) ([]byte, error) {
	b = append(b, `{"id":"`...)
	b = append(b, e.ID.String()...)
	b = append(b, `","stream":`...)
	b = appendJSONString(b, e.Stream)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, e.Revision, 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, e.Position, 10)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"recorded_at":"`...)
	b = e.RecordedAt.UTC().AppendFormat(b, recordedAtLayout)
	b = append(b, `","recorded_at_us":`...)
	b = strconv.AppendInt(b, e.RecordedAt.UnixMicro(), 10)
	data, salt := e.Data, e.DataSalt
	if !payload || e.Data == nil {
		data, salt = nil, nil
	}
	for _, f := range []struct {
		key   string
		value []byte
	}{{`,"metadata":`, e.Metadata}, {`,"data":`, data}, {`,"data_salt":`, salt}} {
		b = append(b, f.key...)
		b = appendBase64(b, f.value)
	}
	b = append(b, `,"data_digest":"`...)
	b = hex.AppendEncode(b, e.DataDigest[:])
	b = append(b, `","prev_hash":"`...)
	b = hex.AppendEncode(b, e.PrevHash[:])
	b = append(b, `","hash":"`...)
	b = hex.AppendEncode(b, e.Hash[:])
	return append(b, "\"}\n"...), nil
}

// appendJSONString appends s as encoding/json writes it: as it is, in
// quotes, when it holds nothing to escape, which the log's stream names
// and types seldom do.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s)
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendBase64 appends v as encoding/json writes a []byte: base64 in
// quotes, or null for nil.
func appendBase64(b, v []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

func appendJSONLine(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(append(b, j...), '\n'), nil
}

// parseEventLine reads a line of events.ndjson (without its newline) into
// an event, naming the field that is wrong.
func parseEventLine(line []byte) (eventstore.Event, error) {
	l, ok := scanEventLine(line)
	if !ok {
		if err := json.Unmarshal(line, &l); err != nil {
			return eventstore.Event{}, fmt.Errorf("not an event's JSON: %v", err)
		}
	}
	e := eventstore.Event{
		Stream: l.Stream, Revision: l.Revision, Position: l.Position, Type: l.Type,
		SchemaVersion: l.SchemaVersion, RecordedAt: time.UnixMicro(l.RecordedAtUS).UTC(),
		Metadata: l.Metadata, Data: l.Data, DataSalt: l.DataSalt,
	}
	var err error
	if e.ID, err = uuid.Parse(l.ID); err != nil {
		return e, fmt.Errorf("id: not a UUID")
	}
	for _, f := range []struct {
		name, value string
		into        *eventstore.Hash
	}{
		{"data_digest", l.DataDigest, &e.DataDigest},
		{"prev_hash", l.PrevHash, &e.PrevHash},
		{"hash", l.Hash, &e.Hash},
	} {
		raw, err := hex.DecodeString(f.value)
		if err != nil || len(raw) != len(f.into) {
			return e, fmt.Errorf("%s: want 32 bytes in hex", f.name)
		}
		copy(f.into[:], raw)
	}
	switch {
	case (l.Data == nil) != (l.DataSalt == nil):
		return e, fmt.Errorf("data and data_salt: both present or both null")
	case l.DataSalt != nil && len(l.DataSalt) != eventstore.SaltSize:
		return e, fmt.Errorf("data_salt: want %d bytes", eventstore.SaltSize)
	case l.RecordedAt != e.RecordedAt.Format(recordedAtLayout):
		return e, fmt.Errorf("recorded_at: not the time recorded_at_us says")
	}
	return e, nil
}

// scanEventLine reads a line laid out exactly as appendEventLine writes
// one, with no escape in its strings, much faster than encoding/json; it
// returns false for any other line, which encoding/json then reads.
func scanEventLine(line []byte) (eventLine, bool) {
	r := scanner{b: line, ok: true}
	var l eventLine
	r.lit(`{"id":"`)
	l.ID = r.until('"')
	r.lit(`","stream":`)
	l.Stream = r.str()
	r.lit(`,"revision":`)
	l.Revision = r.uint()
	r.lit(`,"position":`)
	l.Position = r.uint()
	r.lit(`,"type":`)
	l.Type = r.str()
	r.lit(`,"schema_version":`)
	l.SchemaVersion = int(r.uint())
	r.lit(`,"recorded_at":"`)
	l.RecordedAt = r.until('"')
	r.lit(`","recorded_at_us":`)
	l.RecordedAtUS = int64(r.uint())
	r.lit(`,"metadata":`)
	l.Metadata = r.base64()
	r.lit(`,"data":`)
	l.Data = r.base64()
	r.lit(`,"data_salt":`)
	l.DataSalt = r.base64()
	r.lit(`,"data_digest":"`)
	l.DataDigest = r.until('"')
	r.lit(`","prev_hash":"`)
	l.PrevHash = r.until('"')
	r.lit(`","hash":"`)
	l.Hash = r.until('"')
	r.lit(`"}`)
	return l, r.ok && len(r.b) == 0
}

// scanner reads a line piece by piece; the first piece that is not what
// it expects clears ok, and every later read returns a zero value.
type scanner struct {
	b  []byte
	ok bool
}

func (r *scanner) lit(s string) {
	if r.ok && len(r.b) >= len(s) && string(r.b[:len(s)]) == s {
		r.b = r.b[len(s):]
		return
	}
	r.ok = false
}

// until returns the bytes before the next c, which must hold no
// backslash, and leaves c to read.
func (r *scanner) until(c byte) string {
	if !r.ok {
		return ""
	}
	i := bytes.IndexByte(r.b, c)
	if i < 0 || bytes.IndexByte(r.b[:i], '\\') >= 0 {
		r.ok = false
		return ""
	}
	s := string(r.b[:i])
	r.b = r.b[i:]
	return s
}

func (r *scanner) str() string {
	r.lit(`"`)
	s := r.until('"')
	r.lit(`"`)
	return s
}

func (r *scanner) uint() uint64 {
	i := 0
	for i < len(r.b) && '0' <= r.b[i] && r.b[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(string(r.b[:i]), 10, 64)
	if !r.ok || err != nil {
		r.ok = false
		return 0
	}
	r.b = r.b[i:]
	return n
}

// base64 reads null, or standard base64 in quotes.
func (r *scanner) base64() []byte {
	if r.ok && bytes.HasPrefix(r.b, []byte("null")) {
		r.b = r.b[4:]
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(r.str())
	if err != nil {
		r.ok = false
	}
	return raw
}

// inclusionLine is a line of proofs.ndjson proving one event: the RFC 6962
// inclusion proof of its leaf, the hashes from the leaf upwards, base64.
type inclusionLine struct {
	Kind    string   `json:"kind"`
	Leaf    int64    `json:"leaf"`
	EventID string   `json:"event_id"`
	Hashes  []string `json:"hashes"`
}

// rangeLine is a line of proofs.ndjson proving count consecutive events
// from leaf on: the hashes of the compact ranges left and right of them,
// base64, left to right.
type rangeLine struct {
	Kind  string   `json:"kind"`
	Leaf  int64    `json:"leaf"`
	Count int64    `json:"count"`
	Left  []string `json:"left"`
	Right []string `json:"right"`
}

// The kinds of proof line.
const (
	kindInclusion = "inclusion"
	kindRange     = "range"
)

// proofLine is either kind of line, as read.
type proofLine struct {
	Kind    string   `json:"kind"`
	Leaf    int64    `json:"leaf"`
	Count   int64    `json:"count"`
	EventID string   `json:"event_id"`
	Hashes  []string `json:"hashes"`
	Left    []string `json:"left"`
	Right   []string `json:"right"`
}

// encode returns the line as its kind writes it, to compare with the
// bytes read.
func (p proofLine) encode() ([]byte, error) {
	switch p.Kind {
	case kindInclusion:
		return appendJSONLine(nil, inclusionLine{Kind: p.Kind, Leaf: p.Leaf, EventID: p.EventID,
			Hashes: nonNil(p.Hashes)})
	case kindRange:
		return appendJSONLine(nil, rangeLine{Kind: p.Kind, Leaf: p.Leaf, Count: p.Count,
			Left: nonNil(p.Left), Right: nonNil(p.Right)})
	}
	return nil, fmt.Errorf("kind: %q is neither inclusion nor range", p.Kind)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Counts are what a bundle holds.
type Counts struct {
	Events int64 `json:"events"`
	// Streams is how many streams the events belong to.
	Streams int64 `json:"streams"`
	// Payloads is how many events come with their data and salt.
	Payloads int64 `json:"payloads"`
	// Proofs is how many lines proofs.ndjson has.
	Proofs      int64 `json:"proofs"`
	AuditEvents int64 `json:"audit_events"`
	// Students is how many students the events concern, as the exporter
	// counted them; nothing in the bundle proves it.
	Students int64 `json:"students"`
}

// File is one file of a bundle as the manifest lists it.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest is manifest.json: what the bundle holds and why, and the
// SHA-256 of every other file but manifest.sig, which signs it.
type Manifest struct {
	Format    string    `json:"format"`
	ExportID  string    `json:"export_id,omitempty"`
	Origin    string    `json:"origin"`
	Scope     Scope     `json:"scope"`
	Payloads  bool      `json:"payloads"`
	CreatedAt time.Time `json:"created_at"`
	TreeSize  int64     `json:"tree_size"`
	// RootHash is the checkpoint's root, base64 as the checkpoint writes
	// it.
	RootHash string `json:"root_hash"`
	Counts   Counts `json:"counts"`
	Files    []File `json:"files"`
}

// manifestSigText is the text manifest.sig signs: a first line naming
// what it is, then the SHA-256 of manifest.json as sha256sum prints it.
func manifestSigText(digest [32]byte) string {
	return fmt.Sprintf("%s manifest\n%x  %s\n", FormatVersion, digest, FileManifest)
}
