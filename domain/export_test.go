package domain

import (
	"strings"
	"testing"
	"time"
)

const (
	exportID   = "e1a2b3c4-0000-4000-8000-000000000005"
	auditorID  = "a0d1e2f3-0000-4000-8000-000000000006"
	disclosure = "d15c0000-0000-4000-8000-000000000007"
	bundleHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

func init() {
	from, to := t0.Add(-24*time.Hour), t0
	moreEvents = append(moreEvents, []Event{
		ExportRequested{
			ExportID: exportID, RequestedBy: auditorID, RequesterRole: RoleAuditor,
			Scope: ExportScope{From: &from, To: &to}, Payloads: true, FHIR: true,
			Recipient: "State auditor", Purpose: "annual HIPAA audit", At: t0,
		},
		ExportStarted{At: t0.Add(time.Second)},
		ExportCompleted{TreeSize: 120, Counts: ExportCounts{Events: 40, Streams: 9, Payloads: 40, Proofs: 1,
			AuditEvents: 40, Students: 3}, BundleSHA256: bundleHash, BundleSize: 40960,
			DisclosureID: disclosure, At: t0.Add(2 * time.Second)},
		ExportFailed{Reason: "the log does not match the ledger at position 7", At: t0},
		ExportListed{ExportID: exportID},
	})
}

func validRequestExport() RequestExport {
	return RequestExport{
		ExportID: exportID, RequestedBy: auditorID, RequesterRole: RoleAuditor,
		Scope:     ExportScope{StudentID: studentID},
		Recipient: "  District counsel ", Purpose: "records request under FERPA\n",
	}
}

func TestNewExportRequest(t *testing.T) {
	later := t0.Add(time.Hour)
	cases := []struct {
		name   string
		change func(*RequestExport)
		refuse []string
	}{
		{"a student's", func(*RequestExport) {}, nil},
		{"an account's", func(c *RequestExport) { c.Scope = ExportScope{ActorID: userID} }, nil},
		{"a time range", func(c *RequestExport) { c.Scope = ExportScope{From: &t0, To: &later} }, nil},
		{"the whole log", func(c *RequestExport) { c.Scope = ExportScope{All: true} }, nil},
		{"no scope", func(c *RequestExport) { c.Scope = ExportScope{} }, []string{"invalid scope"}},
		{"two scopes", func(c *RequestExport) { c.Scope.All = true }, []string{"invalid scope"}},
		{"student_id not an ID", func(c *RequestExport) { c.Scope.StudentID = "S-1" },
			[]string{"invalid student_id"}},
		{"actor_id not an ID", func(c *RequestExport) { c.Scope = ExportScope{ActorID: "joy"} },
			[]string{"invalid actor_id"}},
		{"from alone", func(c *RequestExport) { c.Scope = ExportScope{From: &t0} }, []string{"invalid to"}},
		{"to alone", func(c *RequestExport) { c.Scope = ExportScope{To: &t0} }, []string{"invalid from"}},
		{"to before from", func(c *RequestExport) { c.Scope = ExportScope{From: &later, To: &t0} },
			[]string{"invalid to"}},
		{"empty range", func(c *RequestExport) { c.Scope = ExportScope{From: &t0, To: &t0} },
			[]string{"invalid to"}},
		{"no recipient", func(c *RequestExport) { c.Recipient = " " }, []string{"invalid recipient"}},
		{"recipient on two lines", func(c *RequestExport) { c.Recipient = "State\nauditor" },
			[]string{"invalid recipient"}},
		{"recipient of 201 characters", func(c *RequestExport) { c.Recipient = strings.Repeat("r", 201) },
			[]string{"invalid recipient"}},
		{"no purpose", func(c *RequestExport) { c.Purpose = "" }, []string{"invalid purpose"}},
		{"purpose of 1001 characters", func(c *RequestExport) { c.Purpose = strings.Repeat("p", 1001) },
			[]string{"invalid purpose"}},
		{"every field wrong", func(c *RequestExport) { *c = RequestExport{ExportID: "x"} }, []string{
			"invalid export_id", "invalid requested_by", "invalid requester_role", "invalid scope",
			"invalid recipient", "invalid purpose",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validRequestExport()
			c.change(&cmd)
			events, err := NewExportRequest(cmd, t0)
			checkRefusals(t, err, c.refuse, "")
			if err != nil {
				return
			}
			r := events[0].(ExportRequested)
			if r.Recipient != strings.TrimSpace(cmd.Recipient) || r.Purpose != strings.TrimSpace(cmd.Purpose) ||
				r.At != t0 || r.Scope.All != cmd.Scope.All {
				t.Errorf("requested %+v", r)
			}
		})
	}
}

// TestExportLifecycle walks an export from its request to each end, and
// refuses every step out of order.
func TestExportLifecycle(t *testing.T) {
	events, err := NewExportRequest(validRequestExport(), t0)
	if err != nil {
		t.Fatal(err)
	}
	x, err := FoldExport(events)
	if err != nil || x.Status != ExportStatusQueued || x.ID != exportID {
		t.Fatalf("folded %+v, %v", x, err)
	}
	complete := ExportCompleted{BundleSHA256: bundleHash, DisclosureID: disclosure}
	if _, err := x.Complete(complete, t0); ErrorCode(err) != CodeConflict {
		t.Errorf("completing a queued export: %v", err)
	}
	started, err := x.Start(t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, x, started)
	if _, err := x.Start(t0); ErrorCode(err) != CodeConflict {
		t.Errorf("starting twice: %v", err)
	}
	bad := ExportCompleted{BundleSHA256: "ABC", DisclosureID: "d"}
	if _, err := x.Complete(bad, t0); ErrorCode(err) != CodeInvalid {
		t.Errorf("completing with a bad digest: %v", err)
	}
	done, err := x.Complete(ExportCompleted{Counts: ExportCounts{Events: 3}, BundleSHA256: bundleHash,
		DisclosureID: disclosure},
		t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	failed, _ := x.Fail("interrupted", t0)
	mustApply(t, x, done)
	if x.Status != ExportStatusDone || x.Outcome.Counts.Events != 3 || !x.Finished() || x.Revision != 2 {
		t.Fatalf("after completion: %+v", x)
	}
	if _, err := x.Fail("too late", t0); ErrorCode(err) != CodeConflict {
		t.Errorf("failing a done export: %v", err)
	}
	if err := x.Apply(failed[0]); err == nil {
		t.Error("a failure applied after completion")
	}

	y, _ := FoldExport(events)
	if _, err := y.Fail(strings.Repeat("x", 501), t0); ErrorCode(err) != CodeInvalid {
		t.Errorf("a reason of 501 characters: %v", err)
	}
	failed, err = y.Fail("the service stopped while it ran", t0)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, y, failed)
	if y.Status != ExportStatusFailed || y.FailReason != "the service stopped while it ran" {
		t.Errorf("after failure: %+v", y)
	}
	if _, err := FoldExport(started); err == nil {
		t.Error("an export folded from a start without its request")
	}
}
