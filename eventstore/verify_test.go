package eventstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// chain builds a sealed stream of n events at positions from 1.
func chain(t *testing.T, stream string, n int) []eventstore.Event {
	t.Helper()
	in := make([]eventstore.EventData, n)
	for i := range in {
		in[i] = eventstore.EventData{Type: "Tested", Data: []byte(`{"n":1}`)}
	}
	evs, err := eventstore.Prepare(stream, in, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	eventstore.Seal(eventstore.Hash{}, 0, evs)
	for i := range evs {
		evs[i].Position = uint64(i + 1)
	}
	return evs
}

func TestVerifier(t *testing.T) {
	cases := []struct {
		name   string
		tamper func([]eventstore.Event) []eventstore.Event
		at     uint64 // revision of the first event named
		want   string
	}{
		{"intact", func(e []eventstore.Event) []eventstore.Event { return e }, 0, ""},
		{"data byte", func(e []eventstore.Event) []eventstore.Event {
			e[2].Data[2] ^= 1
			return e
		}, 2, "data does not match its digest"},
		{"metadata byte", func(e []eventstore.Event) []eventstore.Event {
			e[2].Metadata = []byte(`{"actor_id":"x"}`)
			return e
		}, 2, "does not match the recomputed hash"},
		{"type", func(e []eventstore.Event) []eventstore.Event {
			e[2].Type = "Tested2"
			return e
		}, 2, "does not match the recomputed hash"},
		{"recorded time", func(e []eventstore.Event) []eventstore.Event {
			e[2].RecordedAt = e[2].RecordedAt.Add(time.Microsecond)
			return e
		}, 2, "does not match the recomputed hash"},
		{"deleted in the middle", func(e []eventstore.Event) []eventstore.Event {
			return append(e[:2], e[3:]...)
		}, 3, "revisions 2 to 2 are missing"},
		{"revisions swapped", func(e []eventstore.Event) []eventstore.Event {
			e[1].Revision, e[2].Revision = e[2].Revision, e[1].Revision
			return e
		}, 2, "revisions 1 to 1 are missing"},
		{"re-hashed after a change", func(e []eventstore.Event) []eventstore.Event {
			e[2].Data = []byte(`{"n":2}`)
			e[2].DataDigest = eventstore.DigestData(e[2].DataSalt, e[2].Data)
			e[2].Hash = eventstore.ComputeHash(&e[2])
			return e
		}, 3, "prev_hash"},
		{"salt removed, data kept", func(e []eventstore.Event) []eventstore.Event {
			e[2].DataSalt = nil
			return e
		}, 2, "both present"},
		{"first event missing", func(e []eventstore.Event) []eventstore.Event {
			return e[1:]
		}, 1, "stream starts at revision 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs := c.tamper(chain(t, "student-1", 5))
			var v eventstore.Verifier
			var problems []eventstore.Problem
			for i := range evs {
				problems = append(problems, v.Check(&evs[i])...)
			}
			if c.want == "" {
				if len(problems) > 0 {
					t.Fatalf("intact chain: %v", problems)
				}
				return
			}
			if len(problems) == 0 {
				t.Fatal("tampering not detected")
			}
			first := problems[0]
			if first.Revision != c.at || !strings.Contains(first.What, c.want) {
				t.Fatalf("first problem: got %s, want revision %d: %q", first, c.at, c.want)
			}
		})
	}
}

func TestVerifierPositions(t *testing.T) {
	evs := chain(t, "student-1", 4)
	evs = append(evs[:1], evs[2:]...) // position 2 gone
	v := eventstore.Verifier{ContiguousPositions: true}
	var got []string
	for i := range evs {
		for _, p := range v.Check(&evs[i]) {
			got = append(got, p.What)
		}
	}
	gaps := v.Finish()
	if len(got) == 0 {
		t.Fatalf("the stream's own break is not reported")
	}
	if len(gaps) != 1 || gaps[0].What != "positions 2 to 2 are missing before it" ||
		gaps[0].Position != 3 {
		t.Fatalf("gaps: got %v, want positions 2 to 2 named by position 3", gaps)
	}
}

func TestPrepareRefuses(t *testing.T) {
	long := strings.Repeat("x", eventstore.MaxStreamLen+1)
	cases := []struct {
		name, stream, typ, data, field string
	}{
		{"long stream", long, "T", "{}", "stream"},
		{"bad UTF-8 stream", "a\xffb", "T", "{}", "stream"},
		{"type with slash", "s", "a/b", "{}", "type"},
		{"data not JSON", "s", "T", "{x}", "data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := eventstore.Prepare(c.stream,
				[]eventstore.EventData{{Type: c.typ, Data: []byte(c.data)}}, time.Now())
			if err == nil || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("got %v, want an error naming %s", err, c.field)
			}
		})
	}
}
