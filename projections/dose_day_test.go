package projections_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// TestDoseStateAt computes the state of the 12:00 dose of the 2nd, and
// of the 23:45 dose of the 1st, at several clock times.
func TestDoseStateAt(t *testing.T) {
	const hour = time.Hour
	noon, lateEvening := at("2 12:00"), at("1 23:45")
	tests := []struct {
		name     string
		recorded domain.AdministrationKind
		slot     time.Time
		window   time.Duration
		now      string
		want     projections.DoseState
	}{
		{"given", domain.AdministrationGiven, noon, hour, "2 12:10", projections.DoseGiven},
		{"given, a day later", domain.AdministrationGiven, noon, hour, "3 09:00", projections.DoseGiven},
		{"refused", domain.AdministrationRefused, noon, hour, "2 12:10", projections.DoseRefused},
		{"held", domain.AdministrationHeld, noon, hour, "2 16:00", projections.DoseHeld},
		{"missed as recorded, window open", domain.AdministrationMissed, noon, hour, "2 12:30",
			projections.DoseMissed},
		{"before the window opens", "", noon, hour, "2 07:00", projections.DoseDue},
		{"in the window", "", noon, hour, "2 11:30", projections.DoseDue},
		{"as the window closes", "", noon, hour, "2 13:00", projections.DoseDue},
		{"a minute after it closed", "", noon, hour, "2 13:01", projections.DoseLate},
		{"late in the evening", "", noon, hour, "2 23:59", projections.DoseLate},
		{"the next day", "", noon, hour, "3 00:00", projections.DoseMissed},
		{"a blocked attempt accounts for nothing", domain.AdministrationBlocked, noon, hour, "2 13:30",
			projections.DoseLate},
		{"time critical, in its window", "", noon, 30 * time.Minute, "2 12:30", projections.DoseDue},
		{"time critical, past its window", "", noon, 30 * time.Minute, "2 12:31", projections.DoseLate},
		{"a past date", "", noon, hour, "5 08:00", projections.DoseMissed},
		{"yesterday's late dose, window open past midnight", "", lateEvening, hour, "2 00:30",
			projections.DoseDue},
		{"yesterday's late dose, window closed", "", lateEvening, hour, "2 00:46",
			projections.DoseMissed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := projections.DoseStateAt(tt.recorded, tt.slot, tt.window, chicago, at(tt.now))
			if got != tt.want {
				t.Errorf("at %s: got %s, want %s", tt.now, got, tt.want)
			}
		})
	}
}

// TestDosesOfDay lists school A's doses of the 2nd and the 1st at several
// times, and walks the list page by page.
func TestDosesOfDay(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, medications, testDosesOfDay)
}

func testDosesOfDay(t *testing.T, h *projectiontest.Harness) {
	w := newMedicationWorld(h)
	h.Sync()
	day := func(t *testing.T, date, now string, limit int) projections.DoseDay {
		t.Helper()
		d, err := projections.DosesOfDay(t.Context(), h.Pool, projections.DoseDayQuery{
			SchoolID: w.schoolA, Date: date, Now: at(now), Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	tests := []struct {
		name, date, now string
		want            []string
	}{
		{"the 2nd at 12:45", "2026-03-02", "2 12:45", []string{
			"08:00 Amoxicillin given", "11:30 Insulin held",
			"12:00 Amoxicillin refused blocked 1", "15:00 Amoxicillin due"}},
		{"the 2nd at 16:30", "", "2 16:30", []string{
			"08:00 Amoxicillin given", "11:30 Insulin held",
			"12:00 Amoxicillin refused blocked 1", "15:00 Amoxicillin late"}},
		{"the 1st, seen on the 2nd", "2026-03-01", "2 09:00", []string{
			"08:00 Amoxicillin missed", "11:30 Insulin missed",
			"12:00 Amoxicillin missed", "15:00 Amoxicillin missed"}},
		{"the 1st at 11:40", "2026-03-01", "1 11:40", []string{
			"08:00 Amoxicillin missed", "11:30 Insulin due",
			"12:00 Amoxicillin due", "15:00 Amoxicillin due"}},
		{"the 1st at 12:01: the time-critical window is 30 minutes", "2026-03-01", "1 12:01",
			[]string{"08:00 Amoxicillin missed", "11:30 Insulin late",
				"12:00 Amoxicillin due", "15:00 Amoxicillin due"}},
		{"before the orders start", "2026-02-28", "2 09:00", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := day(t, tt.date, tt.now, 100)
			if got := slotNames(d); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, s := range d.Scheduled {
				if s.StudentID != w.ada {
					t.Errorf("a dose of another student than Ada's: %+v", s)
				}
			}
		})
	}

	t.Run("as needed", func(t *testing.T) {
		d := day(t, "2026-03-02", "2 15:00", 100)
		if len(d.AsNeeded) != 1 {
			t.Fatalf("as needed: %+v", d.AsNeeded)
		}
		a := d.AsNeeded[0]
		if a.OrderID != w.inhaler.OrderID || a.StudentID != w.ada || a.BlockedAttempts != 1 ||
			len(a.Given) != 2 || !a.Given[0].Equal(at("2 09:00")) || !a.Given[1].Equal(at("2 14:00")) {
			t.Errorf("as needed: %+v", a)
		}
		if d := day(t, "2026-03-03", "3 15:00", 100); len(d.AsNeeded) != 1 || len(d.AsNeeded[0].Given) != 0 {
			t.Errorf("as needed on the 3rd: %+v", d.AsNeeded)
		}
	})

	t.Run("the window and the record", func(t *testing.T) {
		d := day(t, "2026-03-02", "2 12:45", 100)
		insulin, amox := d.Scheduled[1], d.Scheduled[0]
		if !insulin.WindowOpens.Equal(at("2 11:00")) || !insulin.WindowCloses.Equal(at("2 12:00")) ||
			!insulin.TimeCritical {
			t.Errorf("the time-critical window: %+v", insulin)
		}
		if !amox.WindowOpens.Equal(at("2 07:00")) || !amox.WindowCloses.Equal(at("2 09:00")) ||
			amox.AttemptID != w.adaGiven.(domain.MedicationAdministered).AttemptID ||
			amox.RecordedAt == nil || !amox.RecordedAt.Equal(at("2 08:10")) {
			t.Errorf("the dose given: %+v", amox)
		}
	})

	t.Run("a transferred student's doses follow him", func(t *testing.T) {
		d, err := projections.DosesOfDay(t.Context(), h.Pool, projections.DoseDayQuery{
			SchoolID: w.schoolB, Date: "2026-03-02", Now: at("2 13:30")})
		if err != nil {
			t.Fatal(err)
		}
		if got := slotNames(d); !slices.Equal(got, []string{"12:00 Methylphenidate given"}) ||
			d.Scheduled[0].StudentID != w.ben {
			t.Errorf("school B on the 2nd: %q", got)
		}
		d, _ = projections.DosesOfDay(t.Context(), h.Pool, projections.DoseDayQuery{
			SchoolID: w.schoolB, Date: "2026-03-03", Now: at("3 13:30")})
		if len(d.Scheduled) != 0 {
			t.Errorf("school B on the 3rd, the order discontinued at 10:00: %q", slotNames(d))
		}
	})

	t.Run("pages", func(t *testing.T) {
		all := day(t, "2026-03-02", "2 12:45", 100)
		for _, limit := range []int{1, 2, 3, 4, 5} {
			var scheduled, asNeeded []string
			q := projections.DoseDayQuery{SchoolID: w.schoolA, Date: "2026-03-02",
				Now: at("2 12:45"), Limit: limit}
			for pages := 0; ; pages++ {
				page, err := projections.DosesOfDay(t.Context(), h.Pool, q)
				if err != nil {
					t.Fatal(err)
				}
				if n := len(page.Scheduled) + len(page.AsNeeded); n > limit || pages > 10 {
					t.Fatalf("limit %d: a page of %d", limit, n)
				}
				scheduled = append(scheduled, slotNames(page)...)
				for _, a := range page.AsNeeded {
					asNeeded = append(asNeeded, a.OrderID)
				}
				if page.Next == "" {
					break
				}
				q.After = page.Next
			}
			if !slices.Equal(scheduled, slotNames(all)) || !slices.Equal(asNeeded, []string{w.inhaler.OrderID}) {
				t.Errorf("limit %d: walked %q and %q", limit, scheduled, asNeeded)
			}
		}
		_, err := projections.DosesOfDay(t.Context(), h.Pool, projections.DoseDayQuery{
			SchoolID: w.schoolA, Now: at("2 12:45"), After: "bm90IGEgY3Vyc29y"})
		if !errors.Is(err, projections.ErrInvalidCursor) {
			t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
		}
	})
}

// slotNames names each scheduled dose by its time, drug and state.
func slotNames(d projections.DoseDay) []string {
	var out []string
	for _, s := range d.Scheduled {
		name := fmt.Sprintf("%s %s %s", s.Time, s.DrugName, s.State)
		if s.BlockedAttempts > 0 {
			name += fmt.Sprintf(" blocked %d", s.BlockedAttempts)
		}
		out = append(out, name)
	}
	return out
}

// TestDosesOfDayWithdrawn: a withdrawn student's doses leave the list
// from the day of the withdrawal, unless something was recorded.
func TestDosesOfDayWithdrawn(t *testing.T) {
	projectiontest.Each(t, projections.Config{}, medications, func(t *testing.T, h *projectiontest.Harness) {
		school, cy := newID(), newID()
		order := fixedOrder("Cetirizine", false, "09:00", "13:00")
		stream := domain.StudentStream(cy)
		h.Append(stream, enrolment(cy, school, "Cy", "Young", "S-3", "5"), order)
		h.Append(stream, given(order, at("3 09:00"), at("3 09:05")),
			domain.StudentWithdrawn{On: "2026-03-03", Reason: "moved"})
		h.Sync()

		for date, want := range map[string][]string{
			"2026-03-02": {"09:00 Cetirizine missed", "13:00 Cetirizine missed"},
			"2026-03-03": {"09:00 Cetirizine given"},
			"2026-03-04": nil,
		} {
			d, err := projections.DosesOfDay(t.Context(), h.Pool, projections.DoseDayQuery{
				SchoolID: school, Date: date, Now: at("5 08:00")})
			if err != nil {
				t.Fatal(err)
			}
			if got := slotNames(d); !slices.Equal(got, want) {
				t.Errorf("%s: got %q, want %q", date, got, want)
			}
		}
	})
}
