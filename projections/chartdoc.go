package projections

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/whitecross/whitecross/domain"
)

// Chart is a student's whole chart as GET /v1/students/{id} serves it:
// the document the charts read model stores for each student. Every list
// is in the order its records were made and is [] when empty.
type Chart struct {
	ID            string `json:"id"`
	StudentNumber string `json:"student_number"`
	DistrictID    string `json:"district_id"`
	SchoolID      string `json:"school_id"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	BirthDate     string `json:"birth_date"`
	Grade         string `json:"grade"`
	Gender        string `json:"gender"`
	EnrolledOn    string `json:"enrolled_on"`
	// WithdrawnOn is the day the student left; empty while enrolled.
	WithdrawnOn string `json:"withdrawn_on,omitempty"`
	Enrolled    bool   `json:"enrolled"`
	// Contacts are in the order of their priority, then of their adding.
	Contacts []ChartContact `json:"contacts"`
	// Entries are every entry, those marked in error included.
	Entries []ChartEntry `json:"entries"`
	Orders  []ChartOrder `json:"medication_orders"`
	// Doses are every dose given, refused, missed or held, and every
	// attempt the checks blocked.
	Doses  []ChartDose  `json:"administrations"`
	Alerts []ChartAlert `json:"active_alerts"`
	// Revision is the stream revision of the last event the chart holds.
	Revision uint64 `json:"revision"`
}

// ChartContact is an emergency contact.
type ChartContact struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	Phone        string `json:"phone"`
	Priority     int    `json:"priority"`
	MayPickUp    bool   `json:"may_pick_up"`
}

// ChartEntry is one entry of a chart with its corrections applied.
type ChartEntry struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Values are the entry's fields today, every amendment applied: the
	// fields of its recording event (AllergyRecorded, VitalsRecorded, …).
	Values json.RawMessage `json:"values"`
	// RecordedValues are the fields as first recorded, when an amendment
	// changed them; an amendment never hides what it corrected.
	RecordedValues json.RawMessage `json:"recorded_values,omitempty"`
	Amendments     int             `json:"amendments"`
	// AmendmentReason is the latest amendment's reason.
	AmendmentReason string `json:"amendment_reason,omitempty"`
	// InError marks an entry recorded in error: it stays on the chart,
	// marked, with the reason.
	InError     bool   `json:"entered_in_error"`
	ErrorReason string `json:"error_reason,omitempty"`
}

// ChartOrder is a medication order.
type ChartOrder struct {
	ID                 string              `json:"id"`
	DrugName           string              `json:"drug_name"`
	Ingredients        []string            `json:"ingredients"`
	Strength           string              `json:"strength"`
	DoseAmount         string              `json:"dose_amount"`
	DoseUnit           string              `json:"dose_unit"`
	Route              string              `json:"route"`
	Schedule           domain.DoseSchedule `json:"schedule"`
	TimeCritical       bool                `json:"time_critical"`
	StartOn            string              `json:"start_on"`
	EndOn              string              `json:"end_on"`
	ControlledSchedule string              `json:"controlled_schedule,omitempty"`
	WitnessRequired    bool                `json:"witness_required"`
	Discontinued       bool                `json:"discontinued"`
	DiscontinuedAt     time.Time           `json:"discontinued_at,omitzero"`
}

// ChartDose is one dose given, refused, missed or held, or one attempt
// the checks blocked (kind "blocked", with every failed check).
type ChartDose struct {
	Kind      string `json:"kind"`
	AttemptID string `json:"attempt_id"`
	OrderID   string `json:"order_id"`
	// ScheduledFor is the scheduled dose; absent for as needed.
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
	At           time.Time `json:"at"`
	NurseID      string    `json:"nurse_id"`
	WitnessID    string    `json:"witness_id,omitempty"`
	// DoseAmount, DoseUnit and Route are what was given, or attempted.
	DoseAmount string `json:"dose_amount,omitempty"`
	DoseUnit   string `json:"dose_unit,omitempty"`
	Route      string `json:"route,omitempty"`
	// Reason is why a dose was refused or missed, or the clinical reason
	// it was held.
	Reason   string               `json:"reason,omitempty"`
	Override *domain.Override     `json:"override,omitempty"`
	Warnings []string             `json:"warnings,omitempty"`
	Failed   []domain.FailedCheck `json:"failed_checks,omitempty"`
}

// ChartAlert is an emergency alert still active.
type ChartAlert struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Location       string    `json:"location"`
	RaisedAt       time.Time `json:"raised_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
}

// renderChart returns s as its chart document at stream revision
// revision. It reads s only, never a clock, so that a chart renders the
// same in a live run and in a rebuild.
func renderChart(s *domain.Student, revision uint64) ([]byte, error) {
	c := Chart{
		ID: s.ID, StudentNumber: s.StudentNumber, DistrictID: s.DistrictID,
		SchoolID: s.SchoolID, GivenName: s.GivenName, FamilyName: s.FamilyName,
		BirthDate: string(s.BirthDate), Grade: string(s.Grade), Gender: string(s.Gender),
		EnrolledOn: string(s.EnrolledOn), WithdrawnOn: string(s.WithdrawnOn),
		Enrolled: s.Enrolled(), Revision: revision,
		Contacts: chartContacts(s.Contacts),
		Orders:   chartOrders(s.Medications.Orders()),
		Doses:    chartDoses(s.Medications.Administrations()),
		Alerts:   chartAlerts(s.ActiveAlerts()),
	}
	var err error
	if c.Entries, err = chartEntries(s.Entries()); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

func chartContacts(contacts []domain.Contact) []ChartContact {
	out := make([]ChartContact, 0, len(contacts))
	for _, c := range contacts {
		out = append(out, ChartContact{ID: c.ID, Name: c.Name, Relationship: c.Relationship,
			Phone: c.Phone, Priority: c.Priority, MayPickUp: c.MayPickUp})
	}
	return out
}

func chartEntries(entries []domain.ChartEntry) ([]ChartEntry, error) {
	out := make([]ChartEntry, 0, len(entries))
	for _, e := range entries {
		values, err := json.Marshal(e.Current)
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", e.ID, err)
		}
		entry := ChartEntry{ID: e.ID, Kind: string(e.Kind), Values: values,
			Amendments: e.Amendments, AmendmentReason: e.AmendReason,
			InError: e.InError, ErrorReason: e.ErrorReason}
		if e.Amendments > 0 {
			if entry.RecordedValues, err = json.Marshal(e.Recorded); err != nil {
				return nil, fmt.Errorf("entry %s: %w", e.ID, err)
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

func chartOrders(orders []domain.Order) []ChartOrder {
	out := make([]ChartOrder, 0, len(orders))
	for _, o := range orders {
		ingredients := o.Ingredients
		if ingredients == nil {
			ingredients = []string{}
		}
		out = append(out, ChartOrder{ID: o.ID, DrugName: o.DrugName, Ingredients: ingredients,
			Strength: o.Strength, DoseAmount: o.DoseAmount, DoseUnit: o.DoseUnit, Route: o.Route,
			Schedule: o.Schedule, TimeCritical: o.TimeCritical, StartOn: o.StartOn, EndOn: o.EndOn,
			ControlledSchedule: o.ControlledSchedule, WitnessRequired: o.WitnessRequired,
			Discontinued: o.Discontinued(), DiscontinuedAt: o.DiscontinuedAt})
	}
	return out
}

func chartDoses(records []domain.Administration) []ChartDose {
	out := make([]ChartDose, 0, len(records))
	for _, r := range records {
		out = append(out, ChartDose{Kind: string(r.Kind), AttemptID: r.AttemptID,
			OrderID: r.OrderID, ScheduledFor: r.ScheduledFor, At: r.At,
			NurseID: r.NurseID, WitnessID: r.WitnessID, DoseAmount: r.DoseAmount,
			DoseUnit: r.DoseUnit, Route: r.Route, Reason: r.Reason,
			Override: r.Override, Warnings: r.Warnings, Failed: r.Failed})
	}
	return out
}

func chartAlerts(alerts []domain.Alert) []ChartAlert {
	out := make([]ChartAlert, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, ChartAlert{ID: a.ID, Kind: string(a.Kind), Location: a.Location,
			RaisedAt: a.RaisedAt, AcknowledgedAt: a.AcknowledgedAt})
	}
	return out
}
