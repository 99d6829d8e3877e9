package domain

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

const rxSchool = "5c400100-0000-4000-8000-000000000001"

const rxStimulant = "Methylphenidate 10 mg tablet"

func init() {
	moreEvents = append(moreEvents, []Event{
		StockReceived{
			DrugName: rxStimulant, OrderID: rxOrderID, Quantity: 30,
			ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
		},
		CountBackRecorded{
			DrugName: rxStimulant, AttemptID: rxAttempt(1), QuantityUsed: 1,
			RemainingCounted: 29, By: rxNurse, At: t0,
		},
		ShiftCountRecorded{DrugName: rxStimulant, Counted: 29, By: rxNurse, WitnessID: rxWitness, At: t0},
		DiscrepancyRecorded{
			DrugName: rxStimulant, Expected: 29, Counted: 28, At: t0, By: rxNurse,
			Context: DiscrepancyAtCountBack, AttemptID: rxAttempt(1),
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
		DrugName: rxStimulant, Quantity: 30, ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}}, more...))
	return s
}

func TestReceiveStock(t *testing.T) {
	valid := ReceiveStock{
		DrugName: " " + rxStimulant + " ", OrderID: rxOrderID, Quantity: 30,
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
			*c = ReceiveStock{OrderID: "x", Quantity: 0, ReceivedBy: "y", WitnessID: "z"}
		}, []string{
			"invalid drug_name", "invalid order_id", "invalid quantity",
			"invalid received_by", "invalid witness_id", "invalid at",
		}},
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
		DrugName: rxStimulant, OrderID: rxOrderID, Quantity: 30,
		ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
	}
	if !reflect.DeepEqual(events, []Event{want}) {
		t.Errorf("events = %#v, want %#v", events, want)
	}
}

func TestRecordCountBack(t *testing.T) {
	countBack := func(attempt, used, remaining int) CountBack {
		return CountBack{
			DrugName: rxStimulant, AttemptID: rxAttempt(attempt), QuantityUsed: used,
			RemainingCounted: remaining, By: rxNurse, At: t0,
		}
	}
	recorded := func(attempt, used, remaining int) CountBackRecorded {
		return CountBackRecorded(countBack(attempt, used, remaining))
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
		{"one tablet missing", rxStock(t), countBack(1, 1, 28),
			[]Event{recorded(1, 1, 28), DiscrepancyRecorded{
				DrugName: rxStimulant, Expected: 29, Counted: 28, At: t0, By: rxNurse,
				Context: DiscrepancyAtCountBack, AttemptID: rxAttempt(1),
			}}, nil},
		{"name in another case", rxStock(t),
			CountBack{DrugName: "METHYLPHENIDATE  10 mg tablet", AttemptID: rxAttempt(1), QuantityUsed: 2,
				RemainingCounted: 28, By: rxNurse, At: t0},
			[]Event{CountBackRecorded{DrugName: "METHYLPHENIDATE  10 mg tablet", AttemptID: rxAttempt(1),
				QuantityUsed: 2, RemainingCounted: 28, By: rxNurse, At: t0}}, nil},
		{"a drug never received", &ControlledStock{}, countBack(1, 1, 0),
			[]Event{recorded(1, 1, 0), DiscrepancyRecorded{
				DrugName: rxStimulant, Expected: -1, Counted: 0, At: t0, By: rxNurse,
				Context: DiscrepancyAtCountBack, AttemptID: rxAttempt(1),
			}}, nil},
		{"an administration counted back twice", rxStock(t, recorded(1, 1, 29)), countBack(1, 1, 28),
			nil, []string{"conflict attempt_id"}},
		{"every field wrong", rxStock(t),
			CountBack{AttemptID: "x", QuantityUsed: 0, RemainingCounted: -1, By: "y"},
			nil, []string{
				"invalid drug_name", "invalid attempt_id", "invalid quantity_used",
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
			"invalid drug_name", "invalid counted", "invalid by", "invalid witness_id", "invalid at",
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
			DrugName: rxStimulant, AttemptID: rxAttempt(attempt), QuantityUsed: 1,
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
		DrugName: rxStimulant, Quantity: 10, ReceivedBy: rxNurse, WitnessID: rxWitness, At: t0,
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
		DrugName: "methylphenidate 10 MG tablet", Quantity: 20,
		ReceivedBy: rxWitness, WitnessID: rxNurse, At: at(5),
	}))
	expect(26)
	if got := s.Expected("Dextroamphetamine 5 mg tablet"); got != 0 {
		t.Errorf("Expected(another drug) = %d, want 0", got)
	}

	if got, want := len(s.Discrepancies()), 2; got != want {
		t.Fatalf("%d discrepancies, want %d", got, want)
	}
	if got := s.Discrepancies()[0]; got.Expected != 8 || got.Counted != 7 || got.AttemptID != rxAttempt(2) {
		t.Errorf("first discrepancy = %+v, want 8 expected, 7 counted, attempt 2", got)
	}
	if got := s.Levels(); !reflect.DeepEqual(got, []StockLevel{{DrugName: rxStimulant, Expected: 26}}) {
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

func TestFoldControlledStockRefusals(t *testing.T) {
	if _, err := FoldControlledStock(nil); !errors.Is(err, ErrNoEvents) {
		t.Errorf("Fold(nil) = %v, want ErrNoEvents", err)
	}
	_, err := FoldControlledStock([]Event{UserUnlocked{By: adminID}})
	if !errors.Is(err, ErrUnexpectedEvent) {
		t.Errorf("Fold(user event) = %v, want ErrUnexpectedEvent", err)
	}
}
