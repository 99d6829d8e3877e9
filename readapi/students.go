package readapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// EnrolRequest is the body of POST /v1/students.
type EnrolRequest struct {
	StudentNumber string `json:"student_number"`
	DistrictID    string `json:"district_id"`
	SchoolID      string `json:"school_id"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	BirthDate     string `json:"birth_date"`
	Grade         string `json:"grade"`
	Gender        string `json:"gender"`
	EnrolledOn    string `json:"enrolled_on"`
}

// DemographicsRequest changes the fields it sets.
type DemographicsRequest struct {
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	Grade      string `json:"grade,omitempty"`
	Gender     string `json:"gender,omitempty"`
}

// TransferRequest moves a student to another school.
type TransferRequest struct {
	ToSchoolID string `json:"to_school_id"`
	On         string `json:"on"`
}

// WithdrawRequest withdraws a student.
type WithdrawRequest struct {
	On     string `json:"on"`
	Reason string `json:"reason"`
}

// ContactRequest adds an emergency contact.
type ContactRequest struct {
	ContactID    string `json:"contact_id"`
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
	Phone        string `json:"phone"`
	Priority     int    `json:"priority"`
	MayPickUp    bool   `json:"may_pick_up"`
}

// ChartResponse is a student's chart as it stands.
//
// TODO: served from the log for now; the read models and the access event
// of every read come with the audited-reads work.
type ChartResponse struct {
	ID            string       `json:"id"`
	StudentNumber string       `json:"student_number"`
	SchoolID      string       `json:"school_id"`
	GivenName     string       `json:"given_name"`
	FamilyName    string       `json:"family_name"`
	BirthDate     string       `json:"birth_date"`
	Grade         string       `json:"grade"`
	Enrolled      bool         `json:"enrolled"`
	Entries       []ChartEntry `json:"entries"`
	Orders        []OrderView  `json:"medication_orders"`
	Doses         []DoseRecord `json:"administrations"`
	Alerts        []AlertView  `json:"active_alerts"`
	Revision      uint64       `json:"revision"`
}

// OrderView is a medication order on a chart.
type OrderView struct {
	ID                 string              `json:"id"`
	DrugName           string              `json:"drug_name"`
	Ingredients        []string            `json:"ingredients"`
	Strength           string              `json:"strength"`
	DoseAmount         string              `json:"dose_amount"`
	DoseUnit           string              `json:"dose_unit"`
	Route              string              `json:"route"`
	Schedule           domain.DoseSchedule `json:"schedule"`
	TimeCritical       bool                `json:"time_critical"`
	StartOn            string              `json:"start_on"`
	EndOn              string              `json:"end_on"`
	ControlledSchedule string              `json:"controlled_schedule,omitempty"`
	WitnessRequired    bool                `json:"witness_required"`
	Discontinued       bool                `json:"discontinued"`
}

// AlertView is an emergency alert still active.
type AlertView struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	Location       string    `json:"location"`
	RaisedAt       time.Time `json:"raised_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
}

// ChartEntry is one entry of a chart, corrections applied.
type ChartEntry struct {
	ID         string       `json:"id"`
	Kind       string       `json:"kind"`
	Values     domain.Event `json:"values"`
	Amendments int          `json:"amendments"`
	InError    bool         `json:"entered_in_error"`
}

// DoseRecord is one administration, refusal, miss, hold or blocked attempt.
type DoseRecord struct {
	Kind         string    `json:"kind"`
	AttemptID    string    `json:"attempt_id"`
	OrderID      string    `json:"order_id"`
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
	At           time.Time `json:"at"`
	NurseID      string    `json:"nurse_id"`
}

func (h handlers) studentRoutes() []Route {
	roster := Access{Capability: auth.ManageRoster}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/students", Summary: "Enrol a student", Access: roster,
			Request: EnrolRequest{}, Response: Written{}, Status: http.StatusCreated, Handler: h.enrol},
		{Method: http.MethodGet, Path: "/v1/students/:id", Summary: "A student's chart",
			Access: Access{Capability: auth.ReadClinical}, Response: ChartResponse{}, PHI: true, Handler: h.chart},
		{Method: http.MethodPost, Path: "/v1/students/:id/demographics", Summary: "Update demographics",
			Access: roster, Request: DemographicsRequest{}, Response: Written{},
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r DemographicsRequest
				return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
					return s.UpdateDemographics(domain.UpdateDemographics{
						GivenName: r.GivenName, FamilyName: r.FamilyName, BirthDate: domain.Date(r.BirthDate),
						Grade: domain.Grade(r.Grade), Gender: domain.Gender(r.Gender)}, now)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/transfer", Summary: "Transfer to another school",
			Access: roster, Request: TransferRequest{}, Response: Written{}, Handler: h.transfer},
		{Method: http.MethodPost, Path: "/v1/students/:id/withdraw", Summary: "Withdraw a student",
			Access: roster, Request: WithdrawRequest{}, Response: Written{},
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r WithdrawRequest
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.Withdraw(domain.Date(r.On), r.Reason)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/contacts", Summary: "Add an emergency contact",
			Access: roster, Request: ContactRequest{}, Response: Written{},
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r ContactRequest
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.AddContact(domain.AddContact{ContactID: r.ContactID, Name: r.Name,
						Relationship: r.Relationship, Phone: r.Phone, Priority: r.Priority, MayPickUp: r.MayPickUp})
				}, bind(c, &r)
			})},
		{Method: http.MethodDelete, Path: "/v1/students/:id/contacts/:contact", Summary: "Remove an emergency contact",
			Access: roster, Response: Written{},
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				contact := c.Param("contact")
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.RemoveContact(contact)
				}, nil
			})},
	}
}

func (h handlers) enrol(c echo.Context) error {
	var r EnrolRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	id, res, err := h.Clinic.Enrol(c.Request().Context(), principal(c), meta(c), domain.EnrollStudent{
		StudentNumber: r.StudentNumber, DistrictID: r.DistrictID, SchoolID: r.SchoolID,
		GivenName: r.GivenName, FamilyName: r.FamilyName, BirthDate: domain.Date(r.BirthDate),
		Grade: domain.Grade(r.Grade), Gender: domain.Gender(r.Gender), EnrolledOn: domain.Date(r.EnrolledOn),
	})
	if err != nil {
		return fromCommand(err)
	}
	return c.JSON(http.StatusCreated, Written{ID: id, Position: res.Position})
}

func (h handlers) transfer(c echo.Context) error {
	var r TransferRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	res, err := h.Clinic.Transfer(c.Request().Context(), principal(c), meta(c), c.Param("id"),
		r.ToSchoolID, domain.Date(r.On))
	if err != nil {
		return fromCommand(err)
	}
	return c.JSON(http.StatusOK, Written{ID: c.Param("id"), Position: res.Position})
}

// chartRoute names the chart read in access events.
const chartRoute = "GET /v1/students/:id"

func (h handlers) chart(c echo.Context) error {
	ctx, actor := c.Request().Context(), principal(c)
	s, err := h.Clinic.Student(ctx, actor, c.Param("id"))
	if domain.ErrorCode(err) == domain.CodeForbidden {
		h.refused(c, c.Param("id"), chartRoute, "scope")
	}
	if err != nil {
		return fromCommand(err)
	}
	out := ChartResponse{ID: s.ID, StudentNumber: s.StudentNumber, SchoolID: s.SchoolID,
		GivenName: s.GivenName, FamilyName: s.FamilyName, BirthDate: string(s.BirthDate),
		Grade: string(s.Grade), Enrolled: s.Enrolled(), Revision: s.Revision}
	for _, o := range s.Medications.Orders() {
		out.Orders = append(out.Orders, OrderView{ID: o.ID, DrugName: o.DrugName, Ingredients: o.Ingredients,
			Strength: o.Strength, DoseAmount: o.DoseAmount, DoseUnit: o.DoseUnit, Route: o.Route,
			Schedule: o.Schedule, TimeCritical: o.TimeCritical, StartOn: o.StartOn, EndOn: o.EndOn,
			ControlledSchedule: o.ControlledSchedule, WitnessRequired: o.WitnessRequired,
			Discontinued: o.Discontinued()})
	}
	for _, a := range s.ActiveAlerts() {
		out.Alerts = append(out.Alerts, AlertView{ID: a.ID, Kind: string(a.Kind), Location: a.Location,
			RaisedAt: a.RaisedAt, AcknowledgedAt: a.AcknowledgedAt})
	}
	for _, e := range s.Entries() {
		out.Entries = append(out.Entries, ChartEntry{ID: e.ID, Kind: string(e.Kind), Values: e.Current,
			Amendments: e.Amendments, InError: e.InError})
	}
	for _, a := range s.Medications.Administrations() {
		out.Doses = append(out.Doses, DoseRecord{Kind: string(a.Kind), AttemptID: a.AttemptID,
			OrderID: a.OrderID, ScheduledFor: a.ScheduledFor, At: a.At, NurseID: a.NurseID})
	}
	purpose := domain.PurposeTreatment
	if !actor.AtSchool(s.SchoolID) {
		purpose = domain.PurposeInvestigation
	}
	if err := h.accessed(c, []string{s.ID}, chartRoute, purpose); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// accessed records a read of health information before its answer
// leaves; when it cannot, the answer is 503 and no health information
// leaves (fail closed).
func (h handlers) accessed(c echo.Context, students []string, what, purpose string) error {
	_, err := h.Auditor.Accessed(c.Request().Context(), meta(c), commands.Access{
		Actor: principal(c), StudentIDs: students, What: what, Purpose: purpose,
	})
	if err != nil {
		return Unavailable("the access cannot be recorded, so no health information is sent")
	}
	return nil
}

// refused records a refused read; the refusal is answered whether or not
// it could be recorded.
func (h handlers) refused(c echo.Context, student, what, reason string) {
	// The refusal stands either way; a failure to record it shows in the
	// metrics of failed appends.
	_ = h.Auditor.Refused(c.Request().Context(), meta(c), principal(c), student, what, reason)
}

// changeReader reads a request into a change of a chart.
type changeReader func(c echo.Context) (commands.ChartChange, error)

// chartRunner is Clinic.Chart or Clinic.Roster.
type chartRunner func(
	ctx context.Context,
	actor auth.Principal,
	meta commands.Meta,
	studentID string,
	change commands.ChartChange,
) (commands.Result, error)

// roster runs a roster change read from the request.
func (h handlers) roster(read changeReader) echo.HandlerFunc {
	return h.onChart(http.StatusOK, read, h.Clinic.Roster)
}

// clinical runs a clinical change read from the request and answers
// status.
func (h handlers) clinical(status int, read changeReader) echo.HandlerFunc {
	return h.onChart(status, read, h.Clinic.Chart)
}

func (h handlers) onChart(status int, read changeReader, run chartRunner) echo.HandlerFunc {
	return func(c echo.Context) error {
		change, err := read(c)
		if err != nil {
			return err
		}
		res, err := run(c.Request().Context(), principal(c), meta(c), c.Param("id"), change)
		if err != nil {
			return fromCommand(err)
		}
		return c.JSON(status, Written{ID: c.Param("id"), Position: res.Position})
	}
}
