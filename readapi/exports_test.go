package readapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
	"github.com/whitecross/whitecross/readapi"
)

// exportFixture is the world's export jobs, made with the ledger as the
// service makes them. No worker runs unless a test starts one: a job
// appends to the log in the background, which other tests of the world
// must not see.
type exportFixture struct {
	service     *commands.Exports
	verifierKey string
}

func (w *world) exportRoutes(pool *pgxpool.Pool, auditor *commands.Auditor) []readapi.Route {
	skey, _, err := ledger.GenerateKey("test.example/whitecross")
	if err != nil {
		w.t.Fatal(err)
	}
	signer, vkey, err := ledger.ParseSignerKey(skey)
	if err != nil {
		w.t.Fatal(err)
	}
	sealer, err := ledger.NewSealer(w.log, pool, signer, ledger.SealerConfig{})
	if err != nil {
		w.t.Fatal(err)
	}
	dir := w.t.TempDir()
	service, err := commands.NewExports(w.log, testBundler{sealer: sealer, log: w.log, vkey: vkey,
		signer: signer, dir: dir}, commands.ExportsConfig{Dir: dir, Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	w.exports = &exportFixture{service: service, verifierKey: vkey}
	return readapi.ExportRoutes(readapi.Exports{Service: service, Auditor: auditor})
}

// testBundler writes bundles with the ledger, as the service's does.
type testBundler struct {
	sealer    *ledger.Sealer
	log       eventstore.Store
	signer    note.Signer
	vkey, dir string
}

func (b testBundler) Bundle(
	ctx context.Context,
	out io.Writer,
	req commands.BundleRequest,
) (commands.BundleSummary, error) {
	cp, err := b.sealer.Checkpoint(ctx)
	if err != nil {
		return commands.BundleSummary{}, err
	}
	s := req.Scope
	sum, err := bundle.Write(ctx, out, b.log, b.sealer.Tree(), bundle.Options{
		Checkpoint: cp, Signer: b.signer, VerifierKey: b.vkey, ExportID: req.ExportID,
		Scope:    bundle.Scope{StudentID: s.StudentID, ActorID: s.ActorID, From: s.From, To: s.To, All: s.All},
		Payloads: req.Payloads, FHIR: req.FHIR, TempDir: b.dir,
		Describe: func(e *eventstore.Event) bundle.Audit {
			f := req.Describe(e)
			return bundle.Audit{Students: f.Students, Kind: bundle.AuditKind(f.Kind), Refused: f.Refused}
		},
	})
	return commands.BundleSummary{TreeSize: sum.TreeSize, Students: sum.Students, Size: sum.Size,
		SHA256: sum.SHA256, Counts: domain.ExportCounts(sum.Counts)}, err
}

// doneExport requests an export of the student in scope, as a compliance
// officer, makes it at once and returns its ID.
func (w *world) doneExport() string {
	w.t.Helper()
	officer := auth.Principal{UserID: uuid.NewString(), Roles: []domain.Role{co}}
	x, _, err := w.exports.service.Request(w.t.Context(), officer, commands.Meta{}, commands.ExportRequest{
		Scope: domain.ExportScope{StudentID: w.studentIn}, Recipient: "District counsel",
		Purpose: "records request",
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.exports.service.Make(w.t.Context(), x.ID); err != nil {
		w.t.Fatal(err)
	}
	return x.ID
}

// TestExportOverHTTP asks for an export as a compliance officer (an
// auditor may not have the payloads), over real HTTP
// with a real token: 202 and a Location, a download refused while the job
// waits, then, once a worker runs, a status that reaches done and a
// bundle that verifies against the ledger's key, whose disclosure was
// recorded before it could be downloaded, and whose download is recorded
// as an access.
func TestExportOverHTTP(t *testing.T) {
	w := newWorld(t)
	auditor := w.tokens[co]
	req := readapi.ExportRequest{StudentID: w.studentIn, Payloads: true, FHIR: true,
		Recipient: "State auditor", Purpose: "annual HIPAA audit"}
	before := w.head()
	if got := w.call(http.MethodPost, "/v1/exports", w.tokens[domain.RoleAuditor], req, nil); got != 403 ||
		w.head() != before {
		t.Fatalf("payloads asked by an auditor, who reads no chart: %d, %d events appended", got,
			w.head()-before)
	}
	resp := w.sendJSON(http.MethodPost, "/v1/exports", auditor, req)
	var queued readapi.ExportStatus
	json.NewDecoder(resp.Body).Decode(&queued)
	resp.Body.Close()
	location := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || location != "/v1/exports/"+queued.ID ||
		queued.Status != "queued" {
		t.Fatalf("POST: %d, Location %q, %+v", resp.StatusCode, location, queued)
	}
	if got := w.call(http.MethodGet, location+"/bundle", auditor, nil, nil); got != http.StatusConflict {
		t.Fatalf("download of a queued export: %d, want 409", got)
	}

	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.exports.service.Run(ctx) }()
	defer func() { stop(); <-done }()
	status := w.pollExport(location, auditor)
	if status.Status != "done" || status.Counts == nil || status.Counts.Events == 0 ||
		status.Bundle != location+"/bundle" || status.Counts.AuditEvents != status.Counts.Events {
		t.Fatalf("export: %+v", status)
	}

	before = w.head()
	resp = w.sendJSON(http.MethodGet, status.Bundle, auditor, nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-tar" ||
		int64(len(raw)) != status.BundleSize {
		t.Fatalf("download: %d %s, %d bytes of %d", resp.StatusCode, resp.Header.Get("Content-Type"),
			len(raw), status.BundleSize)
	}
	rep, err := bundle.Verify(bytes.NewReader(raw), int64(len(raw)),
		bundle.VerifyOptions{TrustedKey: w.exports.verifierKey})
	if err != nil {
		t.Fatalf("the downloaded bundle: %v", err)
	}
	if rep.Counts.Events != status.Counts.Events || rep.Manifest.ExportID != queued.ID {
		t.Errorf("verified %+v, status %+v", rep.Counts, status.Counts)
	}
	if n := count(w.typesSince(before), "PHIAccessed"); n != 1 {
		t.Errorf("the download appended %d access events, want 1", n)
	}
	w.checkDisclosure(status, w.studentIn)
}

// pollExport polls an export's status until it is done or failed.
func (w *world) pollExport(location, token string) readapi.ExportStatus {
	w.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		var s readapi.ExportStatus
		if got := w.call(http.MethodGet, location, token, nil, &s); got != 200 {
			w.t.Fatalf("GET %s: %d", location, got)
		}
		if s.Status == "done" || s.Status == "failed" {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("%s is not done after 30s", location)
	return readapi.ExportStatus{}
}

// checkDisclosure checks that the export's disclosure is in the log,
// naming the student, the recipient and the purpose, before the export
// was marked done.
func (w *world) checkDisclosure(status readapi.ExportStatus, student string) {
	w.t.Helper()
	ctx := w.t.Context()
	disclosures, err := w.log.ReadStream(ctx, domain.DisclosureStream(status.DisclosureID),
		eventstore.ReadOptions{})
	if err != nil || len(disclosures) != 1 || disclosures[0].Type != "PHIDisclosed" {
		w.t.Fatalf("disclosure %s: %d events, %v", status.DisclosureID, len(disclosures), err)
	}
	var d domain.PHIDisclosed
	json.Unmarshal(disclosures[0].Data, &d)
	if d.Kind != domain.DisclosureExport || d.ExportID != status.ID ||
		!slices.Equal(d.StudentIDs, []string{student}) ||
		d.Recipient != status.Recipient || d.Purpose != status.Purpose || d.ActorID != status.RequestedBy {
		w.t.Errorf("disclosure %+v of export %+v", d, status)
	}
	job, err := w.log.ReadStream(ctx, domain.ExportStream(status.ID), eventstore.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	var types []string
	for _, e := range job {
		types = append(types, e.Type)
	}
	last := job[len(job)-1]
	if fmt.Sprint(types) != "[ExportRequested ExportStarted ExportCompleted]" ||
		last.Position < disclosures[0].Position {
		w.t.Errorf("export stream %v; the completion at %d, the disclosure at %d", types, last.Position,
			disclosures[0].Position)
	}
}

// TestExportRequestRefusals sends requests with wrong fields: each is
// named, and nothing is appended.
func TestExportRequestRefusals(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name   string
		body   string
		fields []string
	}{
		{"no scope", `{"recipient":"State auditor","purpose":"audit"}`, []string{"scope"}},
		{"two scopes", `{"all":true,"student_id":"` + w.studentIn +
			`","recipient":"State auditor","purpose":"audit"}`, []string{"scope"}},
		{"times that are not RFC 3339",
			`{"from":"yesterday","to":"2026-13-01","recipient":"x y","purpose":"audit"}`,
			[]string{"from", "to"}},
		{"from alone", `{"from":"2026-09-01T00:00:00Z","recipient":"State auditor","purpose":"audit"}`,
			[]string{"to"}},
		{"to before from", `{"from":"2026-09-02T00:00:00Z","to":"2026-09-01T00:00:00Z",` +
			`"recipient":"State auditor","purpose":"audit"}`, []string{"to"}},
		{"a student that is not an ID", `{"student_id":"S-1","recipient":"State auditor","purpose":"audit"}`,
			[]string{"student_id"}},
		{"no recipient, no purpose", `{"all":true}`, []string{"recipient", "purpose"}},
		{"payloads not a bool", `{"all":true,"payloads":"yes","recipient":"State auditor","purpose":"audit"}`,
			[]string{"payloads"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			before := w.head()
			resp := w.sendRaw(http.MethodPost, "/v1/exports", w.tokens[co], []byte(c.body))
			var p readapi.Problem
			json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			var fields []string
			for _, f := range p.Errors {
				fields = append(fields, f.Field)
			}
			if resp.StatusCode != 400 || !slices.Equal(fields, c.fields) {
				t.Errorf("status %d, fields %v, want 400 naming %v", resp.StatusCode, fields, c.fields)
			}
			if after := w.head(); after != before {
				t.Errorf("a refused request appended %d events", after-before)
			}
		})
	}
}

// TestExportNotFound asks for exports that do not exist.
func TestExportNotFound(t *testing.T) {
	w := newWorld(t)
	for _, path := range []string{"/v1/exports/" + uuid.NewString(), "/v1/exports/not-an-id/bundle"} {
		if got := w.call(http.MethodGet, path, w.tokens[co], nil, nil); got != 404 {
			t.Errorf("GET %s: %d, want 404", path, got)
		}
	}
}

func (w *world) sendJSON(method, path, token string, body any) *http.Response {
	w.t.Helper()
	var buf []byte
	if body != nil {
		buf, _ = json.Marshal(body)
	}
	return w.sendRaw(method, path, token, buf)
}

func (w *world) sendRaw(method, path, token string, body []byte) *http.Response {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp
}
