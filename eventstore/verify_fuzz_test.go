package eventstore_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
)

// FuzzVerifyStored hands the verifier stored events made of arbitrary
// bytes: an envelope (as EventStoreDB keeps it) and a payload, as the
// first event of their stream. It must never panic; when it finds
// nothing wrong, the stored hash is the one recomputed and the payload
// matches its digest; and what it reports never quotes the payload.
func FuzzVerifyStored(f *testing.F) {
	for _, c := range vectorEvents() {
		env, _ := eventstore.EncodeEnvelope(&c.e)
		f.Add(env, c.e.Data, c.e.Revision)
	}
	f.Add([]byte(`{"v":1,"metadata":{},"data_salt":"00","data_digest":"`+zeros+
		`","prev_hash":"`+zeros+`","hash":"`+zeros+`"}`), []byte(`{"allergen":"zzzzpeanutzzzz"}`), uint64(0))
	f.Fuzz(func(t *testing.T, env, data []byte, revision uint64) {
		e := eventstore.Event{Stream: "student-1", Revision: revision, Type: "AllergyRecorded", Position: 1}
		if err := eventstore.DecodeEnvelope(env, &e); err != nil {
			return
		}
		if len(data) > 0 {
			e.Data = data
		}
		var v eventstore.Verifier
		problems := v.Check(&e)
		for _, p := range problems {
			if len(data) >= 12 && bytes.ContainsAny(data, "{}\"z") && bytes.Contains([]byte(p.What), data) {
				t.Fatalf("the report %q quotes the payload", p.What)
			}
		}
		if len(problems) > 0 {
			return
		}
		if eventstore.ComputeHash(&e) != e.Hash || e.Revision != 0 {
			t.Fatalf("no problem found in %+v, whose hash or revision is wrong", e)
		}
		if e.Data != nil && eventstore.DigestData(e.DataSalt, e.Data) != e.DataDigest {
			t.Fatalf("no problem found in %+v, whose payload does not match its digest", e)
		}
	})
}

// FuzzDecodeMetadata reads arbitrary stored metadata, as every projection
// does of every event: DecodeMetadata must never panic, and what it
// accepts encodes to metadata that decodes to the same.
func FuzzDecodeMetadata(f *testing.F) {
	for _, c := range vectorEvents() {
		f.Add(c.e.Metadata)
	}
	f.Add([]byte(`{"actor_id":7}`))
	f.Add([]byte(`{"break_glass":true,"reason":"\u0000"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := (&eventstore.Event{Metadata: raw}).DecodeMetadata()
		if err != nil {
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", raw, err)
		}
		back, err := (&eventstore.Event{Metadata: again}).DecodeMetadata()
		if err != nil || back != m {
			t.Fatalf("%q decoded to %+v, encoded to %q, decoded to %+v (%v)", raw, m, again, back, err)
		}
	})
}
