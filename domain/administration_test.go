package domain

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func init() {
	scheduled := rxAt(2026, 3, 9, 8, 0)
	override := &Override{ReasonCode: OverridePrescriberConsulted, Note: "Dr Reyes by phone"}
	moreEvents = append(moreEvents, []Event{
		MedicationAdministered{
			AttemptID: rxAttempt(1), OrderID: rxOrderID,
			GivenAt: scheduled.Add(5 * time.Minute).UTC(), ScheduledFor: scheduled.UTC(),
			DoseAmount: "1", DoseUnit: "tablet", Route: "oral",
			NurseID: rxNurse, WitnessID: rxWitness, Override: override,
			Warnings: []string{"allergy warning overridden: entry " + rxEntry},
		},
		MedicationAdministrationBlocked{
			AttemptID: rxAttempt(2), OrderID: rxOrderID, StudentID: rxOtherStudent,
			DrugName: "Methylphenidate 10 mg tablet", DoseAmount: "2", DoseUnit: "tablet",
			Route: "oral", GivenAt: t0, ScheduledFor: scheduled.UTC(), AttemptedAt: t0,
			NurseID: rxNurse, WitnessID: rxWitness, Override: override,
			Failed: []FailedCheck{
				{Check: CheckRightStudent, Reason: "wrong"},
				{Check: CheckAllergy, Reason: "mild", EntryID: rxEntry, Overridable: true},
			},
		},
		MedicationRefused{
			AttemptID: rxAttempt(3), OrderID: rxOrderID, ScheduledFor: scheduled.UTC(),
			Reason: "spat it out", At: t0, NurseID: rxNurse,
		},
		MedicationMissed{
			AttemptID: rxAttempt(4), OrderID: rxOrderID, ScheduledFor: scheduled.UTC(),
			Reason: "absent", At: t0, NurseID: rxNurse,
		},
		MedicationHeld{
			AttemptID: rxAttempt(5), OrderID: rxOrderID, ScheduledFor: scheduled.UTC(),
			ClinicalReason: "vomiting", At: t0, NurseID: rxNurse,
		},
	})
}

// rxDose returns a valid dose of the order of rxOrderCommand: the 08:00
// dose of Monday 9 March 2026, given at 08:20.
func rxDose() AdministerMedication {
	return AdministerMedication{
		AttemptID:    rxAttempt(1),
		OrderID:      rxOrderID,
		StudentID:    rxStudent,
		DrugName:     "amoxicillin 250 MG/5 mL suspension",
		DoseAmount:   "5",
		DoseUnit:     "mL",
		Route:        "oral",
		GivenAt:      rxAt(2026, 3, 9, 8, 20),
		ScheduledFor: rxAt(2026, 3, 9, 8, 0),
		NurseID:      rxNurse,
		NurseRole:    RoleNurse,
	}
}

// rxContext returns the context of a dose given at givenAt, decided two
// minutes later.
func rxContext(givenAt time.Time) AdministrationContext {
	return AdministrationContext{
		StudentID: rxStudent, Enrolled: true, Now: givenAt.Add(2 * time.Minute),
	}
}

// asPRN makes the dose one of rxPRNCommand's order.
func asPRN(c *AdministerMedication) {
	c.OrderID = rxOrderID2
	c.DrugName = "Ibuprofen 200 mg tablet"
	c.DoseAmount = "1"
	c.DoseUnit = "tablet"
	c.ScheduledFor = time.Time{}
}

func prnOrder(c *OrderMedication) { *c = rxPRNCommand() }

// prnAt makes the dose an as-needed one, given at t.
func prnAt(t time.Time) func(*AdministerMedication) {
	return func(c *AdministerMedication) {
		asPRN(c)
		c.GivenAt = t
	}
}

func controlledII(c *OrderMedication) { c.ControlledSchedule = "II" }

func fixedTimes(times ...string) func(*OrderMedication) {
	return func(c *OrderMedication) { c.Schedule.Times = times }
}

// doseAt sets when the dose was scheduled and given.
func doseAt(scheduled, given time.Time) func(*AdministerMedication) {
	return func(c *AdministerMedication) {
		c.ScheduledFor = scheduled
		c.GivenAt = given
	}
}

func allergy(entry, allergen, kind, severity string) func(*AdministrationContext) {
	return func(c *AdministrationContext) {
		c.Allergies = append(c.Allergies, AllergyFact{
			EntryID: entry, Allergen: allergen, Type: kind, Severity: severity,
		})
	}
}

func withOverride(role Role) func(*AdministerMedication) {
	return func(c *AdministerMedication) {
		c.NurseRole = role
		c.Override = &Override{ReasonCode: OverrideParentConfirmedTolerated}
	}
}

// both applies each change in turn.
func both[T any](changes ...func(*T)) func(*T) {
	return func(v *T) {
		for _, change := range changes {
			change(v)
		}
	}
}

func rxGiven(n int, orderID string, scheduled, at time.Time) MedicationAdministered {
	return MedicationAdministered{
		AttemptID: rxAttempt(n), OrderID: orderID, GivenAt: at.UTC(), ScheduledFor: scheduled.UTC(),
		DoseAmount: "5", DoseUnit: "mL", Route: "oral", NurseID: rxNurse,
	}
}

// stoppedAt returns the discontinuation of rxOrderID at t.
func stoppedAt(t time.Time) OrderDiscontinued {
	return OrderDiscontinued{OrderID: rxOrderID, Reason: "stop", At: t.UTC(), By: rxNurse}
}

// attemptBlocked returns the blocked attempt n on rxOrderID.
func attemptBlocked(n int) MedicationAdministrationBlocked {
	return MedicationAdministrationBlocked{AttemptID: rxAttempt(n), OrderID: rxOrderID}
}

func rxPRNGiven(n int, at time.Time) MedicationAdministered {
	return rxGiven(n, rxOrderID2, time.Time{}, at)
}

// failures lists a refusal's failed checks as "check" or, for an allergy,
// "check entry".
func failures(r *Refusal) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, c := range r.Checks {
		out = append(out, strings.TrimSpace(c.Check+" "+c.EntryID))
	}
	return out
}

type administerCase struct {
	name    string
	order   func(*OrderMedication)
	history []Event
	dose    func(*AdministerMedication)
	ctx     func(*AdministrationContext)
	policy  MedicationPolicy
	want    []string // failed checks, as failures lists them
}

func (c administerCase) run(t *testing.T) ([]Event, *Refusal) {
	t.Helper()
	orderCmd := rxOrderCommand()
	if c.order != nil {
		c.order(&orderCmd)
	}
	m := rxChart(t, append([]Event{rxOrdered(t, orderCmd)}, c.history...)...)

	cmd := rxDose()
	if c.dose != nil {
		c.dose(&cmd)
	}
	ctx := rxContext(cmd.GivenAt)
	if c.ctx != nil {
		c.ctx(&ctx)
	}
	if err := ValidateAdministration(cmd); err != nil {
		t.Fatalf("ValidateAdministration: %v", err)
	}
	return m.Administer(cmd, ctx, c.policy)
}

func runAdministerCases(t *testing.T, cases []administerCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, refusal := c.run(t)
			if got := failures(refusal); !slices.Equal(got, c.want) {
				t.Fatalf("failed checks = %q, want %q", got, c.want)
			}
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			switch e := events[0].(type) {
			case MedicationAdministered:
				if refusal != nil {
					t.Errorf("a dose was given and refused")
				}
			case MedicationAdministrationBlocked:
				if refusal == nil || !reflect.DeepEqual(e.Failed, refusal.Checks) {
					t.Errorf("blocked event names %v, refusal %v", e.Failed, refusal)
				}
			default:
				t.Errorf("event %s, want an administration", e.EventType())
			}
		})
	}
}

func TestAdministerFiveRights(t *testing.T) {
	runAdministerCases(t, []administerCase{
		{name: "all rights"},
		{name: "drug name in another case and spacing",
			dose: func(c *AdministerMedication) {
				c.DrugName = " AMOXICILLIN 250 mg/5  mL Suspension "
			}},
		{name: "dose written another way",
			dose: func(c *AdministerMedication) {
				c.DoseAmount = "5.00"
				c.DoseUnit = "ml"
				c.Route = "ORAL"
			}},
		{name: "another drug in hand",
			dose: func(c *AdministerMedication) { c.DrugName = "Cephalexin 250 mg/5 mL suspension" },
			want: []string{"right_drug"}},
		{name: "another student", dose: func(c *AdministerMedication) { c.StudentID = rxOtherStudent },
			want: []string{"right_student"}},
		{name: "student not enrolled", ctx: func(c *AdministrationContext) { c.Enrolled = false },
			want: []string{"right_student"}},
		{name: "order not on this chart",
			dose: func(c *AdministerMedication) { c.OrderID = rxOrderID2 },
			want: []string{"right_student"}},
		{name: "wrong amount", dose: func(c *AdministerMedication) { c.DoseAmount = "10" },
			want: []string{"right_dose"}},
		{name: "wrong unit", dose: func(c *AdministerMedication) { c.DoseUnit = "mg" },
			want: []string{"right_dose"}},
		{name: "wrong route", dose: func(c *AdministerMedication) { c.Route = "topical" },
			want: []string{"right_route"}},
		{name: "order ends today", order: func(c *OrderMedication) { c.EndOn = "2026-03-09" }},
		{name: "order ended yesterday", order: func(c *OrderMedication) { c.EndOn = "2026-03-08" },
			want: []string{"right_drug"}},
		{name: "order starts today", order: func(c *OrderMedication) { c.StartOn = "2026-03-09" }},
		{name: "order starts tomorrow", order: func(c *OrderMedication) {
			c.StartOn = "2026-03-10"
			c.EndOn = "2026-03-20"
		}, want: []string{"right_drug"}},
		{name: "tonight's dose of an order that ends today, given after midnight",
			order: both(fixedTimes("23:45"), func(c *OrderMedication) { c.EndOn = "2026-03-09" }),
			dose:  doseAt(rxAt(2026, 3, 9, 23, 45), rxAt(2026, 3, 10, 0, 10))},
		{name: "consent dated after the dose",
			order: func(c *OrderMedication) { c.ConsentOn = "2026-03-10" },
			want:  []string{"right_drug"}},
		{name: "consent dated the day of the dose",
			order: func(c *OrderMedication) { c.ConsentOn = "2026-03-09" }},
		{name: "discontinued before the dose",
			history: []Event{stoppedAt(rxAt(2026, 3, 9, 7, 0))},
			want:    []string{"right_drug"}},
		{name: "discontinued after the dose, which is charted late",
			history: []Event{stoppedAt(rxAt(2026, 3, 9, 8, 30))},
			ctx:     func(c *AdministrationContext) { c.Now = rxAt(2026, 3, 9, 8, 40) }},
		{name: "several failures reported together",
			order: controlledII,
			dose: both(
				func(c *AdministerMedication) { c.StudentID = rxOtherStudent },
				func(c *AdministerMedication) { c.DoseAmount = "10"; c.Route = "topical" },
				doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 10, 30)),
			),
			ctx: allergy(rxEntry, "Penicillin", "medication", "life-threatening"),
			want: []string{
				"right_student", "right_dose", "right_route", "right_time",
				"allergy " + rxEntry, "witness",
			}},
	})
}

func TestAdministerScheduledTime(t *testing.T) {
	critical := func(c *OrderMedication) { c.TimeCritical = true }
	utc := func(y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, time.UTC)
	}
	runAdministerCases(t, []administerCase{
		{name: "60 minutes late", dose: doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 9, 0))},
		{name: "61 minutes late", dose: doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 9, 1)),
			want: []string{"right_time"}},
		{name: "55 minutes early", dose: doseAt(rxAt(2026, 3, 9, 12, 30), rxAt(2026, 3, 9, 11, 35))},
		{name: "61 minutes early", dose: doseAt(rxAt(2026, 3, 9, 12, 30), rxAt(2026, 3, 9, 11, 29)),
			want: []string{"right_time"}},
		{name: "time-critical, 30 minutes early", order: critical,
			dose: doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 7, 30))},
		{name: "time-critical, 31 minutes late", order: critical,
			dose: doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 8, 31)),
			want: []string{"right_time"}},
		{name: "a window the policy widens", policy: MedicationPolicy{StandardWindow: 2 * time.Hour},
			dose: doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 9, 55))},
		{name: "a time-critical window the policy narrows", order: critical,
			policy: MedicationPolicy{TimeCriticalWindow: 15 * time.Minute},
			dose:   doseAt(rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 8, 16)),
			want:   []string{"right_time"}},
		{name: "scheduled_for missing",
			dose: func(c *AdministerMedication) { c.ScheduledFor = time.Time{} },
			want: []string{"right_time"}},
		{name: "scheduled_for not a scheduled time",
			dose: doseAt(rxAt(2026, 3, 9, 8, 15), rxAt(2026, 3, 9, 8, 20)),
			want: []string{"right_time"}},
		{name: "scheduled 23:45, given 00:10 the next day", order: both(critical, fixedTimes("23:45")),
			dose: doseAt(rxAt(2026, 3, 9, 23, 45), rxAt(2026, 3, 10, 0, 10))},
		{name: "scheduled 23:45, given 00:20 the next day", order: both(critical, fixedTimes("23:45")),
			dose: doseAt(rxAt(2026, 3, 9, 23, 45), rxAt(2026, 3, 10, 0, 20)),
			want: []string{"right_time"}},
		{name: "scheduled 00:15, given 23:50 the day before",
			order: both(critical, fixedTimes("00:15")),
			dose:  doseAt(rxAt(2026, 3, 10, 0, 15), rxAt(2026, 3, 9, 23, 50))},
		{name: "scheduled 23:45 named on the wrong day", order: both(critical, fixedTimes("23:45")),
			dose: doseAt(rxAt(2026, 3, 10, 23, 45), rxAt(2026, 3, 10, 0, 10)),
			want: []string{"right_time"}},
		{name: "spring forward: 08:00 is 08:00 daylight time",
			dose: doseAt(utc(2026, 3, 8, 12, 0), rxAt(2026, 3, 8, 8, 10))},
		{name: "spring forward: 08:00 standard time is 09:00 that day",
			dose: doseAt(utc(2026, 3, 8, 13, 0), rxAt(2026, 3, 8, 9, 0)),
			want: []string{"right_time"}},
		{name: "fall back: 08:00 is 08:00 standard time",
			dose: doseAt(utc(2026, 11, 1, 13, 0), rxAt(2026, 11, 1, 8, 30))},
		{name: "fall back: 08:00 daylight time is 07:00 that day",
			dose: doseAt(utc(2026, 11, 1, 12, 0), rxAt(2026, 11, 1, 7, 5)),
			want: []string{"right_time"}},
		{name: "spring forward: the window is real time, 25 minutes across the change",
			order: both(critical, fixedTimes("01:45")),
			dose:  doseAt(rxAt(2026, 3, 8, 1, 45), rxAt(2026, 3, 8, 3, 10))},
		{name: "fall back: the window is real time, 90 minutes across the change",
			order: both(critical, fixedTimes("00:45")),
			dose:  doseAt(rxAt(2026, 11, 1, 0, 45), utc(2026, 11, 1, 6, 15)),
			want:  []string{"right_time"}},
		{name: "charted as given in the future",
			ctx:  func(c *AdministrationContext) { c.Now = rxAt(2026, 3, 9, 8, 14) },
			want: []string{"right_time"}},
		{name: "charted within the clock tolerance",
			ctx: func(c *AdministrationContext) { c.Now = rxAt(2026, 3, 9, 8, 15) }},
		{name: "no time of decision", ctx: func(c *AdministrationContext) { c.Now = time.Time{} },
			want: []string{"right_time"}},
	})
}

func TestAdministerAsNeeded(t *testing.T) {
	day := func(d, h, min int) time.Time { return rxAt(2026, 3, d, h, min) }
	runAdministerCases(t, []administerCase{
		{name: "first dose", order: prnOrder, dose: prnAt(day(9, 9, 0))},
		{name: "within the minimum interval", order: prnOrder,
			history: []Event{rxPRNGiven(9, day(9, 9, 0))},
			dose:    prnAt(day(9, 12, 59)),
			want:    []string{"right_time"}},
		{name: "at the minimum interval", order: prnOrder,
			history: []Event{rxPRNGiven(9, day(9, 9, 0))},
			dose:    prnAt(day(9, 13, 0))},
		{name: "over the maximum in 24 hours", order: prnOrder,
			history: []Event{rxPRNGiven(8, day(9, 9, 0)), rxPRNGiven(9, day(9, 13, 0))},
			dose:    prnAt(day(9, 17, 30)),
			want:    []string{"right_time"}},
		{name: "the maximum over a rolling day, not a calendar day", order: prnOrder,
			history: []Event{rxPRNGiven(8, day(9, 19, 0)), rxPRNGiven(9, day(9, 23, 30))},
			dose:    prnAt(day(10, 3, 45)),
			want:    []string{"right_time"}},
		{name: "24 hours after the first of two", order: prnOrder,
			history: []Event{rxPRNGiven(8, day(9, 9, 0)), rxPRNGiven(9, day(9, 13, 0))},
			dose:    prnAt(day(10, 9, 0))},
		{name: "just under 24 hours after the first of two", order: prnOrder,
			history: []Event{rxPRNGiven(8, day(9, 9, 0)), rxPRNGiven(9, day(9, 13, 0))},
			dose:    prnAt(day(10, 8, 59)),
			want:    []string{"right_time"}},
		{name: "charted late, within the interval of a later dose", order: prnOrder,
			history: []Event{rxPRNGiven(9, day(9, 13, 0))},
			dose:    prnAt(day(9, 11, 0)),
			ctx:     func(c *AdministrationContext) { c.Now = day(9, 13, 30) },
			want:    []string{"right_time"}},
		{name: "a refused dose does not count", order: prnOrder,
			history: []Event{MedicationRefused{
				AttemptID: rxAttempt(9), OrderID: rxOrderID2, Reason: "no", At: day(9, 9, 0),
			}},
			dose: prnAt(day(9, 10, 0))},
		{name: "a dose of another order does not count",
			order: prnOrder,
			history: []Event{
				rxOrdered(t, rxOrderCommand()),
				rxGiven(9, rxOrderID, day(9, 8, 0), day(9, 8, 0)),
			},
			dose: prnAt(day(9, 9, 0))},
		{name: "with a scheduled time", order: prnOrder,
			dose: both(prnAt(day(9, 9, 0)), func(c *AdministerMedication) {
				c.ScheduledFor = day(9, 9, 0)
			}),
			want: []string{"right_time"}},
	})
}

func TestAdministerDuplicates(t *testing.T) {
	eight, half := rxAt(2026, 3, 9, 8, 0), rxAt(2026, 3, 9, 12, 30)
	refused := MedicationRefused{
		AttemptID: rxAttempt(9), OrderID: rxOrderID, ScheduledFor: eight.UTC(),
		Reason: "no", At: eight.UTC(), NurseID: rxNurse,
	}
	missed := MedicationMissed(refused)
	held := MedicationHeld{
		AttemptID: rxAttempt(9), OrderID: rxOrderID, ScheduledFor: eight.UTC(),
		ClinicalReason: "fever", At: eight.UTC(), NurseID: rxNurse,
	}
	blocked := MedicationAdministrationBlocked{
		AttemptID: rxAttempt(9), OrderID: rxOrderID, ScheduledFor: eight.UTC(),
	}
	runAdministerCases(t, []administerCase{
		{name: "given twice", history: []Event{rxGiven(9, rxOrderID, eight, eight)},
			want: []string{"duplicate"}},
		{name: "refused, then given", history: []Event{refused}, want: []string{"duplicate"}},
		{name: "missed, then given", history: []Event{missed}, want: []string{"duplicate"}},
		{name: "held, then given", history: []Event{held}, want: []string{"duplicate"}},
		{name: "the other dose of the day given", history: []Event{rxGiven(9, rxOrderID, half, half)}},
		{name: "the same dose the day before given",
			history: []Event{rxGiven(9, rxOrderID, eight.AddDate(0, 0, -1), eight.AddDate(0, 0, -1))}},
		{name: "a blocked attempt leaves the dose to give", history: []Event{blocked}},
		{name: "the same attempt twice",
			history: []Event{attemptBlocked(1)},
			want:    []string{"duplicate"}},
	})
}

func TestAdministerAllergies(t *testing.T) {
	cephalexin := func(c *OrderMedication) {
		c.DrugName = "Cephalexin 250 mg/5 mL suspension"
		c.Ingredients = []string{"cephalexin"}
	}
	cephalexinInHand := func(c *AdministerMedication) {
		c.DrugName = "Cephalexin 250 mg/5 mL suspension"
	}
	penicillinSevere := allergy(rxEntry, "Penicillin", "medication", "life-threatening")
	runAdministerCases(t, []administerCase{
		{name: "penicillin allergy, life-threatening, stops amoxicillin", ctx: penicillinSevere,
			want: []string{"allergy " + rxEntry}},
		{name: "a hard stop no override passes", ctx: penicillinSevere,
			dose: withOverride(RoleNurse),
			want: []string{"allergy " + rxEntry}},
		{name: "severe allergy to the ingredient itself",
			ctx:  allergy(rxEntry, "amoxicillin", "medication", "severe"),
			want: []string{"allergy " + rxEntry}},
		{name: "severity not recorded: a hard stop",
			ctx: allergy(rxEntry, "amoxicillin", "other", ""), dose: withOverride(RoleNurse),
			want: []string{"allergy " + rxEntry}},
		{name: "mild allergy without an override",
			ctx:  allergy(rxEntry, "Amoxicillin", "medication", "mild"),
			want: []string{"allergy " + rxEntry}},
		{name: "mild allergy overridden with a reason code",
			ctx: allergy(rxEntry, "Amoxicillin", "medication", "mild"), dose: withOverride(RoleNurse)},
		{name: "moderate allergy to the class overridden",
			ctx:  allergy(rxEntry, "penicillins", "medication", "moderate"),
			dose: withOverride(RoleNurse)},
		{name: "override by a role that may not",
			ctx:  allergy(rxEntry, "Amoxicillin", "medication", "mild"),
			dose: withOverride(RoleSchoolAdmin),
			want: []string{"allergy " + rxEntry}},
		{name: "override when the policy lets nobody",
			policy: MedicationPolicy{AllergyOverrideRoles: []Role{}},
			ctx:    allergy(rxEntry, "Amoxicillin", "medication", "mild"),
			dose:   withOverride(RoleNurse),
			want:   []string{"allergy " + rxEntry}},
		{name: "override by a role the policy names",
			policy: MedicationPolicy{AllergyOverrideRoles: []Role{RoleComplianceOfficer}},
			ctx:    allergy(rxEntry, "Amoxicillin", "medication", "mild"),
			dose:   withOverride(RoleComplianceOfficer)},
		{name: "cephalosporin for a life-threatening penicillin allergy: a warning",
			order: cephalexin, dose: cephalexinInHand, ctx: penicillinSevere,
			want: []string{"allergy " + rxEntry}},
		{name: "cephalosporin warning overridden",
			order: cephalexin, ctx: penicillinSevere,
			dose: both(cephalexinInHand, withOverride(RoleNurse))},
		{name: "an override passes the warning, not the hard stop",
			ctx: both(
				allergy(rxEntry, "amoxicillin", "medication", "mild"),
				allergy(rxEntry2, "beta-lactam antibiotics", "medication", "severe"),
			),
			dose: withOverride(RoleNurse),
			want: []string{"allergy " + rxEntry2}},
		{name: "two warnings, no override",
			ctx: both(
				allergy(rxEntry, "amoxicillin", "medication", "mild"),
				allergy(rxEntry2, "penicillin", "medication", "moderate"),
			),
			want: []string{"allergy " + rxEntry, "allergy " + rxEntry2}},
		{name: "a food allergy is not checked",
			ctx: allergy(rxEntry, "penicillin", "food", "severe")},
		{name: "an unrelated medication allergy",
			ctx: allergy(rxEntry, "sulfa drugs", "medication", "severe")},
		{name: "an allergy to a class the order names",
			order: func(c *OrderMedication) { c.DrugClasses = []string{"antibiotic"} },
			ctx:   allergy(rxEntry, "Antibiotic", "medication", "severe"),
			want:  []string{"allergy " + rxEntry}},
	})
}

func TestAdministerWitness(t *testing.T) {
	witnessed := func(id string, verified bool) func(*AdministerMedication) {
		return func(c *AdministerMedication) {
			c.WitnessID = id
			c.WitnessVerified = verified
		}
	}
	runAdministerCases(t, []administerCase{
		{name: "schedule II, witnessed", order: controlledII, dose: witnessed(rxWitness, true)},
		{name: "schedule II, no witness", order: controlledII, want: []string{"witness"}},
		{name: "witness is the administering nurse", order: controlledII,
			dose: witnessed(rxNurse, true), want: []string{"witness"}},
		{name: "witness not verified", order: controlledII,
			dose: witnessed(rxWitness, false), want: []string{"witness"}},
		{name: "schedule IV, no witness asked",
			order: func(c *OrderMedication) { c.ControlledSchedule = "IV" }},
		{name: "schedule IV, witness asked",
			order: func(c *OrderMedication) { c.ControlledSchedule = "IV"; c.WitnessRequired = true },
			want:  []string{"witness"}},
	})
}

func TestAdministerEvents(t *testing.T) {
	t.Run("given", func(t *testing.T) {
		c := administerCase{
			ctx: allergy(rxEntry, "amoxicillin", "medication", "mild"),
			dose: both(withOverride(RoleNurse), func(c *AdministerMedication) {
				c.DoseAmount = "5.0"
				c.DoseUnit = "ML"
				c.WitnessID = rxWitness
			}),
		}
		events, refusal := c.run(t)
		if refusal != nil {
			t.Fatalf("refused: %v", failures(refusal))
		}
		want := MedicationAdministered{
			AttemptID: rxAttempt(1), OrderID: rxOrderID,
			GivenAt:      time.Date(2026, 3, 9, 12, 20, 0, 0, time.UTC),
			ScheduledFor: time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC),
			DoseAmount:   "5", DoseUnit: "mL", Route: "oral",
			NurseID: rxNurse, WitnessID: rxWitness,
			Override: &Override{ReasonCode: OverrideParentConfirmedTolerated},
			Warnings: []string{"allergy warning overridden: entry " + rxEntry},
		}
		if !reflect.DeepEqual(events, []Event{want}) {
			t.Errorf("events = %#v, want %#v", events, []Event{want})
		}
	})

	t.Run("override not needed is not recorded", func(t *testing.T) {
		events, _ := administerCase{dose: withOverride(RoleNurse)}.run(t)
		if e := events[0].(MedicationAdministered); e.Override != nil || e.Warnings != nil {
			t.Errorf("override %v, warnings %q; want none", e.Override, e.Warnings)
		}
	})

	t.Run("blocked", func(t *testing.T) {
		c := administerCase{
			ctx:  penicillinHardStop,
			dose: func(c *AdministerMedication) { c.Route = "Topical" },
		}
		events, refusal := c.run(t)
		at := time.Date(2026, 3, 9, 12, 20, 0, 0, time.UTC)
		want := MedicationAdministrationBlocked{
			AttemptID: rxAttempt(1), OrderID: rxOrderID, StudentID: rxStudent,
			DrugName: "amoxicillin 250 MG/5 mL suspension", DoseAmount: "5", DoseUnit: "mL",
			Route: "topical", GivenAt: at, ScheduledFor: at.Add(-20 * time.Minute),
			AttemptedAt: at.Add(2 * time.Minute), NurseID: rxNurse,
			Failed: []FailedCheck{
				{Check: CheckRightRoute, Reason: "the route is not the route ordered"},
				{Check: CheckAllergy, Reason: allergyHardStop, EntryID: rxEntry,
					Allergen: "penicillin", Severity: "life-threatening"},
			},
		}
		if !reflect.DeepEqual(events, []Event{want}) {
			t.Errorf("events = %#v, want %#v", events, []Event{want})
		}
		if want := "administration refused: right_route, allergy"; refusal.Error() != want {
			t.Errorf("Error() = %q, want %q", refusal.Error(), want)
		}
		if !refusal.Failed(CheckAllergy) || refusal.Failed(CheckWitness) {
			t.Errorf("Failed(allergy), Failed(witness) = %v, %v; want true, false",
				refusal.Failed(CheckAllergy), refusal.Failed(CheckWitness))
		}
	})
}

var penicillinHardStop = allergy(rxEntry, "penicillin", "medication", "life-threatening")

func TestValidateAdministration(t *testing.T) {
	cases := []struct {
		name   string
		change func(*AdministerMedication)
		want   []string
	}{
		{"valid", func(*AdministerMedication) {}, nil},
		{"every field wrong", func(c *AdministerMedication) {
			*c = AdministerMedication{
				AttemptID: "1", OrderID: "2", StudentID: "3", DoseAmount: "five",
				DoseUnit: "spoon", Route: "mouth", NurseID: "4", NurseRole: "janitor",
				WitnessID: "5", Override: &Override{ReasonCode: "because", Note: "a\x00b"},
			}
		}, []string{
			"invalid attempt_id", "invalid order_id", "invalid student_id", "invalid drug_name",
			"invalid dose_amount", "invalid dose_unit", "invalid route", "invalid given_at",
			"invalid nurse_id", "invalid nurse_role", "invalid witness_id",
			"invalid override.reason_code", "invalid override.note",
		}},
		{"zero dose", func(c *AdministerMedication) { c.DoseAmount = "0" },
			[]string{"invalid dose_amount"}},
		{"override without a note", func(c *AdministerMedication) {
			c.Override = &Override{ReasonCode: OverrideEmergencyProtocol}
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := rxDose()
			c.change(&cmd)
			checkRefusals(t, ValidateAdministration(cmd), c.want, "")

			m := rxChart(t, rxOrdered(t, rxOrderCommand()))
			events, refusal := m.Administer(cmd, rxContext(cmd.GivenAt), MedicationPolicy{})
			if c.want == nil {
				return
			}
			if events != nil || !slices.Equal(failures(refusal), []string{CheckInput}) {
				t.Errorf("Administer = %d events, %q; want none, [input]",
					len(events), failures(refusal))
			}
		})
	}
}

func TestMedicationPolicy(t *testing.T) {
	got := DefaultMedicationPolicy()
	want := MedicationPolicy{
		TimeCriticalWindow: 30 * time.Minute, StandardWindow: time.Hour,
		AllergyOverrideRoles: []Role{RoleNurse},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultMedicationPolicy() = %+v, want %+v", got, want)
	}

	cases := []struct {
		name   string
		policy MedicationPolicy
		want   []string
	}{
		{"zero", MedicationPolicy{}, nil},
		{"defaults", want, nil},
		{"nobody overrides", MedicationPolicy{AllergyOverrideRoles: []Role{}}, nil},
		{"every field wrong", MedicationPolicy{
			TimeCriticalWindow:   -time.Minute,
			StandardWindow:       5 * time.Hour,
			AllergyOverrideRoles: []Role{RoleNurse, "janitor", RoleNurse},
		}, []string{
			"invalid time_critical_window", "invalid standard_window",
			"invalid allergy_override_roles[1]", "invalid allergy_override_roles[2]",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRefusals(t, c.policy.Validate(), c.want, "")
		})
	}
}

func TestRecordDoseNotGiven(t *testing.T) {
	eight := rxAt(2026, 3, 9, 8, 0)
	valid := DoseNotGiven{
		AttemptID: rxAttempt(1), OrderID: rxOrderID, ScheduledFor: eight,
		Reason: " absent ", At: eight.Add(time.Hour), NurseID: rxNurse,
	}
	type record func(*Medications, DoseNotGiven) ([]Event, error)
	refuse := (*Medications).RecordRefusal
	miss := (*Medications).RecordMissed
	hold := (*Medications).RecordHeld
	cases := []struct {
		name    string
		record  record
		order   func(*OrderMedication)
		history []Event
		change  func(*DoseNotGiven)
		want    []string
	}{
		{name: "refused", record: refuse},
		{name: "missed", record: miss},
		{name: "held", record: hold},
		{name: "refused as-needed dose", record: refuse, order: prnOrder,
			change: func(c *DoseNotGiven) { c.OrderID = rxOrderID2; c.ScheduledFor = time.Time{} }},
		{name: "held as-needed dose", record: hold, order: prnOrder,
			change: func(c *DoseNotGiven) { c.OrderID = rxOrderID2; c.ScheduledFor = time.Time{} }},
		{name: "missed as-needed dose", record: miss, order: prnOrder,
			change: func(c *DoseNotGiven) { c.OrderID = rxOrderID2; c.ScheduledFor = time.Time{} },
			want:   []string{"rule order_id"}},
		{name: "as-needed dose with a scheduled time", record: refuse, order: prnOrder,
			change: func(c *DoseNotGiven) { c.OrderID = rxOrderID2 },
			want:   []string{"invalid scheduled_for"}},
		{name: "every field wrong", record: refuse,
			change: func(c *DoseNotGiven) {
				*c = DoseNotGiven{AttemptID: "1", OrderID: "2", NurseID: "3"}
			},
			want: []string{
				"invalid attempt_id", "invalid order_id", "invalid reason", "invalid at",
				"invalid nurse_id",
			}},
		{name: "hold names its clinical reason", record: hold,
			change: func(c *DoseNotGiven) { c.Reason = "" },
			want:   []string{"invalid clinical_reason"}},
		{name: "unknown order", record: miss, change: func(c *DoseNotGiven) { c.OrderID = rxOrderID2 },
			want: []string{"not_found order_id"}},
		{name: "scheduled_for missing", record: miss,
			change: func(c *DoseNotGiven) { c.ScheduledFor = time.Time{} },
			want:   []string{"invalid scheduled_for"}},
		{name: "scheduled_for not a scheduled time", record: miss,
			change: func(c *DoseNotGiven) { c.ScheduledFor = eight.Add(time.Minute) },
			want:   []string{"rule scheduled_for"}},
		{name: "dose already given", record: refuse,
			history: []Event{rxGiven(9, rxOrderID, eight, eight)},
			want:    []string{"conflict scheduled_for"}},
		{name: "attempt already recorded", record: hold,
			history: []Event{attemptBlocked(1)},
			want:    []string{"conflict attempt_id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			orderCmd := rxOrderCommand()
			if c.order != nil {
				c.order(&orderCmd)
			}
			m := rxChart(t, append([]Event{rxOrdered(t, orderCmd)}, c.history...)...)
			cmd := valid
			if c.change != nil {
				c.change(&cmd)
			}
			events, err := c.record(m, cmd)
			checkRefusals(t, err, c.want, "")
			if (len(events) == 1) != (c.want == nil) {
				t.Fatalf("got %d events with refusals %q", len(events), c.want)
			}
		})
	}
}

func TestRecordDoseNotGivenEvents(t *testing.T) {
	eight := rxAt(2026, 3, 9, 8, 0)
	cmd := DoseNotGiven{
		AttemptID: rxAttempt(1), OrderID: rxOrderID, ScheduledFor: eight,
		Reason: " fever of 39 C ", At: eight.Add(time.Hour), NurseID: rxNurse,
	}
	utcEight, utcNine := eight.UTC(), eight.Add(time.Hour).UTC()
	cases := []struct {
		name   string
		record func(*Medications, DoseNotGiven) ([]Event, error)
		want   Event
	}{
		{"refused", (*Medications).RecordRefusal, MedicationRefused{
			AttemptID: rxAttempt(1), OrderID: rxOrderID, ScheduledFor: utcEight,
			Reason: "fever of 39 C", At: utcNine, NurseID: rxNurse,
		}},
		{"missed", (*Medications).RecordMissed, MedicationMissed{
			AttemptID: rxAttempt(1), OrderID: rxOrderID, ScheduledFor: utcEight,
			Reason: "fever of 39 C", At: utcNine, NurseID: rxNurse,
		}},
		{"held", (*Medications).RecordHeld, MedicationHeld{
			AttemptID: rxAttempt(1), OrderID: rxOrderID, ScheduledFor: utcEight,
			ClinicalReason: "fever of 39 C", At: utcNine, NurseID: rxNurse,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := rxChart(t, rxOrdered(t, rxOrderCommand()))
			events, err := c.record(m, cmd)
			if err != nil || !reflect.DeepEqual(events, []Event{c.want}) {
				t.Errorf("events = %#v, %v; want %#v", events, err, c.want)
			}
		})
	}
}

// TestMedicationsReplay decides a morning of doses one command at a time,
// applying each decision, then checks that a chart rebuilt from the
// stored events holds the same and decides the same.
func TestMedicationsReplay(t *testing.T) {
	live := &Medications{}
	var log []Event
	decide := func(events []Event) {
		t.Helper()
		for _, e := range events {
			if _, err := live.Apply(e); err != nil {
				t.Fatalf("apply %s: %v", e.EventType(), err)
			}
		}
		log = append(log, events...)
	}
	must := func(events []Event, err error) []Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	policy := DefaultMedicationPolicy()

	decide(must(live.NewOrder(rxOrderCommand())))
	decide(must(live.NewOrder(rxPRNCommand())))
	day := func(d, h, min int) time.Time { return rxAt(2026, 3, d, h, min) }
	for d := 9; d <= 11; d++ {
		cmd := rxDose()
		cmd.AttemptID = rxAttempt(d)
		cmd.ScheduledFor, cmd.GivenAt = day(d, 8, 0), day(d, 8, 5)
		if d == 10 {
			cmd.DoseAmount = "10"
		}
		events, _ := live.Administer(cmd, rxContext(cmd.GivenAt), policy)
		decide(events)
	}
	prn := rxDose()
	prnAt(day(9, 10, 0))(&prn)
	prn.AttemptID = rxAttempt(20)
	events, _ := live.Administer(prn, rxContext(prn.GivenAt), policy)
	decide(events)
	decide(must(live.RecordRefusal(DoseNotGiven{
		AttemptID: rxAttempt(30), OrderID: rxOrderID, ScheduledFor: day(9, 12, 30),
		Reason: "refused", At: day(9, 12, 35), NurseID: rxNurse,
	})))
	decide(must(live.RecordMissed(DoseNotGiven{
		AttemptID: rxAttempt(31), OrderID: rxOrderID, ScheduledFor: day(10, 12, 30),
		Reason: "absent", At: day(10, 15, 0), NurseID: rxNurse,
	})))
	decide(must(live.RecordHeld(DoseNotGiven{
		AttemptID: rxAttempt(32), OrderID: rxOrderID, ScheduledFor: day(11, 12, 30),
		Reason: "vomiting", At: day(11, 12, 30), NurseID: rxNurse,
	})))
	stop := DiscontinueOrder{OrderID: rxOrderID2, Reason: "stop", By: rxNurse}
	decide(must(live.Discontinue(stop, day(11, 13, 0))))

	replayed := rxChart(t, roundTrip(t, log)...)
	if got, want := replayed.Orders(), live.Orders(); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed orders = %+v, want %+v", got, want)
	}
	if got, want := replayed.Administrations(), live.Administrations(); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed administrations = %+v, want %+v", got, want)
	}

	var kinds []AdministrationKind
	for _, r := range live.Administrations() {
		kinds = append(kinds, r.Kind)
	}
	wantKinds := []AdministrationKind{
		AdministrationGiven, AdministrationBlocked, AdministrationGiven, AdministrationGiven,
		AdministrationRefused, AdministrationMissed, AdministrationHeld,
	}
	if !slices.Equal(kinds, wantKinds) {
		t.Errorf("kinds = %q, want %q", kinds, wantKinds)
	}

	// The same next command gets the same decision from both.
	next := rxDose()
	next.AttemptID = rxAttempt(40)
	next.ScheduledFor, next.GivenAt = day(10, 8, 0), day(10, 8, 30)
	liveEvents, liveRefusal := live.Administer(next, rxContext(next.GivenAt), policy)
	replayEvents, replayRefusal := replayed.Administer(next, rxContext(next.GivenAt), policy)
	if !reflect.DeepEqual(liveEvents, replayEvents) || !reflect.DeepEqual(liveRefusal, replayRefusal) {
		t.Errorf("replayed chart decides %v, %v; live chart %v, %v",
			replayEvents, replayRefusal, liveEvents, liveRefusal)
	}
	// The blocked attempt of the 10th left that dose to give.
	if liveRefusal != nil {
		t.Errorf("next dose refused: %q", failures(liveRefusal))
	}
}
