package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// BreakGlassTable is the break-glass read model: one row per
// emergency-access grant, open or past, for the scope of a chart read
// and for review.
const BreakGlassTable = "readmodel.break_glass_grants"

// The SQL of the break-glass read model; %[1]s is the table suffix.
const (
	breakGlassSchema = `
		CREATE TABLE readmodel.break_glass_grants%[1]s (
			grant_id         text        NOT NULL,
			actor_id         text        NOT NULL,
			student_id       text        NOT NULL,
			reason_code      text        NOT NULL,
			reason           text        NOT NULL,
			opened_at        timestamptz NOT NULL,
			expires_at       timestamptz NOT NULL,
			closed_at        timestamptz,
			closed_by        text        NOT NULL,
			position         bigint      NOT NULL,
			updated_position bigint      NOT NULL,
			CONSTRAINT break_glass_grants%[1]s_pkey PRIMARY KEY (grant_id)
		);
		CREATE UNIQUE INDEX break_glass_grants%[1]s_position_idx
			ON readmodel.break_glass_grants%[1]s (position);
		CREATE INDEX break_glass_grants%[1]s_actor_student_idx
			ON readmodel.break_glass_grants%[1]s (actor_id, student_id, expires_at);
		CREATE INDEX break_glass_grants%[1]s_student_idx
			ON readmodel.break_glass_grants%[1]s (student_id, position)`

	openGrantSQL = `
		INSERT INTO readmodel.break_glass_grants%[1]s (grant_id, actor_id, student_id,
			reason_code, reason, opened_at, expires_at, closed_by, position,
			updated_position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $8)
		ON CONFLICT (grant_id) DO NOTHING`

	// Only the first closing counts, as the aggregate has it.
	closeGrantSQL = `
		UPDATE readmodel.break_glass_grants%[1]s
		SET closed_at = $2, closed_by = $3, updated_position = $4
		WHERE grant_id = $1 AND closed_at IS NULL`

	// activeGrantSQL finds the newest grant of $1 on $2 that gives access
	// at $3, as domain.BreakGlassGrant.ActiveAt decides.
	activeGrantSQL = `
		SELECT grant_id FROM readmodel.break_glass_grants
		WHERE actor_id = $1 AND student_id = $2
			AND opened_at <= $3 AND expires_at > $3
			AND (closed_at IS NULL OR closed_at > $3)
		ORDER BY position DESC
		LIMIT 1`

	// listGrantsSQL returns a page of grants, newest first, before the
	// position $5; $4 keeps those active at $6.
	listGrantsSQL = `
		SELECT grant_id, actor_id, student_id, reason_code, reason, opened_at,
			expires_at, closed_at, closed_by, position
		FROM readmodel.break_glass_grants
		WHERE ($1::text = '' OR actor_id = $1)
			AND ($2::text = '' OR student_id = $2)
			AND (NOT $3 OR (opened_at <= $4 AND expires_at > $4
				AND (closed_at IS NULL OR closed_at > $4)))
			AND position < $5
		ORDER BY position DESC
		LIMIT $6`
)

// BreakGlass projects break-glass streams into BreakGlassTable.
type BreakGlass struct{}

var _ Selective = BreakGlass{}

// Name returns "breakglass".
func (BreakGlass) Name() string { return "breakglass" }

// Tables returns BreakGlassTable.
func (BreakGlass) Tables() []string { return []string{BreakGlassTable} }

// Schema returns the statements that create BreakGlassTable with suffix.
func (BreakGlass) Schema(suffix string) string { return fmt.Sprintf(breakGlassSchema, suffix) }

// Selects reports whether e opens or closes a grant.
func (BreakGlass) Selects(e eventstore.Event) bool {
	return (e.Type == (domain.BreakGlassOpened{}).EventType() || e.Type == (domain.BreakGlassClosed{}).EventType()) &&
		strings.HasPrefix(e.Stream, domain.BreakGlassStream(""))
}

// Apply applies BreakGlassOpened and BreakGlassClosed, and ignores every
// other event, as well as one whose payload has been destroyed.
func (b BreakGlass) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !b.Selects(e) || e.Data == nil {
		return nil
	}
	grantID := strings.TrimPrefix(e.Stream, domain.BreakGlassStream(""))
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}

	pos := int64(e.Position)
	switch d := decoded.(type) {
	case domain.BreakGlassOpened:
		_, err = tx.Exec(ctx, fmt.Sprintf(openGrantSQL, suffix), d.GrantID, d.UserID,
			d.StudentID, string(d.ReasonCode), d.Reason, d.OpenedAt, d.ExpiresAt, pos)
	case domain.BreakGlassClosed:
		_, err = tx.Exec(ctx, fmt.Sprintf(closeGrantSQL, suffix), grantID, d.At, d.By, pos)
	}
	return err
}

// GrantRow is a row of BreakGlassTable: one grant.
type GrantRow struct {
	GrantID    string
	ActorID    string
	StudentID  string
	ReasonCode domain.BreakGlassReason
	Reason     string
	OpenedAt   time.Time
	ExpiresAt  time.Time
	// ClosedAt is zero while the grant was not closed.
	ClosedAt time.Time
	ClosedBy string
	// Position is the log position of the grant's opening.
	Position uint64
}

// ActiveAt reports whether g gives access at t, as
// domain.BreakGlassGrant.ActiveAt does.
func (g GrantRow) ActiveAt(t time.Time) bool {
	if t.Before(g.OpenedAt) || !t.Before(g.ExpiresAt) {
		return false
	}
	return g.ClosedAt.IsZero() || t.Before(g.ClosedAt)
}

// ActiveGrant returns the ID of the newest grant that gives actorID
// access to studentID at t, and false when none does.
func ActiveGrant(ctx context.Context, q Querier, actorID, studentID string, t time.Time) (string, bool, error) {
	rows, _ := q.Query(ctx, activeGrantSQL, actorID, studentID, t)
	id, err := pgx.CollectOneRow(rows, pgx.RowTo[string])
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("active grant: %w", err)
	}
	return id, true, nil
}

// GrantFilter selects grants for Grants.
type GrantFilter struct {
	// ActorID and StudentID, when set, keep the grants of that user, and
	// of that student.
	ActorID   string
	StudentID string
	// Open keeps the grants active at At.
	Open bool
	At   time.Time
	// After is the cursor Grants returned with the previous page; empty
	// for the first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// Grants returns a page of the grants f selects, newest first, and the
// cursor of the next page, empty when this page is the last. The cursor
// is a log position, never a name or a reason.
func Grants(ctx context.Context, q Querier, f GrantFilter) ([]GrantRow, string, error) {
	before := int64(1<<63 - 1)
	if f.After != "" {
		p, err := strconv.ParseInt(f.After, 10, 64)
		if err != nil || p <= 0 {
			return nil, "", fmt.Errorf("grants: %w", ErrInvalidCursor)
		}
		before = p
	}
	limit := pageSize(f.Limit)

	rows, _ := q.Query(ctx, listGrantsSQL, f.ActorID, f.StudentID, f.Open, f.At, before, limit+1)
	grants, err := pgx.CollectRows(rows, scanGrant)
	if err != nil {
		return nil, "", fmt.Errorf("grants: %w", err)
	}
	if len(grants) <= limit {
		return grants, "", nil
	}
	grants = grants[:limit]
	return grants, strconv.FormatUint(grants[limit-1].Position, 10), nil
}

func scanGrant(row pgx.CollectableRow) (GrantRow, error) {
	var g GrantRow
	var closedAt *time.Time
	var position int64
	err := row.Scan(&g.GrantID, &g.ActorID, &g.StudentID, &g.ReasonCode, &g.Reason,
		&g.OpenedAt, &g.ExpiresAt, &closedAt, &g.ClosedBy, &position)
	if closedAt != nil {
		g.ClosedAt = closedAt.UTC()
	}
	g.OpenedAt, g.ExpiresAt = g.OpenedAt.UTC(), g.ExpiresAt.UTC()
	g.Position = uint64(position)
	return g, err
}
