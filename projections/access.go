package projections

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// AccessTable is the access read model: one row per student per read of
// health information, and per refused attempt, for compliance officers.
const AccessTable = "readmodel.access_log"

// The SQL of the access read model; %[1]s is the table suffix.
const (
	accessSchema = `
		CREATE TABLE readmodel.access_log%[1]s (
			access_id   text        NOT NULL,
			student_id  text        NOT NULL,
			actor_id    text        NOT NULL,
			actor_role  text        NOT NULL,
			what        text        NOT NULL,
			purpose     text        NOT NULL,
			outcome     text        NOT NULL,
			break_glass boolean     NOT NULL,
			grant_id    text        NOT NULL,
			at          timestamptz NOT NULL,
			position    bigint      NOT NULL,
			CONSTRAINT access_log%[1]s_pkey PRIMARY KEY (access_id, student_id)
		);
		CREATE INDEX access_log%[1]s_student_idx
			ON readmodel.access_log%[1]s (student_id, position DESC)`

	insertAccessSQL = `
		INSERT INTO readmodel.access_log%[1]s (access_id, student_id, actor_id, actor_role,
			what, purpose, outcome, break_glass, grant_id, at, position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT DO NOTHING`

	accessOfStudentSQL = `
		SELECT access_id, actor_id, actor_role, what, purpose, outcome, break_glass,
			grant_id, at, position
		FROM readmodel.access_log
		WHERE student_id = $1 AND position < $2
		ORDER BY position DESC
		LIMIT $3`
)

// Access projects access events into AccessTable.
type Access struct{}

var _ Selective = Access{}

// Name returns "access".
func (Access) Name() string { return "access" }

// Tables returns AccessTable.
func (Access) Tables() []string { return []string{AccessTable} }

// Schema returns the statements that create AccessTable with suffix.
func (Access) Schema(suffix string) string { return fmt.Sprintf(accessSchema, suffix) }

// Selects reports whether e is an access event.
func (Access) Selects(e eventstore.Event) bool {
	return e.Type == (domain.PHIAccessed{}).EventType() || e.Type == (domain.PHIAccessRefused{}).EventType()
}

// Apply applies PHIAccessed (a row per student read) and
// PHIAccessRefused, and ignores every other event.
func (a Access) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !a.Selects(e) || e.Data == nil {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	insert := fmt.Sprintf(insertAccessSQL, suffix)
	pos := int64(e.Position)
	switch d := decoded.(type) {
	case domain.PHIAccessed:
		for _, student := range d.StudentIDs {
			_, err := tx.Exec(ctx, insert, d.AccessID, student, d.ActorID, string(d.ActorRole), d.What,
				d.Purpose, "read", d.BreakGlass, d.GrantID, d.At, pos)
			if err != nil {
				return err
			}
		}
	case domain.PHIAccessRefused:
		if d.StudentID == "" {
			return nil // a school's list refused: no student's chart to list it under
		}
		_, err := tx.Exec(ctx, insert, d.AccessID, d.StudentID, d.ActorID, string(d.ActorRole), d.What,
			"", "refused", false, "", d.At, pos)
		return err
	}
	return nil
}

// AccessRow is one read of a student's chart, or one refused attempt.
type AccessRow struct {
	AccessID   string    `json:"access_id"`
	ActorID    string    `json:"actor_id"`
	ActorRole  string    `json:"actor_role"`
	What       string    `json:"what"`
	Purpose    string    `json:"purpose,omitempty"`
	Outcome    string    `json:"outcome"` // read or refused
	BreakGlass bool      `json:"break_glass"`
	GrantID    string    `json:"grant_id,omitempty"`
	At         time.Time `json:"at"`
	Position   uint64    `json:"position"`
}

// AccessOf lists who read student's chart, newest first, limit rows from
// the cursor after (empty for the first page); next is the cursor of the
// following page, empty when there is none.
func AccessOf(ctx context.Context, q Querier, student, after string, limit int) ([]AccessRow, string, error) {
	before := int64(1<<63 - 1)
	if after != "" {
		p, err := strconv.ParseInt(after, 10, 64)
		if err != nil || p <= 0 {
			return nil, "", fmt.Errorf("access of %s: %w", student, ErrInvalidCursor)
		}
		before = p
	}
	limit = pageSize(limit)
	rows, _ := q.Query(ctx, accessOfStudentSQL, student, before, limit+1)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccessRow, error) {
		var a AccessRow
		var pos int64
		err := r.Scan(&a.AccessID, &a.ActorID, &a.ActorRole, &a.What, &a.Purpose, &a.Outcome,
			&a.BreakGlass, &a.GrantID, &a.At, &pos)
		a.Position = uint64(pos)
		return a, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("access of %s: %w", student, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.FormatUint(out[limit-1].Position, 10)
	}
	return out, next, nil
}
