package readapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// OrderList is the answer of GET /v1/students/{id}/medication-orders.
type OrderList struct {
	Orders []projections.OrderRow `json:"orders"`
	Next   string                 `json:"next,omitempty"`
}

// AdministrationList is the answer of GET /v1/students/{id}/administrations.
type AdministrationList struct {
	Administrations []projections.DoseRow `json:"administrations"`
	Next            string                `json:"next,omitempty"`
}

// The paths of the medication queries, which their access events name.
const (
	dosesPath           = "/v1/schools/:id/doses"
	controlledStockPath = "/v1/schools/:id/controlled-stock"
	ordersPath          = "/v1/students/:id/medication-orders"
	administrationsPath = "/v1/students/:id/administrations"
)

// medicationReadRoutes returns the queries on the medications and
// controlled-stock read models.
func (h readModelHandlers) medicationReadRoutes() []Route {
	read := Access{Capability: auth.ReadClinical}
	return []Route{
		{Method: http.MethodGet, Path: dosesPath,
			Summary: "A school's doses of a day (date, default today): each scheduled dose with its " +
				"state (given, refused, held, missed, due, late), then the as-needed orders with " +
				"their doses",
			Access: read, Response: projections.DoseDay{}, PHI: true, Handler: h.dosesOfDay,
			Query: []QueryParam{queryAfter,
				{Name: "date", Format: "date", Description: "The day, in the school's zone; today when absent."},
				queryCursor, queryLimit(defaultPage, maxPage)}},
		{Method: http.MethodGet, Path: controlledStockPath,
			Summary: "A school's controlled-substance stock: what each drug should hold, its last " +
				"count, and the discrepancies (newest first)",
			Access: read, Response: projections.StockPage{}, Handler: h.controlledStock,
			Query: []QueryParam{queryAfter, queryCursor, queryLimit(defaultPage, maxPage)}},
		{Method: http.MethodGet, Path: ordersPath,
			Summary: "A student's medication orders, newest first",
			Access:  read, Response: OrderList{}, PHI: true, Handler: h.ordersOf,
			Query: []QueryParam{queryAfter, queryCursor, queryLimit(defaultPage, maxPage)}},
		{Method: http.MethodGet, Path: administrationsPath,
			Summary: "A student's doses given, refused, missed or held and attempts blocked, newest " +
				"first; filters: order, kind, from, to",
			Access: read, Response: AdministrationList{}, PHI: true, Handler: h.administrationsOf,
			Query: []QueryParam{queryAfter,
				queryID("order", "Only the records of this order."),
				{Name: "kind", Description: "Only records of this kind: given, blocked, refused, missed or held."},
				{Name: "from", Format: "date-time", Description: "Only records at or after this time."},
				{Name: "to", Format: "date-time", Description: "Only records before this time."},
				queryCursor, queryLimit(defaultPage, maxPage)}},
	}
}

// dosesOfDay lists a school's doses of a day. The access event names
// every student of the page.
func (h readModelHandlers) dosesOfDay(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	school := c.Param("id")
	purpose, err := h.schoolScope(c, school, "GET "+dosesPath)
	if err != nil {
		return err
	}
	q, err := h.doseDayQuery(c, school)
	if err != nil {
		return err
	}

	day, err := projections.DosesOfDay(c.Request().Context(), h.DB, q)
	if err != nil {
		return queryFailed(err)
	}
	if err := h.recordDosesAccess(c, purpose, studentsOfDay(day)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, day)
}

// doseDayQuery reads the query of GET /v1/schools/{id}/doses.
func (h readModelHandlers) doseDayQuery(c echo.Context, school string) (projections.DoseDayQuery, error) {
	var v ValidationError
	date := c.QueryParam("date")
	if _, err := time.Parse(time.DateOnly, date); date != "" && err != nil {
		v.Add("date", "must be a date as 2006-01-02")
	}
	limit := pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return projections.DoseDayQuery{}, err
	}
	return projections.DoseDayQuery{
		SchoolID: school, Date: date, Now: h.now(),
		StandardWindow:     h.Medication.StandardWindow,
		TimeCriticalWindow: h.Medication.TimeCriticalWindow,
		After:              c.QueryParam("cursor"), Limit: limit,
	}, nil
}

// studentsOfDay returns every student of a page of doses, each once.
func studentsOfDay(day projections.DoseDay) []string {
	var ids []string
	add := func(id string) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, s := range day.Scheduled {
		add(s.StudentID)
	}
	for _, a := range day.AsNeeded {
		add(a.StudentID)
	}
	return ids
}

// recordDosesAccess records a read of a school's doses, naming students,
// before the answer leaves; when it cannot, the answer is 503 and no
// health information leaves.
func (h readModelHandlers) recordDosesAccess(c echo.Context, purpose string, students []string) error {
	return h.recordRead(c, commands.Access{StudentIDs: students, What: "GET " + dosesPath,
		Purpose: purpose})
}

// controlledStock lists a school's controlled-substance stock. It names
// drugs, counts and the staff who counted, and no student (no order, no
// administration): it is not health information and records no access.
func (h readModelHandlers) controlledStock(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	school := c.Param("id")
	if _, err := schoolPurpose(c, school); err != nil {
		return err
	}
	var v ValidationError
	limit := pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return err
	}

	page, err := projections.StockOf(c.Request().Context(), h.DB, school, c.QueryParam("cursor"), limit)
	if err != nil {
		return queryFailed(err)
	}
	return c.JSON(http.StatusOK, page)
}

// ordersOf lists a student's medication orders.
func (h readModelHandlers) ordersOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	scope, err := h.studentScope(c, "GET "+ordersPath)
	if err != nil {
		return err
	}
	var v ValidationError
	limit := pageLimit(c, &v)
	if err := v.Err(); err != nil {
		return err
	}

	orders, next, err := projections.OrdersOf(c.Request().Context(), h.DB, scope.StudentID,
		c.QueryParam("cursor"), limit)
	if err != nil {
		return queryFailed(err)
	}
	if err := h.recordAccess(c, scope, "GET "+ordersPath); err != nil {
		return err
	}
	if orders == nil {
		orders = []projections.OrderRow{}
	}
	return c.JSON(http.StatusOK, OrderList{Orders: orders, Next: next})
}

// administrationsOf lists a student's administration records.
func (h readModelHandlers) administrationsOf(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	scope, err := h.studentScope(c, "GET "+administrationsPath)
	if err != nil {
		return err
	}
	f, err := doseFilter(c)
	if err != nil {
		return err
	}

	f.StudentID = scope.StudentID
	records, next, err := projections.AdministrationsOf(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}
	if err := h.recordAccess(c, scope, "GET "+administrationsPath); err != nil {
		return err
	}
	if records == nil {
		records = []projections.DoseRow{}
	}
	return c.JSON(http.StatusOK, AdministrationList{Administrations: records, Next: next})
}

// administrationKinds are the kinds the kind filter accepts.
var administrationKinds = []domain.AdministrationKind{
	domain.AdministrationGiven, domain.AdministrationBlocked, domain.AdministrationRefused,
	domain.AdministrationMissed, domain.AdministrationHeld,
}

// doseFilter reads the filters of GET /v1/students/{id}/administrations,
// naming each bad one.
func doseFilter(c echo.Context) (projections.DoseFilter, error) {
	var v ValidationError
	f := projections.DoseFilter{OrderID: c.QueryParam("order"),
		Kind: domain.AdministrationKind(c.QueryParam("kind")), After: c.QueryParam("cursor")}
	if f.OrderID != "" && !domain.ValidID(f.OrderID) {
		v.Add("order", "must be an order ID")
	}
	if f.Kind != "" && !slices.Contains(administrationKinds, f.Kind) {
		v.Add("kind", "must be given, blocked, refused, missed or held")
	}
	f.From = timeParam(c, "from", &v)
	f.To = timeParam(c, "to", &v)
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		v.Add("to", "must be after from")
	}
	f.Limit = pageLimit(c, &v)
	return f, v.Err()
}

// timeParam returns the time the query parameter name holds, zero when
// it is absent, or adds its refusal to v.
func timeParam(c echo.Context, name string, v *ValidationError) time.Time {
	s := c.QueryParam(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.Add(name, "must be a time as 2006-01-02T15:04:05Z07:00")
	}
	return t
}

// now returns the time of the queries' clock.
func (h readModelHandlers) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}
