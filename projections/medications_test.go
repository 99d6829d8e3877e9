package projections_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

func medications() []projections.Projection {
	return []projections.Projection{projections.Medications{}, projections.ControlledStock{}}
}

// chicago is the zone of every order of the tests.
var chicago = mustZone("America/Chicago")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at returns the instant of a local time in Chicago on a day of March
// 2026, written "2 12:00".
func at(dayTime string) time.Time {
	t, err := time.ParseInLocation("2006-01-2 15:04", "2026-03-"+dayTime, chicago)
	if err != nil {
		panic(err)
	}
	return t
}

// fixedOrder returns an order at fixed times in Chicago, from the 1st to
// the 10th of March 2026.
func fixedOrder(drug string, timeCritical bool, times ...string) domain.MedicationOrdered {
	return domain.MedicationOrdered{
		OrderID: newID(), DrugName: drug, Ingredients: []string{strings.ToLower(drug)},
		Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
		Schedule:     domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: times, TimeZone: "America/Chicago"},
		TimeCritical: timeCritical, StartOn: "2026-03-01", EndOn: "2026-03-10",
		Prescriber: domain.Prescriber{Name: "Dr Who"}, ConsentOn: "2026-02-27", OrderedBy: newID(),
	}
}

// prnOrder returns an as-needed order in Chicago, from the 1st to the
// 10th of March 2026.
func prnOrder(drug string) domain.MedicationOrdered {
	o := fixedOrder(drug, false)
	o.Schedule = domain.DoseSchedule{Kind: domain.SchedulePRN, TimeZone: "America/Chicago",
		MinIntervalMinutes: 240, MaxPerDay: 4, Indication: "wheezing"}
	o.DoseAmount, o.DoseUnit, o.Route = "2", "puff", "inhaled"
	return o
}

func given(order domain.MedicationOrdered, slot, givenAt time.Time) domain.MedicationAdministered {
	return domain.MedicationAdministered{AttemptID: newID(), OrderID: order.OrderID,
		GivenAt: givenAt.UTC(), ScheduledFor: slot.UTC(), DoseAmount: order.DoseAmount,
		DoseUnit: order.DoseUnit, Route: order.Route, NurseID: nurseID}
}

func blocked(order domain.MedicationOrdered, student string, slot, attempted time.Time) domain.MedicationAdministrationBlocked {
	return domain.MedicationAdministrationBlocked{AttemptID: newID(), OrderID: order.OrderID,
		StudentID: student, DrugName: order.DrugName, DoseAmount: "10", DoseUnit: "mL",
		Route: "oral", GivenAt: attempted.UTC(), ScheduledFor: slot.UTC(),
		AttemptedAt: attempted.UTC(), NurseID: nurseID,
		Failed: []domain.FailedCheck{
			{Check: domain.CheckRightDose, Reason: "the dose amount is not the amount ordered"},
			{Check: domain.CheckAllergy, Reason: "warning", EntryID: newID()},
			{Check: domain.CheckAllergy, Reason: "warning", EntryID: newID()},
		}}
}

// nurseID is the nurse of every record of the tests.
var nurseID = newID()

// medicationWorld is the history the medication tests share: at school
// A, Ada has a fixed order (08:00, 12:00, 15:00), a time-critical one
// (11:30) and an as-needed one; Ben has a fixed order (12:00), is
// transferred to school B on the 2nd and has his order discontinued on
// the 3rd.
type medicationWorld struct {
	schoolA, schoolB           string
	ada, ben                   string
	amox, insulin, inhaler     domain.MedicationOrdered
	ritalin                    domain.MedicationOrdered
	adaGiven, adaRefused       domain.Event
	benGivenAfterTransfer      domain.MedicationAdministered
	discontinuedAt             time.Time
	lastPosition, benOrderedAt uint64
}

func newMedicationWorld(h *projectiontest.Harness) medicationWorld {
	w := medicationWorld{schoolA: newID(), schoolB: newID(), ada: newID(), ben: newID(),
		amox:    fixedOrder("Amoxicillin", false, "08:00", "12:00", "15:00"),
		insulin: fixedOrder("Insulin", true, "11:30"), inhaler: prnOrder("Albuterol"),
		ritalin: fixedOrder("Methylphenidate", false, "12:00"), discontinuedAt: at("3 10:00")}
	w.ritalin.ControlledSchedule, w.ritalin.WitnessRequired = "II", true
	ada, ben := domain.StudentStream(w.ada), domain.StudentStream(w.ben)

	h.Append(ada, enrolment(w.ada, w.schoolA, "Ada", "Lovelace", "S-1", "3"))
	h.Append(ben, enrolment(w.ben, w.schoolA, "Ben", "Babbage", "S-2", "4"))
	h.Append(ada, w.amox, w.insulin, w.inhaler)
	w.benOrderedAt = h.Append(ben, w.ritalin).Position
	h.Append(ada, domain.MedicationMissed{AttemptID: newID(), OrderID: w.amox.OrderID,
		ScheduledFor: at("1 08:00").UTC(), Reason: "absent", At: at("1 10:00").UTC(), NurseID: nurseID})

	w.adaGiven = given(w.amox, at("2 08:00"), at("2 08:10"))
	w.adaRefused = domain.MedicationRefused{AttemptID: newID(), OrderID: w.amox.OrderID,
		ScheduledFor: at("2 12:00").UTC(), Reason: "spat it out", At: at("2 12:05").UTC(), NurseID: nurseID}
	h.Append(ada, w.adaGiven,
		blocked(w.amox, w.ada, at("2 12:00"), at("2 12:01")),
		w.adaRefused,
		domain.MedicationHeld{AttemptID: newID(), OrderID: w.insulin.OrderID,
			ScheduledFor: at("2 11:30").UTC(), ClinicalReason: "glucose low", At: at("2 11:20").UTC(),
			NurseID: nurseID},
		given(w.inhaler, time.Time{}, at("2 09:00")),
		blocked(w.inhaler, w.ada, time.Time{}, at("2 10:00")),
		given(w.inhaler, time.Time{}, at("2 14:00")),
	)

	h.Append(ben, domain.StudentTransferred{FromSchoolID: w.schoolA, ToSchoolID: w.schoolB, On: "2026-03-02"})
	w.benGivenAfterTransfer = given(w.ritalin, at("2 12:00"), at("2 12:02"))
	h.Append(ben, w.benGivenAfterTransfer)
	w.lastPosition = h.Append(ben, domain.OrderDiscontinued{OrderID: w.ritalin.OrderID,
		Reason: "stopped by the prescriber", At: w.discontinuedAt.UTC(), By: nurseID}).Position
	return w
}

// TestMedications follows orders and every kind of record through a
// transfer and a discontinuation.
func TestMedications(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, medications, testMedications)
}

func testMedications(t *testing.T, h *projectiontest.Harness) {
	w := newMedicationWorld(h)
	h.Append(domain.SchoolStream(w.schoolA), domain.SchoolCreated{
		SchoolID: w.schoolA, DistrictID: district, Name: "Harbour Elementary"})
	h.Sync()

	t.Run("orders", func(t *testing.T) {
		orders, next, err := projections.OrdersOf(t.Context(), h.Pool, w.ben, "", 10)
		if err != nil || next != "" || len(orders) != 1 {
			t.Fatalf("orders of Ben: %+v, next %q, error %v", orders, next, err)
		}
		o := orders[0]
		discontinued := w.discontinuedAt
		want := projections.OrderRow{OrderID: w.ritalin.OrderID, SchoolID: w.schoolB,
			DrugName: "Methylphenidate", Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL",
			Route: "oral", ScheduleKind: "fixed", Times: []string{"12:00"}, TimeZone: "America/Chicago",
			StartOn: "2026-03-01", EndOn: "2026-03-10", ControlledSchedule: "II", WitnessRequired: true,
			DiscontinuedAt: &discontinued, Position: w.benOrderedAt}
		if o.DiscontinuedAt == nil || !o.DiscontinuedAt.Equal(discontinued) {
			t.Errorf("Ben's order discontinued at %v, want %v", o.DiscontinuedAt, discontinued)
		}
		o.DiscontinuedAt, want.DiscontinuedAt = nil, nil
		if !reflect.DeepEqual(o, want) {
			t.Errorf("Ben's order:\ngot  %+v\nwant %+v", o, want)
		}

		orders, _, err = projections.OrdersOf(t.Context(), h.Pool, w.ada, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var drugs []string
		for _, o := range orders {
			drugs = append(drugs, o.DrugName+" "+o.ScheduleKind)
		}
		if want := []string{"Albuterol prn", "Insulin fixed", "Amoxicillin fixed"}; !slices.Equal(drugs, want) {
			t.Errorf("Ada's orders, newest first: %q, want %q", drugs, want)
		}
		if o := orders[0]; o.MinIntervalMinutes != 240 || o.MaxPerDay != 4 || len(o.Times) != 0 {
			t.Errorf("as-needed order: %+v", o)
		}
	})

	t.Run("every kind of record", func(t *testing.T) {
		records, _, err := projections.AdministrationsOf(t.Context(), h.Pool,
			projections.DoseFilter{StudentID: w.ada, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"given 2 14:00 ", "refused 2 12:05 ",
			"blocked 2 12:01 right_dose+allergy", "held 2 11:20 ",
			"blocked 2 10:00 right_dose+allergy", "given 2 09:00 ", "given 2 08:10 ",
			"missed 1 10:00 "}
		if got := recordNames(records); !slices.Equal(got, want) {
			t.Errorf("records, newest first:\ngot  %q\nwant %q", got, want)
		}
		refused := records[1]
		if refused.AttemptID != w.adaRefused.(domain.MedicationRefused).AttemptID ||
			refused.OrderID != w.amox.OrderID || refused.Reason != "spat it out" ||
			refused.NurseID != nurseID || !refused.ScheduledFor.Equal(at("2 12:00")) {
			t.Errorf("the refusal: %+v", refused)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name   string
			filter projections.DoseFilter
			want   []string
		}{
			{"kind", projections.DoseFilter{Kind: domain.AdministrationGiven},
				[]string{"given 2 14:00 ", "given 2 09:00 ", "given 2 08:10 "}},
			{"order", projections.DoseFilter{OrderID: w.insulin.OrderID},
				[]string{"held 2 11:20 "}},
			{"from and to", projections.DoseFilter{From: at("2 09:00"), To: at("2 12:01")},
				[]string{"held 2 11:20 ", "blocked 2 10:00 right_dose+allergy", "given 2 09:00 "}},
			{"every filter", projections.DoseFilter{OrderID: w.amox.OrderID,
				Kind: domain.AdministrationBlocked, From: at("2 00:00")},
				[]string{"blocked 2 12:01 right_dose+allergy"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.filter.StudentID, tt.filter.Limit = w.ada, 100
				records, _, err := projections.AdministrationsOf(t.Context(), h.Pool, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := recordNames(records); !slices.Equal(got, tt.want) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("pages", func(t *testing.T) {
		all, _, _ := projections.AdministrationsOf(t.Context(), h.Pool,
			projections.DoseFilter{StudentID: w.ada, Limit: 100})
		var walked []projections.DoseRow
		f := projections.DoseFilter{StudentID: w.ada, Limit: 3}
		for range 10 {
			page, next, err := projections.AdministrationsOf(t.Context(), h.Pool, f)
			if err != nil {
				t.Fatal(err)
			}
			walked = append(walked, page...)
			if next == "" {
				break
			}
			f.After = next
		}
		if got, want := recordNames(walked), recordNames(all); !slices.Equal(got, want) {
			t.Errorf("pages of 3:\ngot  %q\nwant %q", got, want)
		}
		_, _, err := projections.AdministrationsOf(t.Context(), h.Pool,
			projections.DoseFilter{StudentID: w.ada, After: "not a cursor"})
		if !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
		}
	})

	t.Run("transfer moves the rows", func(t *testing.T) {
		bens := 0
		for _, table := range []string{projections.MedicationStudentsTable,
			projections.MedicationOrdersTable, projections.MedicationDosesTable} {
			for _, row := range h.Rows(table) {
				if strings.Contains(row, w.ben) {
					bens++
				}
				if strings.Contains(row, w.ben) && !strings.Contains(row, `"school_id": "`+w.schoolB) {
					t.Errorf("%s: a row of Ben's not at school B: %s", table, row)
				}
				if strings.Contains(row, w.ada) && !strings.Contains(row, `"school_id": "`+w.schoolA) {
					t.Errorf("%s: a row of Ada's not at school A: %s", table, row)
				}
			}
		}
		if bens != 3 {
			t.Errorf("%d rows of Ben's, want 3: the student, the order, the dose", bens)
		}
	})
}

// recordNames names each record by its kind, local time and failed checks.
func recordNames(records []projections.DoseRow) []string {
	var out []string
	for _, r := range records {
		out = append(out, fmt.Sprintf("%s %s %s", r.Kind, r.At.In(chicago).Format("2 15:04"),
			strings.Join(r.FailedChecks, "+")))
	}
	return out
}
