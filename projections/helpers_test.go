package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// fast retries once, so that a failing event stops its projection soon.
var fast = projections.Config{Retries: 1}

// errPoison is what a counter returns for the event type it fails on.
var errPoison = errors.New("poisoned")

// counter is a projection that inserts one row per event into
// readmodel.<name>, with nothing to stop a second row for the same
// event, so that a doubled or lost event shows in the counts. It fails
// on every event of type failOn, the way fails says.
type counter struct {
	name   string
	failOn string
	fails  failure
}

// failure is how a counter fails.
type failure int

const (
	// byError returns errPoison, with the event's data in its message.
	byError failure = iota
	// byPanic panics.
	byPanic
	// bySQL runs a statement that fails, quoting the event's data.
	bySQL
)

func (c counter) Name() string { return c.name }

func (c counter) Tables() []string { return []string{"readmodel." + c.name} }

func (c counter) Schema(suffix string) string {
	return fmt.Sprintf(`
		CREATE TABLE readmodel.%[1]s%[2]s (
			event_id uuid   NOT NULL,
			position bigint NOT NULL,
			type     text   NOT NULL,
			CONSTRAINT %[1]s%[2]s_position_check CHECK (position > 0)
		);
		CREATE INDEX %[1]s%[2]s_position_idx ON readmodel.%[1]s%[2]s (position)`,
		c.name, suffix)
}

func (c counter) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if e.Type == c.failOn {
		switch c.fails {
		case byPanic:
			panic("counter " + c.name + " panics")
		case bySQL:
			_, err := tx.Exec(ctx, "SELECT $1::text::integer", string(e.Data))
			return err
		default:
			return fmt.Errorf("%w: %s", errPoison, e.Data)
		}
	}
	_, err := tx.Exec(ctx,
		fmt.Sprintf("INSERT INTO readmodel.%s%s VALUES ($1, $2, $3)", c.name, suffix),
		e.ID, int64(e.Position), e.Type)
	return err
}

// countOf returns the rows of counter name: how many, how many distinct
// events, and the highest position.
func countOf(t *testing.T, h *projectiontest.Harness, name string) (rows, events int, last uint64) {
	t.Helper()
	var top int64
	err := h.Pool.QueryRow(t.Context(), fmt.Sprintf(
		`SELECT count(*), count(DISTINCT event_id), coalesce(max(position), 0)
		FROM readmodel.%s`, name)).Scan(&rows, &events, &top)
	if err != nil {
		t.Fatalf("count %s: %v", name, err)
	}
	return rows, events, uint64(top)
}

// district is the district of every student of the tests.
var district = newID()

func newID() string { return uuid.NewString() }

// enrolment returns the enrolment of a student born on 2015-04-02.
func enrolment(
	id, school, given, family, number string,
	grade domain.Grade,
) domain.StudentEnrolled {
	return domain.StudentEnrolled{
		StudentID:     id,
		StudentNumber: number,
		DistrictID:    district,
		SchoolID:      school,
		GivenName:     given,
		FamilyName:    family,
		BirthDate:     "2015-04-02",
		Grade:         grade,
		Gender:        domain.GenderUnknown,
		EnrolledOn:    "2021-09-01",
	}
}

// enrol appends the enrolment of a new student and returns its ID.
func enrol(
	h *projectiontest.Harness,
	school, given, family, number string,
	grade domain.Grade,
) string {
	id := newID()
	h.Append(domain.StudentStream(id), enrolment(id, school, given, family, number, grade))
	return id
}

// appendEvents appends n events of the given type, with empty data, to
// their own stream.
func appendEvents(
	t testing.TB,
	h *projectiontest.Harness,
	eventType string,
	n int,
) eventstore.AppendResult {
	t.Helper()
	data := make([]eventstore.EventData, n)
	for i := range data {
		data[i] = eventstore.EventData{Type: eventType, Data: []byte(`{}`)}
	}
	res, err := h.Log.Append(t.Context(), "test-"+newID(), eventstore.NoStream, data...)
	if err != nil {
		t.Fatalf("append %s: %v", eventType, err)
	}
	return res
}

// equalRows fails t unless two snapshots of the same tables are equal.
func equalRows(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for table, wantRows := range want {
		if !slices.Equal(got[table], wantRows) {
			t.Errorf("%s:\ngot  %q\nwant %q", table, got[table], wantRows)
		}
	}
}

// rebuildMatchesLive brings h's live projections up to the log's head,
// checks that none of their tables is empty, rebuilds each, and fails t
// unless the rebuilt tables hold the live rows.
func rebuildMatchesLive(t *testing.T, h *projectiontest.Harness) {
	t.Helper()
	h.Sync()
	matchesRebuild(t, h)
}

// each returns f of every row, in order; nil for none.
func each[T, U any](rows []T, f func(T) U) []U {
	var out []U
	for _, r := range rows {
		out = append(out, f(r))
	}
	return out
}
