package eventstore_test

import (
	"bytes"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, c := range vectorEvents() {
		t.Run(c.name, func(t *testing.T) {
			b, err := eventstore.EncodeEnvelope(&c.e)
			if err != nil {
				t.Fatal(err)
			}
			got := eventstore.Event{ID: c.e.ID, Stream: c.e.Stream, Revision: c.e.Revision,
				Type: c.e.Type, Data: c.e.Data}
			if err := eventstore.DecodeEnvelope(b, &got); err != nil {
				t.Fatalf("decode %s: %v", b, err)
			}
			if eventstore.ComputeHash(&got) != c.e.Hash || got.Hash != c.e.Hash {
				t.Fatalf("hash after a round trip: got %s, want %s", eventstore.ComputeHash(&got), c.e.Hash)
			}
			if !bytes.Equal(got.Metadata, c.e.Metadata) || !bytes.Equal(got.DataSalt, c.e.DataSalt) {
				t.Fatalf("metadata or salt changed: %s / %x", got.Metadata, got.DataSalt)
			}
		})
	}
}

func TestDecodeEnvelopeRefuses(t *testing.T) {
	cases := []struct{ name, in, field string }{
		{"not JSON", `{`, "decode envelope"},
		{"unknown field", `{"v":1,"x":2}`, "unknown field"},
		{"other version", `{"v":2}`, "v:"},
		{"schema version 0", `{"v":1,"schema_version":0,"metadata":{}}`, "schema_version"},
		{"metadata not an object", `{"v":1,"schema_version":1,"metadata":[]}`, "metadata"},
		{"short salt", `{"v":1,"schema_version":1,"metadata":{},"data_salt":"00"}`, "data_salt"},
		{"short digest", `{"v":1,"schema_version":1,"metadata":{},"data_digest":"00"}`, "data_digest"},
		{"trailing data", `{"v":1} {}`, "trailing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := eventstore.DecodeEnvelope([]byte(c.in), new(eventstore.Event))
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.field)) {
				t.Fatalf("got %v, want an error naming %q", err, c.field)
			}
		})
	}
}

// FuzzDecodeEnvelope feeds arbitrary bytes to the decoder of stored
// envelopes: it must never panic, and whatever it accepts must encode
// and decode again to the same event.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, c := range vectorEvents() {
		b, _ := eventstore.EncodeEnvelope(&c.e)
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"schema_version":1,"recorded_at_us":-1,"metadata":{},` +
		`"data_digest":"` + zeros + `","prev_hash":"` + zeros + `","hash":"` + zeros + `"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var e eventstore.Event
		if err := eventstore.DecodeEnvelope(in, &e); err != nil {
			return
		}
		out, err := eventstore.EncodeEnvelope(&e)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", in, err)
		}
		var again eventstore.Event
		if err := eventstore.DecodeEnvelope(out, &again); err != nil {
			t.Fatalf("cannot decode own encoding %q: %v", out, err)
		}
		if eventstore.ComputeHash(&again) != eventstore.ComputeHash(&e) || again.Hash != e.Hash {
			t.Fatalf("round trip changed the event: %q -> %q", in, out)
		}
	})
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
