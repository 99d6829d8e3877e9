package projections_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// TestControlledStock follows a school's stock through a receipt,
// count-backs, a shift count and a discrepancy, with the drug's name
// spelt two ways, and checks the levels against the domain's own fold.
func TestControlledStock(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, medications, testControlledStock)
}

func testControlledStock(t *testing.T, h *projectiontest.Harness) {
	school, other := newID(), newID()
	counter, witness := newID(), newID()
	events := []domain.Event{
		domain.StockReceived{DrugName: "Methylphenidate 10 mg", Quantity: 30,
			ReceivedBy: counter, WitnessID: witness, At: at("1 08:00")},
		domain.StockReceived{DrugName: "Diazepam", Quantity: 5,
			ReceivedBy: counter, WitnessID: witness, At: at("1 08:05")},
		domain.CountBackRecorded{DrugName: "methylphenidate  10 MG", AttemptID: newID(),
			QuantityUsed: 1, RemainingCounted: 29, By: counter, At: at("1 12:00")},
		domain.ShiftCountRecorded{DrugName: "Methylphenidate 10 mg", Counted: 29,
			By: counter, WitnessID: witness, At: at("1 15:00")},
		domain.CountBackRecorded{DrugName: "Methylphenidate 10 mg", AttemptID: newID(),
			QuantityUsed: 1, RemainingCounted: 26, By: counter, At: at("2 12:00")},
		domain.DiscrepancyRecorded{DrugName: "Methylphenidate 10 mg", Expected: 28, Counted: 26,
			At: at("2 12:00"), By: counter, Context: domain.DiscrepancyAtCountBack},
	}
	h.Append(domain.ControlledStream(school), events...)
	h.Append(domain.ControlledStream(other), domain.StockReceived{DrugName: "Diazepam",
		Quantity: 7, ReceivedBy: counter, WitnessID: witness, At: at("1 08:00")})
	h.Sync()

	page, err := projections.StockOf(t.Context(), h.Pool, school, "", 100)
	if err != nil || page.Next != "" {
		t.Fatalf("stock: next %q, error %v", page.Next, err)
	}
	stock, err := domain.FoldControlledStock(events)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	for _, l := range stock.Levels() {
		want = append(want, fmt.Sprintf("%s %d", l.DrugName, l.Expected))
	}
	for _, l := range page.Levels {
		got = append(got, fmt.Sprintf("%s %d", l.DrugName, l.Expected))
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("levels: got %q, want the domain's %q", got, want)
	}

	m := page.Levels[1]
	if m.Received != 30 || m.Used != 2 || m.Discrepancies != 1 || m.LastCount == nil ||
		*m.LastCount != 26 || m.LastCountKind != "count_back" || m.LastCountedBy != counter ||
		m.LastCountWitness != "" || m.LastCountedAt == nil || !m.LastCountedAt.Equal(at("2 12:00")) {
		t.Errorf("methylphenidate: %+v", m)
	}
	if d := page.Levels[0]; d.LastCount != nil || d.Expected != 5 || d.Discrepancies != 0 {
		t.Errorf("diazepam, never counted: %+v", d)
	}
	if len(page.Discrepancies) != 1 {
		t.Fatalf("discrepancies: %+v", page.Discrepancies)
	}
	if d := page.Discrepancies[0]; d.Expected != 28 || d.Counted != 26 || d.Context != "count_back" ||
		d.By != counter || !d.At.Equal(at("2 12:00")) {
		t.Errorf("the discrepancy: %+v", d)
	}

	t.Run("pages", func(t *testing.T) {
		for _, limit := range []int{1, 2, 3} {
			var walked []string
			cursor := ""
			for range 10 {
				p, err := projections.StockOf(t.Context(), h.Pool, school, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Levels)+len(p.Discrepancies) > limit {
					t.Fatalf("limit %d: a page of %+v", limit, p)
				}
				for _, l := range p.Levels {
					walked = append(walked, l.DrugName)
				}
				for _, d := range p.Discrepancies {
					walked = append(walked, fmt.Sprint("discrepancy ", d.Position))
				}
				if cursor = p.Next; cursor == "" {
					break
				}
			}
			want := []string{"Diazepam", "Methylphenidate 10 mg",
				fmt.Sprint("discrepancy ", page.Discrepancies[0].Position)}
			if !slices.Equal(walked, want) {
				t.Errorf("limit %d: walked %q, want %q", limit, walked, want)
			}
		}
		if _, err := projections.StockOf(t.Context(), h.Pool, school, "bad", 1); !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
		}
	})
}

// TestMedicationsRebuildMatchesLive rebuilds both read models after a
// live run and compares them row by row.
func TestMedicationsRebuildMatchesLive(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Live, projections.Config{}, medications()...)
	h.Start(t.Context())
	newMedicationWorld(h)
	school := newID()
	h.Append(domain.ControlledStream(school), domain.StockReceived{DrugName: "Diazepam",
		Quantity: 7, ReceivedBy: nurseID, WitnessID: newID(), At: at("1 08:00")})
	h.Append(domain.ControlledStream(school), domain.ShiftCountRecorded{DrugName: "Diazepam",
		Counted: 6, By: nurseID, WitnessID: newID(), At: at("1 15:00")},
		domain.DiscrepancyRecorded{DrugName: "Diazepam", Expected: 7, Counted: 6,
			At: at("1 15:00"), By: nurseID, Context: domain.DiscrepancyAtShiftCount})
	rebuildMatchesLive(t, h)
}
