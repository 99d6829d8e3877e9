package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// OrderRequest records a medication order: a prescriber's order with the
// parent's consent on file.
type OrderRequest struct {
	OrderID            string              `json:"order_id"`
	DrugName           string              `json:"drug_name"`
	RxNorm             string              `json:"rxnorm,omitempty"`
	NDC                string              `json:"ndc,omitempty"`
	Ingredients        []string            `json:"ingredients"`
	DrugClasses        []string            `json:"drug_classes,omitempty"`
	Strength           string              `json:"strength"`
	DoseAmount         string              `json:"dose_amount"`
	DoseUnit           string              `json:"dose_unit"`
	Route              string              `json:"route"`
	Schedule           domain.DoseSchedule `json:"schedule"`
	TimeCritical       bool                `json:"time_critical,omitempty"`
	StartOn            string              `json:"start_on"`
	EndOn              string              `json:"end_on"`
	Prescriber         domain.Prescriber   `json:"prescriber"`
	ConsentOn          string              `json:"consent_on"`
	ControlledSchedule string              `json:"controlled_schedule,omitempty"`
	WitnessRequired    bool                `json:"witness_required,omitempty"`
}

// DiscontinueRequest stops an order.
type DiscontinueRequest struct {
	Reason string `json:"reason"`
}

// WitnessCredentials are the second nurse's own credentials.
type WitnessCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

// AdministrationRequest is a dose given, checked against every
// medication rule before it is recorded.
type AdministrationRequest struct {
	AttemptID    string              `json:"attempt_id"`
	OrderID      string              `json:"order_id"`
	StudentID    string              `json:"student_id"`
	DrugName     string              `json:"drug_name"`
	DoseAmount   string              `json:"dose_amount"`
	DoseUnit     string              `json:"dose_unit"`
	Route        string              `json:"route"`
	GivenAt      time.Time           `json:"given_at"`
	ScheduledFor time.Time           `json:"scheduled_for,omitzero"`
	Witness      *WitnessCredentials `json:"witness,omitempty"`
	Override     *domain.Override    `json:"override,omitempty"`
	// RemainingCounted is the count-back after a controlled substance.
	RemainingCounted *int `json:"remaining_counted,omitempty"`
}

// DoseNotGivenRequest records a scheduled dose refused by the student,
// missed, or held for a clinical reason.
type DoseNotGivenRequest struct {
	AttemptID    string    `json:"attempt_id"`
	OrderID      string    `json:"order_id"`
	Outcome      string    `json:"outcome"` // refused, missed or held
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
	Reason       string    `json:"reason"`
	At           time.Time `json:"at,omitzero"`
}

func (h handlers) medicationRoutes() []Route {
	write := Access{Capability: auth.WriteClinical}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/students/:id/medication-orders", Summary: "Record a medication order",
			Access: write, Request: OrderRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(http.StatusCreated, newOrder)},
		{Method: http.MethodPost, Path: "/v1/students/:id/medication-orders/:order/discontinue",
			Summary: "Discontinue a medication order", Access: write, Request: DiscontinueRequest{},
			Response: Written{}, Handler: h.clinical(http.StatusOK, discontinue)},
		{Method: http.MethodPost, Path: "/v1/students/:id/administrations",
			Summary: "Give a dose: 201 when every medication rule holds; 422 naming each failed check, the blocked attempt recorded",
			Access:  write, Request: AdministrationRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.administer},
		{Method: http.MethodPost, Path: "/v1/students/:id/administrations/not-given",
			Summary: "Record a scheduled dose refused by the student, missed, or held for a clinical reason",
			Access:  write, Request: DoseNotGivenRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.doseNotGiven},
	}
}

func newOrder(c echo.Context) (commands.ChartChange, error) {
	var r OrderRequest
	by := principal(c).UserID
	return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
		return s.Medications.NewOrder(domain.OrderMedication{OrderID: r.OrderID, DrugName: r.DrugName,
			RxNorm: r.RxNorm, NDC: r.NDC, Ingredients: r.Ingredients, DrugClasses: r.DrugClasses,
			Strength: r.Strength, DoseAmount: r.DoseAmount, DoseUnit: r.DoseUnit, Route: r.Route,
			Schedule: r.Schedule, TimeCritical: r.TimeCritical, StartOn: r.StartOn, EndOn: r.EndOn,
			Prescriber: r.Prescriber, ConsentOn: r.ConsentOn, ControlledSchedule: r.ControlledSchedule,
			WitnessRequired: r.WitnessRequired, OrderedBy: by})
	}, bind(c, &r)
}

func discontinue(c echo.Context) (commands.ChartChange, error) {
	var r DiscontinueRequest
	order := c.Param("order")
	actor := principal(c).UserID
	return func(s *domain.Student, now time.Time) ([]domain.Event, error) {
		return s.Medications.Discontinue(domain.DiscontinueOrder{OrderID: order, Reason: r.Reason, By: actor}, now)
	}, bind(c, &r)
}

func (h handlers) administer(c echo.Context) error {
	var r AdministrationRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	in := commands.Administration{
		Command: domain.AdministerMedication{AttemptID: r.AttemptID, OrderID: r.OrderID, StudentID: r.StudentID,
			DrugName: r.DrugName, DoseAmount: r.DoseAmount, DoseUnit: r.DoseUnit, Route: r.Route,
			GivenAt: r.GivenAt, ScheduledFor: r.ScheduledFor, Override: r.Override},
		RemainingCounted: r.RemainingCounted,
	}
	if r.Witness != nil {
		in.Witness = &commands.Witness{Email: r.Witness.Email, Password: r.Witness.Password, TOTP: r.Witness.TOTP}
	}
	res, err := h.Clinic.Administer(c.Request().Context(), principal(c), meta(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: r.AttemptID, Position: res.Position})
}

func (h handlers) doseNotGiven(c echo.Context) error {
	var r DoseNotGivenRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	kinds := map[string]domain.AdministrationKind{
		"refused": domain.AdministrationRefused, "missed": domain.AdministrationMissed,
		"held": domain.AdministrationHeld,
	}
	// An unknown outcome is refused by the command, once the caller is
	// known to be allowed here.
	kind := kinds[r.Outcome]
	res, err := h.Clinic.DoseNotGiven(c.Request().Context(), principal(c), meta(c), c.Param("id"), kind,
		domain.DoseNotGiven{AttemptID: r.AttemptID, OrderID: r.OrderID, ScheduledFor: r.ScheduledFor,
			Reason: r.Reason, At: r.At})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: r.AttemptID, Position: res.Position})
}

// StockCountRequest is the body of POST /v1/schools/{id}/controlled-substances.
type StockCountRequest struct {
	// Kind is receipt or shift_count.
	Kind     string             `json:"kind"`
	DrugName string             `json:"drug_name"`
	OrderID  string             `json:"order_id,omitempty"`
	Quantity int                `json:"quantity"`
	Witness  WitnessCredentials `json:"witness"`
}

func (h handlers) controlledRoutes() []Route {
	return []Route{
		{Method: http.MethodPost, Path: "/v1/schools/:id/controlled-substances",
			Summary: "Record a controlled-substance receipt or shift count, with a witness",
			Access:  Access{Capability: auth.WriteClinical}, Request: StockCountRequest{}, Response: Written{},
			Status: http.StatusCreated, Handler: h.countStock},
	}
}

func (h handlers) countStock(c echo.Context) error {
	var r StockCountRequest
	if err := bind(c, &r); err != nil {
		return err
	}
	res, err := h.Clinic.CountStock(c.Request().Context(), principal(c), meta(c), c.Param("id"),
		commands.StockCount{Kind: r.Kind, DrugName: r.DrugName, OrderID: r.OrderID, Quantity: r.Quantity,
			Witness: commands.Witness{Email: r.Witness.Email, Password: r.Witness.Password, TOTP: r.Witness.TOTP}})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: c.Param("id"), Position: res.Position})
}
