package readapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/readapi"
)

// send sends body as JSON with token and the header name and value pairs
// given, and returns the status and the body of the answer.
func (w *world) send(method, path, token string, body any, header ...string) (int, []byte) {
	w.t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			w.t.Fatal(err)
		}
	}
	return w.rawAnswer(method, path, token, data, header...)
}

// mustWrite sends a command that must answer 201, and returns its answer.
func (w *world) mustWrite(path, token string, body any, header ...string) readapi.Written {
	w.t.Helper()
	status, data := w.send(http.MethodPost, path, token, body, header...)
	if status != http.StatusCreated {
		w.t.Fatalf("POST %s: %d %s, want 201", path, status, data)
	}
	var out readapi.Written
	if err := json.Unmarshal(data, &out); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// lastMetadata returns the metadata of the last event of stream.
func (w *world) lastMetadata(stream string) eventstore.Metadata {
	w.t.Helper()
	evs, err := w.log.ReadStream(w.t.Context(), stream,
		eventstore.ReadOptions{From: eventstore.End, Backwards: true, Limit: 1})
	if err != nil {
		w.t.Fatal(err)
	}
	m, err := evs[0].DecodeMetadata()
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

// newNurse makes a nurse account with roles at schools, logs in, and
// returns its token.
func (w *world) newNurse(email string, roles []domain.Role, schools ...string) string {
	w.t.Helper()
	_, _, err := w.accounts.CreateUser(w.t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: email, DisplayName: "Someone", Roles: roles, Schools: schools, Password: password})
	if err != nil {
		w.t.Fatalf("create %s: %v", email, err)
	}
	return w.login(email).AccessToken
}

// fixedOrder is an order of drug due now at the student in scope, 5 mL
// by mouth.
func (w *world) fixedOrder(drug string, ingredients ...string) readapi.OrderRequest {
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	return readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: drug, Ingredients: ingredients,
		Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
		Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{due.Format("15:04")},
			TimeZone: "America/Chicago"},
		StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 0, 10).Format(time.DateOnly),
		Prescriber: domain.Prescriber{Name: "Dr. A. Chen"}, ConsentOn: due.AddDate(0, 0, -2).Format(time.DateOnly)}
}

// doseOf is the dose of order due now, as ordered, two minutes late.
func (w *world) doseOf(order readapi.OrderRequest) readapi.AdministrationRequest {
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	return readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: order.OrderID,
		StudentID: w.studentIn, DrugName: order.DrugName, DoseAmount: order.DoseAmount,
		DoseUnit: order.DoseUnit, Route: order.Route, GivenAt: due.Add(2 * time.Minute), ScheduledFor: due}
}

// TestCommandAnswersWithItsEvent: a command answers 201 with the event
// as the log recorded it, and the position of the last; a retry under
// the same key answers the same event.
func TestCommandAnswersWithItsEvent(t *testing.T) {
	w := newWorld(t)
	base := "/v1/students/" + w.studentIn
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "peanut",
		AllergenType: "food", Severity: "severe"}
	got := w.mustWrite(base+"/allergies", w.tokens[nurse], allergy, "Idempotency-Key", "allergy-1")

	evs, err := w.log.ReadStream(t.Context(), domain.StudentStream(w.studentIn),
		eventstore.ReadOptions{From: eventstore.End, Backwards: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	want := readapi.RecordedEvent{ID: e.ID.String(), Type: "AllergyRecorded", SchemaVersion: 1,
		Stream: domain.StudentStream(w.studentIn), Revision: e.Revision, Position: e.Position,
		RecordedAt: e.RecordedAt}
	if got.Event == nil || len(got.Events) != 1 {
		t.Fatalf("answer %+v, want one event", got)
	}
	recorded := *got.Event
	data := recorded.Data
	recorded.Data = nil
	recorded.RecordedAt = recorded.RecordedAt.UTC()
	if !reflect.DeepEqual(recorded, want) || got.Position != e.Position || got.ID != w.studentIn {
		t.Errorf("answer %+v, position %d, id %s\nwant event %+v at %d", recorded, got.Position, got.ID,
			want, e.Position)
	}
	if !bytes.Equal(data, e.Data) {
		t.Errorf("data %s, want as recorded %s", data, e.Data)
	}

	again := w.mustWrite(base+"/allergies", w.tokens[nurse], allergy, "Idempotency-Key", "allergy-1")
	if again.Event == nil || again.Event.ID != got.Event.ID || again.Position != got.Position {
		t.Errorf("retry answered %+v, want the first answer %+v", again, got)
	}
}

// TestIdempotencyKeyTiedToCallerAndBody: the same key from another
// nurse, or with another body, is refused with nothing appended; the
// same request again answers the first result.
func TestIdempotencyKeyTiedToCallerAndBody(t *testing.T) {
	w := newWorld(t)
	other := w.newNurse("other-nurse@district.example", []domain.Role{domain.RoleNurse}, w.schoolIn)
	base := "/v1/students/" + w.studentIn
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "latex",
		AllergenType: "latex", Severity: "moderate"}
	key := []string{"Idempotency-Key", "shared-key"}
	first := w.mustWrite(base+"/allergies", w.tokens[nurse], allergy, key...)

	changed := allergy
	changed.Severity = "severe"
	before := w.head()
	for name, c := range map[string]struct {
		token string
		body  any
	}{
		"another nurse": {other, allergy},
		"another body":  {w.tokens[nurse], changed},
	} {
		status, data := w.send(http.MethodPost, base+"/allergies", c.token, c.body, key...)
		var p problemBody
		json.Unmarshal(data, &p)
		if status != http.StatusUnprocessableEntity || p.Type != readapi.TypeIdempotencyKeyReused {
			t.Errorf("%s under the same key: %d %s, want 422 %s", name, status, data,
				readapi.TypeIdempotencyKeyReused)
		}
	}
	// Enrolment appends to two streams: neither is touched.
	enrol := readapi.EnrolRequest{StudentNumber: "S-3001", DistrictID: w.districtIn, SchoolID: w.schoolIn,
		GivenName: "Lee", FamilyName: "Park", BirthDate: "2016-02-02", Grade: "4", Gender: "male",
		EnrolledOn: "2025-08-20"}
	w.mustWrite("/v1/students", w.tokens[nurse], enrol, "Idempotency-Key", "enrol-1")
	enrol.StudentNumber = "S-3002"
	mark := w.head()
	if status, data := w.send(http.MethodPost, "/v1/students", w.tokens[nurse], enrol,
		"Idempotency-Key", "enrol-1"); status != http.StatusUnprocessableEntity {
		t.Errorf("an enrolment of another number under the same key: %d %s, want 422", status, data)
	}
	if after := w.head(); after != mark {
		t.Errorf("refused enrolment appended %v", w.typesSince(mark))
	}
	if types := w.typesSince(before); len(types) != 2 {
		t.Errorf("after the refusals the log holds %v beyond the allergy, want the first enrolment only", types)
	}
	again := w.mustWrite(base+"/allergies", w.tokens[nurse], allergy, key...)
	if again.Event.ID != first.Event.ID {
		t.Errorf("the same request again: event %s, want %s", again.Event.ID, first.Event.ID)
	}
}

// TestRoleThatGrantsIsRecorded: a nurse who also holds a role listed
// first gives doses as a nurse, and may override an allergy warning
// where a nurse may; the events record the role that granted them.
func TestRoleThatGrantsIsRecorded(t *testing.T) {
	w := newWorld(t)
	token := w.newNurse("admin-and-nurse@district.example",
		[]domain.Role{domain.RoleSchoolAdmin, domain.RoleNurse}, w.schoolIn)
	base := "/v1/students/" + w.studentIn
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "amoxicillin",
		AllergenType: "medication", Severity: "mild"}
	w.mustWrite(base+"/allergies", token, allergy)
	if m := w.lastMetadata(domain.StudentStream(w.studentIn)); m.ActorRole != "nurse" {
		t.Errorf("allergy recorded under role %q, want nurse", m.ActorRole)
	}

	order := w.fixedOrder("Amoxicillin", "amoxicillin")
	w.mustWrite(base+"/medication-orders", token, order)
	dose := w.doseOf(order)
	got, p := w.callProblem(http.MethodPost, base+"/administrations", token, dose)
	if got != 422 || !hasCheck(p, "allergy", allergy.EntryID) {
		t.Fatalf("without an override: %d %+v, want 422 allergy", got, p)
	}
	dose.AttemptID = uuid.NewString()
	dose.Override = &domain.Override{ReasonCode: domain.OverridePrescriberConsulted}
	w.mustWrite(base+"/administrations", token, dose)
	if m := w.lastMetadata(domain.StudentStream(w.studentIn)); m.ActorRole != "nurse" {
		t.Errorf("dose given under role %q, want nurse", m.ActorRole)
	}
	if got := w.lastMetadata(domain.StudentStream(w.studentIn)); got.SchoolID != w.schoolIn {
		t.Errorf("dose school %q, want %q", got.SchoolID, w.schoolIn)
	}
}

// TestCountBack: for a controlled substance the count-back is required
// and counted in the stock's unit, both checked before anything is
// recorded, and the count-back names the student's school whatever the
// caller's.
func TestCountBack(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	second, _, err := w.accounts.CreateSchool(ctx, system, commands.Meta{}, w.districtIn, "Second")
	if err != nil {
		t.Fatal(err)
	}
	token := w.newNurse("two-schools@district.example", []domain.Role{domain.RoleNurse}, w.schoolIn, second)
	w.createUser("witness@district.example", domain.RoleNurse, w.schoolIn)
	witness := readapi.WitnessCredentials{Email: "witness@district.example", Password: password}
	stock := "/v1/schools/" + w.schoolIn + "/controlled-substances"
	w.mustWrite(stock+"/receipts", token, readapi.ReceiptRequest{DrugName: "Methylphenidate",
		Quantity: 30, Unit: "tablet", Witness: witness})

	base := "/v1/students/" + w.studentIn
	order := controlledOrder(w, "2")
	w.mustWrite(base+"/medication-orders", token, order)
	inML := controlledOrder(w, "5")
	inML.DoseUnit, inML.Strength = "mL", "5 mg/5 mL"
	w.mustWrite(base+"/medication-orders", token, inML)

	remaining := 28
	cases := []struct {
		name  string
		dose  readapi.AdministrationRequest
		field string
	}{
		{"no count-back", controlledDose(w, order, nil), "remaining_counted"},
		{"a dose in mL of a stock of tablets", controlledDose(w, inML, &remaining), "dose_unit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			c.dose.Witness = &witness
			before := w.head()
			got, p := w.callProblem(http.MethodPost, base+"/administrations", token, c.dose)
			if got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != c.field {
				t.Errorf("%d %+v, want 400 naming %s", got, p, c.field)
			}
			if after := w.head(); after != before {
				t.Errorf("a refused dose appended %v", w.typesSince(before))
			}
		})
	}
	w.t = t

	dose := controlledDose(w, order, &remaining)
	dose.Witness = &witness
	w.mustWrite(base+"/administrations", token, dose, "X-Request-Id", "dose-req-1")
	types := w.events(domain.ControlledStream(w.schoolIn))
	if want := []string{"StockReceived", "CountBackRecorded"}; !slices.Equal(types, want) {
		t.Errorf("controlled stream %v, want %v: two tablets of 30 leave 28", types, want)
	}
	m := w.lastMetadata(domain.ControlledStream(w.schoolIn))
	if m.SchoolID != w.schoolIn || m.RequestID != "dose-req-1" || m.ActorRole != "nurse" {
		t.Errorf("count-back metadata %+v, want the student's school, the request and the role", m)
	}
}

// TestWitnessCheckedAfterTheBody: a malformed request is answered alike
// whether the witness's password is right or wrong, so that the answer
// says nothing of it.
func TestWitnessCheckedAfterTheBody(t *testing.T) {
	w := newWorld(t)
	w.createUser("witness@district.example", domain.RoleNurse, w.schoolIn)
	right := readapi.WitnessCredentials{Email: "witness@district.example", Password: password}
	wrong := readapi.WitnessCredentials{Email: "witness@district.example", Password: "Not-The-Password-1"}
	stock := "/v1/schools/" + w.schoolIn + "/controlled-substances"
	base := "/v1/students/" + w.studentIn
	order := controlledOrder(w, "1")
	w.mustWrite(base+"/medication-orders", w.tokens[nurse], order)

	requests := []struct {
		name, path string
		body       func(readapi.WitnessCredentials) any
	}{
		{"a receipt without a unit", stock + "/receipts", func(wc readapi.WitnessCredentials) any {
			return readapi.ReceiptRequest{DrugName: "Methylphenidate", Quantity: 30, Witness: wc}
		}},
		{"a count below zero", stock + "/counts", func(wc readapi.WitnessCredentials) any {
			return readapi.CountRequest{DrugName: "Methylphenidate", Counted: -1, Witness: wc}
		}},
		{"a discrepancy without a reason", stock + "/discrepancies", func(wc readapi.WitnessCredentials) any {
			return readapi.DiscrepancyRequest{DrugName: "Methylphenidate", Counted: 3, Witness: wc}
		}},
		{"a dose without its count-back", base + "/administrations", func(wc readapi.WitnessCredentials) any {
			d := controlledDose(w, order, nil)
			d.AttemptID = "a5a5a5a5-0000-4000-8000-000000000001"
			d.Witness = &wc
			return d
		}},
	}
	for _, r := range requests {
		t.Run(r.name, func(t *testing.T) {
			w.t = t
			before := w.head()
			rightStatus, rightBody := w.send(http.MethodPost, r.path, w.tokens[nurse], r.body(right))
			wrongStatus, wrongBody := w.send(http.MethodPost, r.path, w.tokens[nurse], r.body(wrong))
			if rightStatus != 400 || wrongStatus != rightStatus ||
				!bytes.Equal(withoutRequestID(t, rightBody), withoutRequestID(t, wrongBody)) {
				t.Errorf("right password: %d %s\nwrong password: %d %s\nwant the same 400",
					rightStatus, rightBody, wrongStatus, wrongBody)
			}
			if after := w.head(); after != before {
				t.Errorf("refused requests appended %v", w.typesSince(before))
			}
		})
	}
}

// withoutRequestID returns a problem without its request_id, which
// differs from one request to the next.
func withoutRequestID(t *testing.T, body []byte) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	delete(p, "request_id")
	out, _ := json.Marshal(p)
	return out
}

// TestCorrelationID: an incoming X-Correlation-ID is recorded, a
// malformed one refused with nothing appended, and without one the
// request ID stands in.
func TestCorrelationID(t *testing.T) {
	w := newWorld(t)
	path := "/v1/students/" + w.studentIn + "/allergies"
	allergy := func() readapi.AllergyRequest {
		return readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "bee stings",
			AllergenType: "insect", Severity: "severe"}
	}
	stream := domain.StudentStream(w.studentIn)

	w.mustWrite(path, w.tokens[nurse], allergy(), "X-Correlation-ID", "visit-2041.morning")
	if m := w.lastMetadata(stream); m.CorrelationID != "visit-2041.morning" || m.RequestID == m.CorrelationID {
		t.Errorf("metadata %+v, want the correlation ID sent", m)
	}
	w.mustWrite(path, w.tokens[nurse], allergy(), "X-Request-Id", "req-42")
	if m := w.lastMetadata(stream); m.CorrelationID != "req-42" || m.RequestID != "req-42" {
		t.Errorf("metadata %+v, want the request ID as correlation ID", m)
	}
	before := w.head()
	status, data := w.send(http.MethodPost, path, w.tokens[nurse], allergy(), "X-Correlation-ID", "not valid!")
	if status != 400 || !strings.Contains(string(data), readapi.HeaderCorrelationID) {
		t.Errorf("a malformed correlation ID: %d %s, want 400 naming the header", status, data)
	}
	if after := w.head(); after != before {
		t.Errorf("refused request appended %v", w.typesSince(before))
	}
}

// TestEnrolmentCarriesTheSchool: the enrolment and the reservation of the
// student number name the student's school.
func TestEnrolmentCarriesTheSchool(t *testing.T) {
	w := newWorld(t)
	enrol := readapi.EnrolRequest{StudentNumber: "S-4001", DistrictID: w.districtIn, SchoolID: w.schoolIn,
		GivenName: "Ada", FamilyName: "Moss", BirthDate: "2015-05-05", Grade: "5", Gender: "female",
		EnrolledOn: "2025-08-20"}
	got := w.mustWrite("/v1/students", w.tokens[nurse], enrol)
	for _, stream := range []string{domain.StudentStream(got.ID),
		domain.StudentNumberStream(w.districtIn, "S-4001")} {
		if m := w.lastMetadata(stream); m.SchoolID != w.schoolIn || m.ActorRole != "nurse" {
			t.Errorf("%s: metadata %+v, want the school and the role", stream, m)
		}
	}
}

// TestDoseNotGivenRoutes records a refusal, a miss and a hold, each on a
// route of its own.
func TestDoseNotGivenRoutes(t *testing.T) {
	w := newWorld(t)
	base := "/v1/students/" + w.studentIn
	for route, typ := range map[string]string{
		"refusals": "MedicationRefused", "missed": "MedicationMissed", "holds": "MedicationHeld",
	} {
		order := w.fixedOrder("Cetirizine "+route, "cetirizine")
		w.mustWrite(base+"/medication-orders", w.tokens[nurse], order)
		dose := w.doseOf(order)
		got := w.mustWrite(base+"/administrations/"+route, w.tokens[nurse], readapi.DoseNotGivenRequest{
			AttemptID: dose.AttemptID, OrderID: order.OrderID, ScheduledFor: dose.ScheduledFor,
			Reason: "vomiting since breakfast"})
		if got.Event == nil || got.Event.Type != typ || got.ID != dose.AttemptID {
			t.Errorf("%s: %+v, want a %s", route, got, typ)
		}
	}
}

// TestMedicationCorrections marks a dose, an order, an alert and contacts
// entered in error, each naming the event it corrects.
func TestMedicationCorrections(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	base := "/v1/students/" + w.studentIn
	reason := readapi.InErrorRequest{Reason: "charted on the wrong student"}
	original := func(got readapi.Written) domain.EventRef {
		t.Helper()
		var e struct {
			Original domain.EventRef `json:"original"`
		}
		if got.Event == nil || json.Unmarshal(got.Event.Data, &e) != nil {
			t.Fatalf("no event in %+v", got)
		}
		return e.Original
	}

	order := w.fixedOrder("Cetirizine", "cetirizine")
	ordered := w.mustWrite(base+"/medication-orders", tok, order)
	dose := w.doseOf(order)
	given := w.mustWrite(base+"/administrations", tok, dose)
	inError := w.mustWrite(base+"/administrations/"+dose.AttemptID+"/entered-in-error", tok, reason)
	want := domain.EventRef{EventID: given.Event.ID, Revision: given.Event.Revision}
	if got := original(inError); got != want {
		t.Errorf("dose in error names %+v, want %+v", got, want)
	}
	dose.AttemptID = uuid.NewString()
	w.mustWrite(base+"/administrations", tok, dose) // the scheduled dose is free again

	orderInError := w.mustWrite(base+"/medication-orders/"+order.OrderID+"/entered-in-error", tok, reason)
	if got := original(orderInError); got.EventID != ordered.Event.ID {
		t.Errorf("order in error names %+v, want event %s", got, ordered.Event.ID)
	}
	tomorrow := dose
	tomorrow.AttemptID = uuid.NewString()
	tomorrow.ScheduledFor, tomorrow.GivenAt = dose.ScheduledFor.AddDate(0, 0, 1), dose.GivenAt.AddDate(0, 0, 1)
	w.clock.Add(24 * time.Hour)
	tok = w.login(w.users[nurse]).AccessToken
	if got, p := w.callProblem(http.MethodPost, base+"/administrations", tok, tomorrow); got != 422 ||
		!hasCheck(p, "right_drug", "") {
		t.Errorf("a dose of an order in error: %d %+v, want 422 right_drug", got, p)
	}

	alert := readapi.AlertRequest{AlertID: uuid.NewString(), Kind: "asthma", Location: "gym"}
	raised := w.mustWrite(base+"/alerts", tok, alert)
	alertInError := w.mustWrite(base+"/alerts/"+alert.AlertID+"/entered-in-error", tok, reason)
	if got := original(alertInError); got.EventID != raised.Event.ID {
		t.Errorf("alert in error names %+v, want event %s", got, raised.Event.ID)
	}
	if got := w.call(http.MethodPost, base+"/alerts/"+alert.AlertID+"/acknowledge", tok, nil, nil); got != 409 {
		t.Errorf("acknowledging an alert in error: %d, want 409", got)
	}

	for _, correction := range []string{"removal", "entered-in-error"} {
		contact := readapi.ContactRequest{ContactID: uuid.NewString(), Name: "R. Rivera",
			Relationship: "aunt", Phone: "+1 555 010 2000", Priority: 2}
		w.mustWrite(base+"/contacts", tok, contact)
		var body any
		if correction == "entered-in-error" {
			body = reason
		}
		w.mustWrite(base+"/contacts/"+contact.ContactID+"/"+correction, tok, body)
		if got := w.call(http.MethodPost, base+"/contacts/"+contact.ContactID+"/"+correction, tok,
			body, nil); got != 404 {
			t.Errorf("%s of a contact no longer on the chart: %d, want 404", correction, got)
		}
	}
	types := w.events(domain.StudentStream(w.studentIn))
	for _, typ := range []string{"AdministrationMarkedInError", "OrderMarkedInError", "AlertMarkedInError",
		"ContactRemoved", "ContactMarkedInError"} {
		if !slices.Contains(types, typ) {
			t.Errorf("no %s in the chart: %v", typ, types)
		}
	}
}

// TestOrderForAWithdrawnStudent is refused, naming the check.
func TestOrderForAWithdrawnStudent(t *testing.T) {
	w := newWorld(t)
	base := "/v1/students/" + w.studentIn
	w.mustWrite(base+"/withdraw", w.tokens[nurse], readapi.WithdrawRequest{On: "2025-09-01", Reason: "moved"})
	before := w.head()
	got, p := w.callProblem(http.MethodPost, base+"/medication-orders", w.tokens[nurse],
		w.fixedOrder("Cetirizine", "cetirizine"))
	if got != 422 || !hasCheck(p, "enrolled", "") {
		t.Errorf("an order for a withdrawn student: %d %+v, want 422 enrolled", got, p)
	}
	if after := w.head(); after != before {
		t.Errorf("refused order appended %v", w.typesSince(before))
	}
}

// TestPainFlagged: a pain score of 7 or more is flagged.
func TestPainFlagged(t *testing.T) {
	w := newWorld(t)
	pain := 8
	got := w.mustWrite("/v1/students/"+w.studentIn+"/vitals", w.tokens[nurse], readapi.VitalsRequest{
		EntryID: uuid.NewString(), MeasuredAt: w.clock.Now().Add(-time.Minute), Pain: &pain})
	var vitals domain.VitalsRecorded
	if err := json.Unmarshal(got.Event.Data, &vitals); err != nil {
		t.Fatal(err)
	}
	if len(vitals.Flags) != 1 || vitals.Flags[0].Measure != domain.MeasurePain {
		t.Errorf("flags %+v, want pain", vitals.Flags)
	}
}
