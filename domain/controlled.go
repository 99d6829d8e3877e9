package domain

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ControlledStream returns the name of the stream of school id's
// controlled substance stock.
func ControlledStream(schoolID string) string { return "controlled-" + schoolID }

// StockReceived records controlled medication received into a school's
// stock, counted by two people.
type StockReceived struct {
	DrugName string `json:"drug_name"`
	OrderID  string `json:"order_id,omitempty"` // the order it was supplied for
	Quantity int    `json:"quantity"`
	// Unit is what Quantity counts, one of StockUnits; empty in receipts
	// recorded before receipts named it.
	Unit       string    `json:"unit,omitempty"`
	ReceivedBy string    `json:"received_by"`
	WitnessID  string    `json:"witness_id"`
	At         time.Time `json:"at"`
}

// CountBackRecorded records the count a nurse makes of what remains after
// giving a dose of a controlled medication. QuantityUsed is the dose in
// the stock's Unit.
type CountBackRecorded struct {
	DrugName         string    `json:"drug_name"`
	AttemptID        string    `json:"attempt_id"` // the administration
	QuantityUsed     int       `json:"quantity_used"`
	Unit             string    `json:"unit,omitempty"`
	RemainingCounted int       `json:"remaining_counted"`
	By               string    `json:"by"`
	At               time.Time `json:"at"`
}

// ShiftCountRecorded records the count of a controlled medication at a
// change of shift, by two people.
type ShiftCountRecorded struct {
	DrugName  string    `json:"drug_name"`
	Counted   int       `json:"counted"`
	By        string    `json:"by"`
	WitnessID string    `json:"witness_id"`
	At        time.Time `json:"at"`
}

// DiscrepancyRecorded records a count that differs from what the stock
// should hold, to be reported and investigated. From it on, the stock is
// expected to hold what was counted.
type DiscrepancyRecorded struct {
	DrugName string             `json:"drug_name"`
	Expected int                `json:"expected"`
	Counted  int                `json:"counted"`
	At       time.Time          `json:"at"`
	By       string             `json:"by"`
	Context  DiscrepancyContext `json:"context"`
	// AttemptID is the administration of a count-back.
	AttemptID string `json:"attempt_id,omitempty"`
	// WitnessID and Reason are those of a discrepancy reported on its
	// own (DiscrepancyReported).
	WitnessID string `json:"witness_id,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// DiscrepancyContext says which count found a discrepancy.
type DiscrepancyContext string

// The contexts of a discrepancy.
const (
	DiscrepancyAtCountBack  DiscrepancyContext = "count_back"
	DiscrepancyAtShiftCount DiscrepancyContext = "shift_count"
	// DiscrepancyReported is one a nurse found outside a count and
	// reported, with a witness and a reason.
	DiscrepancyReported DiscrepancyContext = "reported"
)

// StockUnits are the units a controlled stock is counted in.
var StockUnits = []string{"tablet", "capsule", "patch", "mL", "unit", "puff", "drop", "spray"}

// EventType returns "StockReceived".
func (StockReceived) EventType() string { return "StockReceived" }

// EventType returns "CountBackRecorded".
func (CountBackRecorded) EventType() string { return "CountBackRecorded" }

// EventType returns "ShiftCountRecorded".
func (ShiftCountRecorded) EventType() string { return "ShiftCountRecorded" }

// EventType returns "DiscrepancyRecorded".
func (DiscrepancyRecorded) EventType() string { return "DiscrepancyRecorded" }

func init() {
	registerEvents(map[string]func([]byte) (Event, error){
		StockReceived{}.EventType():       decodeAs[StockReceived],
		CountBackRecorded{}.EventType():   decodeAs[CountBackRecorded],
		ShiftCountRecorded{}.EventType():  decodeAs[ShiftCountRecorded],
		DiscrepancyRecorded{}.EventType(): decodeAs[DiscrepancyRecorded],
	})
}

// ControlledStock is a school's stock of controlled medications, rebuilt
// from its stream by FoldControlledStock. Drugs are told apart by name,
// whatever its case and spacing. The zero value is an empty stock.
type ControlledStock struct {
	levels        []StockLevel
	discrepancies []DiscrepancyRecorded
	// countedBack holds the administrations already counted back.
	countedBack map[string]bool
}

// StockLevel is what the stock should hold of one drug: what was
// received, less what was used, reset to the count at each discrepancy.
type StockLevel struct {
	DrugName string // as first received or counted
	Expected int
	// Unit is what the stock is counted in, as its first receipt that
	// named one said; empty while none did.
	Unit string
}

// FoldControlledStock rebuilds a school's stock from its events, oldest
// first. It returns ErrNoEvents for an empty list and ErrUnexpectedEvent
// for an event that is not a stock event.
func FoldControlledStock(events []Event) (*ControlledStock, error) {
	return fold[ControlledStock]("controlled stock", events)
}

// Apply changes s by one event of its stream. It returns
// ErrUnexpectedEvent for an event that is not a stock event.
func (s *ControlledStock) Apply(e Event) error {
	switch e := e.(type) {
	case StockReceived:
		l := s.level(e.DrugName)
		l.Expected += e.Quantity
		if l.Unit == "" {
			l.Unit = e.Unit
		}
	case CountBackRecorded:
		s.level(e.DrugName).Expected -= e.QuantityUsed
		if s.countedBack == nil {
			s.countedBack = map[string]bool{}
		}
		s.countedBack[e.AttemptID] = true
	case ShiftCountRecorded:
		s.level(e.DrugName)
	case DiscrepancyRecorded:
		s.level(e.DrugName).Expected = e.Counted
		s.discrepancies = append(s.discrepancies, e)
	default:
		return unexpected("controlled stock", e, "is not a controlled stock event")
	}
	return nil
}

// level returns the level of drug, adding it at zero when it is new.
func (s *ControlledStock) level(drug string) *StockLevel {
	key := normalizeDrugName(drug)
	for i := range s.levels {
		if normalizeDrugName(s.levels[i].DrugName) == key {
			return &s.levels[i]
		}
	}
	s.levels = append(s.levels, StockLevel{DrugName: drug})
	return &s.levels[len(s.levels)-1]
}

// Expected returns what the stock should hold of drug; zero for a drug
// never received or counted. It is negative when more was used than
// received and no count has corrected it yet.
func (s *ControlledStock) Expected(drug string) int { return s.Level(drug).Expected }

// Level returns the level of drug; a zero level, with the name asked
// for, for a drug never received or counted.
func (s *ControlledStock) Level(drug string) StockLevel {
	key := normalizeDrugName(drug)
	for _, l := range s.levels {
		if normalizeDrugName(l.DrugName) == key {
			return l
		}
	}
	return StockLevel{DrugName: drug}
}

// Levels returns the level of every drug, in the order they first
// appeared.
func (s *ControlledStock) Levels() []StockLevel { return slices.Clone(s.levels) }

// Discrepancies returns every discrepancy recorded, oldest first.
func (s *ControlledStock) Discrepancies() []DiscrepancyRecorded {
	return slices.Clone(s.discrepancies)
}

// The bound of a quantity in stock.
const maxStockQuantity = 100_000

// ReceiveStock is the command that records controlled medication received.
// The caller checks the witness's own credentials.
type ReceiveStock struct {
	DrugName   string // trimmed
	OrderID    string // optional
	Quantity   int
	Unit       string // one of StockUnits, whatever its case
	ReceivedBy string
	WitnessID  string
	At         time.Time
}

// ValidateReceipt refuses each invalid field of cmd but its witness
// (CodeInvalid): drug_name 1 to 200 characters, order_id an ID when set,
// quantity 1 to 100000, unit one of StockUnits, received_by an ID, at
// set. A caller checks this before it verifies the witness's
// credentials, so that how a receipt is answered says nothing of them.
func ValidateReceipt(cmd ReceiveStock) error {
	_, errs := checkReceipt(cmd)
	return errs.err()
}

func checkReceipt(cmd ReceiveStock) (StockReceived, Errors) {
	var errs Errors
	e := StockReceived{
		OrderID: cmd.OrderID, Quantity: cmd.Quantity,
		ReceivedBy: cmd.ReceivedBy, WitnessID: cmd.WitnessID, At: cmd.At.UTC(),
	}
	e.DrugName = checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkID("order_id", cmd.OrderID, false))
	errs.add(checkStockQuantity("quantity", cmd.Quantity, 1))
	e.Unit = checkedChoice(&errs, "unit", cmd.Unit, StockUnits)
	errs.add(checkID("received_by", cmd.ReceivedBy, true))
	errs.add(checkStockTime(cmd.At))
	return e, errs
}

// Receive records stock received: a StockReceived, or the refusals of
// ValidateReceipt, of a witness_id that is not an ID (CodeInvalid) or is
// the receiver (CodeRule), and of a unit other than the one the stock of
// the drug is counted in (CodeRule).
func (s *ControlledStock) Receive(cmd ReceiveStock) ([]Event, error) {
	e, errs := checkReceipt(cmd)
	errs.add(checkStockWitness(cmd.WitnessID, cmd.ReceivedBy))
	if errs != nil {
		return nil, errs
	}

	if unit := s.Level(e.DrugName).Unit; unit != "" && unit != e.Unit {
		return nil, ruleBroken("unit", "the stock of this drug is counted in "+unit)
	}
	return []Event{e}, nil
}

// CountBack is the command that records the count after a dose.
type CountBack struct {
	DrugName  string // trimmed
	AttemptID string // the administration's
	// Dose is the dose given, as its order states it; the quantity used
	// is the dose in the unit the stock is counted in (UnitsUsed).
	Dose             Dose
	RemainingCounted int
	By               string
	At               time.Time
}

// Dose is the amount of one dose, with the order's strength, which
// converts a dose in milligrams into the units a stock is counted in.
type Dose struct {
	Amount   string // a decimal, as the order has it
	Unit     string // one of DoseUnits
	Strength string // "10 mg", "5 mg/5 mL"
}

// RecordCountBack records a count-back: a CountBackRecorded and, when the
// count is not what the stock should hold after the dose, a
// DiscrepancyRecorded. It refuses each invalid field (CodeInvalid):
// drug_name 1 to 200 characters, attempt_id and by IDs,
// remaining_counted 0 to 100000, at set, and a dose that UnitsUsed cannot
// express in the stock's unit (dose_unit or dose_amount); and an
// administration already counted back (CodeConflict). A drug never
// received is counted back all the same, in the dose's unit, as a
// discrepancy, so that nothing used goes unrecorded.
func (s *ControlledStock) RecordCountBack(cmd CountBack) ([]Event, error) {
	var errs Errors
	drug := checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkID("attempt_id", cmd.AttemptID, true))
	errs.add(checkStockQuantity("remaining_counted", cmd.RemainingCounted, 0))
	errs.add(checkID("by", cmd.By, true))
	errs.add(checkStockTime(cmd.At))
	if errs != nil {
		return nil, errs
	}
	unit := s.Level(drug).Unit
	if unit == "" {
		unit = cmd.Dose.Unit
	}
	used, err := UnitsUsed(cmd.Dose, unit)
	if err != nil {
		return nil, err
	}
	if s.countedBack[cmd.AttemptID] {
		return nil, &Error{
			Code:    CodeConflict,
			Field:   "attempt_id",
			Message: "this administration is already counted back",
		}
	}

	at := cmd.At.UTC()
	events := []Event{CountBackRecorded{
		DrugName: drug, AttemptID: cmd.AttemptID, QuantityUsed: used, Unit: unit,
		RemainingCounted: cmd.RemainingCounted, By: cmd.By, At: at,
	}}
	if want := s.Expected(drug) - used; cmd.RemainingCounted != want {
		events = append(events, DiscrepancyRecorded{
			DrugName: drug, Expected: want, Counted: cmd.RemainingCounted,
			At: at, By: cmd.By, Context: DiscrepancyAtCountBack, AttemptID: cmd.AttemptID,
		})
	}
	return events, nil
}

// ShiftCount is the command that records a count at a change of shift.
// The caller checks the witness's own credentials.
type ShiftCount struct {
	DrugName  string // trimmed
	Counted   int
	By        string
	WitnessID string
	At        time.Time
}

// ValidateShiftCount refuses each invalid field of cmd but its witness
// (CodeInvalid): drug_name 1 to 200 characters, counted 0 to 100000, by
// an ID, at set. A caller checks this before it verifies the witness's
// credentials.
func ValidateShiftCount(cmd ShiftCount) error {
	_, errs := checkCount(cmd.DrugName, cmd.Counted, cmd.By, cmd.At)
	return errs.err()
}

// checkCount returns drug trimmed, and the refusal of each invalid field
// of a count.
func checkCount(drug string, counted int, by string, at time.Time) (string, Errors) {
	var errs Errors
	drug = checkedText(&errs, "drug_name", drug, drugNameRule)
	errs.add(checkStockQuantity("counted", counted, 0))
	errs.add(checkID("by", by, true))
	errs.add(checkStockTime(at))
	return drug, errs
}

// RecordShiftCount records a shift count: a ShiftCountRecorded and, when
// the count is not what the stock should hold, a DiscrepancyRecorded. It
// refuses the fields ValidateShiftCount refuses, a witness_id that is not
// an ID (CodeInvalid) and a witness who is the counter (CodeRule).
func (s *ControlledStock) RecordShiftCount(cmd ShiftCount) ([]Event, error) {
	drug, errs := checkCount(cmd.DrugName, cmd.Counted, cmd.By, cmd.At)
	errs.add(checkStockWitness(cmd.WitnessID, cmd.By))
	if errs != nil {
		return nil, errs
	}

	at := cmd.At.UTC()
	events := []Event{ShiftCountRecorded{
		DrugName: drug, Counted: cmd.Counted, By: cmd.By, WitnessID: cmd.WitnessID, At: at,
	}}
	if want := s.Expected(drug); cmd.Counted != want {
		events = append(events, DiscrepancyRecorded{
			DrugName: drug, Expected: want, Counted: cmd.Counted,
			At: at, By: cmd.By, Context: DiscrepancyAtShiftCount,
		})
	}
	return events, nil
}

// ReportDiscrepancy is the command that reports a discrepancy found
// outside a count: a tablet dropped and lost, a count that a nurse could
// not reconcile. The caller checks the witness's own credentials.
type ReportDiscrepancy struct {
	DrugName  string // trimmed
	Counted   int    // what the stock holds now
	Reason    string // what happened, 5 to 500 characters
	By        string
	WitnessID string
	At        time.Time
}

// ValidateDiscrepancy refuses each invalid field of cmd but its witness
// (CodeInvalid): those of ValidateShiftCount, and a reason that is not 5
// to 500 characters. A caller checks this before it verifies the
// witness's credentials.
func ValidateDiscrepancy(cmd ReportDiscrepancy) error {
	_, _, errs := checkDiscrepancy(cmd)
	return errs.err()
}

func checkDiscrepancy(cmd ReportDiscrepancy) (drug, reason string, errs Errors) {
	drug, errs = checkCount(cmd.DrugName, cmd.Counted, cmd.By, cmd.At)
	reason = checkedText(&errs, "reason", cmd.Reason, correctionRule)
	return drug, reason, errs
}

// ReportDiscrepancy records a discrepancy reported on its own: a
// DiscrepancyRecorded (DiscrepancyReported) from which on the stock is
// expected to hold what was counted. It refuses the fields
// ValidateDiscrepancy refuses, a witness_id that is not an ID
// (CodeInvalid) or that is the reporter (CodeRule), and a count that is
// what the stock should hold (CodeRule, "counted"): that is a shift
// count, not a discrepancy.
func (s *ControlledStock) ReportDiscrepancy(cmd ReportDiscrepancy) ([]Event, error) {
	drug, reason, errs := checkDiscrepancy(cmd)
	errs.add(checkStockWitness(cmd.WitnessID, cmd.By))
	if errs != nil {
		return nil, errs
	}

	want := s.Expected(drug)
	if cmd.Counted == want {
		return nil, ruleBroken("counted",
			"is what the stock should hold: there is no discrepancy; record a shift count")
	}
	return []Event{DiscrepancyRecorded{
		DrugName: drug, Expected: want, Counted: cmd.Counted, At: cmd.At.UTC(),
		By: cmd.By, Context: DiscrepancyReported, WitnessID: cmd.WitnessID, Reason: reason,
	}}, nil
}

// strengthShape reads an order's strength in milligrams: "10 mg" (per
// tablet, capsule or patch), "10 mg/tablet", "10 mg per capsule", or per
// volume, "5 mg/5 mL", "1 mg/mL".
var strengthShape = regexp.MustCompile(
	`(?i)^\s*(\d+(?:\.\d+)?)\s*mg\s*(?:(?:/|per)\s*(\d+(?:\.\d+)?)?\s*(ml|tablet|capsule|patch))?\s*$`)

// UnitsUsed returns dose in stockUnit, the unit a stock is counted in: a
// whole number above zero. A dose in the stock's own unit is its amount;
// one in milligrams is converted by the strength: "10 mg" or
// "10 mg/tablet" for a stock of tablets, capsules or patches, "5 mg/5 mL"
// for one counted in mL. It refuses, with CodeInvalid, a dose it cannot
// convert (dose_unit) and one that is not a whole number of units
// (dose_amount), naming the stock's unit and never the drug.
//
// NOTE: a stock is counted in whole units, so a half tablet cannot be
// counted back; such an order is given from a stock counted otherwise.
func UnitsUsed(dose Dose, stockUnit string) (int, error) {
	amount, ok := new(big.Rat).SetString(dose.Amount)
	if !ok || amount.Sign() <= 0 {
		return 0, invalid("dose_amount", "must be a decimal number above zero")
	}
	units, err := inStockUnits(amount, dose, stockUnit)
	if err != nil {
		return 0, err
	}
	if !units.IsInt() || units.Num().Int64() > maxStockQuantity {
		return 0, invalid("dose_amount",
			"is not a whole number of the stock's unit ("+stockUnit+"), so it cannot be counted back")
	}
	return int(units.Num().Int64()), nil
}

// inStockUnits converts amount, in dose's unit, into stockUnit.
func inStockUnits(amount *big.Rat, dose Dose, stockUnit string) (*big.Rat, *Error) {
	if strings.EqualFold(dose.Unit, stockUnit) {
		return amount, nil
	}
	refused := invalid("dose_unit", "cannot be compared with the unit the stock is counted in ("+
		stockUnit+"): the order's strength must give milligrams per "+stockUnit)
	m := strengthShape.FindStringSubmatch(dose.Strength)
	if !strings.EqualFold(dose.Unit, "mg") || m == nil {
		return nil, refused
	}

	mg, _ := new(big.Rat).SetString(m[1])
	per := big.NewRat(1, 1)
	if m[2] != "" {
		per.SetString(m[2])
	}
	form := strings.ToLower(m[3])
	switch {
	case mg.Sign() == 0 || per.Sign() == 0:
		return nil, refused
	case stockUnit == "mL" && form == "ml":
		// amount mg at mg per `per` mL
		return new(big.Rat).Quo(new(big.Rat).Mul(amount, per), mg), nil
	case slices.Contains([]string{"tablet", "capsule", "patch"}, stockUnit) &&
		(form == "" || form == stockUnit) && per.Cmp(big.NewRat(1, 1)) == 0:
		return new(big.Rat).Quo(amount, mg), nil
	}
	return nil, refused
}

// checkStockQuantity refuses a quantity below least or above maxStockQuantity.
func checkStockQuantity(field string, n, least int) *Error {
	if n < least || n > maxStockQuantity {
		return invalid(field, fmt.Sprintf("must be %d to %d", least, maxStockQuantity))
	}
	return nil
}

// checkStockWitness refuses a witness that is not an ID, or is the person
// witnessed.
func checkStockWitness(witness, person string) *Error {
	if err := checkID("witness_id", witness, true); err != nil {
		return err
	}
	if witness == person {
		return ruleBroken("witness_id", "the witness must be a second person")
	}
	return nil
}

func checkStockTime(at time.Time) *Error {
	if at.IsZero() {
		return invalid("at", "is required")
	}
	return nil
}
