package projections_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// TestRebuildMatchesLive rebuilds projections while events keep coming,
// then compares the live tables, row by row, with a fresh rebuild.
func TestRebuildMatchesLive(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, fast,
		projections.Students{}, counter{name: "counted"},
		projections.Activity{}, projections.Disclosures{})
	h.Start(t.Context())
	schools := []string{newID(), newID()}
	for i := range 20 {
		appendStudent(t, h.Log, i, schools)
	}
	h.Sync()
	live := h.Snapshot()

	// Rebuild with no event coming: the same rows.
	rebuildAll(t, h)
	equalRows(t, h.Snapshot(), live)

	// Rebuild while events come, then let the live handlers catch up.
	appended := make(chan error, 1)
	go func() {
		for i := range 50 {
			if err := appendStudent(t, h.Log, 100+i, schools); err != nil {
				appended <- err
				return
			}
		}
		appended <- nil
	}()
	rebuildAll(t, h)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	h.Sync()
	afterLive := h.Snapshot()

	rebuildAll(t, h)
	equalRows(t, h.Snapshot(), afterLive)
	head, err := h.Log.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rows, events, last := countOf(t, h, "counted")
	if rows != int(head) || events != rows || last != head {
		t.Errorf("counted %d rows of %d events up to %d, want %d of each up to %d",
			rows, events, last, head, head)
	}
	if got := len(afterLive[projections.StudentsTable]); got != 70 {
		t.Errorf("%d students, want 70", got)
	}
	if got := len(afterLive[projections.ActivityTable]); got < 70 {
		t.Errorf("%d rows of activity, want at least one per student", got)
	}
	if leftovers := rebuildNames(t, h); len(leftovers) > 0 {
		t.Errorf("names with the rebuild suffix left: %q", leftovers)
	}
}

// registrars are the accounts that append the students' histories.
var registrars = []string{newID(), newID()}

// appendStudent appends the history of student i, by one of the
// registrars: an enrolment, and for some a transfer, an update or a
// withdrawal.
func appendStudent(t testing.TB, log eventstore.Store, i int, schools []string) error {
	id := newID()
	events := []domain.Event{enrolment(id, schools[i%2], fmt.Sprintf("Given%d", i),
		fmt.Sprintf("Family%d", i%7), fmt.Sprintf("S-%d", i), domain.Grades[i%len(domain.Grades)])}
	if i%3 == 0 {
		events = append(events, domain.StudentTransferred{
			FromSchoolID: schools[i%2], ToSchoolID: schools[(i+1)%2], On: "2024-01-08",
		})
	}
	if i%4 == 0 {
		events = append(events, domain.DemographicsUpdated{FamilyName: "Renamed", Grade: "K"})
	}
	if i%5 == 0 {
		events = append(events, domain.StudentWithdrawn{On: "2024-06-01", Reason: "moved"})
	}

	data := make([]eventstore.EventData, len(events))
	for j, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		if err != nil {
			return err
		}
		data[j] = eventstore.EventData{Type: typ, SchemaVersion: version, Data: payload,
			Metadata: eventstore.Metadata{ActorID: registrars[i%2], ActorRole: "nurse"}}
	}
	_, err := log.Append(t.Context(), domain.StudentStream(id), eventstore.NoStream, data...)
	return err
}

func rebuildAll(t *testing.T, h *projectiontest.Harness) {
	t.Helper()
	for _, p := range h.Projections {
		if err := h.Runner.Rebuild(t.Context(), p.Name()); err != nil {
			t.Fatal(err)
		}
	}
}

// rebuildNames returns the tables, indexes, sequences and constraints of
// the read models whose names hold the rebuild suffix.
func rebuildNames(t *testing.T, h *projectiontest.Harness) []string {
	t.Helper()
	rows, _ := h.Pool.Query(t.Context(), `
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'readmodel'::regnamespace AND c.relname LIKE '%rebuild%'
		UNION ALL
		SELECT conname FROM pg_constraint
		WHERE connamespace = 'readmodel'::regnamespace AND conname LIKE '%rebuild%'`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list names: %v", err)
	}
	return names
}

// tally owns a table with an identity column, a unique constraint and
// names Postgres chooses, to show that a rebuild renames them all.
type tally struct{}

func (tally) Name() string     { return "tally" }
func (tally) Tables() []string { return []string{"readmodel.tally"} }

func (tally) Schema(suffix string) string {
	return fmt.Sprintf(`CREATE TABLE readmodel.tally%s (
		id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		event_id uuid   NOT NULL UNIQUE,
		position bigint NOT NULL CHECK (position > 0)
	)`, suffix)
}

func (tally) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(
		"INSERT INTO readmodel.tally%s (event_id, position) VALUES ($1, $2)", suffix),
		e.ID, int64(e.Position))
	return err
}

// TestRebuildRenames rebuilds a projection twice: the second rebuild
// would collide with the names the first left, had it not renamed them.
func TestRebuildRenames(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, fast, tally{})
	appendEvents(t, h, "Tested", 3)
	h.Sync()
	h.Sync()
	appendEvents(t, h, "Tested", 2)
	h.Sync()

	if leftovers := rebuildNames(t, h); len(leftovers) > 0 {
		t.Errorf("names with the rebuild suffix left: %q", leftovers)
	}
	if rows := h.Rows("readmodel.tally"); len(rows) != 5 {
		t.Errorf("tally holds %d rows, want 5", len(rows))
	}
}

// TestRebuildFailure leaves the live tables as they were when an event
// fails, and names the event, even when its failing statement was
// deferred to the end of its batch.
func TestRebuildFailure(t *testing.T) {
	for _, tt := range []struct {
		name   string
		fails  failure
		reason string
	}{
		{"error", byError, "apply failed"},
		{"panic", byPanic, "panic"},
		{"deferred statement", bySQL, "SQLSTATE 22P02"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := projectiontest.New(t, projectiontest.Live, fast, counter{name: "counted"})
			h.Start(t.Context())
			appendEvents(t, h, "Tested", 2)
			appendEvents(t, h, "Poison", 1)
			appendEvents(t, h, "Tested", 2)
			h.Sync()
			live := h.Snapshot()

			strict, err := projections.New(h.Pool, h.Log, fast,
				counter{name: "counted", failOn: "Poison", fails: tt.fails})
			if err != nil {
				t.Fatal(err)
			}
			err = strict.Rebuild(t.Context(), "counted")
			var applyErr *projections.ApplyError
			if !errors.As(err, &applyErr) || applyErr.Position != 3 || applyErr.Reason != tt.reason {
				t.Fatalf("rebuild: %v, want the failure of the event at 3: %s", err, tt.reason)
			}
			equalRows(t, h.Snapshot(), live)
			if s := statusOf(t, h, "counted"); s.State != projections.StateRunning || s.Position != 5 {
				t.Errorf("status after a failed rebuild: %+v, want running at 5", s)
			}
		})
	}
}

// TestRebuildRefuses refuses an unknown projection, and a second rebuild
// of one while the first runs.
func TestRebuildRefuses(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, fast, counter{name: "counted"})
	err := h.Runner.Rebuild(t.Context(), "nameless")
	if !errors.Is(err, projections.ErrUnknownProjection) {
		t.Errorf("rebuild an unknown projection: %v, want ErrUnknownProjection", err)
	}

	conn, err := h.Pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// The lock a rebuild of "counted" takes, as projections/rebuild.go keys it.
	lock := `SELECT pg_advisory_lock(x'57435052'::int, hashtext('counted'))`
	if _, err := conn.Exec(t.Context(), lock); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock_all()`)
	err = h.Runner.Rebuild(t.Context(), "counted")
	if !errors.Is(err, projections.ErrRebuildRunning) {
		t.Errorf("rebuild while another runs: %v, want ErrRebuildRunning", err)
	}
}
