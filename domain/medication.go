package domain

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // orders' time zones load where the system has no zone files
)

// MedicationOrdered records a prescriber's order for one medication, with
// the parent's consent, on a student's chart. Nurses give doses against
// it (AdministerMedication) until it ends or is discontinued.
type MedicationOrdered struct {
	OrderID  string `json:"order_id"`
	DrugName string `json:"drug_name"` // as it is labelled
	RxNorm   string `json:"rxnorm,omitempty"`
	NDC      string `json:"ndc,omitempty"`
	// Ingredients are the active ingredients, in lower case; allergies
	// are checked against them and against their classes.
	Ingredients []string `json:"ingredients"`
	// DrugClasses are the classes the order names; the classes the drug
	// class table gives the ingredients are checked as well.
	DrugClasses []string     `json:"drug_classes,omitempty"`
	Strength    string       `json:"strength"`    // "250 mg/5 mL"
	DoseAmount  string       `json:"dose_amount"` // a decimal, "2.5"
	DoseUnit    string       `json:"dose_unit"`   // one of DoseUnits
	Route       string       `json:"route"`       // one of Routes
	Schedule    DoseSchedule `json:"schedule"`
	// TimeCritical narrows the window around each scheduled dose
	// (MedicationPolicy).
	TimeCritical bool       `json:"time_critical"`
	StartOn      string     `json:"start_on"` // a date, 2006-01-02
	EndOn        string     `json:"end_on"`   // the last day, included
	Prescriber   Prescriber `json:"prescriber"`
	ConsentOn    string     `json:"consent_on"` // the date of the parent's consent
	// ControlledSchedule is the DEA schedule, II to V, or empty for a
	// medication that is not a controlled substance.
	ControlledSchedule string `json:"controlled_schedule"`
	// WitnessRequired makes each administration need a second nurse. It
	// is always true for schedules II and III.
	WitnessRequired bool   `json:"witness_required"`
	OrderedBy       string `json:"ordered_by"` // who entered the order
}

// DoseSchedule says when an order's doses are given: at fixed times of
// the day, or as needed (PRN) with a minimum interval and a maximum per
// 24 hours.
type DoseSchedule struct {
	Kind ScheduleKind `json:"kind"`
	// Times are the fixed times, "08:00", in the school's local time;
	// empty for as needed.
	Times []string `json:"times,omitempty"`
	// TimeZone is the IANA name of the school's zone, "America/Chicago",
	// in which the times and the order's dates are read.
	TimeZone string `json:"time_zone"`
	// MinIntervalMinutes, MaxPerDay and Indication are for as needed
	// only.
	MinIntervalMinutes int    `json:"min_interval_minutes,omitempty"`
	MaxPerDay          int    `json:"max_per_day,omitempty"`
	Indication         string `json:"indication,omitempty"`
}

// ScheduleKind says how an order's doses are timed.
type ScheduleKind string

// The kinds of schedule.
const (
	ScheduleFixed ScheduleKind = "fixed"
	SchedulePRN   ScheduleKind = "prn" // as needed
)

// Prescriber is who wrote the order.
type Prescriber struct {
	Name string `json:"name"`
	NPI  string `json:"npi,omitempty"` // National Provider Identifier
}

// OrderDiscontinued ends an order before its end date. Doses given before
// At stay valid.
type OrderDiscontinued struct {
	OrderID string    `json:"order_id"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
}

// OrderMarkedInError withdraws an order that should never have been
// entered (on the wrong student's chart, or not the prescriber's order).
// Unlike a discontinuation, which ends a valid order, it says the order
// never held: no dose is given against it from then on. Original is the
// event that recorded the order.
type OrderMarkedInError struct {
	OrderID  string   `json:"order_id"`
	Reason   string   `json:"reason"`
	Original EventRef `json:"original"`
}

// EventType returns "MedicationOrdered".
func (MedicationOrdered) EventType() string { return "MedicationOrdered" }

// EventType returns "OrderDiscontinued".
func (OrderDiscontinued) EventType() string { return "OrderDiscontinued" }

// EventType returns "OrderMarkedInError".
func (OrderMarkedInError) EventType() string { return "OrderMarkedInError" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		MedicationOrdered{}.EventType():  decodeAs[MedicationOrdered],
		OrderDiscontinued{}.EventType():  decodeAs[OrderDiscontinued],
		OrderMarkedInError{}.EventType(): decodeAs[OrderMarkedInError],
	})
}

// DoseUnits are the units a dose may be given in.
var DoseUnits = []string{
	"mg", "mL", "tablet", "capsule", "puff", "unit", "drop", "patch", "spray",
}

// Routes are the routes a medication may be given by.
var Routes = []string{
	"oral", "sublingual", "inhaled", "nasal", "topical", "ophthalmic", "otic",
	"intramuscular", "subcutaneous", "rectal", "transdermal",
}

// ControlledSchedules are the DEA schedules an order may name; schedules
// II and III need a witness for every dose.
var ControlledSchedules = []string{"II", "III", "IV", "V"}

// Medications is the medication part of a student's chart: orders and
// every administration, refusal, miss, hold and blocked attempt. The
// Student aggregate holds one and hands it every event; the zero value
// is a chart without medications.
type Medications struct {
	orders  []*Order
	records []Administration
	// attempts holds every attempt id recorded, blocked ones included.
	attempts map[string]bool
	// accounted holds, for each scheduled dose given, refused, missed or
	// held, what became of it.
	accounted map[doseSlot]AdministrationKind
}

// doseSlot names one scheduled dose of an order.
type doseSlot struct {
	orderID string
	at      int64 // the scheduled time, Unix seconds
}

func slotOf(orderID string, scheduledFor time.Time) doseSlot {
	return doseSlot{orderID: orderID, at: scheduledFor.Unix()}
}

// Order is one medication order as the chart holds it: what was ordered,
// and whether it was discontinued.
type Order struct {
	ID                 string
	DrugName           string
	RxNorm             string
	NDC                string
	Ingredients        []string
	DrugClasses        []string // as ordered; see Classes
	Strength           string
	DoseAmount         string
	DoseUnit           string
	Route              string
	Schedule           DoseSchedule
	TimeCritical       bool
	StartOn            string
	EndOn              string
	Prescriber         Prescriber
	ConsentOn          string
	ControlledSchedule string
	WitnessRequired    bool
	OrderedBy          string
	// DiscontinuedAt is zero while the order was not discontinued.
	DiscontinuedAt     time.Time
	DiscontinuedBy     string
	DiscontinuedReason string
	// Revision is the revision of the event that recorded the order.
	Revision uint64
	// InError says the order was entered in error, for ErrorReason.
	InError     bool
	ErrorReason string

	// zone is the schedule's time zone, loaded once; nil when it does not
	// load.
	zone *time.Location
}

// Discontinued reports whether o was discontinued, at any time.
func (o *Order) Discontinued() bool { return !o.DiscontinuedAt.IsZero() }

// Classes returns the drug classes allergies are checked against: those
// the order names, each read as the table's class when it is one of its
// names or aliases, and those the drug class table gives the
// ingredients. The table is a floor: naming classes does not drop the
// table's.
func (o *Order) Classes() []string {
	var out []string
	for _, c := range o.DrugClasses {
		out = union(out, canonicalClasses(c))
	}
	for _, in := range o.Ingredients {
		out = union(out, ClassesOf(in))
	}
	return out
}

// location returns the order's time zone, and false when it does not load
// (then UTC, so that dates still compare).
func (o *Order) location() (*time.Location, bool) {
	if o.zone == nil {
		return time.UTC, false
	}
	return o.zone, true
}

// clone returns a copy of o that shares no slice with it.
func (o *Order) clone() *Order {
	c := *o
	c.Ingredients = slices.Clone(o.Ingredients)
	c.DrugClasses = slices.Clone(o.DrugClasses)
	c.Schedule.Times = slices.Clone(o.Schedule.Times)
	return &c
}

// Order returns a copy of order id, or false when the chart has none.
func (m *Medications) Order(id string) (*Order, bool) {
	o := m.order(id)
	if o == nil {
		return nil, false
	}
	return o.clone(), true
}

// Orders returns copies of every order, in the order they were made.
func (m *Medications) Orders() []Order {
	out := make([]Order, len(m.orders))
	for i, o := range m.orders {
		out[i] = *o.clone()
	}
	return out
}

func (m *Medications) order(id string) *Order {
	for _, o := range m.orders {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// Apply applies e when it is a medication event and reports whether it
// was one: (false, nil) for any other event. It returns
// ErrUnexpectedEvent for an order id used twice, and for a discontinuation,
// a correction or a dose of an order the chart does not hold; a blocked
// attempt may name any order. Orders and records applied this way have
// revision 0: the Student that holds m gives each its revision.
func (m *Medications) Apply(e Event) (bool, error) { return m.applyAt(e, 0) }

// applyAt is Apply of the event at revision of the student's stream.
func (m *Medications) applyAt(e Event, revision uint64) (bool, error) {
	var err error
	switch e := e.(type) {
	case MedicationOrdered:
		err = m.addOrder(e, revision)
	case OrderDiscontinued:
		err = m.discontinue(e)
	case OrderMarkedInError:
		err = m.orderInError(e)
	case MedicationAdministered:
		err = m.record(e, givenRecord(e), revision)
	case MedicationAdministrationBlocked:
		err = m.record(e, blockedRecord(e), revision)
	case MedicationRefused:
		err = m.record(e, refusedRecord(e), revision)
	case MedicationMissed:
		err = m.record(e, missedRecord(e), revision)
	case MedicationHeld:
		err = m.record(e, heldRecord(e), revision)
	case AdministrationMarkedInError:
		err = m.recordInError(e)
	default:
		return false, nil
	}
	return true, err
}

func (m *Medications) addOrder(e MedicationOrdered, revision uint64) error {
	if m.order(e.OrderID) != nil {
		return unexpected("medications", e, "repeats an order id")
	}

	o := &Order{
		ID: e.OrderID, DrugName: e.DrugName, RxNorm: e.RxNorm, NDC: e.NDC,
		Ingredients: e.Ingredients, DrugClasses: e.DrugClasses,
		Strength: e.Strength, DoseAmount: e.DoseAmount, DoseUnit: e.DoseUnit,
		Route: e.Route, Schedule: e.Schedule, TimeCritical: e.TimeCritical,
		StartOn: e.StartOn, EndOn: e.EndOn, Prescriber: e.Prescriber,
		ConsentOn: e.ConsentOn, ControlledSchedule: e.ControlledSchedule,
		WitnessRequired: e.WitnessRequired, OrderedBy: e.OrderedBy,
		Revision: revision,
	}
	// A zone that no longer loads leaves zone nil: doses of the order are
	// then refused, rather than the chart failing to load.
	o.zone, _ = loadZone(e.Schedule.TimeZone)
	m.orders = append(m.orders, o.clone())
	return nil
}

func (m *Medications) discontinue(e OrderDiscontinued) error {
	o := m.order(e.OrderID)
	if o == nil {
		return unexpected("medications", e, "names an unknown order")
	}
	o.DiscontinuedAt = e.At
	o.DiscontinuedBy = e.By
	o.DiscontinuedReason = e.Reason
	return nil
}

func (m *Medications) orderInError(e OrderMarkedInError) error {
	o := m.order(e.OrderID)
	if o == nil {
		return unexpected("medications", e, "names an unknown order")
	}
	o.InError = true
	o.ErrorReason = e.Reason
	return nil
}

// OrderMedication is the command that puts a medication order on a
// student's chart. NewOrder trims and normalises its text.
type OrderMedication struct {
	OrderID            string
	DrugName           string
	RxNorm             string // optional
	NDC                string // optional
	Ingredients        []string
	DrugClasses        []string // optional
	Strength           string
	DoseAmount         string
	DoseUnit           string
	Route              string
	Schedule           DoseSchedule
	TimeCritical       bool
	StartOn            string
	EndOn              string
	Prescriber         Prescriber
	ConsentOn          string
	ControlledSchedule string
	WitnessRequired    bool
	OrderedBy          string
}

// The bounds of an order's free text.
var (
	drugNameRule   = textRule{min: 1, max: 200}
	strengthRule   = textRule{min: 1, max: 100}
	ingredientRule = textRule{min: 1, max: 100}
	indicationRule = textRule{min: 1, max: 200}
	doseReasonRule = textRule{min: 1, max: 500, multiline: true}
)

// NewOrder returns the MedicationOrdered that cmd describes, or the
// refusal of each invalid field (Errors, CodeInvalid):
//   - order_id and ordered_by: IDs;
//   - drug_name: 1 to 200 characters; strength: 1 to 100;
//   - rxnorm: digits when set; ndc: 10 or 11 digits when set, with
//     dashes in the 4-4-2, 5-3-2, 5-4-1 or 5-4-2 shape if any;
//   - ingredients: at least one, each 1 to 100 characters, none repeated
//     (case does not count; they are stored in lower case); drug_classes
//     likewise but optional;
//   - dose_amount: a decimal above zero; dose_unit one of DoseUnits;
//     route one of Routes (case does not count);
//   - schedule: kind fixed or prn; time_zone an IANA zone; for fixed,
//     times as "HH:MM", at least one, none repeated, and no PRN field;
//     for prn, no times, min_interval_minutes 15 to 1440, max_per_day 1
//     to 96, an indication of 1 to 200 characters;
//   - start_on, end_on, consent_on: dates as 2006-01-02, end_on not
//     before start_on;
//   - prescriber.name: 1 to 200 characters; prescriber.npi: 10 digits
//     with a valid check digit, when set;
//   - controlled_schedule: empty or one of ControlledSchedules; schedules
//     II and III get witness_required whatever the command says.
//
// An order id the chart already holds is refused with CodeConflict.
// Student.NewOrder refuses a withdrawn student's order too.
func (m *Medications) NewOrder(cmd OrderMedication) ([]Event, error) {
	e, errs := checkOrder(cmd)
	if errs != nil {
		return nil, errs
	}
	return m.newOrder(e)
}

func (m *Medications) newOrder(e MedicationOrdered) ([]Event, error) {
	if m.order(e.OrderID) != nil {
		return nil, &Error{
			Code: CodeConflict, Field: "order_id", Message: "the chart already holds this order",
		}
	}
	return []Event{e}, nil
}

// NewOrder is Medications.NewOrder on s's chart, which also refuses, once
// every field is valid, a withdrawn student (CodeRule, "enrolled").
func (s *Student) NewOrder(cmd OrderMedication) ([]Event, error) {
	e, errs := checkOrder(cmd)
	if errs != nil {
		return nil, errs
	}
	if err := s.checkEnrolled(); err != nil {
		return nil, err
	}
	return s.Medications.newOrder(e)
}

// checkOrder returns the event cmd describes, normalised, and the refusal
// of each invalid field.
func checkOrder(cmd OrderMedication) (MedicationOrdered, Errors) {
	var errs Errors
	e := MedicationOrdered{
		OrderID:            cmd.OrderID,
		RxNorm:             strings.TrimSpace(cmd.RxNorm),
		NDC:                strings.TrimSpace(cmd.NDC),
		TimeCritical:       cmd.TimeCritical,
		StartOn:            cmd.StartOn,
		EndOn:              cmd.EndOn,
		ConsentOn:          cmd.ConsentOn,
		ControlledSchedule: cmd.ControlledSchedule,
		WitnessRequired:    cmd.WitnessRequired,
		OrderedBy:          cmd.OrderedBy,
	}

	errs.add(checkID("order_id", e.OrderID, true))
	e.DrugName = checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkRxNorm(e.RxNorm))
	errs.add(checkNDC(e.NDC))
	e.Ingredients = checkTerms(&errs, "ingredients", cmd.Ingredients, true)
	e.DrugClasses = checkTerms(&errs, "drug_classes", cmd.DrugClasses, false)
	e.Strength = checkedText(&errs, "strength", cmd.Strength, strengthRule)
	e.DoseAmount = checkedDose(&errs, "dose_amount", cmd.DoseAmount)
	e.DoseUnit = checkedChoice(&errs, "dose_unit", cmd.DoseUnit, DoseUnits)
	e.Route = checkedChoice(&errs, "route", cmd.Route, Routes)
	e.Schedule = checkSchedule(&errs, cmd.Schedule)
	checkOrderDates(&errs, e)
	e.Prescriber = checkPrescriber(&errs, cmd.Prescriber)
	errs.add(checkControlled(e.ControlledSchedule))
	errs.add(checkID("ordered_by", e.OrderedBy, true))

	if e.ControlledSchedule == "II" || e.ControlledSchedule == "III" {
		e.WitnessRequired = true
	}
	return e, errs
}

// checkedText returns s trimmed, or adds its refusal to errs.
func checkedText(errs *Errors, field, s string, rule textRule) string {
	s, err := checkText(field, s, rule)
	errs.add(err)
	return s
}

// checkTerms returns terms trimmed, in lower case, with inner white space
// collapsed, or adds the refusal of each bad one to errs: an empty list
// when required, a term of the wrong length, a repeated term.
func checkTerms(errs *Errors, field string, terms []string, required bool) []string {
	if len(terms) == 0 {
		if required {
			errs.add(invalid(field, "must name at least one"))
		}
		return nil
	}

	out := make([]string, len(terms))
	for i, t := range terms {
		elem := field + "[" + strconv.Itoa(i) + "]"
		t = strings.ToLower(strings.Join(strings.Fields(t), " "))
		t, err := checkText(elem, t, ingredientRule)
		switch {
		case err != nil:
			errs.add(err)
		case slices.Contains(out[:i], t):
			errs.add(invalid(elem, "repeats an earlier element"))
		}
		out[i] = t
	}
	return out
}

// checkedDose returns amount as a canonical decimal, or adds its refusal
// to errs.
func checkedDose(errs *Errors, field, amount string) string {
	d, ok := canonicalDecimal(amount)
	if !ok || d == "0" {
		errs.add(invalid(field, "must be a decimal number above zero, such as 2.5"))
	}
	return d
}

// checkedChoice returns s spelt as in choices, whatever its case, or adds
// its refusal to errs.
func checkedChoice(errs *Errors, field, s string, choices []string) string {
	s = strings.TrimSpace(s)
	for _, c := range choices {
		if strings.EqualFold(s, c) {
			return c
		}
	}
	errs.add(invalid(field, "must be one of "+strings.Join(choices, ", ")))
	return s
}

// canonicalDecimal returns s, a decimal of up to 6 digits before the
// point and 4 after, without leading zeros or trailing fractional zeros
// ("02.50" is "2.5", ".5" is "0.5"), or false when s is no such decimal.
// Equal amounts have equal canonical forms.
func canonicalDecimal(s string) (string, bool) {
	s = strings.TrimSpace(s)
	whole, frac, hasPoint := strings.Cut(s, ".")
	if !allDigits(whole) || !allDigits(frac) || whole == "" && frac == "" {
		return "", false
	}
	if hasPoint && frac == "" {
		return "", false
	}

	whole = strings.TrimLeft(whole, "0")
	frac = strings.TrimRight(frac, "0")
	if len(whole) > 6 || len(frac) > 4 {
		return "", false
	}
	if whole == "" {
		whole = "0"
	}
	if frac == "" {
		return whole, true
	}
	return whole + "." + frac, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkRxNorm refuses an RxNorm concept id that is not 1 to 10 digits.
func checkRxNorm(id string) *Error {
	if id != "" && (len(id) > 10 || !allDigits(id)) {
		return invalid("rxnorm", "must be an RxNorm concept id of 1 to 10 digits")
	}
	return nil
}

// ndcShapes are the dashed shapes of a National Drug Code.
var ndcShapes = [][3]int{{4, 4, 2}, {5, 3, 2}, {5, 4, 1}, {5, 4, 2}}

// checkNDC refuses an NDC that is not 10 or 11 digits, or whose dashes
// are not in one of ndcShapes.
func checkNDC(ndc string) *Error {
	if ndc == "" {
		return nil
	}

	digits := strings.ReplaceAll(ndc, "-", "")
	ok := allDigits(digits) && (len(digits) == 10 || len(digits) == 11)
	if ok && digits != ndc {
		parts := strings.Split(ndc, "-")
		ok = len(parts) == 3 &&
			slices.Contains(ndcShapes, [3]int{len(parts[0]), len(parts[1]), len(parts[2])})
	}
	if !ok {
		return invalid("ndc", "must be 10 or 11 digits, dashed 4-4-2, 5-3-2, 5-4-1 or 5-4-2")
	}
	return nil
}

// checkSchedule returns s with its text trimmed, or adds the refusal of
// each bad field to errs.
func checkSchedule(errs *Errors, s DoseSchedule) DoseSchedule {
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	if _, err := loadZone(s.TimeZone); err != nil {
		errs.add(invalid("schedule.time_zone",
			"must be an IANA time zone, such as America/Chicago"))
	}

	switch s.Kind {
	case ScheduleFixed:
		s.Times = orNil(s.Times)
		checkFixedSchedule(errs, s)
	case SchedulePRN:
		s.Indication = checkedText(errs, "schedule.indication", s.Indication, indicationRule)
		checkPRNSchedule(errs, s)
	default:
		errs.add(invalid("schedule.kind", "must be fixed or prn"))
	}
	return s
}

func checkFixedSchedule(errs *Errors, s DoseSchedule) {
	if len(s.Times) == 0 {
		errs.add(invalid("schedule.times", "must name at least one time"))
	}
	for i, t := range s.Times {
		elem := "schedule.times[" + strconv.Itoa(i) + "]"
		if _, _, ok := clockTime(t); !ok {
			errs.add(invalid(elem, "must be a time of day as HH:MM, 00:00 to 23:59"))
		} else if slices.Contains(s.Times[:i], t) {
			errs.add(invalid(elem, "repeats an earlier element"))
		}
	}

	const prnOnly = "must be empty for a fixed schedule"
	if s.MinIntervalMinutes != 0 {
		errs.add(invalid("schedule.min_interval_minutes", prnOnly))
	}
	if s.MaxPerDay != 0 {
		errs.add(invalid("schedule.max_per_day", prnOnly))
	}
	if strings.TrimSpace(s.Indication) != "" {
		errs.add(invalid("schedule.indication", prnOnly))
	}
}

func checkPRNSchedule(errs *Errors, s DoseSchedule) {
	if len(s.Times) > 0 {
		errs.add(invalid("schedule.times", "must be empty for an as-needed schedule"))
	}
	if s.MinIntervalMinutes < 15 || s.MinIntervalMinutes > 24*60 {
		errs.add(invalid("schedule.min_interval_minutes", "must be 15 to 1440"))
	}
	if s.MaxPerDay < 1 || s.MaxPerDay > 96 {
		errs.add(invalid("schedule.max_per_day", "must be 1 to 96"))
	}
}

// clockTime reads a time of day written HH:MM.
func clockTime(s string) (hour, minute int, ok bool) {
	if len(s) != 5 || s[2] != ':' || !allDigits(s[:2]) || !allDigits(s[3:]) {
		return 0, 0, false
	}
	hour, _ = strconv.Atoi(s[:2])
	minute, _ = strconv.Atoi(s[3:])
	return hour, minute, hour < 24 && minute < 60
}

// loadZone loads an IANA time zone; it refuses "" and "Local", which
// would make the rules depend on the server's setting.
//
// NOTE: time.LoadLocation reads the system's zone files when it has them,
// and the copy time/tzdata embeds otherwise; it is the one read this
// package makes outside its own embedded data.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, errNoZone
	}
	return time.LoadLocation(name)
}

var errNoZone = errors.New("no time zone")

// checkOrderDates adds to errs the refusal of each of e's dates that is
// not a date, and of an end before the start.
func checkOrderDates(errs *Errors, e MedicationOrdered) {
	const msg = "must be a date as 2006-01-02"
	start, startOK := civilDate(e.StartOn)
	end, endOK := civilDate(e.EndOn)
	if !startOK {
		errs.add(invalid("start_on", msg))
	}
	if !endOK {
		errs.add(invalid("end_on", msg))
	}
	if startOK && endOK && end.Before(start) {
		errs.add(invalid("end_on", "must not be before start_on"))
	}
	if _, ok := civilDate(e.ConsentOn); !ok {
		errs.add(invalid("consent_on", msg))
	}
}

// civilDate reads a date written 2006-01-02.
func civilDate(s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, s)
	return d, err == nil
}

func checkPrescriber(errs *Errors, p Prescriber) Prescriber {
	p.Name = checkedText(errs, "prescriber.name", p.Name, nameRule)
	p.NPI = strings.TrimSpace(p.NPI)
	if p.NPI != "" && !validNPI(p.NPI) {
		errs.add(invalid("prescriber.npi", "must be 10 digits with a valid check digit"))
	}
	return p
}

// validNPI reports whether npi is a National Provider Identifier: 10
// digits whose last is the Luhn check digit of the others prefixed with
// 80840, as CMS defines it.
func validNPI(npi string) bool {
	if len(npi) != 10 || !allDigits(npi) {
		return false
	}

	digits := "80840" + npi
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func checkControlled(schedule string) *Error {
	if schedule != "" && !slices.Contains(ControlledSchedules, schedule) {
		return invalid("controlled_schedule", "must be empty, II, III, IV or V")
	}
	return nil
}

// DiscontinueOrder is the command that ends an order early.
type DiscontinueOrder struct {
	OrderID string
	Reason  string // 1 to 500 characters; trimmed
	By      string
}

// Discontinue ends order cmd.OrderID at now: an OrderDiscontinued, or no
// event when it was already discontinued. It refuses, naming each, a
// malformed order_id or by and a reason that is not 1 to 500 characters
// (CodeInvalid), an order the chart does not hold (CodeNotFound) and one
// marked in error (CodeConflict).
func (m *Medications) Discontinue(cmd DiscontinueOrder, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("order_id", cmd.OrderID, true))
	reason := checkedText(&errs, "reason", cmd.Reason, doseReasonRule)
	errs.add(checkID("by", cmd.By, true))
	if errs != nil {
		return nil, errs
	}

	o, err := m.correctableOrder(cmd.OrderID)
	switch {
	case err != nil:
		return nil, err
	case o.Discontinued():
		return nil, nil
	}
	return []Event{OrderDiscontinued{
		OrderID: cmd.OrderID, Reason: reason, At: now.UTC(), By: cmd.By,
	}}, nil
}

// MarkOrderInError returns the OrderMarkedInError that withdraws order
// orderID, entered by mistake, for reason (5 to 500 characters), naming
// the event that recorded it. It refuses an invalid field (CodeInvalid),
// an order the chart does not hold (CodeNotFound) and one in error
// already (CodeConflict). A discontinued order may be marked in error;
// the doses given against an order are corrected one by one
// (MarkAdministrationInError).
func (s *Student) MarkOrderInError(orderID, reason string) ([]Event, error) {
	reason, err := checkCorrection("order_id", orderID, reason)
	if err != nil {
		return nil, err
	}
	o, refused := s.Medications.correctableOrder(orderID)
	if refused != nil {
		return nil, refused
	}
	return []Event{OrderMarkedInError{
		OrderID: orderID, Reason: reason, Original: s.ref(o.Revision),
	}}, nil
}

// correctableOrder returns order id, or the refusal: CodeNotFound when the
// chart has none, CodeConflict when it is in error.
func (m *Medications) correctableOrder(id string) (*Order, *Error) {
	o := m.order(id)
	switch {
	case o == nil:
		return nil, orderNotFound()
	case o.InError:
		return nil, orderInError()
	}
	return o, nil
}

func orderNotFound() *Error {
	return &Error{Code: CodeNotFound, Field: "order_id", Message: "no such order on this chart"}
}

func orderInError() *Error {
	return refuseConflict("order_id", "names an order marked in error")
}
