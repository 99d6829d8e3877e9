package postgres_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// TestProcessesShareOneOrder runs two Logs on one database, as two service
// processes would, each with its own writer, pool and listener. Positions
// must stay gapless and in commit order across both, and a subscriber on
// each must see every event of both exactly once, in order.
func TestProcessesShareOneOrder(t *testing.T) {
	db := pgtest.New(t)
	logs := []*postgres.Log{openLog(t, db), openLog(t, db)}
	const writersPerLog, appends = 4, 250
	total := len(logs) * writersPerLog * appends

	subs := make([]*eventstore.Subscription, len(logs))
	for i, l := range logs {
		sub, err := l.Subscribe(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		subs[i] = sub
	}

	var wg sync.WaitGroup
	for i, l := range logs {
		for w := range writersPerLog {
			wg.Go(func() {
				stream := fmt.Sprintf("student-%d-%d", i, w)
				for range appends {
					if _, err := l.Append(t.Context(), stream, eventstore.Any, benchEvents(1)...); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()

	for i, sub := range subs {
		var next uint64 = 1
		for next <= uint64(total) {
			e, ok := <-sub.Events()
			if !ok {
				t.Fatalf("subscriber %d ended at position %d: %v", i, next, sub.Err())
			}
			if e.Position != next {
				t.Fatalf("subscriber %d got position %d, want %d", i, e.Position, next)
			}
			next++
		}
	}
	n, err := eventstore.Verify(t.Context(), logs[0], eventstore.VerifyOptions{ContiguousPositions: true},
		func(p eventstore.Problem) bool { t.Error(p); return true })
	if err != nil || n != uint64(total) {
		t.Fatalf("verify: %d events (%v), want %d", n, err, total)
	}
}
