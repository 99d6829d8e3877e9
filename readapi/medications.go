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
	// RemainingCounted is the count-back of a controlled substance: what
	// the stock holds after the dose, in its unit. Required when the order
	// is a controlled substance.
	RemainingCounted *int `json:"remaining_counted,omitempty"`
}

// DoseNotGivenRequest records a scheduled dose refused by the student,
// missed, or held for a clinical reason.
type DoseNotGivenRequest struct {
	AttemptID    string    `json:"attempt_id"`
	OrderID      string    `json:"order_id"`
	ScheduledFor time.Time `json:"scheduled_for,omitzero"`
	// Reason is why the student refused or the dose was missed; for a
	// hold, the clinical reason.
	Reason string    `json:"reason"`
	At     time.Time `json:"at,omitzero"`
}

func (h handlers) medicationRoutes() []Route {
	write := Access{Capability: auth.WriteClinical}
	orders := "/v1/students/:id/medication-orders"
	doses := "/v1/students/:id/administrations"
	return []Route{
		{Method: http.MethodPost, Path: orders, Summary: "Record a medication order",
			Access: write, Request: OrderRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(newOrder)},
		{Method: http.MethodPost, Path: orders + "/:order/discontinue",
			Summary: "Discontinue a medication order: it ends, the doses given stay valid; " +
				"200 when it was discontinued already",
			Access: write, Request: DiscontinueRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(discontinue)},
		{Method: http.MethodPost, Path: orders + "/:order/entered-in-error",
			Summary: "Mark a medication order entered in error: it never held, and takes no dose",
			Access:  write, Request: InErrorRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(markInErrorBy("order", (*domain.Student).MarkOrderInError))},
		{Method: http.MethodPost, Path: doses,
			Summary: "Give a dose: 201 when every medication rule holds; 422 naming each failed check, " +
				"the blocked attempt recorded",
			Access: write, Request: AdministrationRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.administer},
		{Method: http.MethodPost, Path: doses + "/refusals",
			Summary: "Record a dose the student refused", Access: write,
			Request: DoseNotGivenRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.doseNotGiven(domain.AdministrationRefused)},
		{Method: http.MethodPost, Path: doses + "/missed",
			Summary: "Record a scheduled dose that was missed, the student absent say", Access: write,
			Request: DoseNotGivenRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.doseNotGiven(domain.AdministrationMissed)},
		{Method: http.MethodPost, Path: doses + "/holds",
			Summary: "Record a dose held for a clinical reason", Access: write,
			Request: DoseNotGivenRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.doseNotGiven(domain.AdministrationHeld)},
		{Method: http.MethodPost, Path: doses + "/:attempt/entered-in-error",
			Summary: "Mark an administration record entered in error (a dose charted on the wrong student): " +
				"its scheduled dose is no longer accounted for",
			Access: write, Request: InErrorRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: h.clinical(markInErrorBy("attempt", (*domain.Student).MarkAdministrationInError))},
	}
}

// markInErrorBy reads a InErrorRequest for the record the path
// parameter param names, and marks it in error with mark.
func markInErrorBy(
	param string,
	mark func(s *domain.Student, id, reason string) ([]domain.Event, error),
) changeReader {
	return func(c echo.Context) (commands.ChartChange, error) {
		var r InErrorRequest
		id := c.Param(param)
		return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
			return mark(s, id, r.Reason)
		}, bind(c, &r)
	}
}

func newOrder(c echo.Context) (commands.ChartChange, error) {
	var r OrderRequest
	by := principal(c).UserID
	return func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
		return s.NewOrder(domain.OrderMedication{OrderID: r.OrderID, DrugName: r.DrugName,
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
		w := r.Witness.credentials()
		in.Witness = &w
	}
	res, err := h.Clinic.Administer(c.Request().Context(), principal(c), meta(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return written(c, r.AttemptID, res)
}

func (h handlers) doseNotGiven(kind domain.AdministrationKind) echo.HandlerFunc {
	return func(c echo.Context) error {
		var r DoseNotGivenRequest
		if err := bind(c, &r); err != nil {
			return err
		}
		res, err := h.Clinic.DoseNotGiven(c.Request().Context(), principal(c), meta(c), c.Param("id"), kind,
			domain.DoseNotGiven{AttemptID: r.AttemptID, OrderID: r.OrderID, ScheduledFor: r.ScheduledFor,
				Reason: r.Reason, At: r.At})
		if err != nil {
			return err
		}
		return written(c, r.AttemptID, res)
	}
}

func (w WitnessCredentials) credentials() commands.Witness {
	return commands.Witness{Email: w.Email, Password: w.Password, TOTP: w.TOTP}
}

// ReceiptRequest is the body of POST
// /v1/schools/{id}/controlled-substances/receipts: stock received,
// counted with a witness.
type ReceiptRequest struct {
	DrugName string             `json:"drug_name"`
	OrderID  string             `json:"order_id,omitempty"`
	Quantity int                `json:"quantity"`
	Unit     string             `json:"unit"` // tablet, capsule, patch, mL, …
	Witness  WitnessCredentials `json:"witness"`
}

// CountRequest is the body of POST
// /v1/schools/{id}/controlled-substances/counts: the count at a change of
// shift, with a witness.
type CountRequest struct {
	DrugName string             `json:"drug_name"`
	Counted  int                `json:"counted"`
	Witness  WitnessCredentials `json:"witness"`
}

// DiscrepancyRequest is the body of POST
// /v1/schools/{id}/controlled-substances/discrepancies: a discrepancy
// found outside a count, with what the stock holds now, why, and a
// witness.
type DiscrepancyRequest struct {
	DrugName string             `json:"drug_name"`
	Counted  int                `json:"counted"`
	Reason   string             `json:"reason"`
	Witness  WitnessCredentials `json:"witness"`
}

func (h handlers) controlledRoutes() []Route {
	write := Access{Capability: auth.WriteClinical}
	base := "/v1/schools/:id/controlled-substances"
	return []Route{
		{Method: http.MethodPost, Path: base + "/receipts",
			Summary: "Record controlled stock received, counted with a witness", Access: write,
			Request: ReceiptRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: onStock(func(c echo.Context, r ReceiptRequest) (commands.Result, error) {
				return h.Clinic.ReceiveStock(c.Request().Context(), principal(c), meta(c), c.Param("id"),
					commands.StockReceipt{DrugName: r.DrugName, OrderID: r.OrderID, Quantity: r.Quantity,
						Unit: r.Unit, Witness: r.Witness.credentials()})
			})},
		{Method: http.MethodPost, Path: base + "/counts",
			Summary: "Record a shift count with a witness; a count that differs records a discrepancy",
			Access:  write, Request: CountRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: onStock(func(c echo.Context, r CountRequest) (commands.Result, error) {
				return h.Clinic.CountStock(c.Request().Context(), principal(c), meta(c), c.Param("id"),
					commands.StockCount{DrugName: r.DrugName, Counted: r.Counted,
						Witness: r.Witness.credentials()})
			})},
		{Method: http.MethodPost, Path: base + "/discrepancies",
			Summary: "Report a discrepancy found outside a count, as an incident, with a witness",
			Access:  write, Request: DiscrepancyRequest{}, Response: Written{}, Status: http.StatusCreated,
			Handler: onStock(func(c echo.Context, r DiscrepancyRequest) (commands.Result, error) {
				return h.Clinic.ReportDiscrepancy(c.Request().Context(), principal(c), meta(c), c.Param("id"),
					commands.StockDiscrepancy{DrugName: r.DrugName, Counted: r.Counted, Reason: r.Reason,
						Witness: r.Witness.credentials()})
			})},
	}
}

// onStock binds a request of type R and runs a command on a school's
// controlled stock with it; the answer names the school.
func onStock[R any](run func(c echo.Context, r R) (commands.Result, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		var r R
		if err := bind(c, &r); err != nil {
			return err
		}
		res, err := run(c, r)
		if err != nil {
			return err
		}
		return written(c, c.Param("id"), res)
	}
}
