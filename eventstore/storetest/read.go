package storetest

import (
	"testing"

	"github.com/whitecross/whitecross/eventstore"
)

func (s suite) testReadStream(t *testing.T) {
	st := s.open(t)
	stream := newStream("read")
	mustAppend(t, st, stream, eventstore.NoStream, events(5)...)
	mustAppend(t, st, newStream("other"), eventstore.NoStream, events(1)...)
	mustAppend(t, st, stream, eventstore.Exact(4), events(5)...)

	cases := []struct {
		name string
		opts eventstore.ReadOptions
		want []uint64 // revisions
	}{
		{"all forwards", eventstore.ReadOptions{}, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"from 7", eventstore.ReadOptions{From: 7}, []uint64{7, 8, 9}},
		{"limit", eventstore.ReadOptions{From: 2, Limit: 3}, []uint64{2, 3, 4}},
		{"past the end", eventstore.ReadOptions{From: 10}, nil},
		{"backwards from end", eventstore.ReadOptions{From: eventstore.End, Backwards: true, Limit: 3}, []uint64{9, 8, 7}},
		{"backwards from 1", eventstore.ReadOptions{From: 1, Backwards: true}, []uint64{1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := st.ReadStream(t.Context(), stream, c.opts)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			got := make([]uint64, len(evs))
			for i, e := range evs {
				got[i] = e.Revision
			}
			if !equal(got, c.want) {
				t.Fatalf("revisions: got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("missing stream", func(t *testing.T) {
		_, err := st.ReadStream(t.Context(), newStream("missing"), eventstore.ReadOptions{})
		wantErr(t, err, eventstore.ErrStreamNotFound)
	})
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (s suite) testReadAll(t *testing.T) {
	st := s.open(t)
	a, b := newStream("all-a"), newStream("all-b")
	ra := mustAppend(t, st, a, eventstore.NoStream, events(2)...)
	rb := mustAppend(t, st, b, eventstore.NoStream, events(2)...)
	first := mustRead(t, st, a)[0]

	evs, err := st.ReadAll(t.Context(), first.Position, 100000)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if len(evs) < 4 || evs[0].ID != first.ID {
		t.Fatalf("read all from %d: got %d events, first %v", first.Position, len(evs), evs)
	}
	var seen int
	for i, e := range evs {
		if i > 0 && e.Position <= evs[i-1].Position {
			t.Fatalf("position %d follows %d", e.Position, evs[i-1].Position)
		}
		if e.Stream == a || e.Stream == b {
			seen++
		}
	}
	if seen != 4 {
		t.Fatalf("saw %d of the 4 events appended", seen)
	}
	if rb.Position <= ra.Position {
		t.Fatalf("later append has position %d, earlier %d", rb.Position, ra.Position)
	}
	last, err := st.LastPosition(t.Context())
	if err != nil || last < rb.Position {
		t.Fatalf("last position %d (%v), want at least %d", last, err, rb.Position)
	}
	t.Run("limit", func(t *testing.T) {
		evs, err := st.ReadAll(t.Context(), first.Position, 2)
		if err != nil || len(evs) != 2 || evs[0].ID != first.ID {
			t.Fatalf("got %d events (%v), want 2 from %s", len(evs), err, first.ID)
		}
	})
}

func (s suite) testChain(t *testing.T) {
	st := s.open(t)
	stream := newStream("chain")
	mustAppend(t, st, stream, eventstore.NoStream, events(3)...)
	mustAppend(t, st, stream, eventstore.Exact(2), events(2)...)
	evs := mustRead(t, st, stream)

	if !evs[0].PrevHash.IsZero() {
		t.Errorf("first event's prev_hash is %s, want zero", evs[0].PrevHash)
	}
	for i, e := range evs {
		if i > 0 && e.PrevHash != evs[i-1].Hash {
			t.Errorf("event %d: prev_hash %s, previous hash %s", i, e.PrevHash, evs[i-1].Hash)
		}
		if eventstore.DigestData(e.DataSalt, e.Data) != e.DataDigest {
			t.Errorf("event %d: data digest does not match", i)
		}
		if len(e.DataSalt) != eventstore.SaltSize {
			t.Errorf("event %d: salt of %d bytes", i, len(e.DataSalt))
		}
	}
	var problems []eventstore.Problem
	n, err := eventstore.Verify(t.Context(), st, eventstore.VerifyOptions{Stream: stream},
		func(p eventstore.Problem) bool { problems = append(problems, p); return true })
	if err != nil || n != 5 || len(problems) != 0 {
		t.Fatalf("verify: %d checked, %v, problems %v", n, err, problems)
	}
	if evs[0].DataSalt != nil && string(evs[0].DataSalt) == string(evs[1].DataSalt) {
		t.Error("two events share a salt")
	}
}
