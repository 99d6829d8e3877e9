package domain

import (
	"fmt"
	"slices"
	"time"
)

// ControlledStream returns the name of the stream of school id's
// controlled substance stock.
func ControlledStream(schoolID string) string { return "controlled-" + schoolID }

// StockReceived records controlled medication received into a school's
// stock, counted by two people.
type StockReceived struct {
	DrugName   string    `json:"drug_name"`
	OrderID    string    `json:"order_id,omitempty"` // the order it was supplied for
	Quantity   int       `json:"quantity"`
	ReceivedBy string    `json:"received_by"`
	WitnessID  string    `json:"witness_id"`
	At         time.Time `json:"at"`
}

// CountBackRecorded records the count a nurse makes of what remains after
// giving a dose of a controlled medication.
type CountBackRecorded struct {
	DrugName         string    `json:"drug_name"`
	AttemptID        string    `json:"attempt_id"` // the administration
	QuantityUsed     int       `json:"quantity_used"`
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
}

// DiscrepancyContext says which count found a discrepancy.
type DiscrepancyContext string

// The contexts of a discrepancy.
const (
	DiscrepancyAtCountBack  DiscrepancyContext = "count_back"
	DiscrepancyAtShiftCount DiscrepancyContext = "shift_count"
)

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
		s.level(e.DrugName).Expected += e.Quantity
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
func (s *ControlledStock) Expected(drug string) int {
	key := normalizeDrugName(drug)
	for _, l := range s.levels {
		if normalizeDrugName(l.DrugName) == key {
			return l.Expected
		}
	}
	return 0
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
	ReceivedBy string
	WitnessID  string
	At         time.Time
}

// Receive records stock received: a StockReceived, or the refusal of each
// invalid field (CodeInvalid): drug_name 1 to 200 characters, order_id an
// ID when set, quantity 1 to 100000, received_by and witness_id IDs, at
// set. A witness who is the receiver is refused (CodeRule).
func (s *ControlledStock) Receive(cmd ReceiveStock) ([]Event, error) {
	var errs Errors
	drug := checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkID("order_id", cmd.OrderID, false))
	errs.add(checkStockQuantity("quantity", cmd.Quantity, 1))
	errs.add(checkID("received_by", cmd.ReceivedBy, true))
	errs.add(checkStockWitness(cmd.WitnessID, cmd.ReceivedBy))
	errs.add(checkStockTime(cmd.At))
	if errs != nil {
		return nil, errs
	}

	return []Event{StockReceived{
		DrugName: drug, OrderID: cmd.OrderID, Quantity: cmd.Quantity,
		ReceivedBy: cmd.ReceivedBy, WitnessID: cmd.WitnessID, At: cmd.At.UTC(),
	}}, nil
}

// CountBack is the command that records the count after a dose.
type CountBack struct {
	DrugName         string // trimmed
	AttemptID        string // the administration's
	QuantityUsed     int
	RemainingCounted int
	By               string
	At               time.Time
}

// RecordCountBack records a count-back: a CountBackRecorded and, when the
// count is not what the stock should hold after the dose, a
// DiscrepancyRecorded. It refuses each invalid field (CodeInvalid):
// drug_name 1 to 200 characters, attempt_id and by IDs, quantity_used 1
// to 100000, remaining_counted 0 to 100000, at set; and an administration
// already counted back (CodeConflict). A drug never received is counted
// back all the same, as a discrepancy, so that nothing used goes
// unrecorded.
func (s *ControlledStock) RecordCountBack(cmd CountBack) ([]Event, error) {
	var errs Errors
	drug := checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkID("attempt_id", cmd.AttemptID, true))
	errs.add(checkStockQuantity("quantity_used", cmd.QuantityUsed, 1))
	errs.add(checkStockQuantity("remaining_counted", cmd.RemainingCounted, 0))
	errs.add(checkID("by", cmd.By, true))
	errs.add(checkStockTime(cmd.At))
	if errs != nil {
		return nil, errs
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
		DrugName: drug, AttemptID: cmd.AttemptID, QuantityUsed: cmd.QuantityUsed,
		RemainingCounted: cmd.RemainingCounted, By: cmd.By, At: at,
	}}
	if want := s.Expected(drug) - cmd.QuantityUsed; cmd.RemainingCounted != want {
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

// RecordShiftCount records a shift count: a ShiftCountRecorded and, when
// the count is not what the stock should hold, a DiscrepancyRecorded. It
// refuses each invalid field (CodeInvalid): drug_name 1 to 200
// characters, counted 0 to 100000, by and witness_id IDs, at set; and a
// witness who is the counter (CodeRule).
func (s *ControlledStock) RecordShiftCount(cmd ShiftCount) ([]Event, error) {
	var errs Errors
	drug := checkedText(&errs, "drug_name", cmd.DrugName, drugNameRule)
	errs.add(checkStockQuantity("counted", cmd.Counted, 0))
	errs.add(checkID("by", cmd.By, true))
	errs.add(checkStockWitness(cmd.WitnessID, cmd.By))
	errs.add(checkStockTime(cmd.At))
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
