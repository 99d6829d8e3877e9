package readapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// TestSchoolAlerts: nurses raise, acknowledge and resolve alerts over
// HTTP; the school's list shows the active ones newest first, with the
// students' names, or those of a state, page by page, each page recorded
// as a read naming its students; a nurse of another school is refused,
// and the refusal recorded.
func TestSchoolAlerts(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	other := w.enrol(w.districtIn, w.schoolIn)
	raise := func(student string) string {
		t.Helper()
		id := uuid.NewString()
		path := "/v1/students/" + student + "/alerts"
		body := readapi.AlertRequest{AlertID: id, Kind: "seizure", Location: "cafeteria"}
		if got, p := w.callProblem(http.MethodPost, path, tok, body); got != 201 {
			t.Fatalf("raise: %d %+v", got, p)
		}
		return id
	}
	first, second, third := raise(w.studentIn), raise(other), raise(w.studentIn)
	base := "/v1/students/" + w.studentIn + "/alerts/"
	if got, p := w.callProblem(http.MethodPost, base+third+"/acknowledge", tok, nil); got != 201 {
		t.Fatalf("acknowledge: %d %+v", got, p)
	}
	resolved := readapi.ResolveRequest{Outcome: "recovered; parents called"}
	if got, p := w.callProblem(http.MethodPost, base+first+"/resolve", tok, resolved); got != 201 {
		t.Fatalf("resolve: %d %+v", got, p)
	}

	list := func(query string) readapi.AlertList {
		t.Helper()
		var l readapi.AlertList
		path := fmt.Sprintf("/v1/schools/%s/alerts?after=%d&%s", w.schoolIn, w.head(), query)
		if got := w.call(http.MethodGet, path, tok, nil, &l); got != 200 {
			t.Fatalf("GET %s: %d", path, got)
		}
		return l
	}
	before := w.head()
	active := list("")
	if got := alertIDs(active); !slices.Equal(got, []string{third, second}) {
		t.Errorf("active alerts, newest first: %q, want %q", got, []string{third, second})
	}
	if a := active.Alerts[0]; a.State != "acknowledged" || a.FamilyName != "Rivera" || a.Kind != "seizure" {
		t.Errorf("the acknowledged alert: %+v", a)
	}
	read := w.readsSince(before)
	if len(read) != 1 || !slices.Equal(read[0].StudentIDs, []string{w.studentIn, other}) ||
		read[0].What != "GET /v1/schools/:id/alerts" || read[0].Purpose != domain.PurposeTreatment {
		t.Errorf("the list recorded %+v, want one naming both students", read)
	}

	if got := alertIDs(list("state=resolved")); !slices.Equal(got, []string{first}) {
		t.Errorf("resolved: %q", got)
	}
	page := list("state=all&limit=2")
	rest := list("state=all&limit=2&cursor=" + page.Next)
	if got := append(alertIDs(page), alertIDs(rest)...); !slices.Equal(got, []string{third, second, first}) ||
		rest.Next != "" {
		t.Errorf("every alert, pages of 2: %q, next %q", got, rest.Next)
	}
	resp, body := call(t, http.MethodGet, w.srv.URL+"/v1/schools/"+w.schoolIn+"/alerts?state=lost", tok, nil)
	if p := mustProblem(t, resp, body, 400, readapi.TypeValidation); len(p.Errors) != 1 ||
		p.Errors[0].Field != "state" {
		t.Errorf("a bad state: %+v", p.Errors)
	}

	before = w.head()
	if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolOut+"/alerts", tok, nil, nil); got != 403 {
		t.Fatalf("another school's alerts: %d, want 403", got)
	}
	reads, refused := w.accessesSince(before)
	want := domain.PHIAccessRefused{ActorRole: domain.RoleNurse, SchoolID: w.schoolOut,
		What: "GET /v1/schools/:id/alerts", Reason: "scope"}
	if len(reads) != 0 || len(refused) != 1 || !sameRefusal(refused[0], want) {
		t.Errorf("the refusal recorded reads %+v, refusals %+v, want %+v", reads, refused, want)
	}
}

func alertIDs(l readapi.AlertList) []string {
	var ids []string
	for _, a := range l.Alerts {
		ids = append(ids, a.ID)
	}
	return ids
}
