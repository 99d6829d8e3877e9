package domain

import (
	"slices"
	"time"
)

// AlertKind is the kind of emergency an alert calls for.
type AlertKind string

// AlertKinds lists every kind of alert.
var AlertKinds = []AlertKind{"anaphylaxis", "asthma", "seizure", "diabetic", "injury", "other"}

// AlertRaised calls for help with a student's emergency.
type AlertRaised struct {
	AlertID  string    `json:"alert_id"`
	Kind     AlertKind `json:"kind"`
	Location string    `json:"location"`
	RaisedAt time.Time `json:"raised_at"`
	RaisedBy string    `json:"raised_by"`
}

// AlertAcknowledged says someone is responding to the alert.
type AlertAcknowledged struct {
	AlertID string    `json:"alert_id"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// AlertResolved ends the alert, with what happened.
type AlertResolved struct {
	AlertID string    `json:"alert_id"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
}

// AlertMarkedInError withdraws an alert raised by mistake, for the wrong
// student say. The alert stays in the history; it is no longer active
// and takes no acknowledgement or resolution. Original is the event that
// raised it.
type AlertMarkedInError struct {
	AlertID  string   `json:"alert_id"`
	Reason   string   `json:"reason"`
	Original EventRef `json:"original"`
}

// EventType returns "AlertRaised".
func (AlertRaised) EventType() string { return "AlertRaised" }

// EventType returns "AlertAcknowledged".
func (AlertAcknowledged) EventType() string { return "AlertAcknowledged" }

// EventType returns "AlertResolved".
func (AlertResolved) EventType() string { return "AlertResolved" }

// EventType returns "AlertMarkedInError".
func (AlertMarkedInError) EventType() string { return "AlertMarkedInError" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		AlertRaised{}.EventType():        decodeAs[AlertRaised],
		AlertAcknowledged{}.EventType():  decodeAs[AlertAcknowledged],
		AlertResolved{}.EventType():      decodeAs[AlertResolved],
		AlertMarkedInError{}.EventType(): decodeAs[AlertMarkedInError],
	})
}

// Alert is an emergency alert of a student.
type Alert struct {
	ID       string
	Kind     AlertKind
	Location string
	RaisedAt time.Time
	RaisedBy string
	// AcknowledgedAt and AcknowledgedBy are zero until someone responds.
	AcknowledgedAt time.Time
	AcknowledgedBy string
	// ResolvedAt, ResolvedBy and Outcome are zero while the alert is
	// active.
	ResolvedAt time.Time
	ResolvedBy string
	Outcome    string
	// Revision is the revision of the event that raised the alert.
	Revision uint64
	// InError says the alert was raised by mistake, for ErrorReason.
	InError     bool
	ErrorReason string
}

// Acknowledged reports whether someone responded to a.
func (a Alert) Acknowledged() bool { return a.AcknowledgedBy != "" }

// Resolved reports whether a has ended.
func (a Alert) Resolved() bool { return a.ResolvedBy != "" }

// ActiveAlerts returns s's alerts neither resolved nor in error, oldest
// first; nil when there are none.
func (s *Student) ActiveAlerts() []Alert {
	var active []Alert
	for _, a := range s.alerts {
		if !a.Resolved() && !a.InError {
			active = append(active, a)
		}
	}
	return active
}

// Alert returns alert id of s, resolved or not, and false when s has no
// alert by that ID.
func (s *Student) Alert(id string) (Alert, bool) {
	if i := s.alertIndex(id); i >= 0 {
		return s.alerts[i], true
	}
	return Alert{}, false
}

func (s *Student) alertIndex(id string) int {
	return slices.IndexFunc(s.alerts, func(a Alert) bool { return a.ID == id })
}

// applyAlert changes s by e and reports whether e is an alert event.
func (s *Student) applyAlert(e Event) (bool, error) {
	if raised, ok := e.(AlertRaised); ok {
		s.alerts = append(s.alerts, Alert{
			ID:       raised.AlertID,
			Kind:     raised.Kind,
			Location: raised.Location,
			RaisedAt: raised.RaisedAt,
			RaisedBy: raised.RaisedBy,
			Revision: s.applying(),
		})
		return true, nil
	}

	var id string
	switch e := e.(type) {
	case AlertAcknowledged:
		id = e.AlertID
	case AlertResolved:
		id = e.AlertID
	case AlertMarkedInError:
		id = e.AlertID
	default:
		return false, nil
	}

	i := s.alertIndex(id)
	if i < 0 {
		return true, unexpected("student", e, "names an unknown alert")
	}
	s.alerts[i] = updatedAlert(s.alerts[i], e)
	return true, nil
}

func updatedAlert(a Alert, e Event) Alert {
	switch e := e.(type) {
	case AlertAcknowledged:
		a.AcknowledgedAt, a.AcknowledgedBy = e.At, e.By
	case AlertResolved:
		a.ResolvedAt, a.ResolvedBy, a.Outcome = e.At, e.By, e.Outcome
	case AlertMarkedInError:
		a.InError, a.ErrorReason = true, e.Reason
	}
	return a
}

// RaiseAlert is the command that raises an emergency alert.
type RaiseAlert struct {
	AlertID  string
	Kind     AlertKind
	Location string // where the student is, trimmed: "gym", "room 12"
	RaisedBy string
}

// RaiseAlert returns the AlertRaised of cmd at now, or the refusal of
// each invalid field (Errors, CodeInvalid): alert_id and raised_by IDs,
// kind one of AlertKinds, location 1 to 200 characters. It refuses an
// alert_id the student has already (CodeConflict) and a withdrawn student
// (CodeRule, "enrolled").
func (s *Student) RaiseAlert(cmd RaiseAlert, now time.Time) ([]Event, error) {
	e := AlertRaised{
		AlertID:  cmd.AlertID,
		Kind:     cmd.Kind,
		Location: cmd.Location,
		RaisedAt: now.UTC(),
		RaisedBy: cmd.RaisedBy,
	}

	var errs Errors
	errs.add(checkID("alert_id", e.AlertID, true))
	errs.add(checkOneOf("kind", e.Kind, AlertKinds))
	trimText(&errs, "location", &e.Location, termRule)
	errs.add(checkID("raised_by", e.RaisedBy, true))
	if errs != nil {
		return nil, errs
	}

	errs.add(s.checkEnrolled())
	if s.alertIndex(e.AlertID) >= 0 {
		errs.add(refuseConflict("alert_id", "names an alert the student has already"))
	}
	if errs != nil {
		return nil, errs
	}
	return []Event{e}, nil
}

// AcknowledgeAlert returns the AlertAcknowledged of alert alertID by user
// by at now, or no event when the alert is acknowledged already. It
// refuses an ID that is not one (CodeInvalid), an alert the student does
// not have (CodeNotFound) and a resolved one (CodeConflict).
func (s *Student) AcknowledgeAlert(alertID, by string, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("alert_id", alertID, true))
	errs.add(checkID("by", by, true))
	if errs != nil {
		return nil, errs
	}

	a, err := s.activeAlert(alertID)
	if err != nil {
		return nil, err
	}
	if a.Acknowledged() {
		return nil, nil
	}
	return []Event{AlertAcknowledged{AlertID: alertID, By: by, At: now.UTC()}}, nil
}

// ResolveAlert is the command that ends an alert.
type ResolveAlert struct {
	AlertID string
	By      string
	Outcome string // what happened, trimmed
}

// outcomeRule bounds the outcome of an alert.
var outcomeRule = textRule{min: 1, max: 2000, multiline: true}

// ResolveAlert returns the AlertResolved of cmd at now, or the refusals:
// alert_id and by not IDs, outcome not 1 to 2000 characters
// (CodeInvalid); an alert the student does not have (CodeNotFound); one
// resolved already (CodeConflict). An alert nobody acknowledged may be
// resolved.
func (s *Student) ResolveAlert(cmd ResolveAlert, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("alert_id", cmd.AlertID, true))
	errs.add(checkID("by", cmd.By, true))
	trimText(&errs, "outcome", &cmd.Outcome, outcomeRule)
	if errs != nil {
		return nil, errs
	}

	if _, err := s.activeAlert(cmd.AlertID); err != nil {
		return nil, err
	}
	return []Event{AlertResolved{
		AlertID: cmd.AlertID,
		By:      cmd.By,
		At:      now.UTC(),
		Outcome: cmd.Outcome,
	}}, nil
}

// activeAlert returns alert id, or the refusal: CodeNotFound when s has
// none by that ID, CodeConflict when it is resolved or in error.
func (s *Student) activeAlert(id string) (Alert, *Error) {
	a, err := s.alertOf(id)
	switch {
	case err != nil:
		return Alert{}, err
	case a.Resolved():
		return Alert{}, refuseConflict("alert_id", "names a resolved alert")
	}
	return a, nil
}

// alertOf returns alert id, or the refusal: CodeNotFound when s has none
// by that ID, CodeConflict when it is in error.
func (s *Student) alertOf(id string) (Alert, *Error) {
	a, ok := s.Alert(id)
	switch {
	case !ok:
		return Alert{}, refuseNotFound("alert_id", "names no alert of the student")
	case a.InError:
		return Alert{}, refuseConflict("alert_id", "names an alert marked in error")
	}
	return a, nil
}

// MarkAlertInError returns the AlertMarkedInError that withdraws alert
// alertID, raised by mistake, for reason (5 to 500 characters), naming
// the event that raised it. It refuses an invalid field (CodeInvalid), an
// alert the student does not have (CodeNotFound) and one in error already
// (CodeConflict). A resolved alert may be marked in error, and so may
// the alerts of a withdrawn student.
func (s *Student) MarkAlertInError(alertID, reason string) ([]Event, error) {
	reason, err := checkCorrection("alert_id", alertID, reason)
	if err != nil {
		return nil, err
	}
	a, refused := s.alertOf(alertID)
	if refused != nil {
		return nil, refused
	}
	return []Event{AlertMarkedInError{
		AlertID: alertID, Reason: reason, Original: s.ref(a.Revision),
	}}, nil
}
