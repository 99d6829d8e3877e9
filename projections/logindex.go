package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// LogIndexTable is the compliance index of the whole log: one row per
// event, with its identifiers and type, never its data.
const LogIndexTable = "readmodel.log_index"

// The outcomes of an event in the index, read from its type.
const (
	// OutcomeSuccess: what the event records was done.
	OutcomeSuccess = "success"
	// OutcomeRefused: a read of health information was refused.
	OutcomeRefused = "refused"
	// OutcomeBlocked: the medication checks blocked a dose.
	OutcomeBlocked = "blocked"
	// OutcomeFailed: a login failed.
	OutcomeFailed = "failed"
)

// Outcomes lists every outcome, in the order above.
var Outcomes = []string{OutcomeSuccess, OutcomeRefused, OutcomeBlocked, OutcomeFailed}

// outcomeOf returns the outcome of an event of type eventType.
func outcomeOf(eventType string) string {
	switch eventType {
	case domain.PHIAccessRefused{}.EventType():
		return OutcomeRefused
	case domain.MedicationAdministrationBlocked{}.EventType():
		return OutcomeBlocked
	case domain.LoginFailed{}.EventType():
		return OutcomeFailed
	}
	return OutcomeSuccess
}

// The SQL of the log index; %[1]s is the table suffix.
const (
	logIndexSchema = `
		CREATE TABLE readmodel.log_index%[1]s (
			position    bigint      NOT NULL,
			recorded_at timestamptz NOT NULL,
			stream      text        NOT NULL,
			event_type  text        NOT NULL,
			actor_id    text        NOT NULL,
			actor_role  text        NOT NULL,
			student_ids text[]      NOT NULL,
			school_id   text        NOT NULL,
			outcome     text        NOT NULL,
			CONSTRAINT log_index%[1]s_pkey PRIMARY KEY (position)
		);
		CREATE INDEX log_index%[1]s_recorded_idx
			ON readmodel.log_index%[1]s (recorded_at, position);
		CREATE INDEX log_index%[1]s_stream_idx
			ON readmodel.log_index%[1]s (stream, position);
		CREATE INDEX log_index%[1]s_type_idx
			ON readmodel.log_index%[1]s (event_type, position);
		CREATE INDEX log_index%[1]s_actor_idx
			ON readmodel.log_index%[1]s (actor_id, position);
		CREATE INDEX log_index%[1]s_school_idx
			ON readmodel.log_index%[1]s (school_id, position);
		CREATE INDEX log_index%[1]s_outcome_idx
			ON readmodel.log_index%[1]s (outcome, position) WHERE outcome <> 'success';
		CREATE INDEX log_index%[1]s_students_idx
			ON readmodel.log_index%[1]s USING gin (student_ids)`

	insertLogIndexSQL = `
		INSERT INTO readmodel.log_index%[1]s (position, recorded_at, stream, event_type,
			actor_id, actor_role, student_ids, school_id, outcome)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (position) DO NOTHING`

	// A grant's closing names no student: it names the one its opening,
	// the first event of its stream, names.
	insertGrantClosedSQL = `
		INSERT INTO readmodel.log_index%[1]s (position, recorded_at, stream, event_type,
			actor_id, actor_role, student_ids, school_id, outcome)
		VALUES ($1, $2, $3, $4, $5, $6,
			coalesce((SELECT o.student_ids FROM readmodel.log_index%[1]s o
				WHERE o.stream = $3 ORDER BY o.position LIMIT 1), '{}'),
			$7, $8)
		ON CONFLICT (position) DO NOTHING`
)

// LogIndex projects every event of the log into LogIndexTable: its
// position, time, stream and type; the actor and role its metadata
// names; the students it concerns (a student stream's, those an access
// event names, a break-glass grant's); the school (the one the event
// names, else its stream's, else its metadata's); and its outcome.
type LogIndex struct{}

var _ Projection = LogIndex{}

// Name returns "logindex".
func (LogIndex) Name() string { return "logindex" }

// Tables returns LogIndexTable.
func (LogIndex) Tables() []string { return []string{LogIndexTable} }

// Schema returns the statements that create LogIndexTable with suffix.
func (LogIndex) Schema(suffix string) string { return fmt.Sprintf(logIndexSchema, suffix) }

// Apply adds e's row. It reads e's data only for the students and the
// school an access event or a grant names; an event whose payload has
// been destroyed keeps what its stream and metadata say.
func (LogIndex) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	var meta eventstore.Metadata
	if len(e.Metadata) > 0 {
		if err := json.Unmarshal(e.Metadata, &meta); err != nil {
			return err
		}
	}
	students, school, err := namedIn(e)
	if err != nil {
		return err
	}
	if school == "" {
		school = schoolOfStream(e.Stream)
	}
	if school == "" {
		school = meta.SchoolID
	}

	pos, outcome := int64(e.Position), outcomeOf(e.Type)
	if e.Type == (domain.BreakGlassClosed{}).EventType() {
		_, err = tx.Exec(ctx, fmt.Sprintf(insertGrantClosedSQL, suffix), pos, e.RecordedAt,
			e.Stream, e.Type, meta.ActorID, meta.ActorRole, school, outcome)
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(insertLogIndexSQL, suffix), pos, e.RecordedAt,
		e.Stream, e.Type, meta.ActorID, meta.ActorRole, students, school, outcome)
	return err
}

// namedIn returns the students e concerns, never nil, and the school its
// data names, if any.
func namedIn(e eventstore.Event) ([]string, string, error) {
	if id, ok := strings.CutPrefix(e.Stream, domain.StudentStream("")); ok {
		return []string{id}, "", nil
	}
	switch e.Type {
	case domain.PHIAccessed{}.EventType(), domain.PHIAccessRefused{}.EventType(),
		domain.BreakGlassOpened{}.EventType():
	default:
		return []string{}, "", nil
	}
	if e.Data == nil {
		return []string{}, "", nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return nil, "", err
	}
	switch d := decoded.(type) {
	case domain.PHIAccessed:
		return distinct(d.StudentIDs), "", nil
	case domain.PHIAccessRefused:
		return distinct([]string{d.StudentID}), d.SchoolID, nil
	case domain.BreakGlassOpened:
		return distinct([]string{d.StudentID}), "", nil
	}
	return []string{}, "", nil
}

// distinct returns ids without the empty ones, each once, in order.
func distinct(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// schoolOfStream returns the school a school's stream or its
// controlled-substance stream belongs to; empty for any other stream.
func schoolOfStream(stream string) string {
	for _, prefix := range []string{domain.SchoolStream(""), domain.ControlledStream("")} {
		if id, ok := strings.CutPrefix(stream, prefix); ok {
			return id
		}
	}
	return ""
}

// LogEntry is a row of LogIndexTable: one event, by its identifiers.
type LogEntry struct {
	Position   uint64    `json:"position"`
	RecordedAt time.Time `json:"recorded_at"`
	Stream     string    `json:"stream"`
	Type       string    `json:"type"`
	ActorID    string    `json:"actor_id,omitempty"`
	ActorRole  string    `json:"actor_role,omitempty"`
	StudentIDs []string  `json:"student_ids"`
	SchoolID   string    `json:"school_id,omitempty"`
	Outcome    string    `json:"outcome"`
}

// LogFilter selects events for SearchLog. Every field set must hold;
// an empty field selects everything.
type LogFilter struct {
	Stream    string
	Type      string
	ActorID   string
	ActorRole string
	StudentID string
	SchoolID  string
	Outcome   string
	// From (included) and To (excluded) bound the time the events were
	// recorded.
	From, To time.Time
	// Ascending lists the oldest first, by position; the newest come
	// first otherwise.
	Ascending bool
	// After is the cursor SearchLog returned with the previous page;
	// empty for the first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// searchLogSQL returns a page of the index; %[1]s is the comparison and
// %[2]s the direction of the order by position. Each filter is unused
// when its parameter is empty or null.
const searchLogSQL = `
	SELECT position, recorded_at, stream, event_type, actor_id, actor_role,
		student_ids, school_id, outcome
	FROM readmodel.log_index
	WHERE ($1::text = '' OR stream = $1)
		AND ($2::text = '' OR event_type = $2)
		AND ($3::text = '' OR actor_id = $3)
		AND ($4::text = '' OR actor_role = $4)
		AND ($5::text = '' OR student_ids @> ARRAY[$5::text])
		AND ($6::text = '' OR school_id = $6)
		AND ($7::text = '' OR outcome = $7)
		AND ($8::timestamptz IS NULL OR recorded_at >= $8)
		AND ($9::timestamptz IS NULL OR recorded_at < $9)
		AND position %[1]s $10
	ORDER BY position %[2]s
	LIMIT $11`

// The SQL of a page, oldest first and newest first.
var (
	searchLogAscSQL  = fmt.Sprintf(searchLogSQL, ">", "ASC")
	searchLogDescSQL = fmt.Sprintf(searchLogSQL, "<", "DESC")
)

// SearchLog returns a page of the events f selects and the cursor of the
// next page, empty when this page is the last. The cursor is a log
// position. It returns an error wrapping ErrInvalidCursor for a cursor
// that is not one.
func SearchLog(ctx context.Context, q Querier, f LogFilter) ([]LogEntry, string, error) {
	sql := searchLogDescSQL
	from, err := decodePositionCursor(f.After)
	if err != nil {
		return nil, "", fmt.Errorf("search log: %w", err)
	}
	if f.Ascending {
		sql = searchLogAscSQL
		if f.After == "" {
			from = 0
		}
	}
	limit := pageSize(f.Limit)

	rows, _ := q.Query(ctx, sql, f.Stream, f.Type, f.ActorID, f.ActorRole, f.StudentID,
		f.SchoolID, f.Outcome, nullTime(f.From), nullTime(f.To), from, limit+1)
	entries, err := pgx.CollectRows(rows, scanLogEntry)
	if err != nil {
		return nil, "", fmt.Errorf("search log: %w", err)
	}
	entries, next := pageOf(entries, limit, func(l LogEntry) uint64 { return l.Position })
	return entries, next, nil
}

func scanLogEntry(row pgx.CollectableRow) (LogEntry, error) {
	var l LogEntry
	var position int64
	err := row.Scan(&position, &l.RecordedAt, &l.Stream, &l.Type, &l.ActorID, &l.ActorRole,
		&l.StudentIDs, &l.SchoolID, &l.Outcome)
	l.Position, l.RecordedAt = uint64(position), l.RecordedAt.UTC()
	return l, err
}
