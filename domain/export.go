package domain

import (
	"fmt"
	"time"
)

// ExportStream returns the name of export id's stream: its request, its
// start and its outcome.
func ExportStream(id string) string { return "export-" + id }

// ExportsStream lists every export ever requested, an ExportListed each,
// so that a service starting again finds the exports it left unfinished.
const ExportsStream = "exports"

// ExportScope says which events an export holds: exactly one of a
// student's, those an account caused, those recorded in a time range
// (From included, To not), or the whole log.
type ExportScope struct {
	StudentID string     `json:"student_id,omitempty"`
	ActorID   string     `json:"actor_id,omitempty"`
	From      *time.Time `json:"from,omitempty"`
	To        *time.Time `json:"to,omitempty"`
	All       bool       `json:"all,omitempty"`
}

// ExportRequested records that someone asked for an export bundle: of
// which events, with or without their payloads, for whom and why. The
// recipient and purpose are the accounting of disclosures' words.
type ExportRequested struct {
	ExportID      string      `json:"export_id"`
	RequestedBy   string      `json:"requested_by"`
	RequesterRole Role        `json:"requester_role"`
	Scope         ExportScope `json:"scope"`
	Payloads      bool        `json:"payloads"`
	FHIR          bool        `json:"fhir"`
	Recipient     string      `json:"recipient"`
	Purpose       string      `json:"purpose"`
	At            time.Time   `json:"at"`
}

// ExportStarted records that a worker began making the bundle.
type ExportStarted struct {
	At time.Time `json:"at"`
}

// ExportCompleted records a bundle made and its disclosure recorded: what
// it holds, the checkpoint's tree size, and the bundle file's size and
// SHA-256, by which its recipient can tell it is the one handed out.
type ExportCompleted struct {
	TreeSize     int64        `json:"tree_size"`
	Counts       ExportCounts `json:"counts"`
	BundleSHA256 string       `json:"bundle_sha256"`
	BundleSize   int64        `json:"bundle_size"`
	DisclosureID string       `json:"disclosure_id"`
	At           time.Time    `json:"at"`
}

// ExportCounts are what a bundle holds: events, the streams they belong
// to, those with their payloads, lines of proof, FHIR AuditEvents, and
// the students the events concern.
type ExportCounts struct {
	Events      int64 `json:"events"`
	Streams     int64 `json:"streams"`
	Payloads    int64 `json:"payloads"`
	Proofs      int64 `json:"proofs"`
	AuditEvents int64 `json:"audit_events"`
	Students    int64 `json:"students"`
}

// ExportFailed records that no bundle was handed out, and why (no PHI:
// an identifier or a position at most).
type ExportFailed struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ExportListed is an export's entry in ExportsStream. It holds nothing
// but the ID, so that a retried request lists it once.
type ExportListed struct {
	ExportID string `json:"export_id"`
}

// EventType returns "ExportRequested".
func (ExportRequested) EventType() string { return "ExportRequested" }

// EventType returns "ExportStarted".
func (ExportStarted) EventType() string { return "ExportStarted" }

// EventType returns "ExportCompleted".
func (ExportCompleted) EventType() string { return "ExportCompleted" }

// EventType returns "ExportFailed".
func (ExportFailed) EventType() string { return "ExportFailed" }

// EventType returns "ExportListed".
func (ExportListed) EventType() string { return "ExportListed" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		ExportRequested{}.EventType(): decodeAs[ExportRequested],
		ExportStarted{}.EventType():   decodeAs[ExportStarted],
		ExportCompleted{}.EventType(): decodeAs[ExportCompleted],
		ExportFailed{}.EventType():    decodeAs[ExportFailed],
		ExportListed{}.EventType():    decodeAs[ExportListed],
	})
}

// ExportStatus is where an export stands.
type ExportStatus string

// The states of an export: queued until a worker starts it, running, then
// done (the bundle may be downloaded) or failed.
const (
	ExportStatusQueued  ExportStatus = "queued"
	ExportStatusRunning ExportStatus = "running"
	ExportStatusDone    ExportStatus = "done"
	ExportStatusFailed  ExportStatus = "failed"
)

// RequestExport is the command that asks for an export.
type RequestExport struct {
	ExportID      string
	RequestedBy   string
	RequesterRole Role
	Scope         ExportScope
	Payloads      bool
	FHIR          bool
	// Recipient is who receives the bundle, 2 to 200 characters on one
	// line; Purpose why, 3 to 1000 characters. Both are trimmed.
	Recipient string
	Purpose   string
}

// The bounds of an export request's free text; its recipient's are a
// disclosure's (recipientRule).
var (
	purposeRule = textRule{min: 3, max: 1000, multiline: true}
	failureRule = textRule{min: 1, max: 500, multiline: true}
)

// NewExportRequest returns the ExportRequested of cmd at now, or the
// refusal of each invalid field (Errors, CodeInvalid): export_id and
// requested_by IDs, a requester_role, exactly one scope (student_id or
// actor_id an ID; from and to together, to after from; or all), a
// recipient and a purpose. That the requester may export is the caller's
// to check.
func NewExportRequest(cmd RequestExport, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("export_id", cmd.ExportID, true))
	errs.add(checkID("requested_by", cmd.RequestedBy, true))
	if !cmd.RequesterRole.Valid() {
		errs.add(invalid("requester_role", "must be a role"))
	}
	scope, scopeErrs := checkExportScope(cmd.Scope)
	errs = append(errs, scopeErrs...)
	recipient, err := checkText("recipient", cmd.Recipient, recipientRule)
	errs.add(err)
	purpose, err := checkText("purpose", cmd.Purpose, purposeRule)
	errs.add(err)
	if errs != nil {
		return nil, errs
	}
	return []Event{ExportRequested{
		ExportID: cmd.ExportID, RequestedBy: cmd.RequestedBy, RequesterRole: cmd.RequesterRole,
		Scope: scope, Payloads: cmd.Payloads, FHIR: cmd.FHIR,
		Recipient: recipient, Purpose: purpose, At: now.UTC(),
	}}, nil
}

// checkExportScope returns s with its times in UTC, or the refusal of
// each field that is wrong.
func checkExportScope(s ExportScope) (ExportScope, Errors) {
	var errs Errors
	kinds := 0
	ranged := s.From != nil || s.To != nil
	for _, set := range []bool{s.StudentID != "", s.ActorID != "", ranged, s.All} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		errs.add(invalid("scope", "give exactly one of student_id, actor_id, from and to, or all"))
	}
	errs.add(checkID("student_id", s.StudentID, false))
	errs.add(checkID("actor_id", s.ActorID, false))
	switch {
	case s.From == nil && s.To != nil:
		errs.add(invalid("from", "is required with to"))
	case s.From != nil && s.To == nil:
		errs.add(invalid("to", "is required with from"))
	case s.From != nil && !s.To.After(*s.From):
		errs.add(invalid("to", "must be after from"))
	case s.From != nil:
		from, to := s.From.UTC(), s.To.UTC()
		s.From, s.To = &from, &to
	}
	return s, errs
}

// Export is one export job, rebuilt from its stream by FoldExport.
type Export struct {
	ID        string
	Status    ExportStatus
	Request   ExportRequested
	StartedAt time.Time
	// FinishedAt is when it completed or failed; zero before.
	FinishedAt time.Time
	// Outcome is the bundle made, once done.
	Outcome *ExportCompleted
	// FailReason says why it failed.
	FailReason string
	Revision   uint64 // stream revision of the last event applied
}

// FoldExport rebuilds an export from its events, oldest first. It returns
// ErrNoEvents for an empty list and ErrUnexpectedEvent for a list that
// does not start with ExportRequested or has events out of place.
func FoldExport(events []Event) (*Export, error) {
	return fold[Export]("export", events)
}

// Apply changes x by one event of its stream, or returns
// ErrUnexpectedEvent for an event that is not an export's or is out of
// place.
func (x *Export) Apply(e Event) error {
	if _, first := e.(ExportRequested); first != (x.ID == "") {
		return unexpected("export", e, "out of place")
	}
	switch e := e.(type) {
	case ExportRequested:
		*x = Export{ID: e.ExportID, Status: ExportStatusQueued, Request: e}
		return nil
	case ExportStarted:
		if x.Status != ExportStatusQueued {
			return unexpected("export", e, "after "+string(x.Status))
		}
		x.Status, x.StartedAt = ExportStatusRunning, e.At
	case ExportCompleted:
		if x.Status != ExportStatusRunning {
			return unexpected("export", e, "while "+string(x.Status))
		}
		x.Status, x.FinishedAt, x.Outcome = ExportStatusDone, e.At, &e
	case ExportFailed:
		if x.Finished() {
			return unexpected("export", e, "after "+string(x.Status))
		}
		x.Status, x.FinishedAt, x.FailReason = ExportStatusFailed, e.At, e.Reason
	default:
		return unexpected("export", e, "is not an export's event")
	}
	x.Revision++
	return nil
}

// Finished reports whether x is done or failed.
func (x *Export) Finished() bool {
	return x.Status == ExportStatusDone || x.Status == ExportStatusFailed
}

// Start begins a queued export at now; any other is refused (CodeConflict):
// another worker has it, or it is over.
func (x *Export) Start(now time.Time) ([]Event, error) {
	if x.Status != ExportStatusQueued {
		return nil, exportConflict("the export is %s, not queued", x.Status)
	}
	return []Event{ExportStarted{At: now.UTC()}}, nil
}

// Complete records at now that the running export made its bundle, which
// c describes: a bundle_sha256 of 64 lower-case hex characters and a
// disclosure_id, else CodeInvalid; an export not running is refused
// (CodeConflict).
func (x *Export) Complete(c ExportCompleted, now time.Time) ([]Event, error) {
	if x.Status != ExportStatusRunning {
		return nil, exportConflict("the export is %s, not running", x.Status)
	}
	var errs Errors
	if !validSHA256Hex(c.BundleSHA256) {
		errs.add(invalid("bundle_sha256", "must be a SHA-256 in lower-case hex"))
	}
	errs.add(checkID("disclosure_id", c.DisclosureID, true))
	if errs != nil {
		return nil, errs
	}
	c.At = now.UTC()
	return []Event{c}, nil
}

// Fail records at now that the export will hand out no bundle, for a
// reason of 1 to 500 characters (else CodeInvalid); one finished already
// is refused (CodeConflict).
func (x *Export) Fail(reason string, now time.Time) ([]Event, error) {
	if x.Finished() {
		return nil, exportConflict("the export is %s already", x.Status)
	}
	reason, err := checkText("reason", reason, failureRule)
	if err != nil {
		return nil, err
	}
	return []Event{ExportFailed{Reason: reason, At: now.UTC()}}, nil
}

// exportConflict refuses a decision the export's status does not allow.
func exportConflict(format string, status ExportStatus) *Error {
	return &Error{Code: CodeConflict, Message: fmt.Sprintf(format, status)}
}
