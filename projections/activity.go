package projections

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// ActivityTable is the activity read model: one row per event an account
// caused (its metadata names the account as actor), reads of health
// information and refused attempts included, for compliance officers.
// It holds identifiers, types and positions, never a payload.
const ActivityTable = "readmodel.activity"

// The SQL of the activity read model; %[1]s is the table suffix.
const (
	activitySchema = `
		CREATE TABLE readmodel.activity%[1]s (
			actor_id    text        NOT NULL,
			position    bigint      NOT NULL,
			event_id    uuid        NOT NULL,
			recorded_at timestamptz NOT NULL,
			stream      text        NOT NULL,
			event_type  text        NOT NULL,
			outcome     text        NOT NULL,
			school_id   text        NOT NULL,
			student_ids text[]      NOT NULL,
			CONSTRAINT activity%[1]s_pkey PRIMARY KEY (actor_id, position)
		)`

	insertActivitySQL = `
		INSERT INTO readmodel.activity%[1]s (actor_id, position, event_id, recorded_at,
			stream, event_type, outcome, school_id, student_ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`

	activityOfSQL = `
		SELECT position, event_id::text, recorded_at, stream, event_type, outcome,
			school_id, student_ids
		FROM readmodel.activity
		WHERE actor_id = $1 AND position < $2
			AND recorded_at >= $3 AND recorded_at < $4
		ORDER BY position DESC
		LIMIT $5`
)

// OutcomeRead is the outcome of an activity row of a read of health
// information (PHIAccessed); a refused attempt (PHIAccessRefused) is
// OutcomeRefused, as in the log index.
const OutcomeRead = "read"

// Activity projects every event whose metadata names an actor into
// ActivityTable.
type Activity struct{}

var _ Projection = Activity{}

// Name returns "activity".
func (Activity) Name() string { return "activity" }

// Tables returns ActivityTable.
func (Activity) Tables() []string { return []string{ActivityTable} }

// Schema returns the statements that create ActivityTable with suffix.
func (Activity) Schema(suffix string) string { return fmt.Sprintf(activitySchema, suffix) }

// Apply adds a row for e under the actor its metadata names, and ignores
// an event with no actor. The row names the students the event concerns:
// the student of a chart's stream, those an access, a refusal, a
// break-glass grant or a disclosure names (none once its payload has
// been destroyed).
func (Activity) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	m, err := e.DecodeMetadata()
	if err != nil {
		return err
	}
	if m.ActorID == "" {
		return nil
	}
	students, outcome, err := concerns(e)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(insertActivitySQL, suffix), m.ActorID, int64(e.Position),
		e.ID, e.RecordedAt, e.Stream, e.Type, outcome, m.SchoolID, students)
	return err
}

// concerns returns the students e concerns and, for an access event, its
// outcome.
func concerns(e eventstore.Event) ([]string, string, error) {
	if student, ok := strings.CutPrefix(e.Stream, domain.StudentStream("")); ok {
		return []string{student}, "", nil
	}
	outcome := ""
	switch e.Type {
	case domain.PHIAccessed{}.EventType():
		outcome = OutcomeRead
	case domain.PHIAccessRefused{}.EventType():
		outcome = OutcomeRefused
	}
	decoded, err := decodeOneOf(e, domain.PHIAccessed{}, domain.PHIAccessRefused{},
		domain.BreakGlassOpened{}, domain.PHIDisclosed{})
	if err != nil {
		return nil, "", err
	}
	switch d := decoded.(type) {
	case domain.PHIAccessed:
		return orEmpty(d.StudentIDs), outcome, nil
	case domain.PHIAccessRefused:
		return nonEmpty(d.StudentID), outcome, nil
	case domain.BreakGlassOpened:
		return nonEmpty(d.StudentID), outcome, nil
	case domain.PHIDisclosed:
		return orEmpty(d.StudentIDs), outcome, nil
	}
	return []string{}, outcome, nil
}

// decodeOneOf returns e's data decoded when e is of the type of one of
// types, and nil when it is of another or its payload has been
// destroyed.
func decodeOneOf(e eventstore.Event, types ...domain.Event) (domain.Event, error) {
	if e.Data == nil || !slices.ContainsFunc(types, func(t domain.Event) bool { return t.EventType() == e.Type }) {
		return nil, nil
	}
	return domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
}

func nonEmpty(id string) []string {
	if id == "" {
		return []string{}
	}
	return []string{id}
}

// ActivityRow is one event an account caused.
type ActivityRow struct {
	Position   uint64    `json:"position"`
	EventID    string    `json:"event_id"`
	RecordedAt time.Time `json:"recorded_at"`
	Stream     string    `json:"stream"`
	Type       string    `json:"type"`
	// Outcome is read or refused for an access to health information,
	// empty for any other event.
	Outcome    string   `json:"outcome,omitempty"`
	SchoolID   string   `json:"school_id,omitempty"`
	StudentIDs []string `json:"student_ids"`
}

// ActivityQuery selects a page of an account's activity.
type ActivityQuery struct {
	ActorID string
	// From (included) and To (excluded) bound the events' recorded times;
	// zero leaves that side open.
	From, To time.Time
	// After is the cursor of the page, empty for the first; Limit is 1 to
	// 500.
	After string
	Limit int
}

// ActivityOf returns a page of the events aq's account caused, newest
// first, and the cursor of the following page, empty when there is none.
// A cursor that is not a log position is ErrInvalidCursor.
func ActivityOf(ctx context.Context, q Querier, aq ActivityQuery) ([]ActivityRow, string, error) {
	before, err := beforePosition(aq.After)
	if err != nil {
		return nil, "", fmt.Errorf("activity of %s: %w", aq.ActorID, err)
	}
	from, to := openRange(aq.From, aq.To)
	limit := min(max(aq.Limit, 1), 500)
	rows, _ := q.Query(ctx, activityOfSQL, aq.ActorID, before, from, to, limit+1)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActivityRow, error) {
		var a ActivityRow
		var pos int64
		err := r.Scan(&pos, &a.EventID, &a.RecordedAt, &a.Stream, &a.Type, &a.Outcome,
			&a.SchoolID, &a.StudentIDs)
		a.Position = uint64(pos)
		return a, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("activity of %s: %w", aq.ActorID, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatUint(out[limit-1].Position, 10)
	}
	return out, next, nil
}

// beforePosition returns the position a newest-first page starts below:
// the cursor's, or past every position for the first page.
func beforePosition(cursor string) (int64, error) {
	if cursor == "" {
		return 1<<63 - 1, nil
	}
	p, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || p <= 0 {
		return 0, ErrInvalidCursor
	}
	return p, nil
}

// openRange returns from and to as bounds of a query, a zero time as the
// infinity of its side.
func openRange(from, to time.Time) (lo, hi pgtype.Timestamptz) {
	lo = pgtype.Timestamptz{Time: from, Valid: true}
	hi = pgtype.Timestamptz{Time: to, Valid: true}
	if from.IsZero() {
		lo.InfinityModifier = pgtype.NegativeInfinity
	}
	if to.IsZero() {
		hi.InfinityModifier = pgtype.Infinity
	}
	return lo, hi
}
