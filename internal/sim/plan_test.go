package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// fixedNow is the clock of the plans under test: a Thursday.
func fixedNow() time.Time { return time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC) }

func mustPlan(t *testing.T, cfg Config) *Plan {
	t.Helper()
	cfg.Now = fixedNow
	p, err := NewPlan(cfg)
	if err != nil {
		t.Fatalf("NewPlan(%+v): %v", cfg, err)
	}
	return p
}

// render writes every request of p, in order, with its key and body.
func render(t *testing.T, p *Plan) []string {
	t.Helper()
	var out []string
	add := func(steps []step) {
		for _, s := range steps {
			body, err := json.Marshal(s.body)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s %v %s %s", s.by.Email, s.method, s.path, s.target, s.key, body))
		}
	}
	add(p.organisation())
	for _, s := range p.schools {
		for _, st := range s.students {
			add(st.setup)
		}
		add(s.receipts)
	}
	for d := range p.days {
		for _, s := range p.schools {
			add(s.days[d])
		}
		add(p.lanes[d])
	}
	return out
}

func TestPlanIsDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, Schools: 3, Students: 90, Days: 2}
	a, b := render(t, mustPlan(t, cfg)), render(t, mustPlan(t, cfg))
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("request %d differs:\n%s\n%s", i, a[i], b[i])
			}
		}
		t.Fatalf("%d requests, then %d", len(a), len(b))
	}

	cfg.Seed = 43
	if other := render(t, mustPlan(t, cfg)); slices.Equal(a, other) {
		t.Error("seeds 42 and 43 make the same district")
	}
}

// TestStudentsDoNotDependOnDays: the same seed and sizes give the same
// students, with the same conditions and allergies, however many days
// are played.
func TestStudentsDoNotDependOnDays(t *testing.T) {
	short := mustPlan(t, Config{Seed: 5, Schools: 2, Students: 40, Days: 1, LastDay: "2026-11-20"})
	long := mustPlan(t, Config{Seed: 5, Schools: 2, Students: 40, Days: 5, LastDay: "2026-11-20"})
	who := func(st *studentPlan) string {
		var allergens []string
		for _, a := range st.allergies {
			allergens = append(allergens, a.spec.allergen+" "+a.severity)
		}
		return fmt.Sprintln(st.key, st.number, st.given, st.family, st.grade, st.gender,
			st.birth.Format(time.DateOnly), st.conditions, allergens)
	}
	for i, s := range short.schools {
		for k, st := range s.students {
			if a, b := who(st), who(long.schools[i].students[k]); a != b {
				t.Errorf("school %d student %d differs with more days:\n%s%s", i, k, a, b)
			}
		}
	}
}

func TestPasswordsMeetThePolicy(t *testing.T) {
	p := mustPlan(t, Config{Seed: 9, Schools: 4, Students: 80, Days: 1})
	seen := map[string]bool{}
	for _, a := range p.Accounts() {
		if problems := auth.CheckPassword(a.Password, a.Email); len(problems) > 0 {
			t.Errorf("%s: the password breaks the policy: %v", a.Email, problems)
		}
		if seen[a.Email] {
			t.Errorf("%s: two accounts", a.Email)
		}
		seen[a.Email] = true
	}
}

func TestCalendar(t *testing.T) {
	tests := []struct {
		name    string
		lastDay string
		days    int
		want    []string
	}{
		// fixedNow is Thursday 3 December; in the Americas it is that day.
		{"the weekdays before today", "", 3, []string{"2026-11-30", "2026-12-01", "2026-12-02"}},
		{"over a weekend", "2026-11-30", 3, []string{"2026-11-26", "2026-11-27", "2026-11-30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, Config{Seed: 1, Schools: 1, Students: 10, Days: tt.days, LastDay: tt.lastDay})
			if got := p.Days(); !slices.Equal(got, tt.want) {
				t.Errorf("days %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := NewPlan(Config{Seed: 1, Schools: 1, Students: 10, Days: 1, LastDay: "2026-12-03",
		Now: fixedNow}); err == nil || !strings.Contains(err.Error(), "before today") {
		t.Errorf("today as the last day: %v, want a refusal", err)
	}
}

func TestConfigRefusesBadSizes(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no school", Config{Schools: 0, Students: 10, Days: 1}, "schools"},
		{"fewer students than schools", Config{Schools: 3, Students: 2, Days: 1}, "students"},
		{"no day", Config{Schools: 1, Students: 10, Days: 0}, "days"},
		{"too many days", Config{Schools: 1, Students: 10, Days: 61}, "days"},
		{"not a date", Config{Schools: 1, Students: 10, Days: 1, LastDay: "yesterday"}, "last day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate: %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestPrevalence: each condition and allergy is as common as the
// catalogue says, and every school has its minimum.
func TestPrevalence(t *testing.T) {
	p := mustPlan(t, Config{Seed: 3, Schools: 4, Students: 1000, Days: 1})
	count := map[condition]int{}
	allergic := map[string]int{}
	for _, s := range p.schools {
		perSchool := map[condition]int{}
		for _, st := range s.students {
			for c := range st.conditions {
				count[c]++
				perSchool[c]++
			}
			for _, a := range st.allergies {
				allergic[a.spec.allergen]++
			}
			if !slices.Contains(s.level.grades, st.grade) {
				t.Errorf("%s: a student of grade %s", s.name, st.grade)
			}
		}
		for _, c := range conditions {
			if perSchool[c.tag] < c.minPerSchool {
				t.Errorf("%s: %d with %s, want at least %d", s.name, perSchool[c.tag], c.name, c.minPerSchool)
			}
		}
	}
	for _, c := range conditions {
		want := c.prevalence * 1000
		if got := float64(count[c.tag]); got < want*0.8-2 || got > want*1.2+2 {
			t.Errorf("%s: %v of 1000 students, want about %v", c.name, got, want)
		}
	}
	if count[diabetes] < 1 {
		t.Error("no student with type 1 diabetes in a district of 1000")
	}
	for _, a := range allergies {
		want := a.prevalence * 1000
		if got := float64(allergic[a.allergen]); got < want*0.8-2 || got > want*1.2+4 {
			t.Errorf("%s: %v of 1000 students, want about %v", a.allergen, got, want)
		}
	}
}

// TestOrdersAreValid: every order the plan makes is one the medication
// rules accept, and a controlled one of schedule II needs a witness at
// each dose.
func TestOrdersAreValid(t *testing.T) {
	p := mustPlan(t, Config{Seed: 11, Schools: 2, Students: 300, Days: 3})
	for _, s := range p.schools {
		for _, st := range s.students {
			var m domain.Medications
			for _, o := range st.orders {
				r := o.request
				events, err := m.NewOrder(domain.OrderMedication{OrderID: r.OrderID, DrugName: r.DrugName,
					Ingredients: r.Ingredients, Strength: r.Strength, DoseAmount: r.DoseAmount,
					DoseUnit: r.DoseUnit, Route: r.Route, Schedule: r.Schedule, TimeCritical: r.TimeCritical,
					StartOn: r.StartOn, EndOn: r.EndOn, Prescriber: r.Prescriber, ConsentOn: r.ConsentOn,
					ControlledSchedule: r.ControlledSchedule, OrderedBy: "7d4f2c1e-8a1b-4c3d-9e2f-0a1b2c3d4e5f"})
				if err != nil {
					t.Fatalf("%s: %v", r.DrugName, err)
				}
				ordered := events[0].(domain.MedicationOrdered)
				if ordered.WitnessRequired != needsWitness(o.spec) {
					t.Errorf("%s: witness required %v", r.DrugName, ordered.WitnessRequired)
				}
			}
		}
	}
}

// TestEveryBlockedKindOnTheFirstDay: on the first day each school makes
// a duplicate and an early attempt, and the first school an attempt
// against an allergy; every planned refusal names the check it expects.
func TestEveryBlockedKindOnTheFirstDay(t *testing.T) {
	p := mustPlan(t, Config{Seed: 1, Schools: 2, Students: 60, Days: 3})
	checks := map[string]int{}
	for _, s := range p.schools {
		for _, st := range s.days[0] {
			if st.expect.check != "" {
				checks[st.expect.check]++
				if _, ok := st.body.(readapi.AdministrationRequest); !ok {
					t.Errorf("%s: a refusal of %T", st.path, st.body)
				}
			}
		}
	}
	for _, c := range []string{domain.CheckDuplicate, domain.CheckRightTime, domain.CheckAllergy} {
		if checks[c] == 0 {
			t.Errorf("no attempt blocked by %s on the first day: %v", c, checks)
		}
	}
}

// TestStockNeverRunsOut: the count-backs the days plan never go below
// zero, and every controlled dose names what remains.
func TestStockNeverRunsOut(t *testing.T) {
	p := mustPlan(t, Config{Seed: 2, Schools: 3, Students: 600, Days: 10})
	for _, s := range p.schools {
		for d := range p.days {
			for _, st := range s.days[d] {
				r, ok := st.body.(readapi.AdministrationRequest)
				if !ok || !strings.HasSuffix(st.path, "/administrations") {
					continue
				}
				controlled := r.DrugName == methylphenidate.drug || r.DrugName == amphetamine.drug ||
					r.DrugName == midazolam.drug
				switch {
				case controlled && (r.RemainingCounted == nil || *r.RemainingCounted < 0):
					t.Fatalf("%s day %d: %s with remaining %v", s.name, d, r.DrugName, r.RemainingCounted)
				case controlled != (r.RemainingCounted != nil):
					t.Errorf("%s: remaining counted %v", r.DrugName, r.RemainingCounted)
				}
			}
		}
	}
}

func TestNPIHasItsCheckDigit(t *testing.T) {
	src := sourceOf(1, "npi")
	for range 100 {
		n := npi(src)
		sum := 0
		for i, c := range "80840" + n {
			d := int(c - '0')
			if (len("80840"+n)-i)%2 == 0 {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
		}
		if len(n) != 10 || sum%10 != 0 {
			t.Fatalf("%s: not an NPI", n)
		}
	}
}
