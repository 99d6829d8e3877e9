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

func (h handlers) studentRoutes() []Route {
	roster := Access{Capability: auth.ManageRoster}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/students", Summary: "Enrol a student", Access: roster,
			Request: EnrolRequest{}, Response: Written{}, Status: http.StatusCreated, Handler: h.enrol},
		{Method: http.MethodPost, Path: "/v1/students/:id/demographics",
			Summary: "Update demographics; 200 when nothing changes",
			Access:  roster, Request: DemographicsRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r DemographicsRequest
				return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
					return s.UpdateDemographics(domain.UpdateDemographics{
						GivenName: r.GivenName, FamilyName: r.FamilyName, BirthDate: domain.Date(r.BirthDate),
						Grade: domain.Grade(r.Grade), Gender: domain.Gender(r.Gender)}, now)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/transfer", Summary: "Transfer to another school",
			Access: roster, Request: TransferRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.transfer},
		{Method: http.MethodPost, Path: "/v1/students/:id/withdraw",
			Summary: "Withdraw a student; 200 when withdrawn already",
			Access:  roster, Request: WithdrawRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r WithdrawRequest
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.Withdraw(domain.Date(r.On), r.Reason)
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/contacts", Summary: "Add an emergency contact",
			Access: roster, Request: ContactRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				var r ContactRequest
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.AddContact(domain.AddContact{ContactID: r.ContactID, Name: r.Name,
						Relationship: r.Relationship, Phone: r.Phone, Priority: r.Priority, MayPickUp: r.MayPickUp})
				}, bind(c, &r)
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/contacts/:contact/removal",
			Summary: "Remove an emergency contact who no longer is one", Access: roster,
			Response: Written{}, Status: http.StatusCreated,
			Handler: h.roster(func(c echo.Context) (commands.ChartChange, error) {
				contact := c.Param("contact")
				return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
					return s.RemoveContact(contact)
				}, nil
			})},
		{Method: http.MethodPost, Path: "/v1/students/:id/contacts/:contact/entered-in-error",
			Summary: "Mark an emergency contact entered in error: it is removed, and stays in the history",
			Access:  roster, Request: InErrorRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.roster(markInErrorBy("contact", (*domain.Student).MarkContactInError))},
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
		return err
	}
	return written(c, id, res)
}

func (h handlers) transfer(c echo.Context) error {
	var r TransferRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	res, err := h.Clinic.Transfer(c.Request().Context(), principal(c), meta(c), c.Param("id"),
		r.ToSchoolID, domain.Date(r.On))
	if err != nil {
		return err
	}
	return written(c, c.Param("id"), res)
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
	return h.onChart(read, h.Clinic.Roster)
}

// clinical runs a clinical change read from the request.
func (h handlers) clinical(read changeReader) echo.HandlerFunc {
	return h.onChart(read, h.Clinic.Chart)
}

// onChart runs a change read from the request and answers it (written):
// 201 with the events recorded, 200 when nothing changed.
func (h handlers) onChart(read changeReader, run chartRunner) echo.HandlerFunc {
	return func(c echo.Context) error {
		change, err := read(c)
		if err != nil {
			return err
		}
		res, err := run(c.Request().Context(), principal(c), meta(c), c.Param("id"), change)
		if err != nil {
			return err
		}
		return written(c, c.Param("id"), res)
	}
}
