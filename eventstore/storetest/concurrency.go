package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

const (
	writers         = 16
	eventsPerWriter = 1000
	sharedStreams   = 2 // the second half of the writers share these
)

// testConcurrency has 16 writers append 1,000 events each, half to streams
// of their own and half to two shared streams, while two subscribers follow
// the log. Each subscriber must see every event exactly once, in position
// order; conflicts must surface as wrong-revision errors; every chain must
// verify.
func (s suite) testConcurrency(t *testing.T) {
	st := s.open(t)
	run := uuid.NewString()
	streamOf := func(w int) string {
		if w < writers/2 {
			return fmt.Sprintf("conc-%s-own-%d", run, w)
		}
		return fmt.Sprintf("conc-%s-shared-%d", run, w%sharedStreams)
	}
	streams := map[string]bool{}
	lengths := map[string]int{}
	for w := range writers {
		streams[streamOf(w)] = true
		lengths[streamOf(w)] += eventsPerWriter
	}

	last, err := st.LastPosition(t.Context())
	if err != nil {
		t.Fatalf("last position: %v", err)
	}
	const total = writers * eventsPerWriter
	var followers sync.WaitGroup
	seen := make([]map[uuid.UUID]bool, 2)
	for i := range seen {
		sub, err := st.Subscribe(t.Context(), last+1)
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		followers.Go(func() { seen[i] = follow(t, sub, streams, total) })
	}

	var wg sync.WaitGroup
	conflicts := make([]int, writers)
	for w := range writers {
		wg.Go(func() { conflicts[w] = write(t, st, streamOf(w)) })
	}
	wg.Wait()
	followers.Wait()

	var nConflicts int
	for _, c := range conflicts {
		nConflicts += c
	}
	t.Logf("%d appends refused with a wrong expected revision and retried", nConflicts)
	// Four writers take turns on each shared stream a thousand times: had
	// none of them ever been refused, the expected revision was not checked.
	if nConflicts == 0 {
		t.Error("no append to a shared stream was refused with a wrong expected revision")
	}
	for i, ids := range seen {
		if len(ids) != total {
			t.Errorf("subscriber %d saw %d distinct events, want %d", i, len(ids), total)
		}
	}
	for stream := range streams {
		n, err := eventstore.Verify(t.Context(), st, eventstore.VerifyOptions{Stream: stream},
			func(p eventstore.Problem) bool { t.Errorf("verify: %s", p); return true })
		want := lengths[stream]
		if err != nil || int(n) != want {
			t.Errorf("verify %s: %d events (%v), want %d", stream, n, err, want)
		}
	}
}

// write appends eventsPerWriter events to stream one at a time, each with
// the exact revision it last saw; on a conflict it rereads and tries again.
// It returns how many conflicts it met.
func write(t *testing.T, st eventstore.Store, stream string) int {
	expected := eventstore.Any
	conflicts := 0
	for n := 0; n < eventsPerWriter; {
		res, err := st.Append(t.Context(), stream, expected, events(1)...)
		switch {
		case err == nil:
			expected = eventstore.Exact(res.Revision)
			n++
		case errors.Is(err, eventstore.ErrWrongExpectedRevision):
			conflicts++
			var wr *eventstore.WrongRevisionError
			if !errors.As(err, &wr) || !wr.Exists {
				t.Errorf("conflict on %s without the stream's revision: %v", stream, err)
				return conflicts
			}
			expected = eventstore.Exact(wr.Actual)
		default:
			t.Errorf("append %s: %v", stream, err)
			return conflicts
		}
	}
	return conflicts
}

// follow reads sub until it has seen total events of streams, checking
// order and uniqueness, and returns the IDs seen.
func follow(
	t *testing.T,
	sub *eventstore.Subscription,
	streams map[string]bool,
	total int,
) map[uuid.UUID]bool {
	ids := make(map[uuid.UUID]bool, total)
	var lastPos uint64
	for e := range sub.Events() {
		if e.Position <= lastPos {
			t.Errorf("position %d delivered after %d", e.Position, lastPos)
			return ids
		}
		lastPos = e.Position
		if !streams[e.Stream] {
			continue
		}
		if ids[e.ID] {
			t.Errorf("event %s delivered twice", e.ID)
			return ids
		}
		ids[e.ID] = true
		if len(ids) == total {
			return ids
		}
	}
	t.Errorf("subscription ended after %d events: %v", len(ids), sub.Err())
	return ids
}
