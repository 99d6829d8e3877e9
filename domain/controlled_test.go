package domain

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"
)

const rxSchool = "5c400100-0000-4000-8000-000000000001"

const rxStimulant = "Methylphenidate 10 mg tablet"

func init() {
	moreEvents = append(moreEvents, []Event{
		StockReceived{
			DrugName: rxStimulant, OrderID: rxOrderID, Quantity: 30, Unit: "tablet",
			ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
		},
		CountBackRecorded{
			DrugName: rxStimulant, AttemptID: rxAttempt(1), QuantityUsed: 1, Unit: "tablet",
			RemainingCounted: 29, By: rxNurse, At: t0,
		},
		ShiftCountRecorded{DrugName: rxStimulant, Counted: 29, By: rxNurse, WitnessID: rxWitness, At: t0},
		DiscrepancyRecorded{
			DrugName: rxStimulant, Expected: 29, Counted: 28, At: t0, By: rxNurse,
			Context: DiscrepancyReported, WitnessID: rxWitness, Reason: "a tablet dropped",
		},
	})
}

func TestControlledStream(t *testing.T) {
	if got, want := ControlledStream(rxSchool), "controlled-"+rxSchool; got != want {
		t.Errorf("ControlledStream = %q, want %q", got, want)
	}
}

// rxStock returns a stock of 30 tablets received.
func rxStock(t *testing.T, more ...Event) *ControlledStock {
	t.Helper()
	s := &ControlledStock{}
	mustApply(t, s, append([]Event{StockReceived{
		DrugName: rxStimulant, Quantity: 30, Unit: "tablet",
		ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}}, more...))
	return s
}

func TestReceiveStock(t *testing.T) {
	valid := ReceiveStock{
		DrugName: " " + rxStimulant + " ", OrderID: rxOrderID, Quantity: 30, Unit: "Tablet",
		ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}
	cases := []struct {
		name   string
		change func(*ReceiveStock)
		want   []string
	}{
		{"valid", func(*ReceiveStock) {}, nil},
		{"without order", func(c *ReceiveStock) { c.OrderID = "" }, nil},
		{"witness is the receiver", func(c *ReceiveStock) { c.WitnessID = rxNurse },
			[]string{"rule witness_id"}},
		{"no witness", func(c *ReceiveStock) { c.WitnessID = "" }, []string{"invalid witness_id"}},
		{"every field wrong", func(c *ReceiveStock) {
			*c = ReceiveStock{OrderID: "x", Quantity: 0, Unit: "mg", ReceivedBy: "y", WitnessID: "z"}
		}, []string{
			"invalid drug_name", "invalid order_id", "invalid quantity", "invalid unit",
			"invalid received_by", "invalid at", "invalid witness_id",
		}},
		{"no unit", func(c *ReceiveStock) { c.Unit = "" }, []string{"invalid unit"}},
		{"quantity too large", func(c *ReceiveStock) { c.Quantity = 100_001 },
			[]string{"invalid quantity"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := valid
			c.change(&cmd)
			events, err := (&ControlledStock{}).Receive(cmd)
			checkRefusals(t, err, c.want, "")
			if (len(events) == 1) != (c.want == nil) {
				t.Fatalf("got %d events with refusals %q", len(events), c.want)
			}
		})
	}

	events, _ := (&ControlledStock{}).Receive(valid)
	want := StockReceived{
		DrugName: rxStimulant, OrderID: rxOrderID, Quantity: 30, Unit: "tablet",
		ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}
	if !reflect.DeepEqual(events, []Event{want}) {
		t.Errorf("events = %#v, want %#v", events, want)
	}

	mL := valid
	mL.Unit = "mL"
	_, err := rxStock(t).Receive(mL)
	checkRefusals(t, err, []string{"rule unit"}, "")
	if err := ValidateReceipt(ReceiveStock{Quantity: 1}); err == nil {
		t.Error("ValidateReceipt of an empty receipt: nil, want refusals")
	}
	noWitness := valid
	noWitness.WitnessID = ""
	if err := ValidateReceipt(noWitness); err != nil {
		t.Errorf("ValidateReceipt without a witness: %v, want nil (the witness is checked after)", err)
	}
}

// TestUnitsUsed converts doses into the units a stock is counted in.
func TestUnitsUsed(t *testing.T) {
	cases := []struct {
		name      string
		dose      Dose
		stockUnit string
		want      int
		refused   []string
	}{
		{"two tablets of a tablet stock", Dose{"2", "tablet", "10 mg"}, "tablet", 2, nil},
		{"20 mg of 10 mg tablets", Dose{"20", "mg", "10 mg"}, "tablet", 2, nil},
		{"strength per tablet", Dose{"10", "mg", "10 mg/tablet"}, "tablet", 1, nil},
		{"strength per capsule", Dose{"36", "mg", "18 mg per capsule"}, "capsule", 2, nil},
		{"10 mg of a 5 mg/5 mL solution", Dose{"10", "mg", "5 mg/5 mL"}, "mL", 10, nil},
		{"2 mg of a 1 mg/mL solution", Dose{"2", "mg", "1 mg/mL"}, "mL", 2, nil},
		{"mL of a mL stock", Dose{"5", "mL", "5 mg/5 mL"}, "mL", 5, nil},
		{"half a tablet", Dose{"0.5", "tablet", "10 mg"}, "tablet", 0, []string{"invalid dose_amount"}},
		{"15 mg of 10 mg tablets", Dose{"15", "mg", "10 mg"}, "tablet", 0, []string{"invalid dose_amount"}},
		{"mL of a tablet stock", Dose{"5", "mL", "5 mg/5 mL"}, "tablet", 0, []string{"invalid dose_unit"}},
		{"mg without a strength in mg", Dose{"20", "mg", "one tablet"}, "tablet", 0, []string{"invalid dose_unit"}},
		{"mg per mL for a tablet stock", Dose{"10", "mg", "5 mg/5 mL"}, "tablet", 0, []string{"invalid dose_unit"}},
		{"mg per tablet for a capsule stock", Dose{"10", "mg", "10 mg/tablet"}, "capsule", 0,
			[]string{"invalid dose_unit"}},
		{"no amount", Dose{"", "tablet", ""}, "tablet", 0, []string{"invalid dose_amount"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := UnitsUsed(c.dose, c.stockUnit)
			checkRefusals(t, err, c.refused, "")
			if got != c.want {
				t.Errorf("UnitsUsed = %d, want %d", got, c.want)
			}
		})
	}
}

func TestRecordCountBack(t *testing.T) {
	countBack := func(attempt, used, remaining int) CountBack {
		return CountBack{
			DrugName: rxStimulant, AttemptID: rxAttempt(attempt),
			Dose:             Dose{Amount: strconv.Itoa(used), Unit: "tablet", Strength: "10 mg"},
			RemainingCounted: remaining, By: rxNurse, At: t0,
		}
	}
	recorded := func(attempt, used, remaining int) CountBackRecorded {
		return CountBackRecorded{
			DrugName: rxStimulant, AttemptID: rxAttempt(attempt), QuantityUsed: used, Unit: "tablet",
			RemainingCounted: remaining, By: rxNurse, At: t0,
		}
	}
	inMG := func(mg string, remaining int) CountBack {
		c := countBack(1, 1, remaining)
		c.Dose = Dose{Amount: mg, Unit: "mg", Strength: "10 mg"}
		return c
	}
	cases := []struct {
		name    string
		stock   *ControlledStock
		cmd     CountBack
		want    []Event
		refused []string
	}{
		{"count as expected", rxStock(t), countBack(1, 1, 29),
			[]Event{recorded(1, 1, 29)}, nil},
		{"a dose of two tablets", rxStock(t), countBack(1, 2, 28),
			[]Event{recorded(1, 2, 28)}, nil},
		{"20 mg of 10 mg tablets", rxStock(t), inMG("20", 28),
			[]Event{recorded(1, 2, 28)}, nil},
		{"15 mg of 10 mg tablets", rxStock(t), inMG("15", 28),
			nil, []string{"invalid dose_amount"}},
		{"a dose in mL of a tablet stock", rxStock(t),
			CountBack{DrugName: rxStimulant, AttemptID: rxAttempt(1), Dose: Dose{"5", "mL", "5 mg/5 mL"},
				RemainingCounted: 25, By: rxNurse, At: t0},
			nil, []string{"invalid dose_unit"}},
		{"one tablet missing", rxStock(t), countBack(1, 1, 28),
			[]Event{recorded(1, 1, 28), DiscrepancyRecorded{
				DrugName: rxStimulant, Expected: 29, Counted: 28, At: t0, By: rxNurse,
				Context: DiscrepancyAtCountBack, AttemptID: rxAttempt(1),
			}}, nil},
		{"name in another case", rxStock(t),
			CountBack{DrugName: "METHYLPHENIDATE  10 mg tablet", AttemptID: rxAttempt(1),
				Dose: Dose{"2", "tablet", "10 mg"}, RemainingCounted: 28, By: rxNurse, At: t0},
			[]Event{CountBackRecorded{DrugName: "METHYLPHENIDATE  10 mg tablet", AttemptID: rxAttempt(1),
				QuantityUsed: 2, Unit: "tablet", RemainingCounted: 28, By: rxNurse, At: t0}}, nil},
		{"a drug never received", &ControlledStock{}, countBack(1, 1, 0),
			[]Event{recorded(1, 1, 0), DiscrepancyRecorded{
				DrugName: rxStimulant, Expected: -1, Counted: 0, At: t0, By: rxNurse,
				Context: DiscrepancyAtCountBack, AttemptID: rxAttempt(1),
			}}, nil},
		{"an administration counted back twice", rxStock(t, recorded(1, 1, 29)), countBack(1, 1, 28),
			nil, []string{"conflict attempt_id"}},
		{"every field wrong", rxStock(t),
			CountBack{AttemptID: "x", RemainingCounted: -1, By: "y"},
			nil, []string{
				"invalid drug_name", "invalid attempt_id",
				"invalid remaining_counted", "invalid by", "invalid at",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := c.stock.RecordCountBack(c.cmd)
			checkRefusals(t, err, c.refused, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestRecordShiftCount(t *testing.T) {
	count := func(n int) ShiftCount {
		return ShiftCount{DrugName: rxStimulant, Counted: n, By: rxNurse, WitnessID: rxWitness, At: t0}
	}
	cases := []struct {
		name    string
		cmd     ShiftCount
		want    []Event
		refused []string
	}{
		{"count as expected", count(30), []Event{ShiftCountRecorded(count(30))}, nil},
		{"two tablets missing", count(28), []Event{ShiftCountRecorded(count(28)), DiscrepancyRecorded{
			DrugName: rxStimulant, Expected: 30, Counted: 28, At: t0, By: rxNurse,
			Context: DiscrepancyAtShiftCount,
		}}, nil},
		{"witness is the counter", ShiftCount{DrugName: rxStimulant, Counted: 30, By: rxNurse,
			WitnessID: rxNurse, At: t0}, nil, []string{"rule witness_id"}},
		{"every field wrong", ShiftCount{Counted: -1, By: "x"}, nil, []string{
			"invalid drug_name", "invalid counted", "invalid by", "invalid at", "invalid witness_id",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := rxStock(t).RecordShiftCount(c.cmd)
			checkRefusals(t, err, c.refused, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

// TestControlledStockCounts runs a week of a stimulant: received, given
// and counted back, a tablet lost, counted at shift change, received
// again; and checks what the stock should hold after each step.
func TestControlledStockCounts(t *testing.T) {
	s := &ControlledStock{}
	var log []Event
	step := func(events []Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, s, events)
		log = append(log, events...)
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	countBack := func(attempt, remaining int) {
		t.Helper()
		step(s.RecordCountBack(CountBack{
			DrugName: rxStimulant, AttemptID: rxAttempt(attempt), Dose: Dose{"10", "mg", "10 mg"},
			RemainingCounted: remaining, By: rxNurse, At: at(attempt),
		}))
	}
	shift := func(counted, h int) {
		t.Helper()
		step(s.RecordShiftCount(ShiftCount{
			DrugName: rxStimulant, Counted: counted, By: rxNurse, WitnessID: rxWitness, At: at(h),
		}))
	}
	expect := func(want int) {
		t.Helper()
		if got := s.Expected(rxStimulant); got != want {
			t.Errorf("Expected = %d, want %d", got, want)
		}
	}

	step(s.Receive(ReceiveStock{
		DrugName: rxStimulant, Quantity: 10, Unit: "tablet",
		ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}))
	expect(10)
	countBack(1, 9)
	expect(9)
	countBack(2, 7) // one tablet missing
	expect(7)
	shift(7, 3)
	shift(6, 4) // another one missing
	expect(6)
	step(s.Receive(ReceiveStock{
		DrugName: "methylphenidate 10 MG tablet", Quantity: 20, Unit: "tablet",
		ReceivedBy: rxWitness, WitnessID: rxNurse, At: at(5),
	}))
	expect(26)
	step(s.ReportDiscrepancy(ReportDiscrepancy{
		DrugName: rxStimulant, Counted: 25, Reason: "a tablet dropped down the sink",
		By: rxNurse, WitnessID: rxWitness, At: at(6),
	}))
	expect(25)
	if got := s.Expected("Dextroamphetamine 5 mg tablet"); got != 0 {
		t.Errorf("Expected(another drug) = %d, want 0", got)
	}

	if got, want := len(s.Discrepancies()), 3; got != want {
		t.Fatalf("%d discrepancies, want %d", got, want)
	}
	if got := s.Discrepancies()[0]; got.Expected != 8 || got.Counted != 7 || got.AttemptID != rxAttempt(2) {
		t.Errorf("first discrepancy = %+v, want 8 expected, 7 counted, attempt 2", got)
	}
	if got := s.Discrepancies()[2]; got.Context != DiscrepancyReported || got.WitnessID != rxWitness {
		t.Errorf("reported discrepancy = %+v, want its context and witness", got)
	}
	want := []StockLevel{{DrugName: rxStimulant, Expected: 25, Unit: "tablet"}}
	if got := s.Levels(); !reflect.DeepEqual(got, want) {
		t.Errorf("Levels = %+v", got)
	}

	replayed, err := FoldControlledStock(roundTrip(t, log))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(replayed, s) {
		t.Errorf("replayed stock = %+v, want %+v", replayed, s)
	}
}

func TestReportDiscrepancy(t *testing.T) {
	report := func(counted int) ReportDiscrepancy {
		return ReportDiscrepancy{DrugName: rxStimulant, Counted: counted, Reason: "broken blister pack",
			By: rxNurse, WitnessID: rxWitness, At: t0}
	}
	cases := []struct {
		name    string
		cmd     ReportDiscrepancy
		want    []Event
		refused []string
	}{
		{"two tablets short", report(28), []Event{DiscrepancyRecorded{
			DrugName: rxStimulant, Expected: 30, Counted: 28, At: t0, By: rxNurse,
			Context: DiscrepancyReported, WitnessID: rxWitness, Reason: "broken blister pack",
		}}, nil},
		{"the count is as expected", report(30), nil, []string{"rule counted"}},
		{"witness is the reporter", func() ReportDiscrepancy {
			c := report(28)
			c.WitnessID = rxNurse
			return c
		}(), nil, []string{"rule witness_id"}},
		{"every field wrong", ReportDiscrepancy{Counted: -1, Reason: "oops", By: "x"}, nil, []string{
			"invalid drug_name", "invalid counted", "invalid by", "invalid at", "invalid reason",
			"invalid witness_id",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := rxStock(t).ReportDiscrepancy(c.cmd)
			checkRefusals(t, err, c.refused, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
	noWitness := report(28)
	noWitness.WitnessID = ""
	if err := ValidateDiscrepancy(noWitness); err != nil {
		t.Errorf("ValidateDiscrepancy without a witness: %v, want nil", err)
	}
	if err := ValidateShiftCount(ShiftCount{DrugName: rxStimulant, Counted: -1, By: rxNurse, At: t0}); err == nil {
		t.Error("ValidateShiftCount of a negative count: nil, want a refusal")
	}
}

func TestFoldControlledStockRefusals(t *testing.T) {
	if _, err := FoldControlledStock(nil); !errors.Is(err, ErrNoEvents) {
		t.Errorf("Fold(nil) = %v, want ErrNoEvents", err)
	}
	_, err := FoldControlledStock([]Event{UserUnlocked{By: adminID}})
	if !errors.Is(err, ErrUnexpectedEvent) {
		t.Errorf("Fold(user event) = %v, want ErrUnexpectedEvent", err)
	}
}
