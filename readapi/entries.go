package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// AllergyRequest records an allergy.
type AllergyRequest struct {
	EntryID             string `json:"entry_id"`
	Allergen            string `json:"allergen"`
	AllergenType        string `json:"allergen_type"`
	Severity            string `json:"severity"`
	Reaction            string `json:"reaction,omitempty"`
	EpinephrineRequired bool   `json:"epinephrine_required,omitempty"`
	EpinephrineLocation string `json:"epinephrine_location,omitempty"`
	EpinephrineExpires  string `json:"epinephrine_expires,omitempty"`
	VerifiedBy          string `json:"verified_by,omitempty"`
	VerifiedOn          string `json:"verified_on,omitempty"`
}

// ConditionRequest records a chronic condition.
type ConditionRequest struct {
	EntryID           string `json:"entry_id"`
	Condition         string `json:"condition"`
	ICD10             string `json:"icd10,omitempty"`
	Status            string `json:"status"`
	CarePlan          string `json:"care_plan,omitempty"`
	EmergencyProtocol string `json:"emergency_protocol,omitempty"`
	Triggers          string `json:"triggers,omitempty"`
	Accommodations    string `json:"accommodations,omitempty"`
	Plan504           bool   `json:"plan_504,omitempty"`
	IEP               bool   `json:"iep,omitempty"`
	NextReview        string `json:"next_review,omitempty"`
}

// ImmunizationRequest records a dose of a vaccine.
type ImmunizationRequest struct {
	EntryID    string `json:"entry_id"`
	Vaccine    string `json:"vaccine"`
	CVX        string `json:"cvx"`
	DoseNumber int    `json:"dose_number"`
	SeriesSize int    `json:"series_size"`
	GivenOn    string `json:"given_on"`
	Lot        string `json:"lot,omitempty"`
	Site       string `json:"site,omitempty"`
	Route      string `json:"route,omitempty"`
	GivenHere  bool   `json:"given_here,omitempty"`
}

// ExemptionRequest records an immunization exemption.
type ExemptionRequest struct {
	EntryID string `json:"entry_id"`
	Vaccine string `json:"vaccine"`
	Kind    string `json:"kind"`
	Expires string `json:"expires,omitempty"`
}

// ScreeningRequest records a screening.
type ScreeningRequest struct {
	EntryID          string `json:"entry_id"`
	Kind             string `json:"kind"`
	Result           string `json:"result"`
	Details          string `json:"details,omitempty"`
	ReferralFollowUp string `json:"referral_follow_up,omitempty"`
}

// GrowthRequest records height and weight; the BMI is computed.
type GrowthRequest struct {
	EntryID    string    `json:"entry_id"`
	MeasuredAt time.Time `json:"measured_at"`
	HeightCM   float64   `json:"height_cm"`
	WeightKG   float64   `json:"weight_kg"`
}

// VitalsRequest records vital signs; each is optional, at least one is
// required, and each is flagged when outside the normal range for the
// student's age.
type VitalsRequest struct {
	EntryID         string    `json:"entry_id"`
	MeasuredAt      time.Time `json:"measured_at"`
	TemperatureC    *float64  `json:"temperature_c,omitempty"`
	HeartRate       *int      `json:"heart_rate,omitempty"`
	RespiratoryRate *int      `json:"respiratory_rate,omitempty"`
	Systolic        *int      `json:"systolic,omitempty"`
	Diastolic       *int      `json:"diastolic,omitempty"`
	SpO2            *int      `json:"spo2,omitempty"`
	Pain            *int      `json:"pain,omitempty"`
}

// VisitRequest records an office visit.
type VisitRequest struct {
	EntryID        string    `json:"entry_id"`
	TimeIn         time.Time `json:"time_in"`
	TimeOut        time.Time `json:"time_out"`
	Reasons        []string  `json:"reasons"`
	Assessment     string    `json:"assessment,omitempty"`
	Actions        string    `json:"actions,omitempty"`
	Disposition    string    `json:"disposition"`
	ParentNotified bool      `json:"parent_notified,omitempty"`
}

// InErrorRequest marks a record entered in error, with why: a chart
// entry, a dose, an order, an alert, a contact.
type InErrorRequest struct {
	Reason string `json:"reason"`
}

// AmendmentRequest amends an entry with new values.
type AmendmentRequest struct {
	Reason  string         `json:"reason"`
	Changes map[string]any `json:"changes"`
}

// entryKind is one kind of chart entry: its resource and how a request
// becomes a change.
type entryKind struct {
	resource string
	kind     domain.EntryKind
	summary  string
	request  any
	read     changeReader
}

func (h handlers) entryKinds() []entryKind {
	return []entryKind{
		{"allergies", domain.EntryAllergy, "Record an allergy", AllergyRequest{}, readAs(func(r AllergyRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordAllergy(domain.RecordAllergy{EntryID: r.EntryID, Allergen: r.Allergen,
				AllergenType: domain.AllergenType(r.AllergenType), Severity: domain.AllergySeverity(r.Severity),
				Reaction: r.Reaction, EpinephrineRequired: r.EpinephrineRequired,
				EpinephrineLocation: r.EpinephrineLocation, EpinephrineExpires: domain.Date(r.EpinephrineExpires),
				VerifiedBy: r.VerifiedBy, VerifiedOn: domain.Date(r.VerifiedOn)}, now)
		})},
		{"conditions", domain.EntryCondition, "Record a chronic condition", ConditionRequest{}, readAs(func(r ConditionRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordCondition(domain.RecordCondition{EntryID: r.EntryID, Condition: r.Condition,
				ICD10: r.ICD10, Status: domain.ConditionStatus(r.Status), CarePlan: r.CarePlan,
				EmergencyProtocol: r.EmergencyProtocol, Triggers: r.Triggers, Accommodations: r.Accommodations,
				Plan504: r.Plan504, IEP: r.IEP, NextReview: domain.Date(r.NextReview)}, now)
		})},
		{"immunizations", domain.EntryImmunization, "Record an immunization", ImmunizationRequest{}, readAs(func(r ImmunizationRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordImmunization(domain.RecordImmunization{EntryID: r.EntryID, Vaccine: r.Vaccine,
				CVX: r.CVX, DoseNumber: r.DoseNumber, SeriesSize: r.SeriesSize, GivenOn: domain.Date(r.GivenOn),
				Lot: r.Lot, Site: r.Site, Route: domain.VaccineRoute(r.Route), GivenHere: r.GivenHere}, now)
		})},
		{"exemptions", domain.EntryExemption, "Record an immunization exemption", ExemptionRequest{}, readAs(func(r ExemptionRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordExemption(domain.RecordExemption{EntryID: r.EntryID, Vaccine: r.Vaccine,
				Kind: domain.ExemptionKind(r.Kind), Expires: domain.Date(r.Expires)}, now)
		})},
		{"screenings", domain.EntryScreening, "Record a screening", ScreeningRequest{}, readAs(func(r ScreeningRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordScreening(domain.RecordScreening{EntryID: r.EntryID, Kind: domain.ScreeningKind(r.Kind),
				Result: domain.ScreeningResult(r.Result), Details: r.Details, ReferralFollowUp: r.ReferralFollowUp}, now)
		})},
		{"growth", domain.EntryGrowth, "Record height and weight", GrowthRequest{}, readAs(func(r GrowthRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordGrowth(domain.RecordGrowth{EntryID: r.EntryID, MeasuredAt: r.MeasuredAt,
				HeightCM: r.HeightCM, WeightKG: r.WeightKG}, now)
		})},
		{"vitals", domain.EntryVitals, "Record vital signs", VitalsRequest{}, readAs(func(r VitalsRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordVitals(domain.RecordVitals{EntryID: r.EntryID, MeasuredAt: r.MeasuredAt,
				TemperatureC: r.TemperatureC, HeartRate: r.HeartRate, RespiratoryRate: r.RespiratoryRate,
				Systolic: r.Systolic, Diastolic: r.Diastolic, SpO2: r.SpO2, Pain: r.Pain}, now)
		})},
		{"visits", domain.EntryVisit, "Record an office visit", VisitRequest{}, readAs(func(r VisitRequest, s *domain.Student, now time.Time) ([]domain.Event, error) {
			return s.RecordVisit(domain.RecordVisit{EntryID: r.EntryID, TimeIn: r.TimeIn, TimeOut: r.TimeOut,
				Reasons: r.Reasons, Assessment: r.Assessment, Actions: r.Actions,
				Disposition: domain.Disposition(r.Disposition), ParentNotified: r.ParentNotified}, now)
		})},
	}
}

// readAs binds a request of type R and applies decide to the chart.
func readAs[R any](decide func(r R, s *domain.Student, now time.Time) ([]domain.Event, error)) changeReader {
	return func(c echo.Context) (commands.ChartChange, error) {
		var r R
		if err := bind(c, &r); err != nil {
			return nil, err
		}
		return func(s *domain.Student, now time.Time) ([]domain.Event, error) { return decide(r, s, now) }, nil
	}
}

// entryRoutes gives each kind of entry its POST, and each entry its two
// corrections: …/{entry}/entered-in-error and …/{entry}/amendments.
func (h handlers) entryRoutes() []Route {
	write := Access{Capability: auth.WriteClinical}
	var routes []Route
	for _, k := range h.entryKinds() {
		base := "/v1/students/:id/" + k.resource
		routes = append(routes,
			Route{Method: http.MethodPost, Path: base, Summary: k.summary, Access: write,
				Request: k.request, Response: Written{}, Status: http.StatusCreated,
				Handler: h.clinical(k.read)},
			Route{Method: http.MethodPost, Path: base + "/:entry/entered-in-error",
				Summary: "Mark an entry entered in error; the original stays in the history", Access: write,
				Request: InErrorRequest{}, Response: Written{}, Status: http.StatusCreated,
				Handler: h.clinical(markInError(k.kind))},
			Route{Method: http.MethodPost, Path: base + "/:entry/amendments",
				Summary: "Amend an entry with new values and a reason", Access: write,
				Request: AmendmentRequest{}, Response: Written{}, Status: http.StatusCreated,
				Handler: h.clinical(amend(k.kind))},
		)
	}
	return routes
}

// ofKind refuses a correction of an entry of another kind than the
// resource the request named.
func ofKind(s *domain.Student, entry string, kind domain.EntryKind) error {
	if e, ok := s.Entry(entry); ok && e.Kind != kind {
		return domain.Errors{{Code: domain.CodeNotFound, Field: "entry",
			Message: "is not an entry of this kind"}}
	}
	return nil
}

func markInError(kind domain.EntryKind) changeReader {
	return func(c echo.Context) (commands.ChartChange, error) {
		var r InErrorRequest
		entry := c.Param("entry")
		return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
			if err := ofKind(s, entry, kind); err != nil {
				return nil, err
			}
			return s.MarkInError(entry, r.Reason)
		}, bind(c, &r)
	}
}

func amend(kind domain.EntryKind) changeReader {
	return func(c echo.Context) (commands.ChartChange, error) {
		var r AmendmentRequest
		entry := c.Param("entry")
		return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
			if err := ofKind(s, entry, kind); err != nil {
				return nil, err
			}
			return s.AmendEntry(domain.AmendEntry{EntryID: entry, Reason: r.Reason, Changes: r.Changes}, now)
		}, bind(c, &r)
	}
}
