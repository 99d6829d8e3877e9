package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

// client calls a running service over real HTTP.
type client struct {
	t    *testing.T
	base string
}

// call sends body as JSON with token and decodes the answer into out
// (when not nil); it returns the status.
func (c client) call(method, path, token string, body, out any) int {
	c.t.Helper()
	status, data := c.send(method, path, token, body)
	if out != nil && status < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return status
}

// refusal sends body as JSON with token and returns the status and the
// problem's failed checks.
func (c client) refusal(method, path, token string, body any) (int, []readapi.FailedCheck) {
	c.t.Helper()
	status, data := c.send(method, path, token, body)
	var p struct {
		Checks []readapi.FailedCheck `json:"checks"`
	}
	json.Unmarshal(data, &p)
	return status, p.Checks
}

// send sends body as JSON with token; it returns the status and the body
// of the answer.
func (c client) send(method, path, token string, body any) (int, []byte) {
	c.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// login returns an access token for email.
func (c client) login(email, password string) string {
	c.t.Helper()
	var tok readapi.TokenResponse
	if got := c.call(http.MethodPost, "/v1/auth/login", "",
		readapi.LoginRequest{Email: email, Password: password}, &tok); got != 200 {
		c.t.Fatalf("login: %d", got)
	}
	return tok.AccessToken
}

// must fails the test unless the call answers want.
func (c client) must(want int, method, path, token string, body, out any) {
	c.t.Helper()
	if got := c.call(method, path, token, body, out); got != want {
		c.t.Fatalf("%s %s: %d, want %d", method, path, got, want)
	}
}

// TestNewUserWalkthrough does what a newcomer would on a fresh database:
// creates the first administrator on the command line, starts the
// service, sets up a district, a school, a nurse and a compliance
// officer, runs the nurse's medication-safety scenario (amoxicillin
// refused for a penicillin allergy, a correct dose of another medication
// given in its window, the same dose again refused as a duplicate), reads
// the chart with the blocked attempt, lets compliance see who read it,
// then stops the service, replays every projection to identical tables
// and verifies the log.
func TestNewUserWalkthrough(t *testing.T) {
	db := pgtest.New(t)
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_APP_DATABASE_URL", "")
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	t.Setenv("WHITECROSS_LOG_LEVEL", "warn")
	t.Setenv("WHITECROSS_METRICS_ADDR", "off")

	const adminPassword = "Sysadmin-Pass-2026!"
	const staffPassword = "Staff-Passphrase-2026#"
	var out bytes.Buffer
	if err := runUsersAdd(t.Context(), []string{"--email", "root@district.example", "--role", "sysadmin"},
		strings.NewReader(adminPassword+"\n"), &out, io.Discard); err != nil {
		t.Fatalf("users add: %v", err)
	}

	srv := startServed(t)
	stop := srv.stop
	c := client{t: t, base: srv.base}

	admin := c.login("root@district.example", adminPassword)
	var district, school readapi.Written
	c.must(201, http.MethodPost, "/v1/districts", admin, readapi.CreateDistrictRequest{Name: "Riverside"}, &district)
	c.must(201, http.MethodPost, "/v1/schools", admin,
		readapi.CreateSchoolRequest{DistrictID: district.ID, Name: "Lincoln Elementary"}, &school)
	var nurse, officer readapi.Written
	c.must(201, http.MethodPost, "/v1/users", admin, readapi.CreateUserRequest{Email: "nurse@district.example",
		DisplayName: "School Nurse", Roles: []domain.Role{domain.RoleNurse}, Schools: []string{school.ID},
		District: district.ID, Password: staffPassword}, &nurse)
	c.must(201, http.MethodPost, "/v1/users", admin, readapi.CreateUserRequest{Email: "privacy@district.example",
		DisplayName: "Privacy Officer", Roles: []domain.Role{domain.RoleComplianceOfficer},
		District: district.ID, Password: staffPassword}, &officer)
	nurseToken := c.login("nurse@district.example", staffPassword)
	officerToken := c.login("privacy@district.example", staffPassword)

	// Each step so far is an event in the log, as `whitecross log` shows.
	_, rows, _ := logCLI(t, db)
	steps := []string{"UserCreated", "EmailReserved", "LoginSucceeded", "SessionStarted",
		"DistrictCreated", "SchoolCreated", "UserCreated", "EmailReserved"}
	types := column(rows, 3)
	for i, step := range steps {
		at := slices.Index(types, step)
		if at < 0 {
			t.Fatalf("step %d, %s, is not in the log after the earlier steps: %v", i, step, column(rows, 3))
		}
		types = types[at+1:]
	}

	// The nurse's scenario: a life-threatening penicillin allergy, then
	// amoxicillin refused.
	var student readapi.Written
	c.must(201, http.MethodPost, "/v1/students", nurseToken, readapi.EnrolRequest{StudentNumber: "S-0001",
		DistrictID: district.ID, SchoolID: school.ID, GivenName: "Maya", FamilyName: "Okafor",
		BirthDate: "2017-03-14", Grade: "3", Gender: "female", EnrolledOn: "2025-08-20"}, &student)
	chart := "/v1/students/" + student.ID
	c.must(201, http.MethodPost, chart+"/allergies", nurseToken, readapi.AllergyRequest{EntryID: uuid.NewString(),
		Allergen: "penicillin", AllergenType: "medication", Severity: "life-threatening",
		Reaction: "anaphylaxis"}, nil)
	zone, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().In(zone).Truncate(time.Minute)
	// order records an order of drug, 5 mL by mouth, due now, and returns
	// that dose, given now.
	order := func(drug, ingredient string) readapi.AdministrationRequest {
		t.Helper()
		id := uuid.NewString()
		c.must(201, http.MethodPost, chart+"/medication-orders", nurseToken, readapi.OrderRequest{OrderID: id,
			DrugName: drug, Ingredients: []string{ingredient}, Strength: "250 mg/5 mL",
			DoseAmount: "5", DoseUnit: "mL", Route: "oral",
			Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{due.Format("15:04")},
				TimeZone: "America/Chicago"},
			StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 0, 10).Format(time.DateOnly),
			Prescriber: domain.Prescriber{Name: "Dr. A. Chen"}, ConsentOn: due.AddDate(0, 0, -2).Format(time.DateOnly),
		}, nil)
		return readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: id, StudentID: student.ID,
			DrugName: drug, DoseAmount: "5", DoseUnit: "mL", Route: "oral", GivenAt: time.Now(),
			ScheduledFor: due}
	}
	attempt := order("Amoxicillin", "amoxicillin")
	got, checks := c.refusal(http.MethodPost, chart+"/administrations", nurseToken, attempt)
	if got != 422 || !slices.ContainsFunc(checks, func(f readapi.FailedCheck) bool {
		return f.Check == "allergy" && f.Allergen == "penicillin" && f.Severity == "life-threatening"
	}) {
		t.Fatalf("amoxicillin with a penicillin allergy: %d %+v, want 422 naming the allergy", got, checks)
	}

	// A correct scheduled dose of another medication, inside its window,
	// is given; the same dose again is refused as a duplicate.
	cetirizineDose := order("Cetirizine", "cetirizine")
	var given readapi.Written
	c.must(201, http.MethodPost, chart+"/administrations", nurseToken, cetirizineDose, &given)
	if given.Event == nil || given.Event.Type != "MedicationAdministered" {
		t.Errorf("the dose given answered %+v, want its MedicationAdministered", given)
	}
	cetirizineDose.AttemptID = uuid.NewString()
	got, checks = c.refusal(http.MethodPost, chart+"/administrations", nurseToken, cetirizineDose)
	if got != 422 || !slices.ContainsFunc(checks, func(f readapi.FailedCheck) bool { return f.Check == "duplicate" }) {
		t.Fatalf("the same dose again: %d %+v, want 422 naming duplicate", got, checks)
	}
	head := logHead(t, db)

	// The nurse sees the chart and the blocked attempt.
	type dose struct {
		Kind      string `json:"kind"`
		AttemptID string `json:"attempt_id"`
	}
	var seen struct {
		ID    string `json:"id"`
		Doses []dose `json:"administrations"`
	}
	c.must(200, http.MethodGet, fmt.Sprintf("%s?after=%d", chart, head), nurseToken, nil, &seen)
	blocked := slices.ContainsFunc(seen.Doses, func(d dose) bool {
		return d.Kind == "blocked" && d.AttemptID == attempt.AttemptID
	})
	if seen.ID != student.ID || !blocked {
		t.Errorf("the chart shows no blocked attempt: %+v", seen)
	}

	// The compliance officer sees who read the chart.
	var accesses readapi.AccessList
	c.must(200, http.MethodGet, fmt.Sprintf("%s/access?after=%d", chart, logHead(t, db)), officerToken, nil, &accesses)
	read := slices.ContainsFunc(accesses.Accesses, func(a projections.AccessRow) bool {
		return a.ActorID == nurse.ID && a.Outcome == "read" && a.Purpose == domain.PurposeTreatment
	})
	if !read {
		t.Errorf("the access list does not show the nurse's read: %+v", accesses.Accesses)
	}

	// Let the projections reach the head, stop the service, then replay
	// every projection: the same tables.
	waitProjections(t, db, logHead(t, db))
	stop()
	before := readModelTables(t, db)
	var replayOut, replayErr bytes.Buffer
	if code := run(t.Context(), []string{"replay"}, &replayOut, &replayErr); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, replayErr.String())
	}
	after := readModelTables(t, db)
	if len(before["readmodel.students"]) != 1 || len(before["readmodel.access_log"]) < 2 {
		t.Errorf("read models before replay: %d students, %d accesses; want 1 and at least 2",
			len(before["readmodel.students"]), len(before["readmodel.access_log"]))
	}
	if !slices.Equal(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))) {
		t.Fatalf("tables before replay %v, after %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	for table, rows := range before {
		if !slices.Equal(rows, after[table]) {
			t.Errorf("%s: %d rows before replay, %d after, or different rows", table, len(rows), len(after[table]))
		}
	}
	if code, out := verifyCLI(t, db); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
}

// logHead returns the position of the newest event of db's log.
func logHead(t *testing.T, db *pgtest.DB) uint64 {
	t.Helper()
	var head int64
	if err := db.AdminPool(t).QueryRow(t.Context(),
		`SELECT coalesce(max(position), 0) FROM events`).Scan(&head); err != nil {
		t.Fatal(err)
	}
	return uint64(head)
}

// waitProjections waits until every projection has applied position.
func waitProjections(t *testing.T, db *pgtest.DB, position uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var behind int
		if err := db.AdminPool(t).QueryRow(t.Context(),
			`SELECT count(*) FROM projection_checkpoints WHERE position < $1`, int64(position)).Scan(&behind); err != nil {
			t.Fatal(err)
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d projections still behind position %d", behind, position)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readModelTables returns every row of every table of the readmodel
// schema, as text, in order.
func readModelTables(t *testing.T, db *pgtest.DB) map[string][]string {
	t.Helper()
	pool := db.AdminPool(t)
	rows, _ := pool.Query(t.Context(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'readmodel' ORDER BY 1`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string, len(tables))
	for _, table := range tables {
		name := "readmodel." + pgx.Identifier{table}.Sanitize()
		rows, _ := pool.Query(t.Context(), fmt.Sprintf(`SELECT t::text FROM %s t ORDER BY 1`, name))
		values, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out["readmodel."+table] = values
	}
	return out
}
