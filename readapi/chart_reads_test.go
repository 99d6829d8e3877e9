package readapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/readapi"
)

// accessesSince returns the access events appended after position.
func (w *world) accessesSince(position uint64) (read []domain.PHIAccessed, refused []domain.PHIAccessRefused) {
	w.t.Helper()
	evs, err := w.log.ReadAll(w.t.Context(), position+1, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range evs {
		switch e.Type {
		case "PHIAccessed":
			var a domain.PHIAccessed
			if err := json.Unmarshal(e.Data, &a); err != nil {
				w.t.Fatal(err)
			}
			read = append(read, a)
		case "PHIAccessRefused":
			var r domain.PHIAccessRefused
			if err := json.Unmarshal(e.Data, &r); err != nil {
				w.t.Fatal(err)
			}
			refused = append(refused, r)
		}
	}
	return read, refused
}

// TestChartReadShowsCorrectionsAndBlockedAttempts records an allergy,
// amends it, marks a condition in error and has a dose blocked over
// HTTP, then reads the chart after those writes: the amendment applied,
// the entry in error kept and marked, the blocked attempt with its
// failed checks.
func TestChartReadShowsCorrectionsAndBlockedAttempts(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	base := "/v1/students/" + w.studentIn
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "penicillin",
		AllergenType: "medication", Severity: "moderate"}
	condition := readapi.ConditionRequest{EntryID: uuid.NewString(), Condition: "asthma", Status: "active"}
	posts := []struct {
		path string
		body any
	}{
		{base + "/allergies", allergy},
		{base + "/conditions", condition},
		{base + "/allergies/" + allergy.EntryID + "/amendments", readapi.AmendmentRequest{
			Reason: "confirmed by the allergist", Changes: map[string]any{"severity": "severe"}}},
		{base + "/conditions/" + condition.EntryID + "/entered-in-error",
			readapi.InErrorRequest{Reason: "recorded on the wrong chart"}},
	}
	for _, p := range posts {
		if got, problem := w.callProblem(http.MethodPost, p.path, tok, p.body); got >= 300 {
			t.Fatalf("POST %s: %d %+v", p.path, got, problem)
		}
	}
	orderID := w.prnOrder(base, "Amoxicillin", "amoxicillin")
	dose := readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: orderID,
		StudentID: w.studentIn, DrugName: "Amoxicillin", DoseAmount: "5", DoseUnit: "mL",
		Route: "oral", GivenAt: w.clock.Now().Add(-time.Minute)}
	if got, p := w.callProblem(http.MethodPost, base+"/administrations", tok, dose); got != 422 {
		t.Fatalf("amoxicillin despite the penicillin allergy: %d %+v", got, p)
	}

	var chart readapi.ChartResponse
	if got := w.call(http.MethodGet, fmt.Sprintf("%s?after=%d", base, w.head()), tok, nil, &chart); got != 200 {
		t.Fatalf("chart: %d", got)
	}
	if len(chart.Entries) != 2 {
		t.Fatalf("entries: %+v", chart.Entries)
	}
	var amended domain.AllergyRecorded
	json.Unmarshal(chart.Entries[0].Values, &amended)
	if amended.Severity != "severe" || chart.Entries[0].Amendments != 1 {
		t.Errorf("amended allergy: %+v %s", chart.Entries[0], chart.Entries[0].Values)
	}
	if e := chart.Entries[1]; !e.InError || e.ErrorReason != "recorded on the wrong chart" {
		t.Errorf("condition in error: %+v", e)
	}
	if len(chart.Doses) != 1 || chart.Doses[0].Kind != "blocked" ||
		!slices.ContainsFunc(chart.Doses[0].Failed, func(c domain.FailedCheck) bool {
			return c.Check == "allergy" && c.EntryID == allergy.EntryID
		}) {
		t.Errorf("blocked attempt: %+v", chart.Doses)
	}
	if len(chart.Orders) != 1 || chart.Revision == 0 {
		t.Errorf("orders %+v, revision %d", chart.Orders, chart.Revision)
	}
}

// prnOrder records an as-needed order of drug on the chart at base and
// returns its ID.
func (w *world) prnOrder(base, drug string, ingredients ...string) string {
	w.t.Helper()
	today := w.clock.Now().In(time.UTC)
	req := readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: drug, Ingredients: ingredients,
		Strength: "250 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
		Schedule: domain.DoseSchedule{Kind: domain.SchedulePRN, TimeZone: "UTC",
			MinIntervalMinutes: 240, MaxPerDay: 3, Indication: "infection"},
		StartOn: today.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: today.AddDate(0, 0, 10).Format(time.DateOnly),
		Prescriber: domain.Prescriber{Name: "Dr. A. Chen"}, ConsentOn: today.AddDate(0, 0, -2).Format(time.DateOnly)}
	if got, p := w.callProblem(http.MethodPost, base+"/medication-orders", w.tokens[nurse], req); got != 201 {
		w.t.Fatalf("order %s: %d %+v", drug, got, p)
	}
	return req.OrderID
}

// TestChartReadUnderBreakGlass: a nurse of another school is refused the
// chart, and the refusal recorded; with a grant of their own the nurse
// reads it, recorded as an emergency access under the grant; once the
// grant has expired, or another has been closed, the nurse is refused
// again.
func TestChartReadUnderBreakGlass(t *testing.T) {
	w := newWorld(t)
	outsider := "outside-nurse@district.example"
	w.createUser(outsider, domain.RoleNurse, w.schoolOut)
	tok := w.login(outsider).AccessToken
	chart := "/v1/students/" + w.studentIn

	w.wantRefused(chart, tok, "before any grant")

	grant := w.openGrant(tok, w.studentIn, 30)
	before := w.head()
	var got readapi.ChartResponse
	path := fmt.Sprintf("%s?after=%d", chart, grant.Position)
	if status := w.call(http.MethodGet, path, tok, nil, &got); status != 200 || got.ID != w.studentIn {
		t.Fatalf("under the grant: %d %+v", status, got)
	}
	read, refused := w.accessesSince(before)
	if len(read) != 1 || len(refused) != 0 {
		t.Fatalf("access events under the grant: %+v %+v", read, refused)
	}
	if a := read[0]; !a.BreakGlass || a.GrantID != grant.ID || a.Purpose != domain.PurposeEmergency ||
		!slices.Equal(a.StudentIDs, []string{w.studentIn}) {
		t.Errorf("access under the grant: %+v", a)
	}
	other := w.enrol(w.districtIn, w.schoolIn)
	w.sync()
	w.wantRefused("/v1/students/"+other, tok, "another student under the grant")

	w.clock.Add(31 * time.Minute)
	tok = w.login(outsider).AccessToken // access tokens live 15 minutes
	w.wantRefused(chart, tok, "after the grant expired")

	closing := w.openGrant(tok, w.studentIn, 60)
	if status := w.call(http.MethodGet, fmt.Sprintf("%s?after=%d", chart, closing.Position), tok, nil, nil); status != 200 {
		t.Fatalf("under a second grant: %d", status)
	}
	w.closeGrant(closing.ID)
	w.wantRefused(chart, tok, "after the grant was closed")
}

// openGrant opens a grant to student for minutes with token.
func (w *world) openGrant(token, student string, minutes int) readapi.BreakGlassGrant {
	w.t.Helper()
	var g readapi.BreakGlassGrant
	status := w.call(http.MethodPost, "/v1/access/break-glass", token, readapi.BreakGlassRequest{
		StudentID: student, ReasonCode: "medical_emergency", Minutes: minutes,
		Reason: "seizure in the cafeteria; need the care plan and medications",
	}, &g)
	if status != 201 || !g.Active || g.Position == 0 {
		w.t.Fatalf("open a grant: %d %+v", status, g)
	}
	return g
}

// closeGrant appends the closing of grant id, as a reviewer's close
// would, and waits for the read models.
func (w *world) closeGrant(id string) {
	w.t.Helper()
	typ, version, data, err := domain.EncodeEvent(domain.BreakGlassClosed{At: w.clock.Now(), By: uuid.NewString()})
	if err != nil {
		w.t.Fatal(err)
	}
	_, err = w.log.Append(w.t.Context(), domain.BreakGlassStream(id), eventstore.StreamExists,
		eventstore.EventData{Type: typ, SchemaVersion: version, Data: data})
	if err != nil {
		w.t.Fatal(err)
	}
	w.sync()
}

// wantRefused reads path with token after every write and wants 403 and
// one refused access, nothing read.
func (w *world) wantRefused(path, token, when string) {
	w.t.Helper()
	before := w.head()
	status := w.call(http.MethodGet, fmt.Sprintf("%s?after=%d", path, before), token, nil, nil)
	read, refused := w.accessesSince(before)
	if status != http.StatusForbidden || len(read) != 0 || len(refused) != 1 {
		w.t.Errorf("%s: status %d, accesses %+v, refusals %+v; want 403 and one refusal",
			when, status, read, refused)
	}
}

// TestBreakGlassReview lists grants from the read model: filtered by
// user, student and whether open, in pages, with bad parameters refused
// by name, and the review itself recorded as an access to the students
// listed.
func TestBreakGlassReview(t *testing.T) {
	w := newWorld(t)
	nurseID := w.accountID(w.users[nurse])
	var grants []readapi.BreakGlassGrant
	for i := range 3 {
		tok := w.tokens[nurse]
		if i == 1 {
			tok = w.tokens[co]
		}
		grants = append(grants, w.openGrant(tok, w.studentOut, 60))
	}
	w.closeGrant(grants[2].ID)
	list := func(query string) readapi.BreakGlassList {
		t.Helper()
		var l readapi.BreakGlassList
		path := fmt.Sprintf("/v1/access/break-glass?after=%d&%s", w.head(), query)
		if status := w.call(http.MethodGet, path, w.tokens[co], nil, &l); status != 200 {
			t.Fatalf("GET %s: %d", path, status)
		}
		return l
	}
	ids := func(l readapi.BreakGlassList) []string {
		var out []string
		for _, g := range l.Grants {
			out = append(out, g.ID)
		}
		return out
	}
	all := []string{grants[2].ID, grants[1].ID, grants[0].ID}

	before := w.head()
	if got := ids(list("")); !slices.Equal(got, all) {
		t.Errorf("all, newest first: %q, want %q", got, all)
	}
	if read, _ := w.accessesSince(before); len(read) != 1 ||
		!slices.Equal(read[0].StudentIDs, []string{w.studentOut}) {
		t.Errorf("the review's access events: %+v", read)
	}
	if got := ids(list("actor=" + nurseID)); !slices.Equal(got, []string{all[0], all[2]}) {
		t.Errorf("the nurse's: %q", got)
	}
	if got := ids(list("open=true&student=" + w.studentOut)); !slices.Equal(got, all[1:]) {
		t.Errorf("open: %q, want %q", got, all[1:])
	}
	first := list("limit=2")
	second := list("limit=2&cursor=" + first.Next)
	if got := append(ids(first), ids(second)...); !slices.Equal(got, all) || second.Next != "" {
		t.Errorf("two pages: %q, next %q", got, second.Next)
	}
	if g := list("").Grants[0]; g.ClosedAt.IsZero() || g.Active {
		t.Errorf("a closed grant: %+v", g)
	}
	if g := list("open=true").Grants[0]; !g.ClosedAt.IsZero() || !g.Active {
		t.Errorf("an open grant: %+v", g)
	}

	for _, query := range []string{"actor=someone", "student=x", "open=yes", "limit=-1", "cursor=abc"} {
		status, p := w.callProblem(http.MethodGet, "/v1/access/break-glass?"+query, w.tokens[co], nil)
		if status != 400 || len(p.Errors) == 0 {
			t.Errorf("%s: %d %+v, want 400 naming the field", query, status, p)
		}
	}
}
