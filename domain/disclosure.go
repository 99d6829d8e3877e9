package domain

import "time"

// DisclosureStream is the stream of one disclosure: a stream of its own,
// like an access, so that recording it waits on no one.
func DisclosureStream(disclosureID string) string { return "disclosure-" + disclosureID }

// Kinds of disclosure.
const (
	// DisclosureExport is an export bundle handed to someone outside the
	// system, an auditor most often.
	DisclosureExport = "export"
	// DisclosureOther is any other release of health information a
	// compliance officer records: to a health department, a court, a
	// parent.
	DisclosureOther = "other"
)

// PHIDisclosed records that health information left the system for
// someone outside it: when, to whom, what and why. These events are the
// accounting of disclosures (HIPAA 45 CFR 164.528) and the record of
// disclosures kept with each student's record (FERPA 34 CFR 99.32).
// Recipient, What and Purpose are the words of whoever recorded it; they
// live in the event's data, never in its metadata.
type PHIDisclosed struct {
	DisclosureID string `json:"disclosure_id"`
	Kind         string `json:"kind"`
	ActorID      string `json:"actor_id"`
	ActorRole    Role   `json:"actor_role"`
	// StudentIDs are the students whose information was disclosed.
	// AllStudents is set instead for a disclosure of the whole log or of
	// a time range of it, which concerns every student with an event in
	// it.
	StudentIDs  []string `json:"student_ids,omitempty"`
	AllStudents bool     `json:"all_students,omitempty"`
	Recipient   string   `json:"recipient"`
	What        string   `json:"what"`
	Purpose     string   `json:"purpose"`
	// ExportID names the export a disclosure of kind export handed over.
	ExportID string `json:"export_id,omitempty"`
	// From and To bound the time range disclosed, when one was.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	At   time.Time  `json:"at"`
}

// EventType returns "PHIDisclosed".
func (PHIDisclosed) EventType() string { return "PHIDisclosed" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		PHIDisclosed{}.EventType(): decodeAs[PHIDisclosed],
	})
}

// RecordDisclosure is the command that records a disclosure made outside
// the system (kind other) of one student's health information.
type RecordDisclosure struct {
	DisclosureID string
	ActorID      string
	ActorRole    Role
	StudentID    string
	// Recipient (2 to 200 characters, one line), What and Purpose (1 to
	// 2,000 characters each) are trimmed by NewDisclosure.
	Recipient string
	What      string
	Purpose   string
	// At is when the information was disclosed, an RFC 3339 time no later
	// than now.
	At string
}

// The bounds of a disclosure's free text.
var (
	recipientRule  = textRule{min: 2, max: 200}
	disclosureRule = textRule{min: 1, max: 2000, multiline: true}
)

// NewDisclosure returns the PHIDisclosed that records cmd at now, or the
// refusal of each invalid field (Errors, CodeInvalid): disclosure_id,
// actor_id and student_id IDs, recipient, what and purpose within their
// bounds, at a time that is not after now. That the actor may record it
// and that the student exists are the caller's to check.
func NewDisclosure(cmd RecordDisclosure, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("disclosure_id", cmd.DisclosureID, true))
	errs.add(checkID("actor_id", cmd.ActorID, true))
	errs.add(checkID("student_id", cmd.StudentID, true))
	trimText(&errs, "recipient", &cmd.Recipient, recipientRule)
	trimText(&errs, "what", &cmd.What, disclosureRule)
	trimText(&errs, "purpose", &cmd.Purpose, disclosureRule)
	at, atErr := checkDisclosedAt(cmd.At, now)
	errs.add(atErr)
	if errs != nil {
		return nil, errs
	}

	return []Event{PHIDisclosed{
		DisclosureID: cmd.DisclosureID,
		Kind:         DisclosureOther,
		ActorID:      cmd.ActorID,
		ActorRole:    cmd.ActorRole,
		StudentIDs:   []string{cmd.StudentID},
		Recipient:    cmd.Recipient,
		What:         cmd.What,
		Purpose:      cmd.Purpose,
		At:           at,
	}}, nil
}

// checkDisclosedAt returns the time s holds, in UTC, or the refusal of
// the field at: absent, malformed, or after now.
func checkDisclosedAt(s string, now time.Time) (time.Time, *Error) {
	if s == "" {
		return time.Time{}, invalid("at", "is required")
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, invalid("at", "must be a time as 2006-01-02T15:04:05Z07:00")
	}
	if at.After(now) {
		return time.Time{}, invalid("at", "must not be in the future")
	}
	return at.UTC(), nil
}
