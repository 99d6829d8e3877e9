package readapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/readapi"
)

// refusalBody is what a refusal says.
type refusalBody struct {
	Status int                   `json:"status"`
	Checks []readapi.FailedCheck `json:"checks"`
	Errors []readapi.FieldError  `json:"errors"`
}

// callProblem sends one request and decodes the problem it answers.
func (w *world) callProblem(method, path, token string, body any) (int, refusalBody) {
	w.t.Helper()
	var buf strings.Builder
	json.NewEncoder(&buf).Encode(body)
	req, _ := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+path, strings.NewReader(buf.String()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var p refusalBody
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p
}

// TestMedicationSafetyScenario is the day a nurse would try first: enrol
// a student, record a life-threatening penicillin allergy, see amoxicillin
// refused with the allergy named and the blocked attempt in the log, give
// a correct scheduled dose of another medication, see the same dose again
// refused as a duplicate, and find the log intact.
func TestMedicationSafetyScenario(t *testing.T) {
	w := newWorld(t)
	nurseToken := w.tokens[nurse]

	var student readapi.Written
	enrol := readapi.EnrolRequest{StudentNumber: "S-2041", DistrictID: w.districtIn, SchoolID: w.schoolIn,
		GivenName: "Maya", FamilyName: "Okafor", BirthDate: "2017-03-14", Grade: "3", Gender: "female",
		EnrolledOn: "2025-08-20"}
	if got := w.call(http.MethodPost, "/v1/students", nurseToken, enrol, &student); got != 201 {
		t.Fatalf("enrol: %d", got)
	}
	base := "/v1/students/" + student.ID

	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "penicillin",
		AllergenType: "medication", Severity: "life-threatening", Reaction: "anaphylaxis",
		EpinephrineRequired: true, EpinephrineLocation: "nurse office, cabinet 2",
		EpinephrineExpires: "2027-06-30"}
	if got := w.call(http.MethodPost, base+"/allergies", nurseToken, allergy, nil); got != 201 {
		t.Fatalf("allergy: %d", got)
	}

	// Orders due now, in the school's zone.
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	order := func(drug string, ingredients ...string) string {
		req := readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: drug, Ingredients: ingredients,
			Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
			Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{due.Format("15:04")},
				TimeZone: "America/Chicago"},
			StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 0, 10).Format(time.DateOnly),
			Prescriber: domain.Prescriber{Name: "Dr. A. Chen"}, ConsentOn: due.AddDate(0, 0, -2).Format(time.DateOnly)}
		if got, p := w.callProblem(http.MethodPost, base+"/medication-orders", nurseToken, req); got != 201 {
			t.Fatalf("order %s: %d %+v", drug, got, p)
		}
		return req.OrderID
	}
	dose := func(orderID, drug string) readapi.AdministrationRequest {
		return readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: orderID, StudentID: student.ID,
			DrugName: drug, DoseAmount: "5", DoseUnit: "mL", Route: "oral",
			GivenAt: due.Add(2 * time.Minute), ScheduledFor: due}
	}

	amoxicillin := order("Amoxicillin", "amoxicillin")
	got, p := w.callProblem(http.MethodPost, base+"/administrations", nurseToken, dose(amoxicillin, "Amoxicillin"))
	if got != http.StatusUnprocessableEntity {
		t.Fatalf("amoxicillin: %d %+v, want 422", got, p)
	}
	if !hasCheck(p, "allergy", allergy.EntryID) {
		t.Errorf("refusal does not name the penicillin allergy: %+v", p.Checks)
	}
	named := slices.ContainsFunc(p.Checks, func(c readapi.FailedCheck) bool {
		return c.Check == "allergy" && c.EntryID == allergy.EntryID && c.Allergen == "penicillin" &&
			c.Severity == "life-threatening"
	})
	if !named {
		t.Errorf("refusal does not give the allergy's entry, allergen and severity: %+v", p.Checks)
	}
	if types := w.events(domain.StudentStream(student.ID)); !slices.Contains(types, "MedicationAdministrationBlocked") {
		t.Errorf("blocked attempt not in the log: %v", types)
	}

	cetirizine := order("Cetirizine", "cetirizine")
	first := dose(cetirizine, "Cetirizine")
	if got, p := w.callProblem(http.MethodPost, base+"/administrations", nurseToken, first); got != 201 {
		t.Fatalf("cetirizine in its window: %d %+v, want 201", got, p)
	}
	again := first
	again.AttemptID = uuid.NewString()
	got, p = w.callProblem(http.MethodPost, base+"/administrations", nurseToken, again)
	if got != http.StatusUnprocessableEntity || !hasCheck(p, "duplicate", "") {
		t.Errorf("the same dose again: %d %+v, want 422 duplicate", got, p)
	}

	var problems []eventstore.Problem
	n, err := eventstore.Verify(t.Context(), w.log, eventstore.VerifyOptions{ContiguousPositions: true},
		func(p eventstore.Problem) bool { problems = append(problems, p); return true })
	if err != nil || len(problems) > 0 {
		t.Fatalf("verify after %d events: %v %v", n, err, problems)
	}
}

func hasCheck(p refusalBody, check, mention string) bool {
	for _, c := range p.Checks {
		if c.Check == check && strings.Contains(c.Reason, mention) {
			return true
		}
	}
	return false
}

// TestControlledSubstance receives stock with a witness, refuses a
// schedule II dose without one, records a dose of two tablets with one
// and its count-back, and records a discrepancy at a shift count that
// does not match.
func TestControlledSubstance(t *testing.T) {
	w := newWorld(t)
	nurseToken := w.tokens[nurse]
	second := "second-nurse@district.example"
	w.createUser(second, domain.RoleNurse, w.schoolIn)
	witness := readapi.WitnessCredentials{Email: second, Password: password}

	stock := "/v1/schools/" + w.schoolIn + "/controlled-substances"
	receipt := readapi.ReceiptRequest{DrugName: "Methylphenidate", Quantity: 30, Unit: "tablet", Witness: witness}
	if got, p := w.callProblem(http.MethodPost, stock+"/receipts", nurseToken, receipt); got != 201 {
		t.Fatalf("receipt: %d %+v", got, p)
	}
	self := receipt
	self.Witness = readapi.WitnessCredentials{Email: w.users[nurse], Password: password}
	if got, _ := w.callProblem(http.MethodPost, stock+"/receipts", nurseToken, self); got != 422 {
		t.Errorf("the nurse as their own witness: %d, want 422", got)
	}

	base := "/v1/students/" + w.studentIn
	order := controlledOrder(w, "2")
	if got, p := w.callProblem(http.MethodPost, base+"/medication-orders", nurseToken, order); got != 201 {
		t.Fatalf("order: %d %+v", got, p)
	}
	remaining := 28
	dose := controlledDose(w, order, &remaining)
	got, p := w.callProblem(http.MethodPost, base+"/administrations", nurseToken, dose)
	if got != 422 || !hasCheck(p, "witness", "") {
		t.Fatalf("schedule II without a witness: %d %+v, want 422 witness", got, p)
	}
	dose.AttemptID = uuid.NewString()
	dose.Witness = &witness
	if got, p := w.callProblem(http.MethodPost, base+"/administrations", nurseToken, dose); got != 201 {
		t.Fatalf("with a witness: %d %+v", got, p)
	}
	shift := readapi.CountRequest{DrugName: "Methylphenidate", Counted: 27, Witness: witness}
	if got, p := w.callProblem(http.MethodPost, stock+"/counts", nurseToken, shift); got != 201 {
		t.Fatalf("shift count: %d %+v", got, p)
	}
	lost := readapi.DiscrepancyRequest{DrugName: "Methylphenidate", Counted: 26,
		Reason: "a tablet dropped and not found", Witness: witness}
	if got, p := w.callProblem(http.MethodPost, stock+"/discrepancies", nurseToken, lost); got != 201 {
		t.Fatalf("discrepancy: %d %+v", got, p)
	}
	types := w.events(domain.ControlledStream(w.schoolIn))
	want := []string{"StockReceived", "CountBackRecorded", "ShiftCountRecorded", "DiscrepancyRecorded",
		"DiscrepancyRecorded"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("controlled stream: %v, want %v (two tablets counted back without a discrepancy)", types, want)
	}
	var countBack domain.CountBackRecorded
	decodeEvent(t, w, domain.ControlledStream(w.schoolIn), 1, &countBack)
	if countBack.QuantityUsed != 2 || countBack.Unit != "tablet" || countBack.RemainingCounted != 28 {
		t.Errorf("count-back %+v, want 2 tablets used, 28 remaining", countBack)
	}
}

// controlledOrder is a schedule II order of tablets at the student in
// scope, due now, of tablets doses each.
func controlledOrder(w *world, tablets string) readapi.OrderRequest {
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	return readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: "Methylphenidate",
		Ingredients: []string{"methylphenidate"}, Strength: "10 mg", DoseAmount: tablets, DoseUnit: "tablet",
		Route: "oral", Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed,
			Times: []string{due.Format("15:04")}, TimeZone: "America/Chicago"},
		StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 1, 0).Format(time.DateOnly),
		Prescriber: domain.Prescriber{Name: "Dr. B. Ortiz"}, ConsentOn: due.AddDate(0, 0, -3).Format(time.DateOnly),
		ControlledSchedule: "II"}
}

// controlledDose is the dose due now of order, as ordered.
func controlledDose(w *world, order readapi.OrderRequest, remaining *int) readapi.AdministrationRequest {
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	return readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: order.OrderID,
		StudentID: w.studentIn, DrugName: order.DrugName, DoseAmount: order.DoseAmount,
		DoseUnit: order.DoseUnit, Route: "oral", GivenAt: due.Add(time.Minute), ScheduledFor: due,
		RemainingCounted: remaining}
}

// decodeEvent decodes the data of the event at revision of stream into
// out.
func decodeEvent(t *testing.T, w *world, stream string, revision uint64, out any) {
	t.Helper()
	evs, err := w.log.ReadStream(t.Context(), stream, eventstore.ReadOptions{From: revision, Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("read %s at %d: %v", stream, revision, err)
	}
	if err := json.Unmarshal(evs[0].Data, out); err != nil {
		t.Fatal(err)
	}
}

// TestRetriedRequests sends each request twice with one Idempotency-Key,
// as a web app does when a response is lost: the second gets the first's
// answer and the log grows once.
func TestRetriedRequests(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	send := func(path string, body any) (int, readapi.Written) {
		var buf strings.Builder
		json.NewEncoder(&buf).Encode(body)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, w.srv.URL+path, strings.NewReader(buf.String()))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Idempotency-Key", "key-"+path)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out readapi.Written
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	base := "/v1/students/" + w.studentIn
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "penicillin",
		AllergenType: "medication", Severity: "severe"}
	first, a := send(base+"/allergies", allergy)
	second, b := send(base+"/allergies", allergy)
	if first != 201 || second != 201 || a.Position != b.Position {
		t.Fatalf("allergy twice: %d %+v, %d %+v", first, a, second, b)
	}
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	order := readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: "Amoxicillin",
		Ingredients: []string{"amoxicillin"}, Strength: "250 mg", DoseAmount: "1", DoseUnit: "capsule",
		Route: "oral", Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed,
			Times: []string{due.Format("15:04")}, TimeZone: "America/Chicago"},
		StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 0, 5).Format(time.DateOnly),
		Prescriber: domain.Prescriber{Name: "Dr. C"}, ConsentOn: due.AddDate(0, 0, -1).Format(time.DateOnly)}
	if got, _ := send(base+"/medication-orders", order); got != 201 {
		t.Fatalf("order: %d", got)
	}
	dose := readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: order.OrderID,
		StudentID: w.studentIn, DrugName: "Amoxicillin", DoseAmount: "1", DoseUnit: "capsule", Route: "oral",
		GivenAt: due.Add(time.Minute), ScheduledFor: due}
	before := len(w.events(domain.StudentStream(w.studentIn)))
	first, _ = send(base+"/administrations", dose)
	second, _ = send(base+"/administrations", dose)
	if first != 422 || second != 422 {
		t.Errorf("blocked dose twice: %d then %d, want 422 both", first, second)
	}
	if after := len(w.events(domain.StudentStream(w.studentIn))); after != before+1 {
		t.Errorf("the chart grew by %d events, want 1", after-before)
	}
}

// TestChartEventsCarryContext checks the metadata of a chart event: the
// actor, role, school and request ids.
func TestChartEventsCarryContext(t *testing.T) {
	w := newWorld(t)
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "peanut",
		AllergenType: "food", Severity: "severe"}
	if got := w.call(http.MethodPost, "/v1/students/"+w.studentIn+"/allergies", w.tokens[nurse], allergy, nil); got != 201 {
		t.Fatalf("allergy: %d", got)
	}
	evs, err := w.log.ReadStream(t.Context(), domain.StudentStream(w.studentIn),
		eventstore.ReadOptions{From: eventstore.End, Backwards: true, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := evs[0].DecodeMetadata()
	if err != nil {
		t.Fatal(err)
	}
	if m.ActorID == "" || m.ActorRole != "nurse" || m.SchoolID != w.schoolIn || m.RequestID == "" || m.CorrelationID == "" {
		t.Errorf("metadata %+v lacks actor, role, school or request ids", m)
	}
}
