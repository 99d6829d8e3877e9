package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/internal/sim"
)

// useDatabase points every command the test runs at db.
func useDatabase(t *testing.T, db *pgtest.DB) {
	t.Helper()
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_APP_DATABASE_URL", "")
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	t.Setenv("WHITECROSS_LOG_LEVEL", "error")
	t.Setenv("WHITECROSS_METRICS_ADDR", "off")
}

// simulateCLI runs `whitecross simulate` with args and returns its
// output.
func simulateCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), append([]string{"simulate"}, args...), &out, &errOut); code != 0 {
		t.Fatalf("simulate %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	return out.String()
}

// lastWeekday returns the last weekday a week before today, a date both
// runs of a test agree on.
func lastWeekday() string {
	day := time.Now().AddDate(0, 0, -7)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, -1)
	}
	return day.Format(time.DateOnly)
}

// TestSimulateSameSeedSameDistrict plays a small district twice with the
// same seed, on two fresh databases: once with the service started
// in-process, once against a service already running (--url). Both logs
// hold the same events with the same IDs, bar what the clock or a random
// source decides (recorded times, sessions, access events); the blocked
// administrations are in the log as MedicationAdministrationBlocked,
// naming each check planned; the logins name accounts of the log; and
// `whitecross verify` finds the log intact.
func TestSimulateSameSeedSameDistrict(t *testing.T) {
	args := []string{"--schools", "2", "--students", "16", "--days", "2", "--seed", "7",
		"--last-day", lastWeekday()}
	inProcess, remote := pgtest.New(t), pgtest.New(t)

	useDatabase(t, inProcess)
	logins := filepath.Join(t.TempDir(), "logins.json")
	out := simulateCLI(t, append(args, "--logins", logins)...)
	first := normalizedLog(t, inProcess)

	useDatabase(t, remote)
	s := startServed(t)
	simulateCLI(t, append(args, "--url", s.base)...)
	s.stop()
	second := normalizedLog(t, remote)

	if missing, extra := difference(first, second), difference(second, first); len(missing)+len(extra) > 0 {
		t.Errorf("the logs differ: %d events only in the first, %d only in the second; the first few:\n%s\n---\n%s",
			len(missing), len(extra), strings.Join(missing[:min(5, len(missing))], "\n"),
			strings.Join(extra[:min(5, len(extra))], "\n"))
	}

	checks := blockedChecks(t, inProcess)
	for _, want := range []string{"allergy", "duplicate", "right_time"} {
		if checks[want] == 0 {
			t.Errorf("no MedicationAdministrationBlocked with the check %s: %v", want, checks)
		}
	}
	l, err := sim.ReadLogins(logins)
	if err != nil {
		t.Fatal(err)
	}
	streams := streamsOf(t, inProcess)
	for _, a := range l.Accounts {
		if !streams["user-"+a.UserID] {
			t.Errorf("%s (%s): no account %q in the log", a.Email, a.Role, a.UserID)
		}
		if !strings.Contains(out, a.Email) || !strings.Contains(out, a.Password) {
			t.Errorf("%s: not among the logins printed", a.Email)
		}
	}
	for _, school := range l.Schools {
		if len(school.StudentIDs) != 8 || !streams["student-"+school.StudentIDs[0]] {
			t.Errorf("school %s: students %v", school.ID, school.StudentIDs)
		}
	}
	if code, out := verifyCLI(t, inProcess); code != 0 || !strings.Contains(out, "intact") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
}

// The fields whose value the service's clock or a random source decides,
// and the event types whose IDs are random: logins, sessions and
// accesses are recorded without an idempotency key.
var (
	unstableFields = []string{"recorded_at", "attempted_at", "at", "attempt_at", "raised_at",
		"started_at", "expires_at", "opened_at", "session_id", "refresh_hash", "previous_hash",
		"password_hash", "access_id", "student_ids"}
	randomIDs = []string{"LoginSucceeded", "LoginFailed", "SessionStarted", "SessionRefreshed",
		"SessionEnded", "PHIAccessed", "PHIAccessRefused"}
)

// normalizedLog returns every event of db's log as a line: ID, stream,
// revision, type and data, without what the clock or a random source
// decides, sorted.
func normalizedLog(t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	rows, err := db.AdminPool(t).Query(t.Context(),
		`SELECT event_id::text, stream, revision, type, convert_from(data, 'UTF8') FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, stream, typ, data string
		var revision int64
		if err := rows.Scan(&id, &stream, &revision, &typ, &data); err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(data), &fields); err != nil {
			t.Fatalf("%s %s: %v", stream, typ, err)
		}
		for _, f := range unstableFields {
			delete(fields, f)
		}
		if slices.Contains(randomIDs, typ) {
			id = "-"
		}
		for _, prefix := range []string{"session-", "access-"} {
			if strings.HasPrefix(stream, prefix) {
				stream = prefix + "*"
			}
		}
		norm, _ := json.Marshal(fields)
		out = append(out, fmt.Sprintf("%s %s %d %s %s", id, stream, revision, typ, norm))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// difference returns the lines of a, sorted, that b does not hold as
// often.
func difference(a, b []string) []string {
	count := map[string]int{}
	for _, line := range b {
		count[line]++
	}
	var out []string
	for _, line := range a {
		if count[line] > 0 {
			count[line]--
			continue
		}
		out = append(out, line)
	}
	return out
}

// texts returns the one text column of query's rows on db.
func texts(t *testing.T, db *pgtest.DB, query string) []string {
	t.Helper()
	rows, _ := db.AdminPool(t).Query(t.Context(), query)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// blockedChecks counts the failed checks of db's blocked administrations.
func blockedChecks(t *testing.T, db *pgtest.DB) map[string]int {
	t.Helper()
	checks := map[string]int{}
	for _, data := range texts(t, db,
		`SELECT convert_from(data, 'UTF8') FROM events WHERE type = 'MedicationAdministrationBlocked'`) {
		var blocked struct {
			Failed []struct {
				Check string `json:"check"`
			} `json:"failed"`
		}
		if err := json.Unmarshal([]byte(data), &blocked); err != nil {
			t.Fatal(err)
		}
		for _, f := range blocked.Failed {
			checks[f.Check]++
		}
	}
	return checks
}

// streamsOf returns the names of db's streams.
func streamsOf(t *testing.T, db *pgtest.DB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range texts(t, db, `SELECT DISTINCT stream FROM events`) {
		out[s] = true
	}
	return out
}

// countOf returns how many events of type db's log holds.
func countOf(t *testing.T, db *pgtest.DB, typ string) int {
	t.Helper()
	var n int
	if err := db.AdminPool(t).QueryRow(t.Context(),
		`SELECT count(*) FROM events WHERE type = $1`, typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServeDemoSeedsOnce: `serve --demo` on an empty log seeds the demo
// district before it serves and prints its logins, with which a nurse
// logs in at once; started again on the same database, it says on
// stderr that it does not seed, and the log does not grow.
func TestServeDemoSeedsOnce(t *testing.T) {
	saved := demoConfig
	demoConfig = sim.Config{Seed: 1, Schools: 2, Students: 8, Days: 1}
	t.Cleanup(func() { demoConfig = saved })
	db := pgtest.New(t)
	useDatabase(t, db)
	logins := filepath.Join(t.TempDir(), "demo-logins.json")

	first := startServed(t, "--demo", "--demo-logins", logins)
	l, err := sim.ReadLogins(logins)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(l.Accounts, func(a sim.LoginAccount) bool { return a.Role == "nurse" })
	nurse := l.Accounts[i]
	session, err := sim.NewClient(first.base, nil).Login(t.Context(), nurse.Email, nurse.Password)
	if err != nil {
		t.Fatalf("the demo nurse cannot log in: %v", err)
	}
	var found struct {
		Students []json.RawMessage `json:"students"`
	}
	if err := session.Get(t.Context(), "/v1/students?school="+l.Schools[*nurse.School].ID, &found); err != nil ||
		len(found.Students) != 4 {
		t.Errorf("the nurse's students: %d, %v", len(found.Students), err)
	}
	first.stop()
	if out := first.stdout.String(); !strings.Contains(out, nurse.Email) || !strings.Contains(out, nurse.Password) {
		t.Errorf("the demo logins were not printed:\n%s", out)
	}
	enrolled, head := countOf(t, db, "StudentEnrolled"), logHead(t, db)
	if enrolled != 8 {
		t.Errorf("%d students enrolled, want 8", enrolled)
	}

	second := startServed(t, "--demo", "--demo-logins", logins)
	second.stop()
	if !strings.Contains(second.stderr.String(), "no demo district seeded") {
		t.Errorf("the second start did not say it skipped the demo:\n%s", second.stderr.String())
	}
	if got := logHead(t, db); got != head {
		t.Errorf("the log grew from %d to %d events on the second start", head, got)
	}
}
