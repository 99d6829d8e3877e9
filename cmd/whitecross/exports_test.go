package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/readapi"
)

// service is `whitecross serve` running for a test, on its own database
// with its keys, witness and export directories in a directory of the
// test's.
type service struct {
	client
	dir  string
	stop func()
}

func startService(t *testing.T, db *pgtest.DB) *service {
	t.Helper()
	dir := t.TempDir()
	for name, value := range map[string]string{
		"WHITECROSS_DATABASE_URL": db.URL, "WHITECROSS_APP_DATABASE_URL": "",
		"WHITECROSS_EVENTSTORE": "postgres", "WHITECROSS_LOG_LEVEL": "error",
		"WHITECROSS_LEDGER_KEY_FILE":          filepath.Join(dir, "ledger-key"),
		"WHITECROSS_LEDGER_VERIFIER_KEY_FILE": "",
		"WHITECROSS_WITNESS_DIR":              filepath.Join(dir, "witness"),
		"WHITECROSS_EXPORT_DIR":               filepath.Join(dir, "exports"),
		"WHITECROSS_TOKEN_KEY_FILE":           filepath.Join(dir, "token-key.pem"),
	} {
		t.Setenv(name, value)
	}
	srv := startServed(t)
	return &service{client: client{t: t, base: srv.base}, dir: dir, stop: srv.stop}
}

// poll polls an export until it is done or failed.
func (s *service) poll(location, token string) readapi.ExportStatus {
	s.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		var status readapi.ExportStatus
		s.must(200, http.MethodGet, location, token, nil, &status)
		if status.Status == "done" || status.Status == "failed" {
			return status
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s is not over after 60s", location)
	return readapi.ExportStatus{}
}

// download saves a done export's bundle to a file and returns its path.
func (s *service) download(path, token string) string {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(s.t.Context(), http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	file := filepath.Join(s.t.TempDir(), "bundle.tar")
	f, err := os.Create(file)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		s.t.Fatal(err)
	}
	return file
}

func verifyBundleCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"verify-bundle"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestAuditorExportsAStudentsHistory does what an auditor would: an
// administrator makes their account, a nurse records a student's
// morning; the auditor asks for the student's history over HTTP, polls
// the job, downloads the bundle and checks it offline with `whitecross
// verify-bundle` and the log's published key. A one-byte change to the
// bundle fails verification and is located. Then, the service stopped,
// someone cuts the newest events off the log, and `whitecross verify`
// fails.
func TestAuditorExportsAStudentsHistory(t *testing.T) {
	db := pgtest.New(t)
	const adminPassword = "Sysadmin-Pass-2026!"
	const staffPassword = "Staff-Passphrase-2026#"
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	if err := runUsersAdd(t.Context(), []string{"--email", "root@district.example", "--role", "sysadmin"},
		strings.NewReader(adminPassword+"\n"), io.Discard, io.Discard); err != nil {
		t.Fatalf("users add: %v", err)
	}
	s := startService(t, db)
	admin := s.login("root@district.example", adminPassword)
	var district, school readapi.Written
	s.must(201, http.MethodPost, "/v1/districts", admin, readapi.CreateDistrictRequest{Name: "Riverside"},
		&district)
	s.must(201, http.MethodPost, "/v1/schools", admin,
		readapi.CreateSchoolRequest{DistrictID: district.ID, Name: "Lincoln Elementary"}, &school)
	for _, u := range []readapi.CreateUserRequest{
		{Email: "nurse@district.example", DisplayName: "School Nurse", Roles: []domain.Role{domain.RoleNurse},
			Schools: []string{school.ID}, District: district.ID, Password: staffPassword},
		{Email: "auditor@firm.example", DisplayName: "External Auditor",
			Roles: []domain.Role{domain.RoleAuditor}, District: district.ID, Password: staffPassword},
	} {
		s.must(201, http.MethodPost, "/v1/users", admin, u, nil)
	}
	nurse := s.login("nurse@district.example", staffPassword)
	var student readapi.Written
	s.must(201, http.MethodPost, "/v1/students", nurse, readapi.EnrolRequest{StudentNumber: "S-0001",
		DistrictID: district.ID, SchoolID: school.ID, GivenName: "Maya", FamilyName: "Okafor",
		BirthDate: "2017-03-14", Grade: "3", Gender: "female", EnrolledOn: "2025-08-20"}, &student)
	s.must(201, http.MethodPost, "/v1/students/"+student.ID+"/allergies", nurse, readapi.AllergyRequest{
		EntryID: "4d1c6a70-1e2b-4c3d-8e9f-0a1b2c3d4e5f", Allergen: "penicillin", AllergenType: "medication",
		Severity: "life-threatening", Reaction: "anaphylaxis"}, nil)

	auditor := s.login("auditor@firm.example", staffPassword)
	var queued readapi.ExportStatus
	s.must(202, http.MethodPost, "/v1/exports", auditor, readapi.ExportRequest{StudentID: student.ID,
		FHIR: true, Recipient: "Firm LLP, external auditors", Purpose: "annual HIPAA audit"}, &queued)
	status := s.poll("/v1/exports/"+queued.ID, auditor)
	if status.Status != "done" || status.Counts.Events < 2 || status.Counts.Payloads != 0 {
		t.Fatalf("export: %+v", status)
	}
	bundleFile := s.download(status.Bundle, auditor)
	raw, _ := os.ReadFile(bundleFile)
	if bytes.Contains(raw, []byte("penicillin")) {
		t.Fatal("a bundle of digests only holds a payload")
	}

	key := filepath.Join(s.dir, "ledger-key.pub")
	code, out := verifyBundleCLI(t, "--key", key, bundleFile)
	if code != 0 || !strings.Contains(out, "OK: ") || !strings.Contains(out, "signed with the trusted key") {
		t.Fatalf("verify-bundle --key: exit %d\n%s", code, out)
	}
	code, out = verifyBundleCLI(t, bundleFile)
	if code != 0 || !strings.Contains(out, "NOTE: no trusted key was given") {
		t.Fatalf("verify-bundle without a key: exit %d\n%s", code, out)
	}

	// One byte changed in the events: the student's allergy becomes some
	// other type of event.
	changed := bytes.Clone(raw)
	at := bytes.Index(changed, []byte(`"type":"AllergyRecorded"`)) + len(`"type":"`)
	changed[at] = 'B'
	tampered := filepath.Join(t.TempDir(), "tampered.tar")
	if err := os.WriteFile(tampered, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = verifyBundleCLI(t, "--key", key, tampered)
	if code != 1 || !strings.Contains(out, "BAD events.ndjson line") || !strings.Contains(out, "hash") {
		t.Fatalf("verify-bundle of a changed bundle: exit %d\n%s", code, out)
	}

	s.stop()
	if code, out := verifyCLI(t, db); code != 0 {
		t.Fatalf("verify before tampering: exit %d\n%s", code, out)
	}
	head := logHead(t, db)
	tamper(t, db, fmt.Sprintf(`DELETE FROM events WHERE position > %d`, head-2))
	if code, out := verifyCLI(t, db); code != 1 || !strings.Contains(out, "were removed") {
		t.Fatalf("verify after cutting off the tail: exit %d\n%s", code, out)
	}
}

// TestUnfinishedExportsTakenUpOnStart leaves the log as a service that
// died would: one export queued, another started. The next service runs
// the first and fails the second, whose bundle was never finished.
func TestUnfinishedExportsTakenUpOnStart(t *testing.T) {
	db := pgtest.New(t)
	ctx := t.Context()
	log := postgres.New(db.AppPool(t), postgres.Config{})
	x, err := commands.NewExports(log, ledgerBundler{}, commands.ExportsConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	officer := auth.Principal{UserID: "a0d1e2f3-0000-4000-8000-000000000006",
		Roles: []domain.Role{domain.RoleComplianceOfficer}}
	var ids []string
	for range 2 {
		e, _, err := x.Request(ctx, officer, commands.Meta{}, commands.ExportRequest{
			Scope: domain.ExportScope{All: true}, Recipient: "State auditor", Purpose: "annual audit"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	_, err = log.Append(ctx, domain.ExportStream(ids[1]), eventstore.Exact(0), eventstore.EventData{
		Type: "ExportStarted", Data: []byte(`{"at":"2026-12-03T09:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	log.Close()

	s := startService(t, db)
	officerToken := s.login(addOfficer(t, s), "Staff-Passphrase-2026#")
	if got := s.poll("/v1/exports/"+ids[0], officerToken); got.Status != "done" {
		t.Errorf("the export left queued: %+v", got)
	}
	got := s.poll("/v1/exports/"+ids[1], officerToken)
	if got.Status != "failed" || !strings.Contains(got.Error, "interrupted") {
		t.Errorf("the export left running: %+v", got)
	}
}

// addOfficer makes a compliance officer's account with the command line
// and returns its address.
func addOfficer(t *testing.T, s *service) string {
	t.Helper()
	email := "privacy@district.example"
	var stdout bytes.Buffer
	if err := runUsersAdd(t.Context(), []string{"--email", email, "--role", "compliance_officer"},
		strings.NewReader("Staff-Passphrase-2026#\n"), &stdout, io.Discard); err != nil {
		t.Fatalf("users add: %v", err)
	}
	return email
}

// TestBundlerWaitsForAnotherSealer makes bundles' checkpoints where
// another process holds the sealer's lock, as another instance of the
// service would: the bundler waits for that sealer to sign a checkpoint
// covering the log, and uses it.
func TestBundlerWaitsForAnotherSealer(t *testing.T) {
	db := pgtest.New(t)
	seedLog(t, db)
	d := &deps{log: newLogger("error"), pool: db.AppPool(t)}
	d.store = postgres.New(d.pool, postgres.Config{})
	defer d.store.Close()
	skey, _, err := ledger.GenerateKey("test.example/whitecross")
	if err != nil {
		t.Fatal(err)
	}
	signer, vkey, err := ledger.ParseSignerKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ledger.NewSealer(d.store, d.pool, signer, ledger.SealerConfig{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- other.Run(ctx) }()
	defer func() { stop(); <-done }()

	ours, err := ledger.NewSealer(d.store, d.pool, signer, ledger.SealerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := ours.Checkpoint(t.Context())
		if errors.Is(err, ledger.ErrSealerBusy) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("the other sealer never took the lock: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 3 {
		_, err := d.store.Append(t.Context(), "student-c", eventstore.Any, eventstore.EventData{
			Type: "Tested", Data: fmt.Appendf(nil, `{"n":%d}`, i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := ledgerBundler{sealer: ours, log: d.store, signer: signer, verifierKey: vkey}
	cp, err := b.checkpoint(t.Context())
	if err != nil || cp.Size != 11 {
		t.Fatalf("checkpoint of %d leaves, %v; want the other sealer's of 11", cp.Size, err)
	}
}
