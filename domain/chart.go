package domain

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EntryKind says what a chart entry records.
type EntryKind string

// The kinds of chart entries.
const (
	EntryAllergy      EntryKind = "allergy"
	EntryCondition    EntryKind = "condition"
	EntryImmunization EntryKind = "immunization"
	EntryExemption    EntryKind = "exemption"
	EntryScreening    EntryKind = "screening"
	EntryGrowth       EntryKind = "growth"
	EntryVitals       EntryKind = "vitals"
	EntryVisit        EntryKind = "visit"
)

// AllergenType is what kind of thing a student is allergic to.
type AllergenType string

// AllergenTypes lists every allergen type.
var AllergenTypes = []AllergenType{
	"food", "medication", "environmental", "insect", "latex", "other",
}

// AllergySeverity is how severe an allergic reaction is.
type AllergySeverity string

// AllergySeverities lists every severity, mildest first.
var AllergySeverities = []AllergySeverity{"mild", "moderate", "severe", "life-threatening"}

// ConditionStatus is where a chronic condition stands.
type ConditionStatus string

// ConditionStatuses lists every status of a condition.
var ConditionStatuses = []ConditionStatus{"active", "managed", "monitoring", "resolved"}

// VaccineRoute is how a vaccine was given: intramuscular, subcutaneous,
// intradermal, by mouth or intranasal.
type VaccineRoute string

// VaccineRoutes lists every route of a vaccine.
var VaccineRoutes = []VaccineRoute{"IM", "SC", "ID", "PO", "IN"}

// ExemptionKind is the ground of an immunization exemption.
type ExemptionKind string

// ExemptionKinds lists every ground of an exemption.
var ExemptionKinds = []ExemptionKind{"medical", "religious", "personal"}

// ScreeningKind is what a screening looked at.
type ScreeningKind string

// ScreeningKinds lists every kind of screening.
var ScreeningKinds = []ScreeningKind{
	"vision", "hearing", "scoliosis", "dental", "bmi", "tb", "developmental",
}

// ScreeningResult is the outcome of a screening: pass, or refer to a
// provider.
type ScreeningResult string

// ScreeningResults lists every result of a screening.
var ScreeningResults = []ScreeningResult{"pass", "refer"}

// Disposition is where a student went after an office visit.
type Disposition string

// Dispositions lists every disposition of a visit.
var Dispositions = []Disposition{"return_to_class", "sent_home", "emergency_transport", "other"}

// AllergyRecorded adds an allergy to the chart.
type AllergyRecorded struct {
	EntryID      string          `json:"entry_id"`
	RecordedAt   time.Time       `json:"recorded_at"`
	Allergen     string          `json:"allergen"`
	AllergenType AllergenType    `json:"allergen_type"`
	Severity     AllergySeverity `json:"severity"`
	Reaction     string          `json:"reaction"`
	// EpinephrineRequired says the student needs an auto-injector at
	// hand; its location and expiry are then known.
	EpinephrineRequired bool   `json:"epinephrine_required"`
	EpinephrineLocation string `json:"epinephrine_location"`
	EpinephrineExpires  Date   `json:"epinephrine_expires"`
	// VerifiedBy is the user who verified the allergy, on VerifiedOn;
	// both empty when unverified.
	VerifiedBy string `json:"verified_by"`
	VerifiedOn Date   `json:"verified_on"`
}

// ConditionRecorded adds a chronic condition to the chart.
type ConditionRecorded struct {
	EntryID           string          `json:"entry_id"`
	RecordedAt        time.Time       `json:"recorded_at"`
	Condition         string          `json:"condition"`
	ICD10             string          `json:"icd10"` // empty when not coded
	Status            ConditionStatus `json:"status"`
	CarePlan          string          `json:"care_plan"`
	EmergencyProtocol string          `json:"emergency_protocol"`
	Triggers          string          `json:"triggers"`
	Accommodations    string          `json:"accommodations"`
	Plan504           bool            `json:"plan_504"`
	IEP               bool            `json:"iep"`
	NextReview        Date            `json:"next_review"` // empty when none is planned
}

// ImmunizationRecorded adds one dose of a vaccine to the chart.
type ImmunizationRecorded struct {
	EntryID    string       `json:"entry_id"`
	Vaccine    string       `json:"vaccine"`
	CVX        string       `json:"cvx"` // the CDC's vaccine code
	DoseNumber int          `json:"dose_number"`
	SeriesSize int          `json:"series_size"`
	GivenOn    Date         `json:"given_on"`
	Lot        string       `json:"lot"`
	Site       string       `json:"site"`
	Route      VaccineRoute `json:"route"` // empty when unknown
	// GivenHere says the health office gave the dose, rather than
	// transcribed it from another record.
	GivenHere bool `json:"given_here"`
}

// ExemptionRecorded records an exemption from a vaccine.
type ExemptionRecorded struct {
	EntryID    string        `json:"entry_id"`
	RecordedAt time.Time     `json:"recorded_at"`
	Vaccine    string        `json:"vaccine"`
	Kind       ExemptionKind `json:"kind"`
	Expires    Date          `json:"expires"` // empty when it does not expire
}

// ScreeningRecorded records the result of a screening.
type ScreeningRecorded struct {
	EntryID          string          `json:"entry_id"`
	RecordedAt       time.Time       `json:"recorded_at"`
	Kind             ScreeningKind   `json:"kind"`
	Result           ScreeningResult `json:"result"`
	Details          string          `json:"details"`
	ReferralFollowUp string          `json:"referral_follow_up"`
}

// GrowthRecorded records a height and a weight, and the body-mass index
// computed from them (kg/m², to one decimal).
type GrowthRecorded struct {
	EntryID    string    `json:"entry_id"`
	MeasuredAt time.Time `json:"measured_at"`
	HeightCM   float64   `json:"height_cm"`
	WeightKG   float64   `json:"weight_kg"`
	BMI        float64   `json:"bmi"`
}

// VitalsRecorded records vital signs. A measurement not taken is nil
// (JSON null): zero cannot mean "absent" when a pain score of 0 is a
// measurement. Flags are the measurements outside the normal range for
// the student's age at MeasuredAt (vitals.go); nil when none is.
type VitalsRecorded struct {
	EntryID         string      `json:"entry_id"`
	MeasuredAt      time.Time   `json:"measured_at"`
	TemperatureC    *float64    `json:"temperature_c"`
	HeartRate       *int        `json:"heart_rate"`       // beats per minute
	RespiratoryRate *int        `json:"respiratory_rate"` // breaths per minute
	Systolic        *int        `json:"systolic"`         // mmHg
	Diastolic       *int        `json:"diastolic"`        // mmHg
	SpO2            *int        `json:"spo2"`             // percent
	Pain            *int        `json:"pain"`             // 0 to 10
	Flags           []VitalFlag `json:"flags"`
}

// VisitRecorded records an office visit. MinutesOutOfClass is TimeOut
// less TimeIn, to the nearest minute.
type VisitRecorded struct {
	EntryID           string      `json:"entry_id"`
	TimeIn            time.Time   `json:"time_in"`
	TimeOut           time.Time   `json:"time_out"`
	Reasons           []string    `json:"reasons"`
	Assessment        string      `json:"assessment"`
	Actions           string      `json:"actions"`
	Disposition       Disposition `json:"disposition"`
	ParentNotified    bool        `json:"parent_notified"`
	MinutesOutOfClass int         `json:"minutes_out_of_class"`
}

// EventRef names one event of a stream by its ID and its revision: the
// event a correction corrects. It is zero in corrections recorded before
// corrections named their original; no original is ever at revision 0,
// which is the stream's creation.
type EventRef struct {
	EventID  string `json:"event_id"`
	Revision uint64 `json:"revision"`
}

// EntryMarkedInError says an entry should not have been recorded. The
// entry stays in the history; queries leave it out. Original is the event
// that recorded the entry.
type EntryMarkedInError struct {
	EntryID  string   `json:"entry_id"`
	Reason   string   `json:"reason"`
	Original EventRef `json:"original"`
}

// EntryAmended changes some values of an entry (HIPAA's right to amend,
// 45 CFR 164.526): Changes maps the JSON names of the entry's fields to
// their new values, values computed from them (a BMI, vital-sign flags,
// minutes out of class) included. The entry as recorded stays in the
// history. Original is the event that recorded the entry.
type EntryAmended struct {
	EntryID  string         `json:"entry_id"`
	Reason   string         `json:"reason"`
	Changes  map[string]any `json:"changes"`
	Original EventRef       `json:"original"`
}

// EventType returns "AllergyRecorded".
func (AllergyRecorded) EventType() string { return "AllergyRecorded" }

// EventType returns "ConditionRecorded".
func (ConditionRecorded) EventType() string { return "ConditionRecorded" }

// EventType returns "ImmunizationRecorded".
func (ImmunizationRecorded) EventType() string { return "ImmunizationRecorded" }

// EventType returns "ExemptionRecorded".
func (ExemptionRecorded) EventType() string { return "ExemptionRecorded" }

// EventType returns "ScreeningRecorded".
func (ScreeningRecorded) EventType() string { return "ScreeningRecorded" }

// EventType returns "GrowthRecorded".
func (GrowthRecorded) EventType() string { return "GrowthRecorded" }

// EventType returns "VitalsRecorded".
func (VitalsRecorded) EventType() string { return "VitalsRecorded" }

// EventType returns "VisitRecorded".
func (VisitRecorded) EventType() string { return "VisitRecorded" }

// EventType returns "EntryMarkedInError".
func (EntryMarkedInError) EventType() string { return "EntryMarkedInError" }

// EventType returns "EntryAmended".
func (EntryAmended) EventType() string { return "EntryAmended" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		AllergyRecorded{}.EventType():      decodeAs[AllergyRecorded],
		ConditionRecorded{}.EventType():    decodeAs[ConditionRecorded],
		ImmunizationRecorded{}.EventType(): decodeAs[ImmunizationRecorded],
		ExemptionRecorded{}.EventType():    decodeAs[ExemptionRecorded],
		ScreeningRecorded{}.EventType():    decodeAs[ScreeningRecorded],
		GrowthRecorded{}.EventType():       decodeAs[GrowthRecorded],
		VitalsRecorded{}.EventType():       decodeAs[VitalsRecorded],
		VisitRecorded{}.EventType():        decodeAs[VisitRecorded],
		EntryMarkedInError{}.EventType():   decodeAs[EntryMarkedInError],
		EntryAmended{}.EventType():         decodeAs[EntryAmended],
	})
}

// entryOf returns the ID and kind of the entry e records, and false when
// e records none.
func entryOf(e Event) (string, EntryKind, bool) {
	switch e := e.(type) {
	case AllergyRecorded:
		return e.EntryID, EntryAllergy, true
	case ConditionRecorded:
		return e.EntryID, EntryCondition, true
	case ImmunizationRecorded:
		return e.EntryID, EntryImmunization, true
	case ExemptionRecorded:
		return e.EntryID, EntryExemption, true
	case ScreeningRecorded:
		return e.EntryID, EntryScreening, true
	case GrowthRecorded:
		return e.EntryID, EntryGrowth, true
	case VitalsRecorded:
		return e.EntryID, EntryVitals, true
	case VisitRecorded:
		return e.EntryID, EntryVisit, true
	}
	return "", "", false
}

// ChartEntry is one entry of a student's chart with its corrections. Its
// events and maps are shared with the Student: read them, do not change
// them.
type ChartEntry struct {
	ID   string
	Kind EntryKind
	// Recorded is the event that recorded the entry, as recorded, at
	// Revision of the student's stream.
	Recorded Event
	Revision uint64
	// Current is Recorded with every amendment applied: an event of the
	// same type holding the entry's values today.
	Current Event
	// Amendments counts the amendments; AmendReason and Changes are the
	// latest one's, empty when there is none.
	Amendments  int
	AmendReason string
	Changes     map[string]any
	// InError says the entry was marked in error, for ErrorReason.
	InError     bool
	ErrorReason string
}

// Entry returns the entry id of s's chart, and false when the chart has
// none by that ID. An entry in error is returned too, with InError set.
func (s *Student) Entry(id string) (ChartEntry, bool) {
	i, ok := s.entryAt[id]
	if !ok {
		return ChartEntry{}, false
	}
	return s.entries[i], true
}

// Entries returns the entries of s's chart in the order recorded, those
// in error included; nil when there are none.
func (s *Student) Entries() []ChartEntry { return slices.Clone(s.entries) }

// ActiveAllergies returns the allergies of s's chart, in the order
// recorded, with their amendments applied and without those in error;
// nil when there are none.
func (s *Student) ActiveAllergies() []AllergyFact {
	var facts []AllergyFact
	for _, entry := range s.entries {
		a, ok := entry.Current.(AllergyRecorded)
		if !ok || entry.InError {
			continue
		}
		facts = append(facts, AllergyFact{
			EntryID:  a.EntryID,
			Allergen: a.Allergen,
			Type:     string(a.AllergenType),
			Severity: string(a.Severity),
		})
	}
	return facts
}

// applyChart changes s by e and reports whether e is a chart event.
func (s *Student) applyChart(e Event) (bool, error) {
	if id, kind, ok := entryOf(e); ok {
		return true, s.addEntry(ChartEntry{
			ID: id, Kind: kind, Recorded: e, Revision: s.applying(), Current: e,
		})
	}

	switch e := e.(type) {
	case EntryMarkedInError:
		return true, s.markInError(e)
	case EntryAmended:
		return true, s.amend(e)
	}
	return false, nil
}

func (s *Student) addEntry(entry ChartEntry) error {
	if _, dup := s.entryAt[entry.ID]; dup {
		return unexpected("student", entry.Recorded, "repeats an entry ID")
	}
	if s.entryAt == nil {
		s.entryAt = make(map[string]int)
	}
	s.entryAt[entry.ID] = len(s.entries)
	s.entries = append(s.entries, entry)
	return nil
}

func (s *Student) markInError(e EntryMarkedInError) error {
	i, ok := s.entryAt[e.EntryID]
	if !ok {
		return unexpected("student", e, "names an unknown entry")
	}
	s.entries[i].InError = true
	s.entries[i].ErrorReason = e.Reason
	return nil
}

func (s *Student) amend(e EntryAmended) error {
	i, ok := s.entryAt[e.EntryID]
	if !ok {
		return unexpected("student", e, "names an unknown entry")
	}

	entry := &s.entries[i]
	current, err := withChanges(entry.Current, e.Changes)
	if err != nil {
		return fmt.Errorf("student: %s of entry %s: %w", e.EventType(), e.EntryID, err)
	}
	entry.Current = current
	entry.Amendments++
	entry.AmendReason = e.Reason
	entry.Changes = e.Changes
	return nil
}

// RecordAllergy is the command that adds an allergy to the chart.
type RecordAllergy struct {
	EntryID             string
	Allergen            string
	AllergenType        AllergenType
	Severity            AllergySeverity
	Reaction            string
	EpinephrineRequired bool
	EpinephrineLocation string
	EpinephrineExpires  Date
	VerifiedBy          string
	VerifiedOn          Date
}

// RecordAllergy returns the AllergyRecorded of cmd at now, or the refusal
// of each invalid field (Errors, CodeInvalid):
//   - allergen: 1 to 200 characters;
//   - allergen_type: one of AllergenTypes; severity: one of
//     AllergySeverities;
//   - reaction: at most 4000 characters, line breaks allowed;
//   - epinephrine_location (at most 200 characters) and
//     epinephrine_expires (a date): required with epinephrine_required;
//   - verified_by (an ID) and verified_on (a date not after now's day):
//     each required with the other.
//
// Like every command that adds an entry, it also refuses an entry_id that
// is not an ID (CodeInvalid), that names an entry already on the chart
// (CodeConflict), and a withdrawn student (CodeRule, "enrolled").
func (s *Student) RecordAllergy(cmd RecordAllergy, now time.Time) ([]Event, error) {
	return s.record(AllergyRecorded{
		EntryID:             cmd.EntryID,
		RecordedAt:          now.UTC(),
		Allergen:            cmd.Allergen,
		AllergenType:        cmd.AllergenType,
		Severity:            cmd.Severity,
		Reaction:            cmd.Reaction,
		EpinephrineRequired: cmd.EpinephrineRequired,
		EpinephrineLocation: cmd.EpinephrineLocation,
		EpinephrineExpires:  cmd.EpinephrineExpires,
		VerifiedBy:          cmd.VerifiedBy,
		VerifiedOn:          cmd.VerifiedOn,
	}, now)
}

// RecordCondition is the command that adds a chronic condition.
type RecordCondition struct {
	EntryID           string
	Condition         string
	ICD10             string // upper-cased by the command
	Status            ConditionStatus
	CarePlan          string
	EmergencyProtocol string
	Triggers          string
	Accommodations    string
	Plan504           bool
	IEP               bool
	NextReview        Date
}

// RecordCondition returns the ConditionRecorded of cmd at now, or the
// refusal of each invalid field (Errors, CodeInvalid): condition 1 to 200
// characters; icd10, when set, a letter, two digits, then optionally a dot
// and 1 to 4 letters or digits ("E10.9"); status one of
// ConditionStatuses; care_plan, emergency_protocol, triggers and
// accommodations at most 4000 characters; next_review, when set, a date.
// Entry ID and enrolment are checked as RecordAllergy says.
func (s *Student) RecordCondition(cmd RecordCondition, now time.Time) ([]Event, error) {
	return s.record(ConditionRecorded{
		EntryID:           cmd.EntryID,
		RecordedAt:        now.UTC(),
		Condition:         cmd.Condition,
		ICD10:             cmd.ICD10,
		Status:            cmd.Status,
		CarePlan:          cmd.CarePlan,
		EmergencyProtocol: cmd.EmergencyProtocol,
		Triggers:          cmd.Triggers,
		Accommodations:    cmd.Accommodations,
		Plan504:           cmd.Plan504,
		IEP:               cmd.IEP,
		NextReview:        cmd.NextReview,
	}, now)
}

// RecordImmunization is the command that adds a dose of a vaccine.
type RecordImmunization struct {
	EntryID    string
	Vaccine    string
	CVX        string
	DoseNumber int
	SeriesSize int
	GivenOn    Date
	Lot        string
	Site       string
	Route      VaccineRoute
	GivenHere  bool
}

// maxDoses bounds a dose number and a series.
const maxDoses = 20

// RecordImmunization returns the ImmunizationRecorded of cmd, or the
// refusal of each invalid field (Errors, CodeInvalid): vaccine 1 to 200
// characters; cvx 1 to 3 digits; dose_number 1 to 20; series_size from
// dose_number to 20; given_on a date neither after now's day nor before
// the birth date; lot and site at most 200 characters; route, when set,
// one of VaccineRoutes, and required for a dose given here. Entry ID and
// enrolment are checked as RecordAllergy says.
func (s *Student) RecordImmunization(cmd RecordImmunization, now time.Time) ([]Event, error) {
	return s.record(ImmunizationRecorded{
		EntryID:    cmd.EntryID,
		Vaccine:    cmd.Vaccine,
		CVX:        cmd.CVX,
		DoseNumber: cmd.DoseNumber,
		SeriesSize: cmd.SeriesSize,
		GivenOn:    cmd.GivenOn,
		Lot:        cmd.Lot,
		Site:       cmd.Site,
		Route:      cmd.Route,
		GivenHere:  cmd.GivenHere,
	}, now)
}

// RecordExemption is the command that records an exemption from a
// vaccine.
type RecordExemption struct {
	EntryID string
	Vaccine string
	Kind    ExemptionKind
	Expires Date
}

// RecordExemption returns the ExemptionRecorded of cmd at now, or the
// refusal of each invalid field (Errors, CodeInvalid): vaccine 1 to 200
// characters, kind one of ExemptionKinds, expires a date when set. Entry
// ID and enrolment are checked as RecordAllergy says.
func (s *Student) RecordExemption(cmd RecordExemption, now time.Time) ([]Event, error) {
	return s.record(ExemptionRecorded{
		EntryID:    cmd.EntryID,
		RecordedAt: now.UTC(),
		Vaccine:    cmd.Vaccine,
		Kind:       cmd.Kind,
		Expires:    cmd.Expires,
	}, now)
}

// RecordScreening is the command that records a screening.
type RecordScreening struct {
	EntryID          string
	Kind             ScreeningKind
	Result           ScreeningResult
	Details          string
	ReferralFollowUp string
}

// RecordScreening returns the ScreeningRecorded of cmd at now, or the
// refusal of each invalid field (Errors, CodeInvalid): kind one of
// ScreeningKinds, result one of ScreeningResults, details and
// referral_follow_up at most 4000 characters. Entry ID and enrolment are
// checked as RecordAllergy says.
func (s *Student) RecordScreening(cmd RecordScreening, now time.Time) ([]Event, error) {
	return s.record(ScreeningRecorded{
		EntryID:          cmd.EntryID,
		RecordedAt:       now.UTC(),
		Kind:             cmd.Kind,
		Result:           cmd.Result,
		Details:          cmd.Details,
		ReferralFollowUp: cmd.ReferralFollowUp,
	}, now)
}

// RecordGrowth is the command that records a height and a weight.
type RecordGrowth struct {
	EntryID    string
	MeasuredAt time.Time
	HeightCM   float64
	WeightKG   float64
}

// The bounds of a height and a weight a chart accepts.
const (
	minHeightCM, maxHeightCM = 30, 250
	minWeightKG, maxWeightKG = 1, 300
)

// RecordGrowth returns the GrowthRecorded of cmd, with its BMI, or the
// refusal of each invalid field (Errors, CodeInvalid): measured_at
// required, not after now nor before the birth date; height_cm 30 to 250;
// weight_kg 1 to 300. Entry ID and enrolment are checked as RecordAllergy
// says.
func (s *Student) RecordGrowth(cmd RecordGrowth, now time.Time) ([]Event, error) {
	return s.record(GrowthRecorded{
		EntryID:    cmd.EntryID,
		MeasuredAt: cmd.MeasuredAt,
		HeightCM:   cmd.HeightCM,
		WeightKG:   cmd.WeightKG,
	}, now)
}

// RecordVitals is the command that records vital signs. A nil field was
// not measured.
type RecordVitals struct {
	EntryID         string
	MeasuredAt      time.Time
	TemperatureC    *float64
	HeartRate       *int
	RespiratoryRate *int
	Systolic        *int
	Diastolic       *int
	SpO2            *int
	Pain            *int
}

// RecordVitals returns the VitalsRecorded of cmd, with its flags, or the
// refusal of each invalid field (Errors, CodeInvalid):
//   - measured_at: required, not after now nor before the birth date;
//   - at least one measurement (a refusal that names no field);
//   - each within what a living person can show: temperature_c 30 to 45,
//     heart_rate 20 to 300, respiratory_rate 4 to 100, systolic 40 to
//     300, diastolic 20 to 200, spo2 50 to 100, pain 0 to 10;
//   - systolic and diastolic together, the diastolic the lower.
//
// A pain score is flagged from PainFlagFrom (7) on; the other
// measurements outside the normal range for the student's age
// (NormalRange). Entry ID and enrolment are checked as RecordAllergy says.
func (s *Student) RecordVitals(cmd RecordVitals, now time.Time) ([]Event, error) {
	return s.record(VitalsRecorded{
		EntryID:         cmd.EntryID,
		MeasuredAt:      cmd.MeasuredAt,
		TemperatureC:    clonePtr(cmd.TemperatureC),
		HeartRate:       clonePtr(cmd.HeartRate),
		RespiratoryRate: clonePtr(cmd.RespiratoryRate),
		Systolic:        clonePtr(cmd.Systolic),
		Diastolic:       clonePtr(cmd.Diastolic),
		SpO2:            clonePtr(cmd.SpO2),
		Pain:            clonePtr(cmd.Pain),
	}, now)
}

// RecordVisit is the command that records an office visit.
type RecordVisit struct {
	EntryID        string
	TimeIn         time.Time
	TimeOut        time.Time
	Reasons        []string
	Assessment     string
	Actions        string
	Disposition    Disposition
	ParentNotified bool
}

// maxVisit bounds the length of an office visit.
const maxVisit = 24 * time.Hour

// RecordVisit returns the VisitRecorded of cmd, with its minutes out of
// class, or the refusal of each invalid field (Errors, CodeInvalid):
// time_in required and not after now; time_out required, after time_in,
// not after now, at most 24 hours after time_in; reasons at least one,
// each 1 to 200 characters; assessment and actions at most 4000
// characters; disposition one of Dispositions. Entry ID and enrolment are
// checked as RecordAllergy says.
func (s *Student) RecordVisit(cmd RecordVisit, now time.Time) ([]Event, error) {
	return s.record(VisitRecorded{
		EntryID:        cmd.EntryID,
		TimeIn:         cmd.TimeIn,
		TimeOut:        cmd.TimeOut,
		Reasons:        slices.Clone(cmd.Reasons),
		Assessment:     cmd.Assessment,
		Actions:        cmd.Actions,
		Disposition:    cmd.Disposition,
		ParentNotified: cmd.ParentNotified,
	}, now)
}

// record returns e, checked and completed, as the one event that adds an
// entry to the chart, or the refusals.
func (s *Student) record(e Event, now time.Time) ([]Event, error) {
	id, _, _ := entryOf(e)
	var errs Errors
	errs.add(checkID("entry_id", id, true))
	checked, more := s.checkEntry(e, now)
	if errs = append(errs, more...); errs != nil {
		return nil, errs
	}

	errs.add(s.checkEnrolled())
	if _, used := s.entryAt[id]; used {
		errs.add(refuseConflict("entry_id", "names an entry already on the chart"))
	}
	if errs != nil {
		return nil, errs
	}
	return []Event{checked}, nil
}

// checkEntry returns e with its text trimmed, its times in UTC and its
// computed values filled in, and the refusal of each invalid field. The
// entry ID is not checked. Amendments check the entry they would make
// with it too, so that a rule holds of an entry however it was made.
func (s *Student) checkEntry(e Event, now time.Time) (Event, Errors) {
	switch e := e.(type) {
	case AllergyRecorded:
		return checkAllergy(e, now)
	case ConditionRecorded:
		return checkCondition(e)
	case ImmunizationRecorded:
		return s.checkImmunization(e, now)
	case ExemptionRecorded:
		return checkExemption(e)
	case ScreeningRecorded:
		return checkScreening(e)
	case GrowthRecorded:
		return s.checkGrowth(e, now)
	case VitalsRecorded:
		return s.checkVitals(e, now)
	case VisitRecorded:
		return checkVisit(e, now)
	}
	return e, Errors{invalid("", "is not a chart entry")}
}

// The bounds of the free text of chart entries.
var (
	// termRule: an allergen, a condition, a vaccine, a visit's reason.
	termRule = textRule{min: 1, max: 200}
	// labelRule: an auto-injector's location, a lot, a site.
	labelRule = textRule{min: 0, max: 200}
	// noteRule: a reaction, a care plan, an assessment.
	noteRule = textRule{min: 0, max: 4000, multiline: true}
)

func checkAllergy(e AllergyRecorded, now time.Time) (Event, Errors) {
	var errs Errors
	trimText(&errs, "allergen", &e.Allergen, termRule)
	errs.add(checkOneOf("allergen_type", e.AllergenType, AllergenTypes))
	errs.add(checkOneOf("severity", e.Severity, AllergySeverities))
	trimText(&errs, "reaction", &e.Reaction, noteRule)
	trimText(&errs, "epinephrine_location", &e.EpinephrineLocation, labelRule)
	if e.EpinephrineRequired && strings.TrimSpace(e.EpinephrineLocation) == "" {
		errs.add(invalid("epinephrine_location", "is required when epinephrine is"))
	}
	errs.add(checkDate("epinephrine_expires", e.EpinephrineExpires, e.EpinephrineRequired))
	errs.add(checkID("verified_by", e.VerifiedBy, e.VerifiedOn != ""))
	errs.add(checkPastDate("verified_on", e.VerifiedOn, e.VerifiedBy != "", now))
	return e, errs
}

// icd10Shape is the shape of an ICD-10 code: a letter, two digits, and
// optionally a dot and up to four letters or digits.
var icd10Shape = regexp.MustCompile(`^[A-Z][0-9]{2}(\.[A-Z0-9]{1,4})?$`)

func checkCondition(e ConditionRecorded) (Event, Errors) {
	var errs Errors
	trimText(&errs, "condition", &e.Condition, termRule)
	e.ICD10 = strings.ToUpper(strings.TrimSpace(e.ICD10))
	if e.ICD10 != "" && !icd10Shape.MatchString(e.ICD10) {
		errs.add(invalid("icd10", "must be a letter, two digits, then optionally "+
			"a dot and 1 to 4 letters or digits"))
	}
	errs.add(checkOneOf("status", e.Status, ConditionStatuses))
	trimText(&errs, "care_plan", &e.CarePlan, noteRule)
	trimText(&errs, "emergency_protocol", &e.EmergencyProtocol, noteRule)
	trimText(&errs, "triggers", &e.Triggers, noteRule)
	trimText(&errs, "accommodations", &e.Accommodations, noteRule)
	errs.add(checkDate("next_review", e.NextReview, false))
	return e, errs
}

func (s *Student) checkImmunization(e ImmunizationRecorded, now time.Time) (Event, Errors) {
	var errs Errors
	trimText(&errs, "vaccine", &e.Vaccine, termRule)
	if len(e.CVX) > 3 || !isDigits(e.CVX) {
		errs.add(invalid("cvx", "must be 1 to 3 digits"))
	}
	if e.DoseNumber < 1 || e.DoseNumber > maxDoses {
		errs.add(invalid("dose_number", "must be 1 to "+strconv.Itoa(maxDoses)))
	}
	if e.SeriesSize < max(e.DoseNumber, 1) || e.SeriesSize > maxDoses {
		errs.add(invalid("series_size", "must be from dose_number to "+strconv.Itoa(maxDoses)))
	}
	errs.add(s.checkDateSinceBirth("given_on", e.GivenOn, now))
	trimText(&errs, "lot", &e.Lot, labelRule)
	trimText(&errs, "site", &e.Site, labelRule)
	if e.Route != "" || e.GivenHere {
		errs.add(checkOneOf("route", e.Route, VaccineRoutes))
	}
	return e, errs
}

func checkExemption(e ExemptionRecorded) (Event, Errors) {
	var errs Errors
	trimText(&errs, "vaccine", &e.Vaccine, termRule)
	errs.add(checkOneOf("kind", e.Kind, ExemptionKinds))
	errs.add(checkDate("expires", e.Expires, false))
	return e, errs
}

func checkScreening(e ScreeningRecorded) (Event, Errors) {
	var errs Errors
	errs.add(checkOneOf("kind", e.Kind, ScreeningKinds))
	errs.add(checkOneOf("result", e.Result, ScreeningResults))
	trimText(&errs, "details", &e.Details, noteRule)
	trimText(&errs, "referral_follow_up", &e.ReferralFollowUp, noteRule)
	return e, errs
}

func (s *Student) checkGrowth(e GrowthRecorded, now time.Time) (Event, Errors) {
	var errs Errors
	errs.add(s.checkMeasuredAt("measured_at", e.MeasuredAt, now))
	e.MeasuredAt = e.MeasuredAt.UTC()
	heightOK := within(e.HeightCM, minHeightCM, maxHeightCM)
	if !heightOK {
		errs.add(invalid("height_cm", "must be 30 to 250"))
	}
	weightOK := within(e.WeightKG, minWeightKG, maxWeightKG)
	if !weightOK {
		errs.add(invalid("weight_kg", "must be 1 to 300"))
	}
	if heightOK && weightOK {
		e.BMI = BMI(e.HeightCM, e.WeightKG)
	}
	return e, errs
}

// BMI returns the body-mass index of a height in centimetres and a
// weight in kilograms, in kg/m² rounded to one decimal.
func BMI(heightCM, weightKG float64) float64 {
	m := heightCM / 100
	return math.Round(weightKG/(m*m)*10) / 10
}

// within reports whether v is in [lo, hi]; never for NaN.
func within[N int | float64](v, lo, hi N) bool { return v >= lo && v <= hi }

func checkVisit(e VisitRecorded, now time.Time) (Event, Errors) {
	var errs Errors
	errs.add(checkPastTime("time_in", e.TimeIn, now))
	errs.add(checkTimeOut(e.TimeIn, e.TimeOut, now))
	e.TimeIn, e.TimeOut = e.TimeIn.UTC(), e.TimeOut.UTC()
	if len(e.Reasons) == 0 {
		errs.add(invalid("reasons", "must name at least one"))
	}
	e.Reasons = slices.Clone(e.Reasons)
	for i := range e.Reasons {
		trimText(&errs, "reasons["+strconv.Itoa(i)+"]", &e.Reasons[i], termRule)
	}
	trimText(&errs, "assessment", &e.Assessment, noteRule)
	trimText(&errs, "actions", &e.Actions, noteRule)
	errs.add(checkOneOf("disposition", e.Disposition, Dispositions))
	e.MinutesOutOfClass = int(e.TimeOut.Sub(e.TimeIn).Round(time.Minute) / time.Minute)
	return e, errs
}

func checkTimeOut(in, out, now time.Time) *Error {
	const field = "time_out"
	if err := checkPastTime(field, out, now); err != nil || in.IsZero() {
		return err
	}
	switch {
	case !out.After(in):
		return invalid(field, "must be after time_in")
	case out.Sub(in) > maxVisit:
		return invalid(field, "must be at most 24 hours after time_in")
	}
	return nil
}

// checkPastTime refuses a zero t, or one after now.
func checkPastTime(field string, t, now time.Time) *Error {
	switch {
	case t.IsZero():
		return invalid(field, "is required")
	case t.After(now):
		return invalid(field, "must not be in the future")
	}
	return nil
}

// checkMeasuredAt is checkPastTime, and refuses a day before s's birth.
func (s *Student) checkMeasuredAt(field string, t, now time.Time) *Error {
	if err := checkPastTime(field, t, now); err != nil {
		return err
	}
	if DateOf(t).Before(s.BirthDate) {
		return invalid(field, "must not be before the birth date")
	}
	return nil
}

// checkDateSinceBirth refuses d unless it is a date, not after now's day
// and not before s's birth.
func (s *Student) checkDateSinceBirth(field string, d Date, now time.Time) *Error {
	if err := checkPastDate(field, d, true, now); err != nil {
		return err
	}
	if d.Before(s.BirthDate) {
		return invalid(field, "must not be before the birth date")
	}
	return nil
}

// correctionRule bounds the reason for a correction.
var correctionRule = textRule{min: 5, max: 500, multiline: true}

// MarkInError returns the EntryMarkedInError that withdraws entry entryID
// from the chart for reason, 5 to 500 characters, naming the event that
// recorded it. It refuses an invalid
// field (CodeInvalid), an entry not on the chart (CodeNotFound) and one in
// error already (CodeConflict). A withdrawn student's chart may still be
// corrected.
func (s *Student) MarkInError(entryID, reason string) ([]Event, error) {
	reason, err := checkCorrection("entry_id", entryID, reason)
	if err != nil {
		return nil, err
	}

	entry, refused := s.correctable(entryID)
	if refused != nil {
		return nil, refused
	}
	return []Event{EntryMarkedInError{
		EntryID: entryID, Reason: reason, Original: s.ref(entry.Revision),
	}}, nil
}

// checkCorrection returns the reason of a correction of the record id
// names, trimmed, or the refusal of each invalid field (CodeInvalid): id
// not an ID, reason not 5 to 500 characters.
func checkCorrection(idField, id, reason string) (string, error) {
	var errs Errors
	errs.add(checkID(idField, id, true))
	trimText(&errs, "reason", &reason, correctionRule)
	return reason, errs.err()
}

// AmendEntry is the command that changes some values of an entry.
type AmendEntry struct {
	EntryID string
	Reason  string
	// Changes maps the JSON names of the entry's fields to their new
	// values, as the entry's event spells them in JSON: for example
	// {"severity": "severe"} for an allergy, {"pain": null} to remove a
	// pain score. Neither entry_id, recorded_at nor a computed value
	// (bmi, flags, minutes_out_of_class) may change.
	Changes map[string]any
}

// AmendEntry returns the EntryAmended that changes entry cmd.EntryID, or
// the refusals:
//   - CodeInvalid: entry_id not an ID; reason not 5 to 500 characters;
//     changes empty, or changing no value;
//   - CodeNotFound: no such entry on the chart; CodeConflict: the entry is
//     in error;
//   - CodeInvalid, field "changes.<name>": a field the entry does not
//     have or that may not change, a value of the wrong JSON type, or a
//     value the command that records such an entry would refuse.
//
// The event's Changes hold the new values as JSON decodes them, the
// values computed from them included (a BMI, vital-sign flags, minutes
// out of class). A withdrawn student's chart may still be corrected.
func (s *Student) AmendEntry(cmd AmendEntry, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("entry_id", cmd.EntryID, true))
	trimText(&errs, "reason", &cmd.Reason, correctionRule)
	if len(cmd.Changes) == 0 {
		errs.add(invalid("changes", "must change at least one field"))
	}
	if errs != nil {
		return nil, errs
	}

	entry, err := s.correctable(cmd.EntryID)
	if err != nil {
		return nil, err
	}
	changes, errs := s.amendment(entry.Current, cmd.Changes, now)
	if errs != nil {
		return nil, errs
	}
	return []Event{EntryAmended{
		EntryID: cmd.EntryID, Reason: cmd.Reason, Changes: changes,
		Original: s.ref(entry.Revision),
	}}, nil
}

// correctable returns the entry id names, or the refusal: CodeNotFound
// when the chart has none, CodeConflict when it is in error.
func (s *Student) correctable(id string) (ChartEntry, *Error) {
	entry, ok := s.Entry(id)
	switch {
	case !ok:
		return ChartEntry{}, refuseNotFound("entry_id", "names no entry of the chart")
	case entry.InError:
		return ChartEntry{}, refuseConflict("entry_id", "names an entry marked in error")
	}
	return entry, nil
}

// fixedFields are the fields no amendment changes: the identity of an
// entry, when it was recorded, and the values computed from others.
var fixedFields = []string{"entry_id", "recorded_at", "bmi", "flags", "minutes_out_of_class"}

// amendment returns the fields of current that changes, checked as a
// new entry would be, really change, with their JSON values; or the
// refusal of each change, named "changes.<name>".
func (s *Student) amendment(
	current Event,
	changes map[string]any,
	now time.Time,
) (map[string]any, Errors) {
	fields, err := jsonFields(current)
	if err != nil {
		return nil, Errors{invalid("changes", "cannot apply to this entry")}
	}

	var errs Errors
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		errs.add(checkChange(current.EventType(), fields, name, changes[name]))
	}
	if errs != nil {
		return nil, errs
	}

	amended, err := withChanges(current, changes)
	if err != nil {
		return nil, Errors{invalid("changes", "do not fit this entry")}
	}
	checked, errs := s.checkEntry(amended, now)
	if errs != nil {
		return nil, underChanges(errs)
	}
	return changedFields(current, checked)
}

// checkChange refuses a change of field name to value unless the entry
// has the field, it may change, and value decodes into it.
func checkChange(eventType string, fields map[string]any, name string, value any) *Error {
	field := "changes." + name
	if _, ok := fields[name]; !ok || slices.Contains(fixedFields, name) {
		return invalid(field, "is not a field this entry may change")
	}

	data, err := json.Marshal(map[string]any{name: value})
	if err == nil {
		_, err = decoders[eventType](data)
	}
	if err != nil {
		return invalid(field, "has a value of the wrong type")
	}
	return nil
}

// underChanges names each refusal as one of the changes.
func underChanges(errs Errors) Errors {
	for _, e := range errs {
		e.Field = "changes." + e.Field
	}
	return errs
}

// changedFields returns the JSON fields of after that differ from
// before's, or the refusal of an amendment that changes nothing.
func changedFields(before, after Event) (map[string]any, Errors) {
	b, errB := jsonFields(before)
	a, errA := jsonFields(after)
	if errB != nil || errA != nil {
		return nil, Errors{invalid("changes", "cannot apply to this entry")}
	}

	changed := make(map[string]any)
	for name, v := range a {
		if !reflect.DeepEqual(b[name], v) {
			changed[name] = v
		}
	}
	if len(changed) == 0 {
		return nil, Errors{invalid("changes", "must change at least one value")}
	}
	return changed, nil
}

// jsonFields returns e's JSON object as Go values.
func jsonFields(e Event) (map[string]any, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	err = json.Unmarshal(data, &fields)
	return fields, err
}

// withChanges returns e with the JSON fields changes names set to their
// values: an event of e's type.
func withChanges(e Event, changes map[string]any) (Event, error) {
	fields, err := jsonFields(e)
	if err != nil {
		return nil, err
	}
	maps.Copy(fields, changes)

	data, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return decoders[e.EventType()](data)
}

// clonePtr returns a pointer to a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
