package readapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// typesSince returns the types of the events appended after position.
func (w *world) typesSince(position uint64) []string {
	w.t.Helper()
	evs, err := w.log.ReadAll(context.Background(), position+1, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return types
}

func (w *world) head() uint64 {
	w.t.Helper()
	p, err := w.log.LastPosition(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// TestEveryPHIRouteRecordsOneAccess walks the router: every route that
// answers with health information appends exactly one access event per
// request, and every read of a student's data is marked as such, so that
// a new route cannot escape the audit.
func TestEveryPHIRouteRecordsOneAccess(t *testing.T) {
	w := newWorld(t)
	checked := 0
	for _, r := range w.api.Routes() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/students") && !r.PHI {
			t.Errorf("%s %s reads a student's data but is not marked PHI", r.Method, r.Path)
		}
		if !r.PHI {
			continue
		}
		row, ok := matrixRow(r)
		if !ok {
			t.Errorf("%s %s has no row in the matrix", r.Method, r.Path)
			continue
		}
		path, body := row.request(w, true)
		paths := []string{path}
		// A chart read as of a time is a read of its own.
		if slices.ContainsFunc(r.Query, func(q readapi.QueryParam) bool { return q.Name == "as_of" }) {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			paths = append(paths, path+sep+"as_of="+time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
		}
		for _, path := range paths {
			before := w.head()
			got := w.call(r.Method, path, w.tokens[callerFor(r)], body, nil)
			if got != http.StatusOK {
				t.Errorf("%s %s: status %d", r.Method, path, got)
				continue
			}
			if n := count(w.typesSince(before), "PHIAccessed"); n != 1 {
				t.Errorf("%s %s appended %d access events, want 1", r.Method, path, n)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no PHI route was checked")
	}
}

func TestRefusedReadIsRecorded(t *testing.T) {
	w := newWorld(t)
	before := w.head()
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentOut, w.tokens[domain.RoleNurse], nil, nil); got != 403 {
		t.Fatalf("a student of another school: %d, want 403", got)
	}
	types := w.typesSince(before)
	if count(types, "PHIAccessRefused") != 1 || count(types, "PHIAccessed") != 0 {
		t.Errorf("events after a refused read: %v", types)
	}
}

// TestNoPHIWithoutItsAccessEvent closes the log's writer: the chart can
// still be read from the database, but its access event cannot be
// recorded, so the answer is 503 and carries no health information.
func TestNoPHIWithoutItsAccessEvent(t *testing.T) {
	w := newWorld(t)
	w.log.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, w.srv.URL+"/v1/students/"+w.studentIn, nil)
	req.Header.Set("Authorization", "Bearer "+w.tokens[domain.RoleNurse])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	for _, phi := range []string{"Rivera", "Sam", "2016-04-02"} {
		if strings.Contains(string(body), phi) {
			t.Errorf("the 503 carries %q: %s", phi, body)
		}
	}
	_ = auth.ReadClinical
}

// TestComplianceSeesWhoReadTheChart: a nurse reads a chart and another is
// refused; the compliance officer's list, read after those writes, names
// both, and the compliance officer's own read is recorded too.
func TestComplianceSeesWhoReadTheChart(t *testing.T) {
	w := newWorld(t)
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, w.tokens[domain.RoleNurse], nil, nil); got != 200 {
		t.Fatalf("nurse reads: %d", got)
	}
	outsider := "outside-nurse@district.example"
	w.createUser(outsider, domain.RoleNurse, w.schoolOut)
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, w.login(outsider).AccessToken, nil, nil); got != 403 {
		t.Fatalf("nurse of another school: %d", got)
	}
	var list readapi.AccessList
	path := fmt.Sprintf("/v1/students/%s/access?after=%d", w.studentIn, w.head())
	if got := w.call(http.MethodGet, path, w.tokens[domain.RoleComplianceOfficer], nil, &list); got != 200 {
		t.Fatalf("access list: %d", got)
	}
	var outcomes []string
	for _, a := range list.Accesses {
		outcomes = append(outcomes, a.Outcome+" "+a.ActorRole)
	}
	if strings.Join(outcomes, ", ") != "refused nurse, read nurse" {
		t.Errorf("accesses, newest first: %q", outcomes)
	}
	before := w.head()
	w.call(http.MethodGet, "/v1/students/"+w.studentIn+"/access", w.tokens[domain.RoleComplianceOfficer], nil, nil)
	if n := count(w.typesSince(before), "PHIAccessed"); n != 1 {
		t.Errorf("the compliance officer's read appended %d access events, want 1", n)
	}
}

// TestStudentSearchIsScoped: a nurse's search shows the students of the
// nurse's schools only, finds them by name prefix, and is recorded with
// the students it returned.
func TestStudentSearchIsScoped(t *testing.T) {
	w := newWorld(t)
	var list readapi.StudentList
	path := fmt.Sprintf("/v1/students?q=riv&after=%d", w.head())
	before := w.head()
	if got := w.call(http.MethodGet, path, w.tokens[domain.RoleNurse], nil, &list); got != 200 {
		t.Fatalf("search: %d", got)
	}
	if len(list.Students) != 1 || list.Students[0].ID != w.studentIn || list.Students[0].FamilyName != "Rivera" {
		t.Fatalf("found %+v, want only the student of the nurse's school", list.Students)
	}
	if n := count(w.typesSince(before), "PHIAccessed"); n != 1 {
		t.Errorf("the search appended %d access events, want 1", n)
	}
	if got := w.call(http.MethodGet, "/v1/students?school="+w.schoolOut, w.tokens[domain.RoleNurse], nil, nil); got != 403 {
		t.Errorf("another school's students: %d, want 403", got)
	}
}
