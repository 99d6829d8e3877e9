package projections

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
)

// OrderRow is one medication order of a student.
type OrderRow struct {
	OrderID    string `json:"order_id"`
	SchoolID   string `json:"school_id,omitempty"`
	DrugName   string `json:"drug_name"`
	Strength   string `json:"strength"`
	DoseAmount string `json:"dose_amount"`
	DoseUnit   string `json:"dose_unit"`
	Route      string `json:"route"`
	// ScheduleKind is fixed or prn (as needed).
	ScheduleKind string `json:"schedule_kind"`
	// Times are the fixed times of day, "08:00", in TimeZone.
	Times    []string `json:"times"`
	TimeZone string   `json:"time_zone"`
	// MinIntervalMinutes and MaxPerDay are those of an as-needed order;
	// zero for a fixed one.
	MinIntervalMinutes int    `json:"min_interval_minutes,omitempty"`
	MaxPerDay          int    `json:"max_per_day,omitempty"`
	StartOn            string `json:"start_on"`
	EndOn              string `json:"end_on"`
	ControlledSchedule string `json:"controlled_schedule,omitempty"`
	WitnessRequired    bool   `json:"witness_required"`
	TimeCritical       bool   `json:"time_critical"`
	// DiscontinuedAt is nil while the order was not discontinued.
	DiscontinuedAt *time.Time `json:"discontinued_at,omitempty"`
	// Position is the log position of the order.
	Position uint64 `json:"position"`
}

const ordersOfStudentSQL = `
	SELECT order_id::text, coalesce(school_id::text, ''), drug_name, strength,
		dose_amount, dose_unit, route, schedule_kind, schedule_times, time_zone,
		prn_min_interval_minutes, prn_max_per_day, start_on::text, end_on::text,
		controlled_schedule, witness_required, time_critical, discontinued_at,
		ordered_position
	FROM readmodel.medication_orders
	WHERE student_id = $1 AND ordered_position < $2
	ORDER BY ordered_position DESC
	LIMIT $3`

// OrdersOf returns a page of student's orders, the newest first, after
// cursor (empty for the first page), and the cursor of the next page,
// empty when this page is the last. limit is bounded as pageSize says. A
// cursor no page returned is ErrInvalidCursor.
func OrdersOf(
	ctx context.Context,
	q Querier,
	student, cursor string,
	limit int,
) ([]OrderRow, string, error) {
	before, err := decodePositionCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", student, err)
	}
	limit = pageSize(limit)
	rows, _ := q.Query(ctx, ordersOfStudentSQL, student, before, limit+1)
	orders, err := pgx.CollectRows(rows, scanOrder)
	if err != nil {
		return nil, "", fmt.Errorf("orders of %s: %w", student, err)
	}
	orders, next := pageOf(orders, limit, func(o OrderRow) uint64 { return o.Position })
	return orders, next, nil
}

func scanOrder(row pgx.CollectableRow) (OrderRow, error) {
	var o OrderRow
	var pos int64
	err := row.Scan(&o.OrderID, &o.SchoolID, &o.DrugName, &o.Strength, &o.DoseAmount,
		&o.DoseUnit, &o.Route, &o.ScheduleKind, &o.Times, &o.TimeZone,
		&o.MinIntervalMinutes, &o.MaxPerDay, &o.StartOn, &o.EndOn, &o.ControlledSchedule,
		&o.WitnessRequired, &o.TimeCritical, &o.DiscontinuedAt, &pos)
	o.Position = uint64(pos)
	return o, err
}

// DoseRow is one administration record of a student: a dose given, an
// attempt blocked, or a dose refused, missed or held.
type DoseRow struct {
	AttemptID string `json:"attempt_id"`
	OrderID   string `json:"order_id"`
	// Kind is given, blocked, refused, missed or held.
	Kind string `json:"kind"`
	// ScheduledFor is the scheduled dose; nil for an as-needed one.
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
	// At is when the dose was given, the attempt blocked, or the dose
	// refused, missed or held.
	At         time.Time `json:"at"`
	NurseID    string    `json:"nurse_id"`
	WitnessID  string    `json:"witness_id,omitempty"`
	DoseAmount string    `json:"dose_amount,omitempty"`
	DoseUnit   string    `json:"dose_unit,omitempty"`
	Route      string    `json:"route,omitempty"`
	// FailedChecks name every check a blocked attempt failed.
	FailedChecks []string `json:"failed_checks,omitempty"`
	// Reason is why a dose was refused or missed, or the clinical reason
	// it was held.
	Reason   string `json:"reason,omitempty"`
	Position uint64 `json:"position"`
}

// DoseFilter selects a student's administration records for
// AdministrationsOf.
type DoseFilter struct {
	StudentID string
	// OrderID, when set, keeps the records of that order.
	OrderID string
	// Kind, when set, keeps the records of that kind.
	Kind domain.AdministrationKind
	// From and To, when set, keep the records at or after From and
	// before To.
	From, To time.Time
	// After is the cursor of the page; empty for the first.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// administrationsOfSQL returns a page of a student's records, newest
// first by the time of the record and then by position, after the record
// at position $6 when it is set. The cursor holds a position only.
const administrationsOfSQL = `
	SELECT d.position, d.order_id::text, d.attempt_id::text, d.kind, d.scheduled_for,
		d.at, d.nurse_id::text, coalesce(d.witness_id::text, ''), d.dose_amount,
		d.dose_unit, d.route, d.failed_checks, d.reason
	FROM readmodel.medication_doses d
	WHERE d.student_id = $1
		AND ($2::uuid IS NULL OR d.order_id = $2::uuid)
		AND ($3::text = '' OR d.kind = $3)
		AND ($4::timestamptz IS NULL OR d.at >= $4)
		AND ($5::timestamptz IS NULL OR d.at < $5)
		AND ($6::bigint IS NULL OR (d.at, d.position) < (
			SELECT c.at, c.position FROM readmodel.medication_doses c
			WHERE c.position = $6 AND c.student_id = $1))
	ORDER BY d.at DESC, d.position DESC
	LIMIT $7`

// AdministrationsOf returns a page of the records f selects, the newest
// first, and the cursor of the next page, empty when this page is the
// last. A cursor no page returned is ErrInvalidCursor; one whose record
// is gone gives an empty page.
func AdministrationsOf(ctx context.Context, q Querier, f DoseFilter) ([]DoseRow, string, error) {
	var after any
	if f.After != "" {
		p, err := decodePositionCursor(f.After)
		if err != nil {
			return nil, "", fmt.Errorf("administrations of %s: %w", f.StudentID, err)
		}
		after = p
	}
	var order any
	if f.OrderID != "" {
		order = f.OrderID
	}
	limit := pageSize(f.Limit)
	rows, _ := q.Query(ctx, administrationsOfSQL, f.StudentID, order, string(f.Kind),
		nullTime(f.From), nullTime(f.To), after, limit+1)
	records, err := pgx.CollectRows(rows, scanDose)
	if err != nil {
		return nil, "", fmt.Errorf("administrations of %s: %w", f.StudentID, err)
	}
	records, next := pageOf(records, limit, func(d DoseRow) uint64 { return d.Position })
	return records, next, nil
}

func scanDose(row pgx.CollectableRow) (DoseRow, error) {
	var d DoseRow
	var pos int64
	err := row.Scan(&pos, &d.OrderID, &d.AttemptID, &d.Kind, &d.ScheduledFor, &d.At,
		&d.NurseID, &d.WitnessID, &d.DoseAmount, &d.DoseUnit, &d.Route, &d.FailedChecks,
		&d.Reason)
	d.Position = uint64(pos)
	return d, err
}

// pageSize returns limit bounded to 1 to 500; zero or less means 50.
func pageSize(limit int) int {
	if limit <= 0 {
		return 50
	}
	return min(limit, 500)
}

// pageOf returns the first limit rows, of the limit+1 a query asked for,
// and the cursor of the next page: the position of the last row, or
// empty when no row was left over.
func pageOf[T any](rows []T, limit int, position func(T) uint64) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodePositionCursor(position(rows[limit-1]))
}

// encodePositionCursor returns the cursor of the page after the row at
// position.
func encodePositionCursor(position uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(position, 10)))
}

// decodePositionCursor returns the position in cursor; the highest
// position for an empty cursor.
func decodePositionCursor(cursor string) (int64, error) {
	if cursor == "" {
		return 1<<63 - 1, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	p, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || p <= 0 {
		return 0, ErrInvalidCursor
	}
	return p, nil
}
