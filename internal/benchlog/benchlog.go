// Package benchlog fills an event log for benchmarks, as a busy health
// office's log grows: events of 400-byte payloads that name their
// student, 100 to an append, from several writers at once.
package benchlog

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

// Data is the payload of every event: 400 bytes that name a student.
var Data = fmt.Appendf(nil, `{"student_id":"5f2b6c1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b","route":"oral",`+
	`"dose":{"amount":"250","unit":"mg"},"padding":"%0300d"}`, 0)

// Appender is the part of an event log Seed writes to.
type Appender interface {
	Append(
		ctx context.Context,
		stream string,
		expected eventstore.ExpectedRevision,
		events ...eventstore.EventData,
	) (eventstore.AppendResult, error)
}

// Seed appends n events (a multiple of 100) over n/10 streams named
// student-<i>, 100 to an append, from 8 writers, each event caused by
// actor.
func Seed(tb testing.TB, log Appender, n int, actor string) {
	tb.Helper()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w * 100; i < n; i += 800 {
				if err := appendBatch(log, fmt.Sprintf("student-%d", i%(n/10)), actor); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func appendBatch(log Appender, stream, actor string) error {
	batch := make([]eventstore.EventData, 100)
	for j := range batch {
		batch[j] = eventstore.EventData{ID: uuid.New(), Type: "MedicationAdministered", Data: Data,
			Metadata: eventstore.Metadata{ActorID: actor, ActorRole: "nurse"}}
	}
	_, err := log.Append(context.Background(), stream, eventstore.Any, batch...)
	return err
}
