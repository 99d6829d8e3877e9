package readapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/promtest"
	"github.com/whitecross/whitecross/projections"
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

// The demographics of the student whose health information the router
// walk looks for in every answer: no other student has them.
const (
	walkedFamilyName = "Quillfeather"
	walkedBirthDate  = "2013-07-19"
)

// seedWalkedStudent enrols, at the school in scope, a student with a
// name and birth date of their own, gives them health information in
// every read model (an order with a dose of doseDay, an alert, a
// break-glass grant) and makes them the student in scope.
func (w *world) seedWalkedStudent() {
	w.t.Helper()
	registrar := auth.Principal{UserID: system.UserID, Roles: []domain.Role{domain.RoleNurse},
		Schools: []string{w.schoolIn}}
	id, _, err := w.clinic.Enrol(w.t.Context(), registrar, commands.Meta{}, domain.EnrollStudent{
		StudentNumber: uuid.NewString()[:8], DistrictID: w.districtIn, SchoolID: w.schoolIn,
		GivenName: "Wren", FamilyName: walkedFamilyName, BirthDate: walkedBirthDate, Grade: "6",
		Gender: "unknown", EnrolledOn: "2025-08-20"})
	if err != nil {
		w.t.Fatalf("enrol: %v", err)
	}
	order := fixedOrderAt("08:00")
	w.appendEvents(domain.StudentStream(id), order,
		domain.MedicationAdministered{AttemptID: uuid.NewString(), OrderID: order.OrderID,
			GivenAt: slot("08:05"), ScheduledFor: slot("08:00"), DoseAmount: "5", DoseUnit: "mL",
			Route: "oral", NurseID: uuid.NewString()},
		domain.AlertRaised{AlertID: uuid.NewString(), Kind: "asthma", Location: "gym",
			RaisedAt: w.clock.Now(), RaisedBy: uuid.NewString()})
	w.studentIn = id
	w.openGrant(w.tokens[co], id, 30)
	w.sync()
}

// phiFaults calls every GET route of api, served at url, as every role
// that may call it (with no token when it is public), on the walked
// student in scope, and returns every fault: an answer that carries the
// student's name or birth date from a route not marked as carrying
// health information, or without exactly one access event naming the
// student; and an answer of a marked route without exactly one access
// event. It also returns how many answers it checked, and how many of
// them carried the student's health information.
func (w *world) phiFaults(
	t *testing.T,
	api *readapi.Server,
	url string,
) (faults []string, checked, carrying int) {
	t.Helper()
	for _, r := range api.Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		path := strings.ReplaceAll(r.Path, ":id", w.studentIn)
		if row, ok := matrixRow(r); ok {
			path, _ = row.request(w, true)
		}
		paths := []string{path}
		if slices.ContainsFunc(r.Query, func(q readapi.QueryParam) bool { return q.Name == "as_of" }) {
			// A chart read as of a time is a read of its own.
			paths = append(paths, withQuery(path,
				"as_of="+time.Now().Add(time.Minute).UTC().Format(time.RFC3339)))
		}
		for _, path := range paths {
			for _, role := range callers(r) {
				before := w.head()
				resp, answer := call(t, http.MethodGet, url+path, w.tokens[role], nil)
				body := string(answer)
				if resp.StatusCode != http.StatusOK {
					continue
				}
				checked++
				read, _ := w.accessesSince(before)
				naming := 0
				for _, a := range read {
					if slices.Contains(a.StudentIDs, w.studentIn) {
						naming++
					}
				}
				name := fmt.Sprintf("GET %s as %q", r.Path, role)
				carries := strings.Contains(body, walkedFamilyName) || strings.Contains(body, walkedBirthDate)
				if carries {
					carrying++
				}
				switch {
				case carries && !r.PHI:
					faults = append(faults, name+" answers health information but is not marked PHI")
				case carries && (naming != 1 || len(read) != 1):
					faults = append(faults, fmt.Sprintf("%s answers health information with %d access "+
						"events, %d naming the student", name, len(read), naming))
				case r.PHI && len(read) != 1:
					faults = append(faults, fmt.Sprintf("%s appended %d access events, want 1", name, len(read)))
				}
			}
		}
	}
	return faults, checked, carrying
}

// callers returns the roles that may call r; the empty role, for no
// token, when r is public.
func callers(r readapi.Route) []domain.Role {
	if r.Access.Public {
		return []domain.Role{""}
	}
	var roles []domain.Role
	for _, role := range domain.Roles {
		if r.Access.Capability == "" || auth.Can(role, r.Access.Capability) {
			roles = append(roles, role)
		}
	}
	return roles
}

// TestEveryGETRouteRecordsThePHIItAnswers walks every GET route of the
// application, as every role that may call it, with a student in scope
// whose health information is in every read model: each answer that
// carries the student's name or birth date comes from a route marked PHI
// and appended exactly one access event naming the student, and each
// answer of a marked route appended exactly one access event. A route
// added later cannot escape it.
func TestEveryGETRouteRecordsThePHIItAnswers(t *testing.T) {
	w := newWorld(t)
	w.seedWalkedStudent()
	faults, checked, carrying := w.phiFaults(t, w.api, w.srv.URL)
	for _, f := range faults {
		t.Error(f)
	}
	// The chart, the search and the alerts, as a nurse and a compliance
	// officer, at least.
	if checked < 20 || carrying < 6 {
		t.Errorf("%d answers checked, %d with health information", checked, carrying)
	}

	// A route that answers the chart without the mark is caught.
	leak := readapi.Route{Method: http.MethodGet, Path: "/v1/leaky/:id", Summary: "a chart, unmarked",
		Access: readapi.Access{Capability: auth.ReadClinical},
		Handler: func(c echo.Context) error {
			row, _, err := projections.ChartOf(c.Request().Context(), w.db, c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSONBlob(http.StatusOK, row.Document)
		}}
	api, err := readapi.New(readapi.Config{Logger: zerolog.Nop(), Routes: []readapi.Route{leak},
		Authenticate: readapi.Authenticator(w.accounts)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	faults, _, _ = w.phiFaults(t, api, srv.URL)
	want := `GET /v1/leaky/:id as "nurse" answers health information but is not marked PHI`
	if !slices.Contains(faults, want) {
		t.Errorf("an unmarked route answering a chart: faults %q, want %q among them", faults, want)
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
// recorded, so the answer is 503 and carries no health information; the
// failure is counted on /metrics.
func TestNoPHIWithoutItsAccessEvent(t *testing.T) {
	w := newWorld(t)
	failures := func() float64 {
		return promtest.Value(t, w.api.Registry(), "whitecross_access_event_failures_total",
			"type", "PHIAccessed")
	}
	if n := failures(); n != 0 {
		t.Fatalf("%v access events failed before the log closed", n)
	}
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
	if n := failures(); n != 1 {
		t.Errorf("whitecross_access_event_failures_total{type=PHIAccessed} = %v, want 1", n)
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
	before = w.head()
	if got := w.call(http.MethodGet, "/v1/students?school="+w.schoolOut, w.tokens[domain.RoleNurse], nil, nil); got != 403 {
		t.Errorf("another school's students: %d, want 403", got)
	}
	read, refused := w.accessesSince(before)
	want := domain.PHIAccessRefused{ActorRole: domain.RoleNurse, SchoolID: w.schoolOut,
		What: "GET /v1/students", Reason: "scope"}
	if len(read) != 0 || len(refused) != 1 || !sameRefusal(refused[0], want) {
		t.Errorf("the refused search recorded reads %+v, refusals %+v, want one refusal %+v",
			read, refused, want)
	}
}

// sameRefusal compares what a test can predict of two refusals.
func sameRefusal(got, want domain.PHIAccessRefused) bool {
	return got.ActorRole == want.ActorRole && got.StudentID == want.StudentID &&
		got.SchoolID == want.SchoolID && got.What == want.What && got.Reason == want.Reason &&
		got.ActorID != "" && got.AccessID != ""
}

// TestRefusedForWantOfARoleIsRecorded calls every route that carries
// health information as every role that may not: each 403 is recorded
// as one refused access, naming the route and the student or school its
// path names, and nothing else. A refusal on a route without health
// information is not recorded.
func TestRefusedForWantOfARoleIsRecorded(t *testing.T) {
	w := newWorld(t)
	checked := 0
	for _, r := range w.api.Routes() {
		if !r.PHI {
			continue
		}
		row, ok := matrixRow(r)
		if !ok {
			t.Errorf("%s %s has no row in the matrix", r.Method, r.Path)
			continue
		}
		want := domain.PHIAccessRefused{What: r.Method + " " + r.Path, Reason: "role"}
		switch {
		case strings.HasPrefix(r.Path, "/v1/students/:id"):
			want.StudentID = w.studentIn
		case strings.HasPrefix(r.Path, "/v1/schools/:id"):
			want.SchoolID = w.schoolIn
		}
		for _, role := range domain.Roles {
			if auth.Can(role, r.Access.Capability) {
				continue
			}
			path, body := row.request(w, true)
			before := w.head()
			if got := w.call(r.Method, path, w.tokens[role], body, nil); got != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.Method, path, role, got)
				continue
			}
			want.ActorRole = role
			read, refused := w.accessesSince(before)
			if len(read) != 0 || len(refused) != 1 || !sameRefusal(refused[0], want) {
				t.Errorf("%s %s as %s recorded reads %+v, refusals %+v, want one refusal %+v",
					r.Method, r.Path, role, read, refused, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no refusal was checked")
	}

	before := w.head()
	if got := w.call(http.MethodGet, "/v1/users", w.tokens[domain.RoleNurse], nil, nil); got != 403 {
		t.Fatalf("a nurse lists accounts: %d, want 403", got)
	}
	if types := w.typesSince(before); len(types) != 0 {
		t.Errorf("a refusal without health information recorded %v", types)
	}
}

// TestAccessRecordsTheGrantingRole: an account with two roles reads a
// chart under the role that grants clinical reads, and is refused the
// review of grants, which neither role grants, under its first role.
func TestAccessRecordsTheGrantingRole(t *testing.T) {
	w := newWorld(t)
	email := "two-roles@district.example"
	_, _, err := w.accounts.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: email, DisplayName: "Both", Password: password, Schools: []string{w.schoolIn},
		Roles: []domain.Role{domain.RoleSchoolAdmin, domain.RoleNurse}})
	if err != nil {
		t.Fatal(err)
	}
	token := w.login(email).AccessToken

	before := w.head()
	if got := w.call(http.MethodGet, "/v1/students/"+w.studentIn, token, nil, nil); got != 200 {
		t.Fatalf("chart: %d", got)
	}
	read, _ := w.accessesSince(before)
	if len(read) != 1 || read[0].ActorRole != domain.RoleNurse {
		t.Errorf("the chart read recorded %+v, want one under the nurse role", read)
	}
	if m := w.metadataSince(before); len(m) != 1 || m[0].ActorRole != "nurse" {
		t.Errorf("its metadata: %+v, want the nurse role", m)
	}

	before = w.head()
	if got := w.call(http.MethodGet, "/v1/access/break-glass", token, nil, nil); got != 403 {
		t.Fatalf("review of grants: %d, want 403", got)
	}
	if _, refused := w.accessesSince(before); len(refused) != 1 ||
		refused[0].ActorRole != domain.RoleSchoolAdmin || refused[0].Reason != "role" {
		t.Errorf("the refused review recorded %+v, want one under the first role", refused)
	}
}

// metadataSince returns the metadata of the events appended after
// position.
func (w *world) metadataSince(position uint64) []eventstore.Metadata {
	w.t.Helper()
	evs, err := w.log.ReadAll(w.t.Context(), position+1, 100000)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []eventstore.Metadata
	for _, e := range evs {
		m, err := e.DecodeMetadata()
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// withQuery adds the query parameter kv to path.
func withQuery(path, kv string) string {
	if strings.Contains(path, "?") {
		return path + "&" + kv
	}
	return path + "?" + kv
}
