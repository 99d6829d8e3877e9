package domain

import "time"

// AccessStream is the stream of one access to health information. Each
// access has a stream of its own, so that recording it never waits on
// another user's request; the log's writer still commits concurrent
// accesses together.
func AccessStream(accessID string) string { return "access-" + accessID }

// Purposes of an access to health information.
const (
	PurposeTreatment     = "treatment"
	PurposeInvestigation = "investigation"
	PurposeEmergency     = "emergency" // under a break-glass grant
)

// PHIAccessed records that a response carrying health information was
// about to be sent: who, which students, what was read, why. It is
// appended before the response leaves; when it cannot be, the response
// does not leave either.
type PHIAccessed struct {
	AccessID   string    `json:"access_id"`
	ActorID    string    `json:"actor_id"`
	ActorRole  Role      `json:"actor_role"`
	StudentIDs []string  `json:"student_ids"`
	What       string    `json:"what"` // the route read, e.g. "GET /v1/students/:id"
	Purpose    string    `json:"purpose"`
	BreakGlass bool      `json:"break_glass,omitempty"`
	GrantID    string    `json:"grant_id,omitempty"`
	At         time.Time `json:"at"`
}

// PHIAccessRefused records an attempt to read health information that was
// refused, for want of role or scope: a student's (StudentID), or a
// school's lists of students (SchoolID, with no StudentID), such as its
// doses due or its active alerts.
type PHIAccessRefused struct {
	AccessID  string    `json:"access_id"`
	ActorID   string    `json:"actor_id"`
	ActorRole Role      `json:"actor_role"`
	StudentID string    `json:"student_id,omitempty"`
	SchoolID  string    `json:"school_id,omitempty"`
	What      string    `json:"what"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// EventType returns "PHIAccessed".
func (PHIAccessed) EventType() string { return "PHIAccessed" }

// EventType returns "PHIAccessRefused".
func (PHIAccessRefused) EventType() string { return "PHIAccessRefused" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		PHIAccessed{}.EventType():      decodeAs[PHIAccessed],
		PHIAccessRefused{}.EventType(): decodeAs[PHIAccessRefused],
	})
}
