package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the alerts read model.
const (
	// AlertStudentsTable holds every student's school and names, as the
	// alerts projection follows them, so that the model needs no other
	// projection's tables.
	AlertStudentsTable = "readmodel.alert_students"
	// AlertsTable holds one row per emergency alert.
	AlertsTable = "readmodel.alerts"
)

// The states of an alert.
const (
	// AlertStateRaised: nobody has responded yet.
	AlertStateRaised = "raised"
	// AlertStateAcknowledged: someone responds.
	AlertStateAcknowledged = "acknowledged"
	// AlertStateResolved: the alert has ended.
	AlertStateResolved = "resolved"
)

// The SQL of the alerts read model; %[1]s is the table suffix. An
// alert's school is the school its student is at, in this model, and
// follows a transfer; while the enrolment is unknown (its payload
// destroyed) it is the school the event's metadata names.
const (
	alertsSchema = `
		CREATE TABLE readmodel.alert_students%[1]s (
			student_id  text   NOT NULL,
			school_id   text   NOT NULL,
			given_name  text   NOT NULL,
			family_name text   NOT NULL,
			position    bigint NOT NULL,
			CONSTRAINT alert_students%[1]s_pkey PRIMARY KEY (student_id)
		);
		CREATE TABLE readmodel.alerts%[1]s (
			student_id      text        NOT NULL,
			alert_id        text        NOT NULL,
			school_id       text        NOT NULL,
			kind            text        NOT NULL,
			location        text        NOT NULL,
			raised_at       timestamptz NOT NULL,
			raised_by       text        NOT NULL,
			acknowledged_at timestamptz,
			acknowledged_by text        NOT NULL,
			resolved_at     timestamptz,
			resolved_by     text        NOT NULL,
			outcome         text        NOT NULL,
			position        bigint      NOT NULL,
			updated_position bigint     NOT NULL,
			CONSTRAINT alerts%[1]s_pkey PRIMARY KEY (student_id, alert_id)
		);
		CREATE UNIQUE INDEX alerts%[1]s_position_idx
			ON readmodel.alerts%[1]s (position);
		CREATE INDEX alerts%[1]s_school_idx
			ON readmodel.alerts%[1]s (school_id, position DESC)`

	alertEnrolSQL = `
		INSERT INTO readmodel.alert_students%[1]s AS s (student_id, school_id,
			given_name, family_name, position)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (student_id) DO NOTHING`

	// An empty name of DemographicsUpdated is unchanged.
	alertRenameSQL = `
		UPDATE readmodel.alert_students%[1]s SET
			given_name = coalesce(nullif($2, ''), given_name),
			family_name = coalesce(nullif($3, ''), family_name),
			position = $4
		WHERE student_id = $1 AND position < $4`

	// A transfer moves the student's alerts with the student.
	alertTransferSQL = `
		WITH moved AS (
			UPDATE readmodel.alert_students%[1]s SET school_id = $2, position = $3
			WHERE student_id = $1 AND position < $3
		)
		UPDATE readmodel.alerts%[1]s SET school_id = $2, updated_position = $3
		WHERE student_id = $1 AND updated_position < $3`

	alertRaisedSQL = `
		INSERT INTO readmodel.alerts%[1]s (student_id, alert_id, school_id, kind,
			location, raised_at, raised_by, acknowledged_by, resolved_by, outcome,
			position, updated_position)
		VALUES ($1, $2, coalesce((SELECT school_id FROM readmodel.alert_students%[1]s
				WHERE student_id = $1), $3),
			$4, $5, $6, $7, '', '', '', $8, $8)
		ON CONFLICT (student_id, alert_id) DO NOTHING`

	// Only the first acknowledgement counts, as the aggregate has it.
	alertAcknowledgedSQL = `
		UPDATE readmodel.alerts%[1]s
		SET acknowledged_at = $3, acknowledged_by = $4, updated_position = $5
		WHERE student_id = $1 AND alert_id = $2 AND acknowledged_at IS NULL
			AND updated_position < $5`

	alertResolvedSQL = `
		UPDATE readmodel.alerts%[1]s
		SET resolved_at = $3, resolved_by = $4, outcome = $5, updated_position = $6
		WHERE student_id = $1 AND alert_id = $2 AND resolved_at IS NULL
			AND updated_position < $6`
)

// Alerts projects the emergency alerts of student streams into
// AlertsTable, and follows each student's school and names in
// AlertStudentsTable.
type Alerts struct{}

var _ Selective = Alerts{}

// Name returns "alerts".
func (Alerts) Name() string { return "alerts" }

// Tables returns the tables of the alerts read model.
func (Alerts) Tables() []string { return []string{AlertStudentsTable, AlertsTable} }

// Schema returns the statements that create the tables with suffix.
func (Alerts) Schema(suffix string) string { return fmt.Sprintf(alertsSchema, suffix) }

// alertEvents are the events Alerts applies.
var alertEvents = eventTypes(
	domain.StudentEnrolled{},
	domain.DemographicsUpdated{},
	domain.StudentTransferred{},
	domain.AlertRaised{},
	domain.AlertAcknowledged{},
	domain.AlertResolved{},
)

// Selects reports whether e is one of the student events Apply applies.
func (Alerts) Selects(e eventstore.Event) bool {
	return alertEvents[e.Type] && strings.HasPrefix(e.Stream, domain.StudentStream(""))
}

// Apply applies enrolments, changes of name, transfers, and the raising,
// acknowledgement and resolution of alerts, each to the student whose
// stream holds it. It ignores every other event, and an event whose
// payload has been destroyed. Each change is guarded by the position, so
// that an event applied twice changes nothing the second time.
func (a Alerts) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !a.Selects(e) || e.Data == nil {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	var meta eventstore.Metadata
	if decoded.EventType() == (domain.AlertRaised{}).EventType() {
		if meta, err = e.DecodeMetadata(); err != nil {
			return err
		}
	}

	student := strings.TrimPrefix(e.Stream, domain.StudentStream(""))
	sql, args := alertStatement(decoded, student, meta.SchoolID, int64(e.Position))
	if sql == "" {
		return nil
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(sql, suffix), args...)
	return err
}

// alertStatement returns the statement that applies e, at position pos
// of student's stream whose metadata names school, and its arguments.
func alertStatement(e domain.Event, student, school string, pos int64) (string, []any) {
	switch d := e.(type) {
	case domain.StudentEnrolled:
		return alertEnrolSQL, []any{student, d.SchoolID, d.GivenName, d.FamilyName, pos}
	case domain.DemographicsUpdated:
		return alertRenameSQL, []any{student, d.GivenName, d.FamilyName, pos}
	case domain.StudentTransferred:
		return alertTransferSQL, []any{student, d.ToSchoolID, pos}
	case domain.AlertRaised:
		return alertRaisedSQL, []any{student, d.AlertID, school, string(d.Kind), d.Location,
			d.RaisedAt, d.RaisedBy, pos}
	case domain.AlertAcknowledged:
		return alertAcknowledgedSQL, []any{student, d.AlertID, d.At, d.By, pos}
	case domain.AlertResolved:
		return alertResolvedSQL, []any{student, d.AlertID, d.At, d.By, d.Outcome, pos}
	}
	return "", nil
}

// AlertRow is one alert, as GET /v1/schools/{id}/alerts lists it.
type AlertRow struct {
	ID         string `json:"id"`
	StudentID  string `json:"student_id"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	SchoolID   string `json:"school_id"`
	Kind       string `json:"kind"`
	Location   string `json:"location"`
	// State is raised, acknowledged or resolved.
	State          string    `json:"state"`
	RaisedAt       time.Time `json:"raised_at"`
	RaisedBy       string    `json:"raised_by"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ResolvedBy     string    `json:"resolved_by,omitempty"`
	Outcome        string    `json:"outcome,omitempty"`
	// Position is the log position of the alert's raising.
	Position uint64 `json:"position"`
}

// AlertFilter selects a school's alerts for AlertsOf.
type AlertFilter struct {
	SchoolID string
	// States keeps the alerts in one of them; empty keeps every alert.
	States []string
	// After is the cursor AlertsOf returned with the previous page;
	// empty for the first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// alertsOfSQL returns a page of a school's alerts in the states $2,
// newest raised first, before the position $3.
const alertsOfSQL = `
	SELECT a.alert_id, a.student_id, coalesce(s.given_name, ''),
		coalesce(s.family_name, ''), a.school_id, a.kind, a.location,
		CASE WHEN a.resolved_at IS NOT NULL THEN 'resolved'
			WHEN a.acknowledged_at IS NOT NULL THEN 'acknowledged'
			ELSE 'raised' END AS state,
		a.raised_at, a.raised_by, a.acknowledged_at, a.acknowledged_by,
		a.resolved_at, a.resolved_by, a.outcome, a.position
	FROM readmodel.alerts a
	LEFT JOIN readmodel.alert_students s ON s.student_id = a.student_id
	WHERE a.school_id = $1
		AND (cardinality($2::text[]) = 0 OR
			CASE WHEN a.resolved_at IS NOT NULL THEN 'resolved'
				WHEN a.acknowledged_at IS NOT NULL THEN 'acknowledged'
				ELSE 'raised' END = ANY($2))
		AND a.position < $3
	ORDER BY a.position DESC
	LIMIT $4`

// AlertsOf returns a page of the alerts f selects, newest raised first,
// and the cursor of the next page, empty when this page is the last. It
// returns an error wrapping ErrInvalidCursor for a cursor no page gave.
func AlertsOf(ctx context.Context, q Querier, f AlertFilter) ([]AlertRow, string, error) {
	before, err := decodePositionCursor(f.After)
	if err != nil {
		return nil, "", fmt.Errorf("alerts of %s: %w", f.SchoolID, err)
	}
	states := f.States
	if states == nil {
		states = []string{}
	}
	limit := pageSize(f.Limit)
	rows, _ := q.Query(ctx, alertsOfSQL, f.SchoolID, states, before, limit+1)
	alerts, err := pgx.CollectRows(rows, scanAlert)
	if err != nil {
		return nil, "", fmt.Errorf("alerts of %s: %w", f.SchoolID, err)
	}
	alerts, next := pageOf(alerts, limit, func(a AlertRow) uint64 { return a.Position })
	return alerts, next, nil
}

func scanAlert(row pgx.CollectableRow) (AlertRow, error) {
	var a AlertRow
	var acknowledged, resolved *time.Time
	var pos int64
	err := row.Scan(&a.ID, &a.StudentID, &a.GivenName, &a.FamilyName, &a.SchoolID, &a.Kind,
		&a.Location, &a.State, &a.RaisedAt, &a.RaisedBy, &acknowledged, &a.AcknowledgedBy,
		&resolved, &a.ResolvedBy, &a.Outcome, &pos)
	a.RaisedAt, a.Position = a.RaisedAt.UTC(), uint64(pos)
	if acknowledged != nil {
		a.AcknowledgedAt = acknowledged.UTC()
	}
	if resolved != nil {
		a.ResolvedAt = resolved.UTC()
	}
	return a, err
}
