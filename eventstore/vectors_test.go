package eventstore_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the code")

const (
	vectorsFile  = "testdata/vectors.json"
	tamperedFile = "testdata/tampered_vectors.json"
)

// vector is one test vector of docs/event-log.md: the stored fields of an
// event and the digest, message and hash an implementation must compute.
type vector struct {
	Name          string  `json:"name"`
	ID            string  `json:"id"`
	Stream        string  `json:"stream"`
	Revision      uint64  `json:"revision"`
	Type          string  `json:"type"`
	SchemaVersion int     `json:"schema_version"`
	RecordedAt    string  `json:"recorded_at"`
	RecordedAtUS  int64   `json:"recorded_at_us"`
	Metadata      string  `json:"metadata"`
	DataBase64    *string `json:"data_base64"`
	DataSalt      *string `json:"data_salt"`
	PrevHash      string  `json:"prev_hash"`

	DataDigest string `json:"data_digest"`
	MessageHex string `json:"message_hex"`
	Hash       string `json:"hash"`

	// MustFail, in the tampered vectors only, says what a verifier must
	// find wrong.
	MustFail string `json:"must_fail,omitempty"`
}

// vectorEvents are the events the vectors are made from: a stream's first
// two events, non-ASCII text, a later schema version, empty metadata and a
// destroyed payload.
func vectorEvents() []struct {
	name string
	e    eventstore.Event
} {
	at := time.Date(2026, 9, 1, 8, 15, 30, 123456000, time.UTC)
	salt := func(b byte) []byte {
		s := make([]byte, eventstore.SaltSize)
		for i := range s {
			s[i] = b + byte(i)
		}
		return s
	}
	first := eventstore.Event{
		ID: uuid.MustParse("0191a0b2-0000-7000-8000-000000000001"), Stream: "student-5f2b6c1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
		Revision: 0, Type: "StudentEnrolled", SchemaVersion: 1, RecordedAt: at,
		Metadata: []byte(`{"actor_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","actor_role":"nurse","request_id":"r-1"}`),
		Data:     []byte(`{"student_number":"S-1001","grade":"3"}`), DataSalt: salt(0x10),
	}
	first.DataDigest = eventstore.DigestData(first.DataSalt, first.Data)
	first.Hash = eventstore.ComputeHash(&first)

	second := first
	second.ID = uuid.MustParse("0191a0b2-0000-7000-8000-000000000002")
	second.Revision, second.Type = 1, "AllergyRecorded"
	second.RecordedAt = at.Add(90 * time.Second)
	second.Data = []byte(`{"allergen":"penicillin","severity":"life-threatening"}`)
	second.DataSalt = salt(0x20)
	second.PrevHash = first.Hash
	second.DataDigest = eventstore.DigestData(second.DataSalt, second.Data)
	second.Hash = eventstore.ComputeHash(&second)

	unicode := eventstore.Event{
		ID: uuid.MustParse("0191a0b2-0000-7000-8000-000000000003"), Stream: "école-élève-7",
		Revision: 0, Type: "VisitRecorded", SchemaVersion: 2, RecordedAt: time.Unix(0, 0).UTC(),
		Metadata: []byte(`{}`), Data: []byte(`{"reason":"mal de tête","minutes":12}`), DataSalt: salt(0x30),
	}
	unicode.DataDigest = eventstore.DigestData(unicode.DataSalt, unicode.Data)
	unicode.Hash = eventstore.ComputeHash(&unicode)

	shredded := second
	shredded.Data, shredded.DataSalt = nil, nil

	return []struct {
		name string
		e    eventstore.Event
	}{
		{"first event of a stream", first},
		{"second event, chained to the first", second},
		{"non-ASCII stream and data, schema version 2, empty metadata", unicode},
		{"payload destroyed: the digest and hash stand", shredded},
	}
}

func makeVector(name string, e eventstore.Event) vector {
	v := vector{
		Name: name, ID: e.ID.String(), Stream: e.Stream, Revision: e.Revision, Type: e.Type,
		SchemaVersion: e.SchemaVersion, RecordedAt: e.RecordedAt.Format(time.RFC3339Nano),
		RecordedAtUS: e.RecordedAt.UnixMicro(), Metadata: string(e.Metadata),
		PrevHash: e.PrevHash.String(), DataDigest: e.DataDigest.String(),
		MessageHex: hex.EncodeToString(eventstore.AppendEnvelope(nil, &e)),
		Hash:       eventstore.ComputeHash(&e).String(),
	}
	if e.Data != nil {
		d := base64.StdEncoding.EncodeToString(e.Data)
		s := hex.EncodeToString(e.DataSalt)
		v.DataBase64, v.DataSalt = &d, &s
	}
	return v
}

func TestVectors(t *testing.T) {
	var got []vector
	for _, c := range vectorEvents() {
		got = append(got, makeVector(c.name, c.e))
	}
	checkVectorFile(t, vectorsFile, got)
}

// tamperedVectors are stored events changed after they were sealed, each
// with the stored digest and hash of the event it was: a verifier must
// refuse every one.
func tamperedVectors() []vector {
	evs := vectorEvents()
	first, second := evs[0].e, evs[1].e
	var out []vector
	add := func(name, mustFail string, e eventstore.Event, sealed vector) {
		v := makeVector(name, e)
		v.DataDigest, v.Hash, v.MessageHex = sealed.DataDigest, sealed.Hash, sealed.MessageHex
		v.MustFail = mustFail
		out = append(out, v)
	}
	sealedSecond := makeVector("", second)

	data := second
	data.Data = []byte(`{"allergen":"penicillin","severity":"life-threatening!"}`)
	add("one byte of data added", "the data does not match its digest", data, sealedSecond)

	meta := second
	meta.Metadata = []byte(`{"actor_id":"7c9e6679-7425-40de-944b-e07fc1f90ae8","actor_role":"nurse","request_id":"r-1"}`)
	add("one byte of metadata changed", "the hash does not match", meta, sealedSecond)

	typ := second
	typ.Type = "AllergyRecordeD"
	add("the type changed", "the hash does not match", typ, sealedSecond)

	// Changed, then sealed anew with a made-up prev_hash: its digest and
	// hash are right for what is stored, and only the chain shows that it
	// does not follow the stream's first event.
	rechained := second
	rechained.Data = []byte(`{"allergen":"none","severity":"mild"}`)
	rechained.PrevHash = eventstore.Hash{0x01}
	rechained.DataDigest = eventstore.DigestData(rechained.DataSalt, rechained.Data)
	v := makeVector("changed and re-hashed, chained to nothing", rechained)
	v.MustFail = "prev_hash is not the hash of " + first.Stream + " revision 0"
	out = append(out, v)
	return out
}

func TestTamperedVectors(t *testing.T) {
	checkVectorFile(t, tamperedFile, tamperedVectors())
}

// checkVectorFile compares the vectors in path with got, rewriting the file
// first under -update.
func checkVectorFile(t *testing.T, path string, got []vector) {
	t.Helper()
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d vectors, the code makes %d", path, len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] && !sameVector(want[i], got[i]) {
			t.Errorf("vector %q:\n got %+v\nwant %+v", want[i].Name, got[i], want[i])
		}
	}
}

func sameVector(a, b vector) bool {
	eq := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	a2, b2 := a, b
	a2.DataBase64, a2.DataSalt, b2.DataBase64, b2.DataSalt = nil, nil, nil, nil
	return a2 == b2 && eq(a.DataBase64, b.DataBase64) && eq(a.DataSalt, b.DataSalt)
}

// TestVectorsIndependently checks the vectors with the Python verifier in
// testdata, written from docs/event-log.md alone, where Python is present.
func TestVectorsIndependently(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; the vectors are still checked by TestVectors")
	}
	out, err := exec.Command(python, "testdata/verify_vectors.py", vectorsFile,
		"--must-fail", tamperedFile).CombinedOutput()
	if err != nil {
		t.Fatalf("independent verifier: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
