package bundle

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// TestEventLineIsWhatJSONWrites checks that the hand-written encoding of
// an event's line is, byte for byte, what encoding/json writes for its
// eventLine, whatever the stream's characters and with or without a
// payload, and that a line reads back into the same event, by the fast
// scanner as by encoding/json.
func TestEventLineIsWhatJSONWrites(t *testing.T) {
	at := time.Date(2026, 12, 4, 4, 4, 22, 849202000, time.UTC)
	for _, stream := range []string{"student-3e8b7f4b", `say "hi" \ there`, "<b>&amp;</b>", "élève\u2028\t\x7f",
		"tab\there", "bad\xffutf8"} {
		for _, payload := range []bool{false, true} {
			e := eventstore.Event{ID: uuid.New(), Stream: stream, Revision: 3, Position: 1 << 40,
				Type: "AllergyRecorded", SchemaVersion: 2, RecordedAt: at, Metadata: []byte(`{"actor_id":"a<b"}`),
				Data: []byte(`{"x":1}`), DataSalt: make([]byte, 16), DataDigest: eventstore.Hash{1},
				PrevHash: eventstore.Hash{2}, Hash: eventstore.Hash{3}}
			got, err := appendEventLine(nil, &e, payload)
			if err != nil {
				t.Fatal(err)
			}
			l := eventLine{ID: e.ID.String(), Stream: e.Stream, Revision: e.Revision, Position: e.Position,
				Type: e.Type, SchemaVersion: e.SchemaVersion, RecordedAt: at.Format(recordedAtLayout),
				RecordedAtUS: at.UnixMicro(), Metadata: e.Metadata, DataDigest: e.DataDigest.String(),
				PrevHash: e.PrevHash.String(), Hash: e.Hash.String()}
			if payload {
				l.Data, l.DataSalt = e.Data, e.DataSalt
			}
			want, _ := json.Marshal(l)
			if string(got) != string(want)+"\n" {
				t.Errorf("stream %q, payload %v:\n got %s\nwant %s", stream, payload, got, want)
			}
			var viaJSON eventLine
			json.Unmarshal(got[:len(got)-1], &viaJSON)
			if fast, ok := scanEventLine(got[:len(got)-1]); ok && !reflect.DeepEqual(fast, viaJSON) {
				t.Errorf("stream %q: scanned %+v, encoding/json reads %+v", stream, fast, viaJSON)
			} else if !ok && stream == "student-3e8b7f4b" {
				t.Errorf("a line of nothing to escape was not scanned: %s", got)
			}
			back, err := parseEventLine(got[:len(got)-1])
			if err != nil || back.ID != e.ID || (payload && string(back.Data) != string(e.Data)) {
				t.Errorf("stream %q: read back %+v, %v", stream, back, err)
			}
		}
	}
}
