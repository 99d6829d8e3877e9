package readapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// recordDisclosure posts a disclosure of student's records with an
// idempotency key, and returns the status and the answer.
func (w *world) recordDisclosure(student, key string, body any) (int, readapi.Written) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(w.t.Context(), http.MethodPost,
		w.srv.URL+"/v1/students/"+student+"/disclosures", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.tokens[co])
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out readapi.Written
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestRecordDisclosure: a compliance officer records a disclosure made
// outside the system; a retry with the same key records nothing new;
// each bad field is named and nothing is recorded.
func TestRecordDisclosure(t *testing.T) {
	w := newWorld(t)
	body := readapi.DisclosureRequest{Recipient: "County health department", What: "immunization record",
		Purpose: "measles outbreak follow-up", At: w.clock.Now().Add(-24 * time.Hour).Format(time.RFC3339)}
	status, first := w.recordDisclosure(w.studentIn, "disclose-1", body)
	if status != 201 || first.ID == "" || first.Position == 0 {
		t.Fatalf("record: %d %+v", status, first)
	}
	status, again := w.recordDisclosure(w.studentIn, "disclose-1", body)
	if status != 201 || again.ID != first.ID || again.Position != first.Position {
		t.Errorf("the same request again: %d %+v, want %+v", status, again, first)
	}
	if types := w.events(domain.DisclosureStream(first.ID)); !slices.Equal(types, []string{"PHIDisclosed"}) {
		t.Errorf("the disclosure's stream: %q", types)
	}

	before := w.head()
	got, p := w.callProblem(http.MethodPost, "/v1/students/"+w.studentIn+"/disclosures", w.tokens[co],
		readapi.DisclosureRequest{Recipient: " ", At: "last week"})
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	if got != 400 || !slices.Equal(fields, []string{"recipient", "what", "purpose", "at"}) {
		t.Errorf("every field wrong: %d, fields %q", got, fields)
	}
	future := body
	future.At = w.clock.Now().Add(time.Hour).Format(time.RFC3339)
	if got, p := w.callProblem(http.MethodPost, "/v1/students/"+w.studentIn+"/disclosures", w.tokens[co],
		future); got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "at" {
		t.Errorf("a disclosure in the future: %d %+v", got, p)
	}
	if got, _ := w.callProblem(http.MethodPost, "/v1/students/"+uuid.NewString()+"/disclosures",
		w.tokens[co], body); got != 404 {
		t.Errorf("an unknown student: %d, want 404", got)
	}
	if got, _ := w.callProblem(http.MethodPost, "/v1/students/"+w.studentIn+"/disclosures",
		w.tokens[nurse], body); got != 403 {
		t.Errorf("a nurse: %d, want 403", got)
	}
	if after := w.head(); after != before {
		t.Errorf("refused requests appended %d events", after-before)
	}
}

// TestAccountingOfDisclosures lists a student's disclosures: one recorded
// by hand, an export of the student, one of the whole log and one of a
// time range; six years back by default; with the refused requests for
// the student's chart; the listing itself recorded.
func TestAccountingOfDisclosures(t *testing.T) {
	w := newWorld(t)
	at := w.clock.Now().Add(-time.Hour).Truncate(time.Second)
	status, other := w.recordDisclosure(w.studentIn, "outbreak", readapi.DisclosureRequest{
		Recipient: "County health department", What: "immunization record",
		Purpose: "measles outbreak follow-up", At: at.Format(time.RFC3339)})
	if status != 201 {
		t.Fatalf("record: %d", status)
	}
	disclose := func(d domain.PHIDisclosed) string {
		d.DisclosureID, d.Kind, d.ExportID = uuid.NewString(), domain.DisclosureExport, uuid.NewString()
		d.ActorID, d.ActorRole = w.accountID(w.users[co]), domain.RoleComplianceOfficer
		d.Recipient, d.What, d.Purpose = "external auditor", "audit bundle", "annual audit"
		w.appendEvents(domain.DisclosureStream(d.DisclosureID), d)
		return d.DisclosureID
	}
	// The exports are made now, after the students of the world were
	// enrolled.
	now := time.Now()
	student := disclose(domain.PHIDisclosed{StudentIDs: []string{w.studentIn}, At: now.Add(-time.Minute)})
	whole := disclose(domain.PHIDisclosed{AllStudents: true, At: now})
	seeded := time.Now()
	later := w.enrol(w.districtIn, w.schoolIn)
	ranged := disclose(domain.PHIDisclosed{AllStudents: true, To: &seeded, At: now.Add(time.Minute)})
	old := disclose(domain.PHIDisclosed{StudentIDs: []string{w.studentIn}, At: now.AddDate(-7, 0, 0)})
	outsider := "outside-nurse@district.example"
	w.createUser(outsider, domain.RoleNurse, w.schoolOut)
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, w.login(outsider).AccessToken, nil, nil); got != 403 {
		t.Fatalf("a nurse of another school: %d", got)
	}

	list := func(student, query string) readapi.DisclosureList {
		t.Helper()
		var l readapi.DisclosureList
		path := fmt.Sprintf("/v1/students/%s/disclosures?after=%d%s", student, w.head(), query)
		if got := w.call(http.MethodGet, path, w.tokens[co], nil, &l); got != 200 {
			t.Fatalf("GET %s: %d", path, got)
		}
		return l
	}
	ids := func(l readapi.DisclosureList) []string {
		var out []string
		for _, d := range l.Disclosures {
			out = append(out, d.DisclosureID)
		}
		return out
	}

	before := w.head()
	in := list(w.studentIn, "")
	if got, want := ids(in), []string{ranged, whole, student, other.ID}; !slices.Equal(got, want) {
		t.Errorf("the student's disclosures, six years back: %q, want %q", got, want)
	}
	if read, _ := w.accessesSince(before); len(read) != 1 || read[0].What != "GET /v1/students/:id/disclosures" ||
		!slices.Equal(read[0].StudentIDs, []string{w.studentIn}) {
		t.Errorf("the listing's access events: %+v", read)
	}
	d := in.Disclosures[3]
	if d.Kind != domain.DisclosureOther || d.Recipient != "County health department" ||
		d.What != "immunization record" || d.Purpose != "measles outbreak follow-up" || !d.At.Equal(at) {
		t.Errorf("the disclosure recorded by hand: %+v", d)
	}
	if len(in.Requests) != 1 || in.Requests[0].ActorID != w.accountID(outsider) || in.Requests[0].Reason != "scope" {
		t.Errorf("the refused requests: %+v", in.Requests)
	}

	from := url.QueryEscape(now.AddDate(-8, 0, 0).Format(time.RFC3339))
	if got := ids(list(w.studentIn, "&from="+from)); !slices.Contains(got, old) {
		t.Errorf("eight years back: %q lacks the old one", got)
	}
	if got := ids(list(later, "")); len(got) != 0 {
		t.Errorf("a student enrolled after the exports: %q", got)
	}
	if got := ids(list(w.studentOut, "")); !slices.Equal(got, []string{ranged, whole}) {
		t.Errorf("the other school's student: %q, want the exports of the whole log", got)
	}

	first := list(w.studentIn, "&limit=2")
	second := list(w.studentIn, "&limit=2&cursor="+first.Next)
	if got := append(ids(first), ids(second)...); !slices.Equal(got, ids(in)) || second.Next != "" {
		t.Errorf("pages of two: %q, next %q", got, second.Next)
	}
	for query, field := range map[string]string{"&cursor=abc": "cursor", "&from=yesterday": "from",
		"&limit=501": "limit"} {
		got, p := w.callProblem(http.MethodGet, "/v1/students/"+w.studentIn+"/disclosures?x=1"+query, w.tokens[co], nil)
		if got != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: %d %+v, want 400 naming %s", query, got, p, field)
		}
	}
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn+"/disclosures", w.tokens[nurse], nil, nil); got != 403 {
		t.Errorf("a nurse: %d, want 403", got)
	}
	if got := w.call(http.MethodGet, "/v1/students/"+uuid.NewString()+"/disclosures", w.tokens[co], nil, nil); got != 404 {
		t.Errorf("an unknown student: %d, want 404", got)
	}
}
