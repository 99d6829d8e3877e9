package domain

import (
	"reflect"
	"testing"
	"time"
)

// correctionEvents has one example of each correction of a medication
// record, an alert and a contact.
var correctionEvents = []Event{
	AdministrationMarkedInError{AttemptID: rxAttempt(1), Reason: "Charted on the wrong student.",
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000003", Revision: 3}},
	OrderMarkedInError{OrderID: rxOrderID, Reason: "Another student's prescription.",
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000002", Revision: 2}},
	AlertMarkedInError{AlertID: chartAlertID, Reason: "Raised for the wrong student.",
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000004", Revision: 4}},
	ContactMarkedInError{ContactID: chartContactA, Reason: "Another family's number.",
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000001", Revision: 1}},
}

func init() { moreEvents = append(moreEvents, correctionEvents) }

// The 08:00 dose of Monday 9 March 2026, of rxOrderCommand's order.
var (
	correctionSlot  = rxAt(2026, 3, 9, 8, 0)
	correctionGiven = rxGiven(1, rxOrderID, correctionSlot, correctionSlot.Add(5*time.Minute))
)

// correctionSetup is a chart with an order (revision 1), a dose of it
// (revision 2), an alert (revision 3) and a contact (revision 4).
func correctionSetup(t *testing.T) []Event {
	return []Event{
		rxOrdered(t, rxOrderCommand()),
		correctionGiven,
		alertEvents[0],
		studentEvents[4], // ContactAdded
	}
}

func TestMarkAdministrationInError(t *testing.T) {
	mark := func(attempt, reason string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) { return s.MarkAdministrationInError(attempt, reason) }
	}
	inError := AdministrationMarkedInError{AttemptID: rxAttempt(1), Reason: "Wrong student.",
		Original: EventRef{Revision: 2}}
	blocked := MedicationAdministrationBlocked{AttemptID: rxAttempt(2), OrderID: rxOrderID,
		AttemptedAt: t0, Failed: []FailedCheck{{Check: CheckRightTime, Reason: "late"}}}
	cases := []studentCase{
		{name: "a dose given", run: mark(rxAttempt(1), " Wrong student. "), want: []Event{inError}},
		{name: "a blocked attempt", setup: []Event{blocked}, run: mark(rxAttempt(2), "Wrong student."),
			want: []Event{AdministrationMarkedInError{AttemptID: rxAttempt(2), Reason: "Wrong student.",
				Original: EventRef{Revision: 5}}}},
		{name: "twice", setup: []Event{inError}, run: mark(rxAttempt(1), "Wrong student."),
			refuse: []string{"conflict attempt_id"}},
		{name: "an unknown attempt", run: mark(rxAttempt(9), "Wrong student."),
			refuse: []string{"not_found attempt_id"}},
		{name: "no reason, no ID", run: mark("dose", "no"),
			refuse: []string{"invalid attempt_id", "invalid reason"}},
	}
	for i := range cases {
		cases[i].setup = append(correctionSetup(t), cases[i].setup...)
	}
	runStudentCases(t, cases)
}

// TestDoseInErrorFreesItsSlot marks a scheduled dose in error and gives
// it again: the slot is free, the attempt's ID is not.
func TestDoseInErrorFreesItsSlot(t *testing.T) {
	s, _ := chartStudent(t, nil, correctionSetup(t)...)
	dose := rxDose()
	dose.StudentID = studentID
	dose.AttemptID = rxAttempt(7)
	ctx := rxContext(dose.GivenAt)
	ctx.StudentID = studentID

	_, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{})
	if refusal == nil || !refusal.Failed(CheckDuplicate) {
		t.Fatalf("the same dose again: refusal %v, want duplicate", refusal)
	}
	decideStudent(t, s, func(s *Student) ([]Event, error) {
		return s.MarkAdministrationInError(rxAttempt(1), "Charted on the wrong student.")
	})
	if r := s.Medications.Administrations()[0]; !r.InError || r.ErrorReason == "" || r.Revision != 2 {
		t.Errorf("record = %+v, want in error, with its reason, at revision 2", r)
	}
	if _, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{}); refusal != nil {
		t.Errorf("the dose given again after the first was marked in error: %v", refusal)
	}
	dose.AttemptID = rxAttempt(1)
	if _, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{}); refusal == nil ||
		!refusal.Failed(CheckDuplicate) {
		t.Errorf("the attempt in error reused: refusal %v, want duplicate", refusal)
	}
}

// TestPRNDoseInErrorDoesNotCount marks an as-needed dose in error: it no
// longer counts towards the minimum interval.
func TestPRNDoseInErrorDoesNotCount(t *testing.T) {
	first := rxAt(2026, 3, 9, 9, 0)
	given := rxGiven(1, rxOrderID2, time.Time{}, first)
	given.DoseAmount, given.DoseUnit = "1", "tablet"
	s, _ := chartStudent(t, nil, rxOrdered(t, rxPRNCommand()), given)
	dose := rxDose()
	prnAt(first.Add(time.Hour))(&dose)
	dose.StudentID, dose.AttemptID = studentID, rxAttempt(2)
	ctx := rxContext(dose.GivenAt)
	ctx.StudentID = studentID

	if _, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{}); refusal == nil ||
		!refusal.Failed(CheckRightTime) {
		t.Fatalf("an hour after a dose: refusal %v, want right_time", refusal)
	}
	decideStudent(t, s, func(s *Student) ([]Event, error) {
		return s.MarkAdministrationInError(rxAttempt(1), "Charted on the wrong student.")
	})
	if _, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{}); refusal != nil {
		t.Errorf("after the first dose was marked in error: %v", refusal)
	}
}

func TestMarkOrderInError(t *testing.T) {
	mark := func(order, reason string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) { return s.MarkOrderInError(order, reason) }
	}
	inError := OrderMarkedInError{OrderID: rxOrderID, Reason: "Not this student's.",
		Original: EventRef{Revision: 1}}
	cases := []studentCase{
		{name: "an order", run: mark(rxOrderID, "Not this student's."), want: []Event{inError}},
		{name: "a discontinued order", setup: []Event{stoppedAt(t0)},
			run: mark(rxOrderID, "Not this student's."), want: []Event{inError}},
		{name: "twice", setup: []Event{inError}, run: mark(rxOrderID, "Not this student's."),
			refuse: []string{"conflict order_id"}},
		{name: "an unknown order", run: mark(rxOrderID2, "Not this student's."),
			refuse: []string{"not_found order_id"}},
		{name: "no reason", run: mark(rxOrderID, ""), refuse: []string{"invalid reason"}},
	}
	for i := range cases {
		cases[i].setup = append(correctionSetup(t), cases[i].setup...)
	}
	runStudentCases(t, cases)
}

// TestOrderInErrorTakesNoDose: after an order is marked in error, no dose
// is given, refused, missed or held against it, and it is not
// discontinued.
func TestOrderInErrorTakesNoDose(t *testing.T) {
	s, _ := chartStudent(t, nil, append(correctionSetup(t),
		OrderMarkedInError{OrderID: rxOrderID, Reason: "Not this student's."})...)
	dose := rxDose()
	dose.StudentID, dose.AttemptID = studentID, rxAttempt(8)
	dose.ScheduledFor, dose.GivenAt = rxAt(2026, 3, 9, 12, 30), rxAt(2026, 3, 9, 12, 35)
	ctx := rxContext(dose.GivenAt)
	ctx.StudentID = studentID

	_, refusal := s.Medications.Administer(dose, ctx, MedicationPolicy{})
	if refusal == nil || !refusal.Failed(CheckRightDrug) {
		t.Errorf("a dose of an order in error: refusal %v, want right_drug", refusal)
	}
	_, err := s.Medications.RecordRefusal(DoseNotGiven{AttemptID: rxAttempt(9), OrderID: rxOrderID,
		ScheduledFor: dose.ScheduledFor, Reason: "refused", At: dose.GivenAt, NurseID: rxNurse})
	checkRefusals(t, err, []string{"conflict order_id"}, "")
	_, err = s.Medications.Discontinue(DiscontinueOrder{OrderID: rxOrderID, Reason: "stop", By: rxNurse}, t0)
	checkRefusals(t, err, []string{"conflict order_id"}, "")
	if o, _ := s.Medications.Order(rxOrderID); !o.InError || o.Revision != 1 {
		t.Errorf("order = %+v, want in error, recorded at revision 1", o)
	}
}

func TestMarkAlertInError(t *testing.T) {
	mark := func(alert, reason string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) { return s.MarkAlertInError(alert, reason) }
	}
	inError := AlertMarkedInError{AlertID: chartAlertID, Reason: "Wrong student.",
		Original: EventRef{Revision: 3}}
	cases := []studentCase{
		{name: "an active alert", run: mark(chartAlertID, "Wrong student."), want: []Event{inError}},
		{name: "a resolved alert", setup: []Event{alertEvents[2]},
			run: mark(chartAlertID, "Wrong student."), want: []Event{inError}},
		{name: "twice", setup: []Event{inError}, run: mark(chartAlertID, "Wrong student."),
			refuse: []string{"conflict alert_id"}},
		{name: "an unknown alert", run: mark(chartOtherAlertID, "Wrong student."),
			refuse: []string{"not_found alert_id"}},
	}
	for i := range cases {
		cases[i].setup = append(correctionSetup(t), cases[i].setup...)
	}
	runStudentCases(t, cases)

	s, _ := chartStudent(t, nil, append(correctionSetup(t), inError)...)
	if active := s.ActiveAlerts(); active != nil {
		t.Errorf("active alerts after the only one was marked in error: %+v", active)
	}
	_, err := s.AcknowledgeAlert(chartAlertID, adminID, t0)
	checkRefusals(t, err, []string{"conflict alert_id"}, "")
	_, err = s.ResolveAlert(ResolveAlert{AlertID: chartAlertID, By: adminID, Outcome: "EMS."}, t0)
	checkRefusals(t, err, []string{"conflict alert_id"}, "")
}

func TestMarkContactInError(t *testing.T) {
	mark := func(contact, reason string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) { return s.MarkContactInError(contact, reason) }
	}
	inError := ContactMarkedInError{ContactID: chartContactA, Reason: "Wrong number.",
		Original: EventRef{Revision: 4}}
	cases := []studentCase{
		{name: "a contact", run: mark(chartContactA, "Wrong number."), want: []Event{inError}},
		{name: "a contact removed", setup: []Event{ContactRemoved{ContactID: chartContactA}},
			run: mark(chartContactA, "Wrong number."), refuse: []string{"not_found contact_id"}},
		{name: "no ID", run: mark("", "Wrong number."), refuse: []string{"invalid contact_id"}},
	}
	for i := range cases {
		cases[i].setup = append(correctionSetup(t), cases[i].setup...)
	}
	runStudentCases(t, cases)

	s, _ := chartStudent(t, nil, append(correctionSetup(t), inError)...)
	if s.Contacts != nil {
		t.Errorf("contacts after the only one was marked in error: %+v", s.Contacts)
	}
}

// TestCorrectionsNameTheirOriginal gives the chart its event IDs: each
// correction names the event it corrects by ID and revision, and
// replaying the history reproduces the chart.
func TestCorrectionsNameTheirOriginal(t *testing.T) {
	s, history := chartStudent(t, nil, append(correctionSetup(t), chartEvents[0])...)
	ids := []string{
		"0e7e0000-0000-4000-8000-000000000000", "0e7e0000-0000-4000-8000-000000000001",
		"0e7e0000-0000-4000-8000-000000000002", "0e7e0000-0000-4000-8000-000000000003",
		"0e7e0000-0000-4000-8000-000000000004", "0e7e0000-0000-4000-8000-000000000005",
	}
	s.WithEventIDs(ids)
	cases := []struct {
		name string
		run  func(*Student) ([]Event, error)
		want EventRef
	}{
		{"order", func(s *Student) ([]Event, error) { return s.MarkOrderInError(rxOrderID, "Wrong chart.") },
			EventRef{ids[1], 1}},
		{"dose", func(s *Student) ([]Event, error) {
			return s.MarkAdministrationInError(rxAttempt(1), "Wrong chart.")
		}, EventRef{ids[2], 2}},
		{"alert", func(s *Student) ([]Event, error) { return s.MarkAlertInError(chartAlertID, "Wrong chart.") },
			EventRef{ids[3], 3}},
		{"contact", func(s *Student) ([]Event, error) {
			return s.MarkContactInError(chartContactA, "Wrong chart.")
		}, EventRef{ids[4], 4}},
		{"amendment", func(s *Student) ([]Event, error) {
			return s.AmendEntry(AmendEntry{EntryID: chartAllergyID, Reason: "Allergist's letter.",
				Changes: map[string]any{"severity": "mild"}}, t0)
		}, EventRef{ids[5], 5}},
		{"entry", func(s *Student) ([]Event, error) { return s.MarkInError(chartAllergyID, "Wrong chart.") },
			EventRef{ids[5], 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := c.run(s)
			if err != nil {
				t.Fatal(err)
			}
			got := reflect.ValueOf(events[0]).FieldByName("Original").Interface()
			if got != c.want {
				t.Errorf("Original = %+v, want %+v", got, c.want)
			}
		})
	}

	// Applied in turn: the entry is amended before it is marked in error.
	for _, c := range cases {
		events, err := c.run(s)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mustApply(t, s, events)
		history = append(history, events...)
	}
	replayed, err := FoldStudent(roundTrip(t, history))
	if err != nil {
		t.Fatal(err)
	}
	replayed.WithEventIDs(ids)
	if !reflect.DeepEqual(replayed, s) {
		t.Errorf("replayed chart differs:\n got %#v\nwant %#v", replayed, s)
	}
}

func TestNewOrderOfAWithdrawnStudent(t *testing.T) {
	withdrawn := StudentWithdrawn{On: "2026-01-30", Reason: "moved"}
	cases := []studentCase{
		{name: "enrolled", run: func(s *Student) ([]Event, error) { return s.NewOrder(rxOrderCommand()) },
			want: []Event{rxOrdered(t, rxOrderCommand())}},
		{name: "withdrawn", setup: []Event{withdrawn},
			run:    func(s *Student) ([]Event, error) { return s.NewOrder(rxOrderCommand()) },
			refuse: []string{"rule enrolled"}},
		{name: "withdrawn, and an invalid field", setup: []Event{withdrawn},
			run: func(s *Student) ([]Event, error) {
				cmd := rxOrderCommand()
				cmd.Route = "by post"
				return s.NewOrder(cmd)
			},
			refuse: []string{"invalid route"}},
		{name: "an order already on the chart", setup: []Event{rxOrdered(t, rxOrderCommand())},
			run:    func(s *Student) ([]Event, error) { return s.NewOrder(rxOrderCommand()) },
			refuse: []string{"conflict order_id"}},
	}
	runStudentCases(t, cases)
}
