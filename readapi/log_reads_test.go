package readapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// TestComplianceLog: a compliance officer and an auditor search the
// log's index for a student's events, by outcome and type, by time, in
// both orders and page by page; the answers hold identifiers and types
// only, and each page is recorded as a read naming its query and the
// students it lists.
func TestComplianceLog(t *testing.T) {
	w := newWorld(t)
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentOut, w.tokens[nurse], nil, nil); got != 403 {
		t.Fatalf("a student of another school: %d", got)
	}
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, w.tokens[nurse], nil, nil); got != 200 {
		t.Fatalf("the nurse's student: %d", got)
	}
	head := w.head()

	list := func(token, query string) readapi.LogList {
		t.Helper()
		var l readapi.LogList
		path := fmt.Sprintf("/v1/log?after=%d&%s", head, query)
		if got := w.call(http.MethodGet, path, token, nil, &l); got != 200 {
			t.Fatalf("GET %s: %d", path, got)
		}
		return l
	}

	before := w.head()
	mine := list(w.tokens[co], "student="+w.studentIn)
	var types []string
	for _, e := range mine.Events {
		types = append(types, e.Type)
		if !slices.Contains(e.StudentIDs, w.studentIn) || e.Position > head {
			t.Errorf("an event of another student, or after the head: %+v", e)
		}
	}
	if len(types) < 2 || types[0] != "PHIAccessed" || types[len(types)-1] != "StudentEnrolled" {
		t.Errorf("the student's events, newest first: %q", types)
	}
	read, _ := w.accessesSince(before)
	wantWhat := "GET /v1/log?student=" + w.studentIn
	if len(read) != 1 || read[0].What != wantWhat || !slices.Contains(read[0].StudentIDs, w.studentIn) ||
		read[0].ActorRole != domain.RoleComplianceOfficer || read[0].Purpose != domain.PurposeInvestigation {
		t.Errorf("the read of the log recorded %+v, want one naming %q and the student", read, wantWhat)
	}

	refusals := list(w.tokens[domain.RoleAuditor], "outcome=refused&type=PHIAccessRefused")
	if len(refusals.Events) != 1 || refusals.Events[0].ActorRole != "nurse" ||
		!slices.Equal(refusals.Events[0].StudentIDs, []string{w.studentOut}) {
		t.Errorf("the refusals, read by an auditor: %+v", refusals.Events)
	}

	ascending := list(w.tokens[co], "order=position&limit=3")
	if len(ascending.Events) != 3 || ascending.Events[0].Position != 1 || ascending.Next == "" {
		t.Fatalf("the first page, oldest first: %+v", ascending)
	}
	next := list(w.tokens[co], "order=position&limit=3&cursor="+ascending.Next)
	if len(next.Events) != 3 || next.Events[0].Position != ascending.Events[2].Position+1 {
		t.Errorf("the second page follows the first: %+v", next.Events)
	}

	to := ascending.Events[2].RecordedAt.Add(time.Microsecond).Format(time.RFC3339Nano)
	early := list(w.tokens[co], "order=position&to="+url.QueryEscape(to))
	if len(early.Events) < 3 || early.Events[len(early.Events)-1].RecordedAt.After(ascending.Events[2].RecordedAt) {
		t.Errorf("recorded before %s: %+v", to, early.Events)
	}

	// Identifiers and types only: no field of any event's data.
	resp, body := call(t, http.MethodGet, w.srv.URL+"/v1/log?limit=500", w.tokens[co], nil)
	if resp.StatusCode != 200 || strings.Contains(string(body), "Rivera") ||
		strings.Contains(string(body), "2016-04-02") {
		t.Errorf("the index carries a student's data: %d %s", resp.StatusCode, body)
	}
	var raw struct{ Events []map[string]json.RawMessage }
	json.Unmarshal(body, &raw)
	allowed := []string{"position", "recorded_at", "stream", "type", "actor_id", "actor_role",
		"student_ids", "school_id", "outcome"}
	for _, e := range raw.Events {
		for k := range e {
			if !slices.Contains(allowed, k) {
				t.Errorf("an entry of the index has the field %q", k)
			}
		}
	}
}

// TestComplianceLogRefusesBadInput names each bad parameter.
func TestComplianceLogRefusesBadInput(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct{ query, field string }{
		{"stream=student%20one", "stream"},
		{"type=PHI.Accessed", "type"},
		{"actor=7", "actor"},
		{"student=x", "student"},
		{"school=x", "school"},
		{"role=boss", "role"},
		{"outcome=maybe", "outcome"},
		{"from=yesterday", "from"},
		{"from=2025-03-04T00:00:00Z&to=2025-03-03T00:00:00Z", "to"},
		{"order=sideways", "order"},
		{"cursor=zzz", "cursor"},
	} {
		resp, body := call(t, http.MethodGet, w.srv.URL+"/v1/log?"+tt.query, w.tokens[co], nil)
		p := mustProblem(t, resp, body, http.StatusBadRequest, readapi.TypeValidation)
		if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
			t.Errorf("%s: errors %+v, want one naming %s", tt.query, p.Errors, tt.field)
		}
	}
}
