package esdb

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// phi is data that must never show in an error.
const phi = `{"allergy":"peanut","severity":"severe"}`

// sealed returns n events of stream, chained from revision 0 as Append
// would chain them, with the given data.
func sealed(t *testing.T, stream string, data ...string) []eventstore.Event {
	t.Helper()
	in := make([]eventstore.EventData, len(data))
	for i, d := range data {
		in[i] = eventstore.EventData{
			ID:       uuid.New(),
			Type:     "AllergyRecorded",
			Data:     []byte(d),
			Metadata: eventstore.Metadata{ActorID: "nurse-1", RequestID: "req-1"},
		}
	}
	evs, err := eventstore.Prepare(stream, in, time.Now())
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	eventstore.Seal(eventstore.Hash{}, 0, evs)
	return evs
}

// recorded returns e as EventStoreDB returns it, at commit position pos.
func recorded(t *testing.T, e *eventstore.Event, pos uint64) *esdb.RecordedEvent {
	t.Helper()
	envelope, err := eventstore.EncodeEnvelope(e)
	if err != nil {
		t.Fatalf("encode envelope: %v", err)
	}
	return &esdb.RecordedEvent{
		EventID:      e.ID,
		EventType:    e.Type,
		ContentType:  "application/json",
		StreamID:     e.Stream,
		EventNumber:  e.Revision,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		CreatedDate:  e.RecordedAt,
		Data:         e.Data,
		UserMetadata: envelope,
	}
}

func TestDecode(t *testing.T) {
	want := sealed(t, "student-1", `{"n":0}`, phi)[1]
	want.Position = 4242

	got, err := decode(recorded(t, &want, 4242))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.ID != want.ID || got.Stream != want.Stream || got.Revision != want.Revision ||
		got.Position != want.Position || got.Type != want.Type ||
		got.SchemaVersion != want.SchemaVersion {
		t.Errorf("got %s %s@%d pos %d %s v%d, want %s %s@%d pos %d %s v%d",
			got.ID, got.Stream, got.Revision, got.Position, got.Type, got.SchemaVersion,
			want.ID, want.Stream, want.Revision, want.Position, want.Type, want.SchemaVersion)
	}
	if !got.RecordedAt.Equal(want.RecordedAt) || got.RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at: got %v, want %v in UTC", got.RecordedAt, want.RecordedAt)
	}
	for _, f := range []struct {
		name      string
		got, want []byte
	}{
		{"metadata", got.Metadata, want.Metadata},
		{"data", got.Data, want.Data},
		{"salt", got.DataSalt, want.DataSalt},
	} {
		if !bytes.Equal(f.got, f.want) {
			t.Errorf("%s: got %q, want %q", f.name, f.got, f.want)
		}
	}
	if got.DataDigest != want.DataDigest || got.PrevHash != want.PrevHash || got.Hash != want.Hash {
		t.Errorf("hashes: got %s %s %s, want %s %s %s", got.DataDigest, got.PrevHash, got.Hash,
			want.DataDigest, want.PrevHash, want.Hash)
	}
	if eventstore.ComputeHash(&got) != got.Hash {
		t.Error("the decoded event's hash does not recompute")
	}
}

func TestDecodeRefusesBadEnvelope(t *testing.T) {
	e := sealed(t, "student-1", `{"n":0}`, phi)[1]
	cases := []struct {
		name  string
		edit  func(env map[string]any)
		field string // named in the error
	}{
		{"other version", func(env map[string]any) { env["v"] = 2 }, "v"},
		{"short hash", func(env map[string]any) { env["hash"] = "abcd" }, "hash"},
		{"prev hash not hex", func(env map[string]any) {
			env["prev_hash"] = strings.Repeat("zz", 32)
		}, "prev_hash"},
		{"short salt", func(env map[string]any) { env["data_salt"] = "00" }, "data_salt"},
		{"metadata not an object", func(env map[string]any) { env["metadata"] = []int{} }, "metadata"},
		{"unknown field", func(env map[string]any) { env["extra"] = 1 }, "extra"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := recorded(t, &e, 99)
			var env map[string]any
			if err := json.Unmarshal(r.UserMetadata, &env); err != nil {
				t.Fatalf("unmarshal envelope: %v", err)
			}
			c.edit(env)
			r.UserMetadata, _ = json.Marshal(env)
			checkDecodeError(t, r, c.field)
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		r := recorded(t, &e, 99)
		r.UserMetadata = []byte("{")
		checkDecodeError(t, r, "envelope")
	})
	t.Run("none", func(t *testing.T) {
		r := recorded(t, &e, 99)
		r.UserMetadata = nil
		checkDecodeError(t, r, "envelope")
	})
}

// checkDecodeError checks that decoding r fails with an error that names
// its stream, its revision and field, and holds none of its data.
func checkDecodeError(t *testing.T, r *esdb.RecordedEvent, field string) {
	t.Helper()
	_, err := decode(r)
	if err == nil {
		t.Fatal("decode accepted a bad envelope")
	}
	msg := err.Error()
	for _, want := range []string{"student-1", "revision 1", field} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, "peanut") {
		t.Errorf("error %q shows the event's data", msg)
	}
}

func TestIsSystem(t *testing.T) {
	cases := []struct {
		stream, typ string
		want        bool
	}{
		{"student-1", "AllergyRecorded", false},
		{"$stats-127.0.0.1:2113", "$statsCollected", true},
		{"$$student-1", "$metadata", true},
		{"$users", "$User", true},
		{"student-1", "$>", true},
		{"$scavenges", "ScavengeStarted", true},
	}
	for _, c := range cases {
		r := &esdb.RecordedEvent{StreamID: c.stream, EventType: c.typ}
		if got := isSystem(r); got != c.want {
			t.Errorf("isSystem(%s, %s) = %v, want %v", c.stream, c.typ, got, c.want)
		}
	}
}
