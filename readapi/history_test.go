package readapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

// correctedChart has a nurse record an allergy and a condition on the
// student in scope, then amend the allergy and mark the condition in
// error, over HTTP; it returns the chart's events as the log recorded
// them and the two entries.
func (w *world) correctedChart() (events []eventstore.Event, allergy, condition string) {
	w.t.Helper()
	base := "/v1/students/" + w.studentIn
	allergy, condition = uuid.NewString(), uuid.NewString()
	posts := []struct {
		path string
		body any
	}{
		{base + "/allergies", readapi.AllergyRequest{EntryID: allergy, Allergen: "penicillin",
			AllergenType: "medication", Severity: "moderate"}},
		{base + "/conditions", readapi.ConditionRequest{EntryID: condition, Condition: "asthma",
			Status: "active"}},
		{base + "/allergies/" + allergy + "/amendments", readapi.AmendmentRequest{
			Reason: "confirmed by the allergist", Changes: map[string]any{"severity": "severe"}}},
		{base + "/conditions/" + condition + "/entered-in-error",
			readapi.InErrorRequest{Reason: "recorded on the wrong chart"}},
	}
	for _, p := range posts {
		if got, problem := w.callProblem(http.MethodPost, p.path, w.tokens[nurse], p.body); got >= 300 {
			w.t.Fatalf("POST %s: %d %+v", p.path, got, problem)
		}
	}
	events, err := w.log.ReadStream(w.t.Context(), domain.StudentStream(w.studentIn), eventstore.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(events) != 5 {
		w.t.Fatalf("the chart has %d events, want 5", len(events))
	}
	w.sync()
	return events, allergy, condition
}

// asOf returns the query that reads a chart as it stood at t.
func asOf(t time.Time) string { return "?as_of=" + url.QueryEscape(t.Format(time.RFC3339Nano)) }

// TestChartAsOf reads a chart as it stood before its corrections, as it
// stands now, and before the student was enrolled; each read is scoped
// and recorded as the chart read is.
func TestChartAsOf(t *testing.T) {
	w := newWorld(t)
	events, _, _ := w.correctedChart()
	chart := "/v1/students/" + w.studentIn

	// Just before the amendment: the allergy as first recorded, the
	// condition not yet in error.
	before := w.head()
	var then readapi.ChartResponse
	if got := w.call(http.MethodGet, chart+asOf(events[3].RecordedAt.Add(-time.Microsecond)), w.tokens[nurse], nil, &then); got != 200 {
		t.Fatalf("as of before the amendment: %d", got)
	}
	if len(then.Entries) != 2 || then.Revision != 2 {
		t.Fatalf("as of before the amendment: revision %d, entries %+v", then.Revision, then.Entries)
	}
	var allergy domain.AllergyRecorded
	json.Unmarshal(then.Entries[0].Values, &allergy)
	if allergy.Severity != "moderate" || then.Entries[0].Amendments != 0 || then.Entries[1].InError {
		t.Errorf("the corrections show before they were made: %+v", then.Entries)
	}
	read, refused := w.accessesSince(before)
	if len(read) != 1 || len(refused) != 0 || read[0].What != "GET /v1/students/:id?as_of" ||
		read[0].Purpose != domain.PurposeTreatment || !slices.Equal(read[0].StudentIDs, []string{w.studentIn}) {
		t.Errorf("access events of the read as of: %+v %+v", read, refused)
	}

	// Between the corrections: amended, not yet in error.
	var between readapi.ChartResponse
	w.call(http.MethodGet, chart+asOf(events[4].RecordedAt.Add(-time.Microsecond)), w.tokens[nurse], nil, &between)
	if between.Entries[0].Amendments != 1 || between.Entries[1].InError {
		t.Errorf("between the corrections: %+v", between.Entries)
	}

	// Now: the chart the read model serves, in the same shape.
	now := w.rawGet(chart+asOf(time.Now().Add(time.Minute)), w.tokens[nurse])
	current := w.rawGet(fmt.Sprintf("%s?after=%d", chart, w.head()), w.tokens[nurse])
	if now != current {
		t.Errorf("as of now:\n%s\nthe chart:\n%s", now, current)
	}

	// A compliance officer reads it for an investigation.
	before = w.head()
	if got := w.call(http.MethodGet, chart+asOf(time.Now()), w.tokens[co], nil, nil); got != 200 {
		t.Errorf("a compliance officer as of now: %d", got)
	}
	if read, _ := w.accessesSince(before); len(read) != 1 || read[0].Purpose != domain.PurposeInvestigation {
		t.Errorf("the compliance officer's read: %+v", read)
	}

	// Before the enrolment there was no chart.
	enrolled := events[0].RecordedAt.Add(-time.Microsecond)
	if got, p := w.callProblem(http.MethodGet, chart+asOf(enrolled), w.tokens[nurse], nil); got != 404 {
		t.Errorf("as of before the enrolment: %d %+v, want 404", got, p)
	}
}

// TestChartAsOfRefusals: a malformed time names as_of, and a nurse of
// another school is refused, the refusal recorded, nothing read.
func TestChartAsOfRefusals(t *testing.T) {
	w := newWorld(t)
	chart := "/v1/students/" + w.studentIn
	for _, q := range []string{"?as_of=", "?as_of=yesterday", "?as_of=2026-12-01"} {
		got, p := w.callProblem(http.MethodGet, chart+q, w.tokens[nurse], nil)
		if got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "as_of" {
			t.Errorf("%s: %d %+v, want 400 naming as_of", q, got, p)
		}
	}
	outsider := "outside-nurse@district.example"
	w.createUser(outsider, domain.RoleNurse, w.schoolOut)
	before := w.head()
	if got := w.call(http.MethodGet, chart+asOf(time.Now()), w.login(outsider).AccessToken, nil, nil); got != 403 {
		t.Errorf("a nurse of another school: %d, want 403", got)
	}
	read, refused := w.accessesSince(before)
	if len(read) != 0 || len(refused) != 1 || refused[0].StudentID != w.studentIn ||
		refused[0].What != "GET /v1/students/:id?as_of" {
		t.Errorf("after the refusal: reads %+v, refusals %+v", read, refused)
	}
}

// rawGet returns the body of a 200 answer to GET path.
func (w *world) rawGet(path, token string) string {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.t.Context(), http.MethodGet, w.srv.URL+path, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, body, err)
	}
	return string(body)
}

// TestStudentHistory: a compliance officer replays a chart, every event
// with its actor, data and corrections, in pages; the replay is
// recorded; a nurse may not replay it.
func TestStudentHistory(t *testing.T) {
	w := newWorld(t)
	events, _, _ := w.correctedChart()
	nurseID := w.accountID(w.users[nurse])
	path := "/v1/students/" + w.studentIn + "/history"

	before := w.head()
	var all readapi.HistoryResponse
	if got := w.call(http.MethodGet, path, w.tokens[co], nil, &all); got != 200 {
		t.Fatalf("history: %d", got)
	}
	if len(all.Events) != len(events) || all.Next != "" {
		t.Fatalf("history: %d events, next %q; want %d", len(all.Events), all.Next, len(events))
	}
	var types []string
	for i, e := range all.Events {
		types = append(types, e.Type)
		if e.EventID != events[i].ID.String() || e.Position != events[i].Position {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && (e.ActorID != nurseID || e.ActorRole != "nurse") {
			t.Errorf("event %d by %q as %q, want the nurse", i, e.ActorID, e.ActorRole)
		}
	}
	want := []string{"StudentEnrolled", "AllergyRecorded", "ConditionRecorded", "EntryAmended", "EntryMarkedInError"}
	if !slices.Equal(types, want) {
		t.Errorf("types %q, want %q", types, want)
	}
	var recorded domain.AllergyRecorded
	if err := json.Unmarshal(all.Events[1].Data, &recorded); err != nil || recorded.Allergen != "penicillin" {
		t.Errorf("the allergy's data: %s", all.Events[1].Data)
	}
	for recordedAt, correction := range map[int]int{1: 3, 2: 4} {
		c := all.Events[recordedAt].Corrections
		if len(c) != 1 || c[0].EventID != events[correction].ID.String() ||
			all.Events[correction].Corrects != events[recordedAt].ID.String() {
			t.Errorf("revision %d corrected by %+v, want revision %d", recordedAt, c, correction)
		}
	}
	if read, _ := w.accessesSince(before); len(read) != 1 || read[0].Purpose != domain.PurposeInvestigation ||
		read[0].What != "GET /v1/students/:id/history" {
		t.Errorf("the replay's access events: %+v", read)
	}

	var walked []string
	for cursor, pages := "", 0; pages < 10; pages++ {
		var page readapi.HistoryResponse
		w.call(http.MethodGet, path+"?limit=2&cursor="+cursor, w.tokens[co], nil, &page)
		for _, e := range page.Events {
			walked = append(walked, e.Type)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(walked, want) {
		t.Errorf("pages of 2: %q", walked)
	}

	if got := w.call(http.MethodGet, path, w.tokens[nurse], nil, nil); got != 403 {
		t.Errorf("a nurse: %d, want 403", got)
	}
	if got := w.call(http.MethodGet, "/v1/students/"+uuid.NewString()+"/history", w.tokens[co], nil, nil); got != 404 {
		t.Errorf("an unknown student: %d, want 404", got)
	}
	for query, field := range map[string]string{"?cursor=x": "cursor", "?limit=501": "limit"} {
		got, p := w.callProblem(http.MethodGet, path+query, w.tokens[co], nil)
		if got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", query, got, p, field)
		}
	}
}

// TestAccountActivity: a nurse reads a chart, is refused another and
// records an allergy; a compliance officer sees all three, newest first,
// by time and in pages, and the officer's look is itself recorded, with
// the students it revealed.
func TestAccountActivity(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, tok, nil, nil); got != 200 {
		t.Fatalf("read: %d", got)
	}
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentOut, tok, nil, nil); got != 403 {
		t.Fatalf("refused: %d", got)
	}
	allergy := readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "peanut", AllergenType: "food",
		Severity: "severe"}
	if got := w.call(http.MethodPost, "/v1/students/"+w.studentIn+"/allergies", tok, allergy, nil); got != 201 {
		t.Fatalf("allergy: %d", got)
	}
	nurseID := w.accountID(w.users[nurse])
	path := fmt.Sprintf("/v1/users/%s/activity?after=%d", nurseID, w.head())

	before := w.head()
	var list readapi.ActivityList
	if got := w.call(http.MethodGet, path, w.tokens[co], nil, &list); got != 200 {
		t.Fatalf("activity: %d", got)
	}
	if len(list.Activity) < 3 {
		t.Fatalf("activity: %+v", list.Activity)
	}
	var got []string
	for _, a := range list.Activity[:3] {
		got = append(got, fmt.Sprint(a.Type, " ", a.Outcome, " ", a.StudentIDs))
	}
	want := []string{
		fmt.Sprint("AllergyRecorded  ", []string{w.studentIn}),
		fmt.Sprint("PHIAccessRefused ", projections.OutcomeRefused, " ", []string{w.studentOut}),
		fmt.Sprint("PHIAccessed ", projections.OutcomeRead, " ", []string{w.studentIn}),
	}
	if !slices.Equal(got, want) {
		t.Errorf("newest first:\n%q\nwant\n%q", got, want)
	}
	read, _ := w.accessesSince(before)
	if len(read) != 1 || read[0].What != "GET /v1/users/:id/activity" ||
		!slices.Contains(read[0].StudentIDs, w.studentIn) || !slices.Contains(read[0].StudentIDs, w.studentOut) {
		t.Errorf("the look at the activity: %+v", read)
	}

	since := list.Activity[1].RecordedAt
	var recent readapi.ActivityList
	w.call(http.MethodGet, path+"&from="+url.QueryEscape(since.Format(time.RFC3339Nano)), w.tokens[co], nil, &recent)
	if len(recent.Activity) != 2 || recent.Activity[1].Position != list.Activity[1].Position {
		t.Errorf("from the refusal on: %+v", recent.Activity)
	}
	var first, second readapi.ActivityList
	w.call(http.MethodGet, path+"&limit=1", w.tokens[co], nil, &first)
	w.call(http.MethodGet, path+"&limit=1&cursor="+first.Next, w.tokens[co], nil, &second)
	if len(first.Activity) != 1 || len(second.Activity) != 1 ||
		second.Activity[0].Position != list.Activity[1].Position {
		t.Errorf("pages of one: %+v then %+v", first, second)
	}

	if got := w.call(http.MethodGet, "/v1/users/"+nurseID+"/activity", tok, nil, nil); got != 403 {
		t.Errorf("the nurse's own: %d, want 403", got)
	}
	if got := w.call(http.MethodGet, "/v1/users/"+uuid.NewString()+"/activity", w.tokens[co], nil, nil); got != 404 {
		t.Errorf("an unknown account: %d, want 404", got)
	}
	for query, field := range map[string]string{
		"?from=monday": "from", "?to=2026-01-01T00:00:00Z&from=2026-02-01T00:00:00Z": "to",
		"?cursor=x": "cursor", "?limit=501": "limit",
	} {
		got, p := w.callProblem(http.MethodGet, "/v1/users/"+nurseID+"/activity"+query, w.tokens[co], nil)
		if got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", query, got, p, field)
		}
	}
	if got, p := w.callProblem(http.MethodGet, "/v1/users/someone/activity", w.tokens[co], nil); got != 400 ||
		len(p.Errors) != 1 || p.Errors[0].Field != "id" {
		t.Errorf("an ID that is not one: %d %+v", got, p)
	}
}
