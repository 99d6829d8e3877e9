package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the medications read model.
const (
	// MedicationStudentsTable holds the school of every student, as the
	// medications projection follows it, so that the model needs no
	// other projection's tables.
	MedicationStudentsTable = "readmodel.medication_students"
	// MedicationOrdersTable holds one row per medication order.
	MedicationOrdersTable = "readmodel.medication_orders"
	// MedicationDosesTable holds one row per administration record: a
	// dose given, an attempt blocked, a dose refused, missed or held.
	MedicationDosesTable = "readmodel.medication_doses"
)

// The SQL of the medications read model; %[1]s is the table suffix. A
// school_id is null while the student's enrolment is unknown (its
// payload destroyed).
const (
	medicationsSchema = `
		CREATE TABLE readmodel.medication_students%[1]s (
			student_id   uuid   NOT NULL,
			school_id    uuid,
			withdrawn_on date,
			position     bigint NOT NULL,
			CONSTRAINT medication_students%[1]s_pkey PRIMARY KEY (student_id)
		);
		CREATE TABLE readmodel.medication_orders%[1]s (
			student_id               uuid        NOT NULL,
			school_id                uuid,
			order_id                 uuid        NOT NULL,
			drug_name                text        NOT NULL,
			strength                 text        NOT NULL,
			dose_amount              text        NOT NULL,
			dose_unit                text        NOT NULL,
			route                    text        NOT NULL,
			schedule_kind            text        NOT NULL,
			schedule_times           text[]      NOT NULL,
			time_zone                text        NOT NULL,
			prn_min_interval_minutes integer     NOT NULL,
			prn_max_per_day          integer     NOT NULL,
			start_on                 date        NOT NULL,
			end_on                   date        NOT NULL,
			controlled_schedule      text        NOT NULL,
			witness_required         boolean     NOT NULL,
			time_critical            boolean     NOT NULL,
			discontinued_at          timestamptz,
			ordered_position         bigint      NOT NULL,
			position                 bigint      NOT NULL,
			CONSTRAINT medication_orders%[1]s_pkey PRIMARY KEY (student_id, order_id)
		);
		CREATE INDEX medication_orders%[1]s_school_idx
			ON readmodel.medication_orders%[1]s (school_id, start_on, end_on);
		CREATE INDEX medication_orders%[1]s_student_idx
			ON readmodel.medication_orders%[1]s (student_id, ordered_position DESC);
		CREATE TABLE readmodel.medication_doses%[1]s (
			position      bigint      NOT NULL,
			student_id    uuid        NOT NULL,
			school_id     uuid,
			order_id      uuid        NOT NULL,
			attempt_id    uuid        NOT NULL,
			kind          text        NOT NULL,
			scheduled_for timestamptz,
			at            timestamptz NOT NULL,
			nurse_id      uuid        NOT NULL,
			witness_id    uuid,
			dose_amount   text        NOT NULL,
			dose_unit     text        NOT NULL,
			route         text        NOT NULL,
			failed_checks text[]      NOT NULL,
			reason        text        NOT NULL,
			CONSTRAINT medication_doses%[1]s_pkey PRIMARY KEY (position)
		);
		CREATE INDEX medication_doses%[1]s_student_idx
			ON readmodel.medication_doses%[1]s (student_id, at DESC, position DESC);
		CREATE INDEX medication_doses%[1]s_school_idx
			ON readmodel.medication_doses%[1]s (school_id, (coalesce(scheduled_for, at)))`

	medicationEnrolSQL = `
		INSERT INTO readmodel.medication_students%[1]s AS s (student_id, school_id, position)
		VALUES ($1, $2, $3)
		ON CONFLICT (student_id) DO UPDATE
		SET school_id = excluded.school_id, position = excluded.position
		WHERE s.position < excluded.position`

	// A transfer moves the student's orders and doses with the student.
	medicationTransferSQL = `
		WITH moved AS (
			INSERT INTO readmodel.medication_students%[1]s AS s (student_id, school_id, position)
			VALUES ($1, $2, $3)
			ON CONFLICT (student_id) DO UPDATE
			SET school_id = excluded.school_id, position = excluded.position
			WHERE s.position < excluded.position
		), orders AS (
			UPDATE readmodel.medication_orders%[1]s SET school_id = $2 WHERE student_id = $1
		)
		UPDATE readmodel.medication_doses%[1]s SET school_id = $2 WHERE student_id = $1`

	medicationWithdrawSQL = `
		UPDATE readmodel.medication_students%[1]s
		SET withdrawn_on = $2::text::date, position = $3
		WHERE student_id = $1 AND position < $3`

	medicationOrderSQL = `
		INSERT INTO readmodel.medication_orders%[1]s (student_id, school_id, order_id,
			drug_name, strength, dose_amount, dose_unit, route, schedule_kind,
			schedule_times, time_zone, prn_min_interval_minutes, prn_max_per_day,
			start_on, end_on, controlled_schedule, witness_required, time_critical,
			ordered_position, position)
		VALUES ($1, (SELECT school_id FROM readmodel.medication_students%[1]s
				WHERE student_id = $1),
			$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
			$13::text::date, $14::text::date, $15, $16, $17, $18, $18)
		ON CONFLICT (student_id, order_id) DO NOTHING`

	medicationDiscontinueSQL = `
		UPDATE readmodel.medication_orders%[1]s
		SET discontinued_at = $3, position = $4
		WHERE student_id = $1 AND order_id = $2 AND position < $4`

	medicationDoseSQL = `
		INSERT INTO readmodel.medication_doses%[1]s (position, student_id, school_id,
			order_id, attempt_id, kind, scheduled_for, at, nurse_id, witness_id,
			dose_amount, dose_unit, route, failed_checks, reason)
		VALUES ($1, $2, (SELECT school_id FROM readmodel.medication_students%[1]s
				WHERE student_id = $2),
			$3, $4, $5, $6, $7, $8, nullif($9, '')::uuid, $10, $11, $12, $13, $14)
		ON CONFLICT (position) DO NOTHING`
)

// Medications projects the medication part of student streams into
// MedicationOrdersTable and MedicationDosesTable, and follows each
// student's school in MedicationStudentsTable.
type Medications struct{}

var _ Selective = Medications{}

// Name returns "medications".
func (Medications) Name() string { return "medications" }

// Tables returns the tables of the medications read model.
func (Medications) Tables() []string {
	return []string{MedicationStudentsTable, MedicationOrdersTable, MedicationDosesTable}
}

// Schema returns the statements that create the tables with suffix.
func (Medications) Schema(suffix string) string {
	return fmt.Sprintf(medicationsSchema, suffix)
}

// medicationEvents are the events Medications applies.
var medicationEvents = eventTypes(
	domain.StudentEnrolled{},
	domain.StudentTransferred{},
	domain.StudentWithdrawn{},
	domain.MedicationOrdered{},
	domain.OrderDiscontinued{},
	domain.MedicationAdministered{},
	domain.MedicationAdministrationBlocked{},
	domain.MedicationRefused{},
	domain.MedicationMissed{},
	domain.MedicationHeld{},
)

// Selects reports whether e is one of the student events Apply applies.
func (Medications) Selects(e eventstore.Event) bool {
	return medicationEvents[e.Type] && strings.HasPrefix(e.Stream, domain.StudentStream(""))
}

// Apply applies enrolments, transfers and withdrawals, orders and their
// discontinuation, and every administration record, each to the student
// whose stream holds it. It ignores every other event, and an event whose
// payload has been destroyed. Each statement is guarded by the position,
// so that an event applied twice changes nothing the second time.
func (Medications) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	studentID, ok := strings.CutPrefix(e.Stream, domain.StudentStream(""))
	if !ok || e.Data == nil || !medicationEvents[e.Type] {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}

	sql, args := medicationStatement(decoded, studentID, int64(e.Position))
	if sql == "" {
		return nil
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(sql, suffix), args...)
	return err
}

// medicationStatement returns the statement that applies e, at position
// pos of studentID's stream, and its arguments.
func medicationStatement(e domain.Event, studentID string, pos int64) (string, []any) {
	switch d := e.(type) {
	case domain.StudentEnrolled:
		return medicationEnrolSQL, []any{studentID, d.SchoolID, pos}
	case domain.StudentTransferred:
		return medicationTransferSQL, []any{studentID, d.ToSchoolID, pos}
	case domain.StudentWithdrawn:
		return medicationWithdrawSQL, []any{studentID, string(d.On), pos}
	case domain.MedicationOrdered:
		return medicationOrderSQL, orderArgs(d, studentID, pos)
	case domain.OrderDiscontinued:
		return medicationDiscontinueSQL, []any{studentID, d.OrderID, d.At, pos}
	}
	if r, ok := doseRecordOf(e); ok {
		return medicationDoseSQL, []any{pos, studentID, r.OrderID, r.AttemptID, string(r.Kind),
			nullTime(r.ScheduledFor), r.At, r.NurseID, r.WitnessID, r.DoseAmount, r.DoseUnit,
			r.Route, failedNames(r.Failed), r.Reason}
	}
	return "", nil
}

func orderArgs(d domain.MedicationOrdered, studentID string, pos int64) []any {
	s := d.Schedule
	times := s.Times
	if times == nil {
		times = []string{}
	}
	return []any{studentID, d.OrderID, d.DrugName, d.Strength, d.DoseAmount, d.DoseUnit,
		d.Route, string(s.Kind), times, s.TimeZone, s.MinIntervalMinutes, s.MaxPerDay,
		d.StartOn, d.EndOn, d.ControlledSchedule, d.WitnessRequired, d.TimeCritical, pos}
}

// doseRecordOf returns the administration record e makes, as the chart
// holds it (domain.Administration), and false when e is none.
func doseRecordOf(e domain.Event) (domain.Administration, bool) {
	switch d := e.(type) {
	case domain.MedicationAdministered:
		return domain.Administration{Kind: domain.AdministrationGiven,
			AttemptID: d.AttemptID, OrderID: d.OrderID, ScheduledFor: d.ScheduledFor,
			At: d.GivenAt, NurseID: d.NurseID, WitnessID: d.WitnessID,
			DoseAmount: d.DoseAmount, DoseUnit: d.DoseUnit, Route: d.Route}, true
	case domain.MedicationAdministrationBlocked:
		return domain.Administration{Kind: domain.AdministrationBlocked,
			AttemptID: d.AttemptID, OrderID: d.OrderID, ScheduledFor: d.ScheduledFor,
			At: d.AttemptedAt, NurseID: d.NurseID, WitnessID: d.WitnessID,
			DoseAmount: d.DoseAmount, DoseUnit: d.DoseUnit, Route: d.Route,
			Failed: d.Failed}, true
	case domain.MedicationRefused:
		return notGiven(domain.AdministrationRefused, d.AttemptID, d.OrderID,
			d.ScheduledFor, d.At, d.NurseID, d.Reason), true
	case domain.MedicationMissed:
		return notGiven(domain.AdministrationMissed, d.AttemptID, d.OrderID,
			d.ScheduledFor, d.At, d.NurseID, d.Reason), true
	case domain.MedicationHeld:
		return notGiven(domain.AdministrationHeld, d.AttemptID, d.OrderID,
			d.ScheduledFor, d.At, d.NurseID, d.ClinicalReason), true
	}
	return domain.Administration{}, false
}

// notGiven returns the record of a dose refused, missed or held.
func notGiven(
	kind domain.AdministrationKind,
	attemptID, orderID string,
	scheduledFor, at time.Time,
	nurseID, reason string,
) domain.Administration {
	return domain.Administration{Kind: kind, AttemptID: attemptID, OrderID: orderID,
		ScheduledFor: scheduledFor, At: at, NurseID: nurseID, Reason: reason}
}

// failedNames returns the names of the failed checks, each once, in order.
func failedNames(failed []domain.FailedCheck) []string {
	names := []string{}
	for _, f := range failed {
		if !slices.Contains(names, f.Check) {
			names = append(names, f.Check)
		}
	}
	return names
}

// nullTime returns t, or nil for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
