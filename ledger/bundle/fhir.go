package bundle

import (
	"encoding/json"
	"fmt"

	"github.com/whitecross/whitecross/eventstore"
)

// Audit is what an event means beyond its envelope, for the FHIR
// AuditEvent made of it and for the students a bundle concerns. The
// exporter's Describe tells it; the bundle proves none of it.
type Audit struct {
	// Students are the students the event concerns.
	Students []string
	// Kind is what was done, which sets the AuditEvent's type, subtype,
	// action and, where the event concerns a student, the IHE BALP
	// profile it follows.
	Kind AuditKind
	// Refused marks an attempt that was refused: the outcome is then a
	// minor failure (4) rather than success (0).
	Refused bool
}

// AuditKind is the kind of activity an event records.
type AuditKind string

// The kinds of activity.
const (
	// KindRead is a read of health information (BALP PatientRead).
	KindRead AuditKind = "read"
	// KindCreate records something new (BALP PatientCreate).
	KindCreate AuditKind = "create"
	// KindUpdate changes or corrects what was recorded (BALP
	// PatientUpdate).
	KindUpdate AuditKind = "update"
	// KindLogin and KindLogout are a person's authentication (DICOM
	// 110114 User Authentication).
	KindLogin  AuditKind = "login"
	KindLogout AuditKind = "logout"
	// KindDisclosure is health information handed outside the system
	// (BALP PrivacyDisclosure.Source).
	KindDisclosure AuditKind = "disclosure"
	// KindOther is any other activity of the application (DICOM 110100
	// Application Activity).
	KindOther AuditKind = "other"
)

// The code systems the AuditEvents use. The event types and roles are
// this system's own.
const (
	systemAuditEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemRESTful        = "http://hl7.org/fhir/restful-interaction"
	systemDICOM          = "http://dicom.nema.org/resources/ontology/DCM"
	systemLifecycle      = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
	systemEntityType     = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	systemObjectRole     = "http://terminology.hl7.org/CodeSystem/object-role"
	systemSourceType     = "http://terminology.hl7.org/CodeSystem/security-source-type"
	systemEventType      = "https://whitecross.dev/fhir/CodeSystem/event-type"
	systemRole           = "https://whitecross.dev/fhir/CodeSystem/role"
	systemURI            = "urn:ietf:rfc:3986"
	balpProfiles         = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
)

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type codeable struct {
	Coding []coding `json:"coding"`
}

type identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type auditAgent struct {
	Who       reference  `json:"who"`
	Role      []codeable `json:"role,omitempty"`
	Requestor bool       `json:"requestor"`
}

type auditSource struct {
	Observer reference `json:"observer"`
	Type     []coding  `json:"type"`
}

type auditEntity struct {
	What reference `json:"what"`
	Type coding    `json:"type"`
	Role *coding   `json:"role,omitempty"`
}

type auditMeta struct {
	Profile []string `json:"profile"`
}

// auditEvent is a FHIR R4 AuditEvent, with identifiers only: no name, no
// payload.
type auditEvent struct {
	ResourceType string        `json:"resourceType"`
	ID           string        `json:"id"`
	Meta         *auditMeta    `json:"meta,omitempty"`
	Type         coding        `json:"type"`
	Subtype      []coding      `json:"subtype"`
	Action       string        `json:"action"`
	Recorded     string        `json:"recorded"`
	Outcome      string        `json:"outcome"`
	Agent        []auditAgent  `json:"agent"`
	Source       auditSource   `json:"source"`
	Entity       []auditEntity `json:"entity"`
}

// kindCodes are the type, subtype, action and BALP profile of each kind.
var kindCodes = map[AuditKind]struct {
	typ     coding
	subtype []coding
	action  string
	profile string
}{
	KindRead: {coding{systemAuditEventType, "rest", "RESTful Operation"},
		[]coding{{systemRESTful, "read", ""}}, "R", "PatientRead"},
	KindCreate: {coding{systemAuditEventType, "rest", "RESTful Operation"},
		[]coding{{systemRESTful, "create", ""}}, "C", "PatientCreate"},
	KindUpdate: {coding{systemAuditEventType, "rest", "RESTful Operation"},
		[]coding{{systemRESTful, "update", ""}}, "U", "PatientUpdate"},
	KindLogin: {coding{systemDICOM, "110114", "User Authentication"},
		[]coding{{systemDICOM, "110122", "Login"}}, "E", ""},
	KindLogout: {coding{systemDICOM, "110114", "User Authentication"},
		[]coding{{systemDICOM, "110123", "Logout"}}, "E", ""},
	KindDisclosure: {coding{systemDICOM, "110106", "Export"},
		[]coding{{systemLifecycle, "disclose", ""}}, "R", "PrivacyDisclosure.Source"},
	KindOther: {coding{systemDICOM, "110100", "Application Activity"}, nil, "E", ""},
}

// appendAuditEvent appends the AuditEvent of e, which a describes, and a
// newline. origin names the log, the AuditEvent's source.
func appendAuditEvent(b []byte, e *eventstore.Event, a Audit, origin string) ([]byte, error) {
	codes, ok := kindCodes[a.Kind]
	if !ok {
		codes = kindCodes[KindOther]
	}
	ev := auditEvent{
		ResourceType: "AuditEvent",
		ID:           e.ID.String(),
		Type:         codes.typ,
		Subtype:      append(append([]coding{}, codes.subtype...), coding{systemEventType, e.Type, ""}),
		Action:       codes.action,
		Recorded:     e.RecordedAt.UTC().Format(recordedAtLayout),
		Outcome:      "0",
		Agent:        []auditAgent{agentOf(e, origin)},
		Source: auditSource{Observer: reference{Display: origin},
			Type: []coding{{systemSourceType, "4", "Application Server"}}},
		Entity: []auditEntity{{
			What: reference{Identifier: &identifier{systemURI, "urn:uuid:" + e.ID.String()}},
			Type: coding{systemEntityType, "2", "System Object"},
		}},
	}
	if a.Refused {
		ev.Outcome = "4"
	}
	for _, s := range a.Students {
		ev.Entity = append(ev.Entity, auditEntity{
			What: reference{Reference: "Patient/" + s},
			Type: coding{systemEntityType, "1", "Person"},
			Role: &coding{systemObjectRole, "1", "Patient"},
		})
	}
	if codes.profile != "" && len(a.Students) > 0 {
		ev.Meta = &auditMeta{Profile: []string{balpProfiles + codes.profile}}
	}
	return appendJSONLine(b, ev)
}

// agentOf is who caused e: the account its metadata names, with the role
// it acted in; the system itself when it names none.
func agentOf(e *eventstore.Event, origin string) auditAgent {
	var m eventstore.Metadata
	json.Unmarshal(e.Metadata, &m)
	if m.ActorID == "" {
		return auditAgent{Who: reference{Display: origin}, Requestor: false}
	}
	a := auditAgent{
		Who:       reference{Identifier: &identifier{systemURI, "urn:uuid:" + m.ActorID}},
		Requestor: true,
	}
	if m.ActorRole != "" {
		a.Role = []codeable{{Coding: []coding{{systemRole, m.ActorRole, ""}}}}
	}
	return a
}

// checkAuditEvent checks that line is an AuditEvent as this package
// writes it, and that it is made of e.
func checkAuditEvent(line []byte, e *eventstore.Event) error {
	var ev auditEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return fmt.Errorf("not an AuditEvent's JSON: %v", err)
	}
	again, err := appendJSONLine(nil, ev)
	if err != nil || string(again[:len(again)-1]) != string(line) {
		return fmt.Errorf("not in the form this format writes")
	}
	switch {
	case ev.ResourceType != "AuditEvent":
		return fmt.Errorf("resourceType: %q, want AuditEvent", ev.ResourceType)
	case ev.ID != e.ID.String():
		return fmt.Errorf("id: %s, but the event on the same line of %s is %s", ev.ID, FileEvents, e.ID)
	case ev.Recorded != e.RecordedAt.UTC().Format(recordedAtLayout):
		return fmt.Errorf("recorded: not the time the event was recorded")
	case len(ev.Entity) == 0 || ev.Entity[0].What.Identifier == nil ||
		ev.Entity[0].What.Identifier.Value != "urn:uuid:"+e.ID.String():
		return fmt.Errorf("entity: the first entity is not the event")
	}
	return nil
}
