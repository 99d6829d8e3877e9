package readapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

func (w *world) student(inScope bool) string {
	if inScope {
		return w.studentIn
	}
	return w.studentOut
}

// appendEvents appends events to stream and returns the position of the
// last.
func (w *world) appendEvents(stream string, events ...domain.Event) uint64 {
	w.t.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		if err != nil {
			w.t.Fatal(err)
		}
		data[i] = eventstore.EventData{Type: typ, SchemaVersion: version, Data: payload}
	}
	res, err := w.log.Append(context.Background(), stream, eventstore.Any, data...)
	if err != nil {
		w.t.Fatalf("append to %s: %v", stream, err)
	}
	return res.Position
}

// readsSince returns the reads of health information recorded after
// position.
func (w *world) readsSince(position uint64) []domain.PHIAccessed {
	w.t.Helper()
	read, _ := w.accessesSince(position)
	return read
}

// doseDay is the day of the dose tests, a Monday long past.
const doseDay = "2025-03-03"

// slot returns the instant of a time of doseDay in UTC, written "08:00".
func slot(hhmm string) time.Time {
	t, err := time.Parse(time.DateOnly+" 15:04", doseDay+" "+hhmm)
	if err != nil {
		panic(err)
	}
	return t
}

// fixedOrderAt returns an order at fixed times of day in UTC for 2025.
func fixedOrderAt(times ...string) domain.MedicationOrdered {
	return domain.MedicationOrdered{
		OrderID: uuid.NewString(), DrugName: "Amoxicillin", Ingredients: []string{"amoxicillin"},
		Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
		Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: times, TimeZone: "UTC"},
		StartOn:  "2025-01-01", EndOn: "2025-12-31", ConsentOn: "2024-12-20",
		Prescriber: domain.Prescriber{Name: "Dr Who"}, OrderedBy: uuid.NewString(),
	}
}

// medicatedStudents enrols n students at the world's school, each with
// an order at 08:00 and 12:00 whose 08:00 dose of doseDay was given, and
// returns their IDs and the log position of the last event.
func (w *world) medicatedStudents(n int) ([]string, uint64) {
	w.t.Helper()
	var ids []string
	var last uint64
	for range n {
		id := w.enrol(w.districtIn, w.schoolIn)
		order := fixedOrderAt("08:00", "12:00")
		last = w.appendEvents(domain.StudentStream(id), order, domain.MedicationAdministered{
			AttemptID: uuid.NewString(), OrderID: order.OrderID, GivenAt: slot("08:05"),
			ScheduledFor: slot("08:00"), DoseAmount: "5", DoseUnit: "mL", Route: "oral",
			NurseID: uuid.NewString()})
		ids = append(ids, id)
	}
	return ids, last
}

// TestSchoolDoses: a nurse lists the school's doses of a past day, each
// with its state; the access event names exactly the students listed.
func TestSchoolDoses(t *testing.T) {
	w := newWorld(t)
	order := fixedOrderAt("08:00", "12:00", "15:00", "18:00")
	stream := domain.StudentStream(w.studentIn)
	nurseID := uuid.NewString()
	pos := w.appendEvents(stream, order,
		domain.MedicationAdministered{AttemptID: uuid.NewString(), OrderID: order.OrderID,
			GivenAt: slot("08:05"), ScheduledFor: slot("08:00"), DoseAmount: "5", DoseUnit: "mL",
			Route: "oral", NurseID: nurseID},
		domain.MedicationRefused{AttemptID: uuid.NewString(), OrderID: order.OrderID,
			ScheduledFor: slot("12:00"), Reason: "refused", At: slot("12:03"), NurseID: nurseID},
		domain.MedicationHeld{AttemptID: uuid.NewString(), OrderID: order.OrderID,
			ScheduledFor: slot("15:00"), ClinicalReason: "fever", At: slot("14:50"), NurseID: nurseID})
	// A dose at another school, which the list must not show.
	w.appendEvents(domain.StudentStream(w.studentOut), fixedOrderAt("08:00"))

	var day projections.DoseDay
	path := fmt.Sprintf("/v1/schools/%s/doses?date=%s&after=%d", w.schoolIn, doseDay, pos)
	before := w.head()
	if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &day); got != 200 {
		t.Fatalf("doses: %d", got)
	}
	var states []string
	for _, s := range day.Scheduled {
		states = append(states, s.Time+" "+string(s.State))
		if s.StudentID != w.studentIn || s.OrderID != order.OrderID || s.DrugName != "Amoxicillin" {
			t.Errorf("a dose: %+v", s)
		}
	}
	want := []string{"08:00 given", "12:00 refused", "15:00 held", "18:00 missed"}
	if day.Date != doseDay || !slices.Equal(states, want) {
		t.Errorf("day %s: %q, want %q", day.Date, states, want)
	}
	accesses := w.readsSince(before)
	if len(accesses) != 1 || !slices.Equal(accesses[0].StudentIDs, []string{w.studentIn}) ||
		accesses[0].Purpose != domain.PurposeTreatment {
		t.Errorf("access events: %+v, want one naming the student", accesses)
	}

	t.Run("today by default", func(t *testing.T) {
		w.t = t
		var today projections.DoseDay
		if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolIn+"/doses", w.tokens[nurse], nil, &today); got != 200 {
			t.Fatalf("doses: %d", got)
		}
		if want := w.clock.Now().UTC().Format(time.DateOnly); today.Date != want {
			t.Errorf("date %s, want today in the orders' zone, %s", today.Date, want)
		}
	})

	t.Run("a compliance officer investigates another school", func(t *testing.T) {
		w.t = t
		before := w.head()
		path := fmt.Sprintf("/v1/schools/%s/doses?date=%s", w.schoolOut, doseDay)
		var other projections.DoseDay
		if got := w.call(http.MethodGet, path, w.tokens[co], nil, &other); got != 200 {
			t.Fatalf("doses: %d", got)
		}
		accesses := w.readsSince(before)
		if len(other.Scheduled) != 1 || len(accesses) != 1 ||
			accesses[0].Purpose != domain.PurposeInvestigation ||
			!slices.Equal(accesses[0].StudentIDs, []string{w.studentOut}) {
			t.Errorf("doses %+v, accesses %+v", other.Scheduled, accesses)
		}
	})

	t.Run("a nurse of another school", func(t *testing.T) {
		w.t = t
		before := w.head()
		path := fmt.Sprintf("/v1/schools/%s/doses?date=%s", w.schoolOut, doseDay)
		if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, nil); got != 403 {
			t.Errorf("another school's doses: %d, want 403", got)
		}
		if types := w.typesSince(before); count(types, "PHIAccessed") != 0 {
			t.Errorf("events after a refusal: %v", types)
		}
		_, refused := w.accessesSince(before)
		if len(refused) != 1 || refused[0].SchoolID != w.schoolOut || refused[0].StudentID != "" ||
			refused[0].What != "GET /v1/schools/:id/doses" {
			t.Errorf("refusals recorded: %+v, want one of the school's doses", refused)
		}
	})
}

// TestSchoolDosesPages walks the doses of eleven students, three at a
// time: every dose once, in order, and each page's access event names
// exactly the students of that page.
func TestSchoolDosesPages(t *testing.T) {
	w := newWorld(t)
	students, pos := w.medicatedStudents(11)
	slices.Sort(students)

	var all projections.DoseDay
	path := fmt.Sprintf("/v1/schools/%s/doses?date=%s&after=%d&limit=500", w.schoolIn, doseDay, pos)
	if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &all); got != 200 {
		t.Fatalf("one page: %d", got)
	}
	if len(all.Scheduled) != 22 || all.Next != "" {
		t.Fatalf("one page: %d doses, next %q; want 22", len(all.Scheduled), all.Next)
	}

	var walked []projections.ScheduledDose
	cursor := ""
	for pages := 0; pages < 20; pages++ {
		var page projections.DoseDay
		path := fmt.Sprintf("/v1/schools/%s/doses?date=%s&limit=3&cursor=%s", w.schoolIn, doseDay, cursor)
		before := w.head()
		if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &page); got != 200 {
			t.Fatalf("page %d: %d", pages, got)
		}
		var onPage []string
		for _, s := range page.Scheduled {
			if !slices.Contains(onPage, s.StudentID) {
				onPage = append(onPage, s.StudentID)
			}
		}
		accesses := w.readsSince(before)
		if len(accesses) != 1 || !slices.Equal(accesses[0].StudentIDs, onPage) {
			t.Errorf("page %d: accesses %+v, want one naming %q", pages, accesses, onPage)
		}
		walked = append(walked, page.Scheduled...)
		if cursor = page.Next; cursor == "" {
			break
		}
		if strings.Contains(cursor, "08") || strings.Contains(cursor, "Amoxicillin") {
			t.Errorf("a cursor that may hold a time or a name: %q", cursor)
		}
	}
	key := func(s projections.ScheduledDose) string { return s.Time + " " + s.StudentID }
	var got, want []string
	for _, s := range walked {
		got = append(got, key(s))
	}
	for _, s := range all.Scheduled {
		want = append(want, key(s))
	}
	if !slices.Equal(got, want) {
		t.Errorf("walked:\n%q\nwant\n%q", got, want)
	}
	if want[0] != "08:00 "+students[0] || want[10] != "08:00 "+students[10] || want[11] != "12:00 "+students[0] {
		t.Errorf("not by time, then student: %q", want)
	}
}

// TestMedicationQueriesRefuseBadInput names the field of each bad query.
func TestMedicationQueriesRefuseBadInput(t *testing.T) {
	w := newWorld(t)
	tests := []struct{ path, field string }{
		{"/v1/schools/" + w.schoolIn + "/doses?date=03-03-2025", "date"},
		{"/v1/schools/" + w.schoolIn + "/doses?limit=-1", "limit"},
		{"/v1/schools/" + w.schoolIn + "/doses?cursor=bm90IGEgY3Vyc29y", "cursor"},
		{"/v1/schools/not-a-school/doses", "id"},
		{"/v1/schools/" + w.schoolIn + "/controlled-stock?limit=501", "limit"},
		{"/v1/schools/" + w.schoolIn + "/controlled-stock?cursor=x", "cursor"},
		{"/v1/students/" + w.studentIn + "/medication-orders?cursor=x", "cursor"},
		{"/v1/students/" + w.studentIn + "/administrations?kind=lost", "kind"},
		{"/v1/students/" + w.studentIn + "/administrations?order=7", "order"},
		{"/v1/students/" + w.studentIn + "/administrations?from=yesterday", "from"},
		{"/v1/students/" + w.studentIn + "/administrations?from=2025-03-04T00:00:00Z&to=2025-03-03T00:00:00Z", "to"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := call(t, http.MethodGet, w.srv.URL+tt.path, w.tokens[nurse], nil)
			p := mustProblem(t, resp, body, http.StatusBadRequest, readapi.TypeValidation)
			if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Errorf("errors %+v, want one naming %s", p.Errors, tt.field)
			}
		})
	}
}

// TestStudentMedicationReads: a nurse lists a student's orders and
// records, filtered and page by page, each read recorded once with the
// student; a nurse of another school is refused, and the refusal
// recorded.
func TestStudentMedicationReads(t *testing.T) {
	w := newWorld(t)
	stream := domain.StudentStream(w.studentIn)
	first, second := fixedOrderAt("08:00"), fixedOrderAt("12:00")
	events := []domain.Event{first, second}
	for i := range 5 {
		events = append(events, domain.MedicationAdministered{AttemptID: uuid.NewString(),
			OrderID: first.OrderID, GivenAt: slot("08:05").AddDate(0, 0, i),
			ScheduledFor: slot("08:00").AddDate(0, 0, i), DoseAmount: "5", DoseUnit: "mL",
			Route: "oral", NurseID: uuid.NewString()})
	}
	events = append(events, domain.MedicationMissed{AttemptID: uuid.NewString(),
		OrderID: second.OrderID, ScheduledFor: slot("12:00"), Reason: "absent",
		At: slot("13:30"), NurseID: uuid.NewString()})
	pos := w.appendEvents(stream, events...)

	t.Run("orders", func(t *testing.T) {
		w.t = t
		var list readapi.OrderList
		before := w.head()
		path := fmt.Sprintf("/v1/students/%s/medication-orders?after=%d&limit=1", w.studentIn, pos)
		if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &list); got != 200 {
			t.Fatalf("orders: %d", got)
		}
		if len(list.Orders) != 1 || list.Orders[0].OrderID != second.OrderID || list.Next == "" {
			t.Fatalf("first page: %+v", list)
		}
		path = fmt.Sprintf("/v1/students/%s/medication-orders?limit=1&cursor=%s", w.studentIn, list.Next)
		list = readapi.OrderList{}
		if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &list); got != 200 {
			t.Fatalf("orders: %d", got)
		}
		if len(list.Orders) != 1 || list.Orders[0].OrderID != first.OrderID || list.Next != "" {
			t.Errorf("second page: %+v", list)
		}
		accesses := w.readsSince(before)
		if len(accesses) != 2 || !slices.Equal(accesses[1].StudentIDs, []string{w.studentIn}) {
			t.Errorf("accesses: %+v, want one per page naming the student", accesses)
		}
	})

	t.Run("administrations page by page", func(t *testing.T) {
		w.t = t
		var walked []string
		cursor := ""
		for range 10 {
			var list readapi.AdministrationList
			path := fmt.Sprintf("/v1/students/%s/administrations?limit=2&cursor=%s", w.studentIn, cursor)
			before := w.head()
			if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &list); got != 200 {
				t.Fatalf("administrations: %d", got)
			}
			if n := count(w.typesSince(before), "PHIAccessed"); n != 1 {
				t.Errorf("a page appended %d access events, want 1", n)
			}
			for _, a := range list.Administrations {
				walked = append(walked, a.Kind+" "+a.At.Format("01-02 15:04"))
			}
			if cursor = list.Next; cursor == "" {
				break
			}
		}
		want := []string{"given 03-07 08:05", "given 03-06 08:05", "given 03-05 08:05",
			"given 03-04 08:05", "missed 03-03 13:30", "given 03-03 08:05"}
		if !slices.Equal(walked, want) {
			t.Errorf("walked %q, want %q", walked, want)
		}
	})

	t.Run("filters", func(t *testing.T) {
		w.t = t
		var list readapi.AdministrationList
		path := fmt.Sprintf("/v1/students/%s/administrations?kind=given&from=%s&to=%s&order=%s",
			w.studentIn, "2025-03-04T00:00:00Z", "2025-03-06T08:05:00Z", first.OrderID)
		if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, &list); got != 200 {
			t.Fatalf("administrations: %d", got)
		}
		if len(list.Administrations) != 2 || !list.Administrations[0].At.Equal(slot("08:05").AddDate(0, 0, 2)) {
			t.Errorf("given from the 4th to before 08:05 on the 6th: %+v", list.Administrations)
		}
	})

	t.Run("a nurse of another school", func(t *testing.T) {
		w.t = t
		outsider := uuid.NewString() + "@district.example"
		w.createUser(outsider, domain.RoleNurse, w.schoolOut)
		token := w.login(outsider).AccessToken
		for _, path := range []string{"/medication-orders", "/administrations"} {
			before := w.head()
			if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn+path, token, nil, nil); got != 403 {
				t.Errorf("%s: %d, want 403", path, got)
			}
			types := w.typesSince(before)
			if count(types, "PHIAccessRefused") != 1 || count(types, "PHIAccessed") != 0 {
				t.Errorf("%s: events after the refusal: %v", path, types)
			}
		}
	})
}

// TestControlledStockQuery: the stock of a school is read by its nurses
// and by compliance officers, names no student, and records no access.
func TestControlledStockQuery(t *testing.T) {
	w := newWorld(t)
	counter, witness := uuid.NewString(), uuid.NewString()
	pos := w.appendEvents(domain.ControlledStream(w.schoolIn),
		domain.StockReceived{DrugName: "Methylphenidate 10 mg", Quantity: 30,
			ReceivedBy: counter, WitnessID: witness, At: slot("07:00")},
		domain.ShiftCountRecorded{DrugName: "Methylphenidate 10 mg", Counted: 29,
			By: counter, WitnessID: witness, At: slot("15:00")},
		domain.DiscrepancyRecorded{DrugName: "Methylphenidate 10 mg", Expected: 30, Counted: 29,
			At: slot("15:00"), By: counter, Context: domain.DiscrepancyAtShiftCount})

	before := w.head()
	resp, body := call(t, http.MethodGet,
		fmt.Sprintf("%s/v1/schools/%s/controlled-stock?after=%d", w.srv.URL, w.schoolIn, pos),
		w.tokens[nurse], nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stock: %d %s", resp.StatusCode, body)
	}
	for _, id := range []string{w.studentIn, w.studentOut} {
		if strings.Contains(string(body), id) {
			t.Errorf("the stock names a student: %s", body)
		}
	}
	if !strings.Contains(string(body), `"expected":29`) || !strings.Contains(string(body), `"counted":29`) {
		t.Errorf("stock: %s", body)
	}
	if types := w.typesSince(before); len(types) != 0 {
		t.Errorf("events after reading the stock: %v", types)
	}
	if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolOut+"/controlled-stock", w.tokens[nurse], nil, nil); got != 403 {
		t.Errorf("another school's stock: %d, want 403", got)
	}
}

// TestNoDosesWithoutTheirAccessEvent: with the log closed, the doses of a
// day cannot be recorded as read, so the answer is 503 and names nothing.
func TestNoDosesWithoutTheirAccessEvent(t *testing.T) {
	w := newWorld(t)
	pos := w.appendEvents(domain.StudentStream(w.studentIn), fixedOrderAt("08:00"))
	path := fmt.Sprintf("/v1/schools/%s/doses?date=%s&after=%d", w.schoolIn, doseDay, pos)
	if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, nil); got != 200 {
		t.Fatalf("doses: %d", got)
	}
	w.log.Close()
	resp, body := call(t, http.MethodGet, w.srv.URL+path, w.tokens[nurse], nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	for _, phi := range []string{w.studentIn, "Amoxicillin"} {
		if strings.Contains(string(body), phi) {
			t.Errorf("the 503 carries %q: %s", phi, body)
		}
	}
}
