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
