package domain

import (
	"encoding/json"
	"slices"
	"time"
)

// BreakGlassStream returns the name of break-glass grant id's stream.
func BreakGlassStream(id string) string { return "breakglass-" + id }

// The bounds of a break-glass grant's duration.
const (
	MinBreakGlassDuration = time.Minute
	MaxBreakGlassDuration = 4 * time.Hour
)

// BreakGlassOpened grants a user emergency access to one student's record
// outside the user's scope (HIPAA's emergency access procedure), from
// OpenedAt until ExpiresAt, for a written reason.
//
// Schema version 2 added ReasonCode, so that reviews can group grants by
// why the glass was broken rather than parse free text; version-1 grants
// load with ReasonUnspecified.
type BreakGlassOpened struct {
	GrantID    string           `json:"grant_id"`
	UserID     string           `json:"user_id"`
	StudentID  string           `json:"student_id"`
	ReasonCode BreakGlassReason `json:"reason_code"`
	Reason     string           `json:"reason"`
	OpenedAt   time.Time        `json:"opened_at"`
	ExpiresAt  time.Time        `json:"expires_at"`
}

// BreakGlassReason says, as a code, why emergency access was opened.
type BreakGlassReason string

// The reasons for breaking the glass.
const (
	ReasonMedicalEmergency BreakGlassReason = "medical_emergency"
	ReasonContinuityOfCare BreakGlassReason = "continuity_of_care"
	ReasonInvestigation    BreakGlassReason = "investigation"
	ReasonOther            BreakGlassReason = "other"
	// ReasonUnspecified marks grants recorded before reason codes existed.
	ReasonUnspecified BreakGlassReason = "unspecified"
)

// BreakGlassReasons are the codes a new grant may give.
var BreakGlassReasons = []BreakGlassReason{
	ReasonMedicalEmergency, ReasonContinuityOfCare, ReasonInvestigation, ReasonOther,
}

// upcastBreakGlassOpenedV1 lifts a version-1 BreakGlassOpened, which had
// no reason code, to version 2.
func upcastBreakGlassOpenedV1(data []byte) ([]byte, error) {
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	v["reason_code"] = ReasonUnspecified
	return json.Marshal(v)
}

// BreakGlassClosed ends a grant before it expires, or marks one reviewed
// after.
type BreakGlassClosed struct {
	At time.Time `json:"at"`
	By string    `json:"by"`
}

// EventType returns "BreakGlassOpened".
func (BreakGlassOpened) EventType() string { return "BreakGlassOpened" }

// EventType returns "BreakGlassClosed".
func (BreakGlassClosed) EventType() string { return "BreakGlassClosed" }

// BreakGlassGrant is one emergency access, rebuilt from its stream by
// FoldBreakGlassGrant.
type BreakGlassGrant struct {
	ID        string
	UserID    string
	StudentID string
	Reason    string
	OpenedAt  time.Time
	ExpiresAt time.Time
	// ReasonCode is ReasonUnspecified for grants older than reason codes.
	ReasonCode BreakGlassReason
	ClosedAt   time.Time // zero while open
	ClosedBy   string
	Revision   uint64 // stream revision of the last event applied
}

// OpenBreakGlass is the command that opens emergency access.
type OpenBreakGlass struct {
	GrantID   string
	UserID    string
	StudentID string
	// Reason says why, in 20 to 2000 characters: a reason must say
	// something. Trimmed by NewBreakGlassGrant.
	Reason string
	// ReasonCode is one of BreakGlassReasons.
	ReasonCode BreakGlassReason
	// Duration is how long the grant lasts, between MinBreakGlassDuration
	// and MaxBreakGlassDuration. The caller fills in its default when the
	// request names none.
	Duration time.Duration
}

// reasonRule bounds a break-glass reason.
var reasonRule = textRule{min: 20, max: 2000, multiline: true}

// NewBreakGlassGrant returns the BreakGlassOpened that opens the grant cmd
// describes at now, or the refusal of each invalid field (Errors,
// CodeInvalid): grant_id, user_id and student_id IDs, reason 20 to 2000
// characters (line breaks allowed, no other control character), duration
// within its bounds. That the user may break the glass is the caller's to
// check.
func NewBreakGlassGrant(cmd OpenBreakGlass, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("grant_id", cmd.GrantID, true))
	errs.add(checkID("user_id", cmd.UserID, true))
	errs.add(checkID("student_id", cmd.StudentID, true))
	reason, reasonErr := checkText("reason", cmd.Reason, reasonRule)
	errs.add(reasonErr)
	if !slices.Contains(BreakGlassReasons, cmd.ReasonCode) {
		errs.add(invalid("reason_code", "must be medical_emergency, continuity_of_care, investigation or other"))
	}
	if cmd.Duration < MinBreakGlassDuration || cmd.Duration > MaxBreakGlassDuration {
		errs.add(invalid("duration", "must be 1 minute to 4 hours"))
	}
	if errs != nil {
		return nil, errs
	}

	now = now.UTC()
	return []Event{BreakGlassOpened{
		GrantID:    cmd.GrantID,
		UserID:     cmd.UserID,
		StudentID:  cmd.StudentID,
		ReasonCode: cmd.ReasonCode,
		Reason:     reason,
		OpenedAt:   now,
		ExpiresAt:  now.Add(cmd.Duration),
	}}, nil
}

// FoldBreakGlassGrant rebuilds a grant from its events, oldest first. It
// returns ErrNoEvents for an empty list and ErrUnexpectedEvent for a list
// that does not start with BreakGlassOpened or holds another aggregate's
// events.
func FoldBreakGlassGrant(events []Event) (*BreakGlassGrant, error) {
	return fold[BreakGlassGrant]("break-glass grant", events)
}

// Apply changes g by one event of its stream. It returns
// ErrUnexpectedEvent for an event that is not a grant's or is out of
// place.
func (g *BreakGlassGrant) Apply(e Event) error {
	switch e := e.(type) {
	case BreakGlassOpened:
		if g.ID != "" {
			return unexpected("break-glass grant", e, "after BreakGlassOpened")
		}
		g.open(e)
		return nil
	case BreakGlassClosed:
		if g.ID == "" {
			return unexpected("break-glass grant", e, "before BreakGlassOpened")
		}
		g.ClosedAt = e.At
		g.ClosedBy = e.By
		g.Revision++
		return nil
	}
	return unexpected("break-glass grant", e, "is not a break-glass event")
}

func (g *BreakGlassGrant) open(e BreakGlassOpened) {
	*g = BreakGlassGrant{
		ID:         e.GrantID,
		UserID:     e.UserID,
		StudentID:  e.StudentID,
		ReasonCode: e.ReasonCode,
		Reason:     e.Reason,
		OpenedAt:   e.OpenedAt,
		ExpiresAt:  e.ExpiresAt,
	}
}

// Closed reports whether g was closed, at any time.
func (g *BreakGlassGrant) Closed() bool { return !g.ClosedAt.IsZero() }

// ActiveAt reports whether g gave access at t: from its opening, until it
// expired or was closed, whichever came first. Past times give the
// answer a replay needs.
func (g *BreakGlassGrant) ActiveAt(t time.Time) bool {
	if t.Before(g.OpenedAt) || !t.Before(g.ExpiresAt) {
		return false
	}
	return !g.Closed() || t.Before(g.ClosedAt)
}

// Close ends g at now, by user by (an ID, else CodeInvalid): a
// BreakGlassClosed, or no event when g is already closed. Closing an
// expired grant records that it was reviewed.
func (g *BreakGlassGrant) Close(by string, now time.Time) ([]Event, error) {
	if err := checkID("by", by, true); err != nil {
		return nil, err
	}
	if g.Closed() {
		return nil, nil
	}
	return []Event{BreakGlassClosed{At: now.UTC(), By: by}}, nil
}
