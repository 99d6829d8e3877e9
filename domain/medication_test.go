package domain

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The identifiers of the medication tests.
const (
	rxStudent      = "5d0c7e1a-0000-4000-8000-000000000001"
	rxOtherStudent = "5d0c7e1a-0000-4000-8000-000000000002"
	rxOrderID      = "0d0e0a00-0000-4000-8000-000000000001"
	rxOrderID2     = "0d0e0a00-0000-4000-8000-000000000002"
	rxNurse        = "a0a0a0a0-0000-4000-8000-000000000001"
	rxWitness      = "a0a0a0a0-0000-4000-8000-000000000002"
	rxEntry        = "e0e0e0e0-0000-4000-8000-000000000001"
	rxEntry2       = "e0e0e0e0-0000-4000-8000-000000000002"
	rxNPI          = "1234567893" // the example NPI CMS publishes
)

// rxAttempt returns the id of the n-th attempt of a test.
func rxAttempt(n int) string {
	return NewIDFrom([16]byte{0xa7, 14: byte(n >> 8), 15: byte(n)})
}

// rxNewYork is the zone of the tests' school.
var rxNewYork = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// rxAt returns a local time of the tests' school.
func rxAt(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, rxNewYork)
}

// rxPRNOrdered is an as-needed order with every field of that kind set;
// the order among moreEvents has fixed times.
var rxPRNOrdered = MedicationOrdered{
	OrderID:     rxOrderID2,
	DrugName:    "Ibuprofen 100 mg/5 mL suspension",
	Ingredients: []string{"ibuprofen"},
	Strength:    "100 mg/5 mL",
	DoseAmount:  "7.5",
	DoseUnit:    "mL",
	Route:       "oral",
	Schedule: DoseSchedule{
		Kind: SchedulePRN, TimeZone: "America/Chicago",
		MinIntervalMinutes: 360, MaxPerDay: 3, Indication: "pain",
	},
	StartOn:   "2026-01-05",
	EndOn:     "2026-06-19",
	ConsentOn: "2026-01-02",
	OrderedBy: rxNurse,
}

func TestPRNOrderRoundTrip(t *testing.T) {
	if got := roundTrip(t, []Event{rxPRNOrdered})[0]; !reflect.DeepEqual(got, rxPRNOrdered) {
		t.Errorf("decoded %#v, want %#v", got, rxPRNOrdered)
	}
}

func init() {
	moreEvents = append(moreEvents, []Event{
		MedicationOrdered{
			OrderID:     rxOrderID,
			DrugName:    "Methylphenidate 10 mg tablet",
			RxNorm:      "1091170",
			NDC:         "0406-1121-01",
			Ingredients: []string{"methylphenidate hydrochloride"},
			DrugClasses: []string{"stimulant"},
			Strength:    "10 mg",
			DoseAmount:  "1",
			DoseUnit:    "tablet",
			Route:       "oral",
			Schedule: DoseSchedule{
				Kind: ScheduleFixed, Times: []string{"08:00", "12:30"},
				TimeZone: "America/New_York",
			},
			TimeCritical:       true,
			StartOn:            "2026-01-05",
			EndOn:              "2026-06-19",
			Prescriber:         Prescriber{Name: "Dr. Ada Reyes", NPI: rxNPI},
			ConsentOn:          "2026-01-02",
			ControlledSchedule: "II",
			WitnessRequired:    true,
			OrderedBy:          rxNurse,
		},
		OrderDiscontinued{OrderID: rxOrderID, Reason: "prescriber stopped it", At: t0, By: rxNurse},
	})
}

// rxOrderCommand returns a valid order: amoxicillin at 08:00 and 12:30 in
// New York, through the spring and autumn changes of daylight saving time.
func rxOrderCommand() OrderMedication {
	return OrderMedication{
		OrderID:     rxOrderID,
		DrugName:    "Amoxicillin 250 mg/5 mL suspension",
		Ingredients: []string{"Amoxicillin"},
		Strength:    "250 mg/5 mL",
		DoseAmount:  "5",
		DoseUnit:    "mL",
		Route:       "oral",
		Schedule: DoseSchedule{
			Kind: ScheduleFixed, Times: []string{"08:00", "12:30"},
			TimeZone: "America/New_York",
		},
		StartOn:    "2026-01-05",
		EndOn:      "2026-12-18",
		Prescriber: Prescriber{Name: "Dr. Ada Reyes", NPI: rxNPI},
		ConsentOn:  "2026-01-02",
		OrderedBy:  rxNurse,
	}
}

// rxPRNCommand returns a valid as-needed order: ibuprofen, every 4 hours
// at most, twice a day at most.
func rxPRNCommand() OrderMedication {
	cmd := rxOrderCommand()
	cmd.OrderID = rxOrderID2
	cmd.DrugName = "Ibuprofen 200 mg tablet"
	cmd.Ingredients = []string{"ibuprofen"}
	cmd.Strength = "200 mg"
	cmd.DoseAmount = "1"
	cmd.DoseUnit = "tablet"
	cmd.Schedule = DoseSchedule{
		Kind: SchedulePRN, TimeZone: "America/New_York",
		MinIntervalMinutes: 240, MaxPerDay: 2, Indication: "headache",
	}
	return cmd
}

// rxOrdered returns the event of a valid order command.
func rxOrdered(t *testing.T, cmd OrderMedication) MedicationOrdered {
	t.Helper()
	var m Medications
	events, err := m.NewOrder(cmd)
	if err != nil {
		t.Fatalf("NewOrder: %v", err)
	}
	return events[0].(MedicationOrdered)
}

// rxChart returns a chart with events applied.
func rxChart(t *testing.T, events ...Event) *Medications {
	t.Helper()
	m := &Medications{}
	for _, e := range events {
		ok, err := m.Apply(e)
		if !ok || err != nil {
			t.Fatalf("apply %s = %v, %v; want true, nil", e.EventType(), ok, err)
		}
	}
	return m
}

func TestNewOrder(t *testing.T) {
	cases := []struct {
		name   string
		change func(*OrderMedication)
		want   []string
	}{
		{"valid", func(*OrderMedication) {}, nil},
		{"valid as needed", func(c *OrderMedication) { *c = rxPRNCommand() }, nil},
		{"optional codes set", func(c *OrderMedication) {
			c.RxNorm = "308182"
			c.NDC = "00093-4155-73"
		}, nil},
		{"ndc of 10 digits", func(c *OrderMedication) { c.NDC = "0093415573" }, nil},
		{"ndc dashed 4-4-2", func(c *OrderMedication) { c.NDC = "0093-4155-73" }, nil},
		{"ndc of 9 digits", func(c *OrderMedication) { c.NDC = "009341557" }, []string{"invalid ndc"}},
		{"ndc dashed badly", func(c *OrderMedication) { c.NDC = "009-34155-73" },
			[]string{"invalid ndc"}},
		{"ndc with letters", func(c *OrderMedication) { c.NDC = "0093-4155-7X" },
			[]string{"invalid ndc"}},
		{"rxnorm not digits", func(c *OrderMedication) { c.RxNorm = "RX308182" },
			[]string{"invalid rxnorm"}},
		{"order_id missing", func(c *OrderMedication) { c.OrderID = "" }, []string{"invalid order_id"}},
		{"drug_name blank", func(c *OrderMedication) { c.DrugName = " " },
			[]string{"invalid drug_name"}},
		{"ingredients missing", func(c *OrderMedication) { c.Ingredients = nil },
			[]string{"invalid ingredients"}},
		{"ingredient blank", func(c *OrderMedication) { c.Ingredients = []string{"amoxicillin", " "} },
			[]string{"invalid ingredients[1]"}},
		{"ingredient repeated in another case", func(c *OrderMedication) {
			c.Ingredients = []string{"amoxicillin", "AMOXICILLIN"}
		}, []string{"invalid ingredients[1]"}},
		{"drug class repeated", func(c *OrderMedication) { c.DrugClasses = []string{"x", "x"} },
			[]string{"invalid drug_classes[1]"}},
		{"strength missing", func(c *OrderMedication) { c.Strength = "" },
			[]string{"invalid strength"}},
		{"dose zero", func(c *OrderMedication) { c.DoseAmount = "0.0" },
			[]string{"invalid dose_amount"}},
		{"dose negative", func(c *OrderMedication) { c.DoseAmount = "-5" },
			[]string{"invalid dose_amount"}},
		{"dose with comma", func(c *OrderMedication) { c.DoseAmount = "2,5" },
			[]string{"invalid dose_amount"}},
		{"dose unit unknown", func(c *OrderMedication) { c.DoseUnit = "teaspoon" },
			[]string{"invalid dose_unit"}},
		{"route unknown", func(c *OrderMedication) { c.Route = "by mouth" }, []string{"invalid route"}},
		{"schedule kind unknown", func(c *OrderMedication) { c.Schedule.Kind = "daily" },
			[]string{"invalid schedule.kind"}},
		{"time zone missing", func(c *OrderMedication) { c.Schedule.TimeZone = "" },
			[]string{"invalid schedule.time_zone"}},
		{"time zone Local", func(c *OrderMedication) { c.Schedule.TimeZone = "Local" },
			[]string{"invalid schedule.time_zone"}},
		{"time zone unknown", func(c *OrderMedication) { c.Schedule.TimeZone = "America/Gotham" },
			[]string{"invalid schedule.time_zone"}},
		{"fixed without times", func(c *OrderMedication) { c.Schedule.Times = nil },
			[]string{"invalid schedule.times"}},
		{"fixed time malformed", func(c *OrderMedication) { c.Schedule.Times = []string{"8:00", "24:00"} },
			[]string{"invalid schedule.times[0]", "invalid schedule.times[1]"}},
		{"fixed time repeated", func(c *OrderMedication) { c.Schedule.Times = []string{"08:00", "08:00"} },
			[]string{"invalid schedule.times[1]"}},
		{"fixed with as-needed fields", func(c *OrderMedication) {
			c.Schedule.MinIntervalMinutes = 60
			c.Schedule.MaxPerDay = 2
			c.Schedule.Indication = "pain"
		}, []string{
			"invalid schedule.min_interval_minutes", "invalid schedule.max_per_day",
			"invalid schedule.indication",
		}},
		{"as needed with times, short interval, no maximum, no indication", func(c *OrderMedication) {
			*c = rxPRNCommand()
			c.Schedule.Times = []string{"08:00"}
			c.Schedule.MinIntervalMinutes = 14
			c.Schedule.MaxPerDay = 0
			c.Schedule.Indication = ""
		}, []string{
			"invalid schedule.indication", "invalid schedule.times",
			"invalid schedule.min_interval_minutes", "invalid schedule.max_per_day",
		}},
		{"dates malformed", func(c *OrderMedication) {
			c.StartOn = "2026-1-5"
			c.EndOn = "12/18/2026"
			c.ConsentOn = ""
		}, []string{"invalid start_on", "invalid end_on", "invalid consent_on"}},
		{"end before start", func(c *OrderMedication) { c.EndOn = "2026-01-04" },
			[]string{"invalid end_on"}},
		{"end on start", func(c *OrderMedication) { c.EndOn = c.StartOn }, nil},
		{"prescriber missing", func(c *OrderMedication) { c.Prescriber = Prescriber{} },
			[]string{"invalid prescriber.name"}},
		{"npi check digit wrong", func(c *OrderMedication) { c.Prescriber.NPI = "1234567890" },
			[]string{"invalid prescriber.npi"}},
		{"npi too short", func(c *OrderMedication) { c.Prescriber.NPI = "123456789" },
			[]string{"invalid prescriber.npi"}},
		{"controlled schedule unknown", func(c *OrderMedication) { c.ControlledSchedule = "VI" },
			[]string{"invalid controlled_schedule"}},
		{"ordered_by missing", func(c *OrderMedication) { c.OrderedBy = "" },
			[]string{"invalid ordered_by"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := rxOrderCommand()
			c.change(&cmd)
			var m Medications
			events, err := m.NewOrder(cmd)
			checkRefusals(t, err, c.want, "")
			wantN := 1
			if len(c.want) > 0 {
				wantN = 0
			}
			if len(events) != wantN {
				t.Errorf("got %d events, want %d", len(events), wantN)
			}
		})
	}
}

func TestNewOrderNormalises(t *testing.T) {
	cmd := rxOrderCommand()
	cmd.DrugName = "  Amoxicillin 250 mg/5 mL suspension "
	cmd.Ingredients = []string{" Amoxicillin  Trihydrate "}
	cmd.DrugClasses = []string{"Penicillins"}
	cmd.DoseAmount = "05.00"
	cmd.DoseUnit = "ML"
	cmd.Route = "Oral"
	cmd.ControlledSchedule = "III"
	cmd.WitnessRequired = false

	got := rxOrdered(t, cmd)
	checks := []struct {
		field     string
		got, want any
	}{
		{"drug_name", got.DrugName, "Amoxicillin 250 mg/5 mL suspension"},
		{"ingredients", got.Ingredients, []string{"amoxicillin trihydrate"}},
		{"drug_classes", got.DrugClasses, []string{"penicillins"}},
		{"dose_amount", got.DoseAmount, "5"},
		{"dose_unit", got.DoseUnit, "mL"},
		{"route", got.Route, "oral"},
		{"witness_required", got.WitnessRequired, true},
	}
	for _, c := range checks {
		if !equalAny(c.got, c.want) {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

func TestWitnessForcedForSchedulesIIAndIII(t *testing.T) {
	cases := []struct {
		schedule string
		asked    bool
		want     bool
	}{
		{"", false, false},
		{"", true, true},
		{"II", false, true},
		{"III", false, true},
		{"IV", false, false},
		{"V", true, true},
	}
	for _, c := range cases {
		name := "schedule " + c.schedule + ", not asked"
		if c.asked {
			name = "schedule " + c.schedule + ", asked"
		}
		t.Run(name, func(t *testing.T) {
			cmd := rxOrderCommand()
			cmd.ControlledSchedule = c.schedule
			cmd.WitnessRequired = c.asked
			if got := rxOrdered(t, cmd).WitnessRequired; got != c.want {
				t.Errorf("witness_required = %v, want %v", got, c.want)
			}
		})
	}
}

func TestNewOrderConflict(t *testing.T) {
	m := rxChart(t, rxOrdered(t, rxOrderCommand()))
	_, err := m.NewOrder(rxOrderCommand())
	checkRefusals(t, err, []string{"conflict order_id"}, "")
}

func TestCanonicalDecimal(t *testing.T) {
	cases := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"5", "5", true},
		{"2.5", "2.5", true},
		{"2.50", "2.5", true},
		{"002.500", "2.5", true},
		{".5", "0.5", true},
		{"10", "10", true},
		{"0", "0", true},
		{"123456.1234", "123456.1234", true},
		{"1234567", "", false},
		{"1.23456", "", false},
		{"", "", false},
		{".", "", false},
		{"5.", "", false},
		{"1e3", "", false},
		{"+5", "", false},
		{"1.2.3", "", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := canonicalDecimal(c.in)
			if ok != c.wantOK || ok && got != c.want {
				t.Errorf("canonicalDecimal(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestValidNPI(t *testing.T) {
	cases := []struct {
		npi  string
		want bool
	}{
		{"1234567893", true},
		{"1245319599", true},
		{"1234567890", false},
		{"123456789", false},
		{"12345678930", false},
		{"123456789X", false},
	}
	for _, c := range cases {
		t.Run(c.npi, func(t *testing.T) {
			if got := validNPI(c.npi); got != c.want {
				t.Errorf("validNPI(%q) = %v, want %v", c.npi, got, c.want)
			}
		})
	}
}

func TestDiscontinue(t *testing.T) {
	ordered := rxOrdered(t, rxOrderCommand())
	stopped := OrderDiscontinued{OrderID: rxOrderID, Reason: "done", At: t0, By: rxNurse}
	cases := []struct {
		name    string
		history []Event
		cmd     DiscontinueOrder
		want    []string
		wantN   int
	}{
		{"active order", []Event{ordered},
			DiscontinueOrder{OrderID: rxOrderID, Reason: " course finished ", By: rxNurse}, nil, 1},
		{"already discontinued", []Event{ordered, stopped},
			DiscontinueOrder{OrderID: rxOrderID, Reason: "again", By: rxNurse}, nil, 0},
		{"unknown order", []Event{ordered},
			DiscontinueOrder{OrderID: rxOrderID2, Reason: "x", By: rxNurse}, []string{"not_found order_id"}, 0},
		{"every field wrong", nil, DiscontinueOrder{OrderID: "x", By: "y"},
			[]string{"invalid order_id", "invalid reason", "invalid by"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := rxChart(t, c.history...)
			events, err := m.Discontinue(c.cmd, t0)
			checkRefusals(t, err, c.want, "")
			if len(events) != c.wantN {
				t.Fatalf("got %d events, want %d", len(events), c.wantN)
			}
			if c.wantN == 0 {
				return
			}
			want := OrderDiscontinued{OrderID: rxOrderID, Reason: "course finished", At: t0, By: rxNurse}
			if events[0] != want {
				t.Errorf("event = %#v, want %#v", events[0], want)
			}
		})
	}
}

func TestMedicationsApply(t *testing.T) {
	ordered := rxOrdered(t, rxOrderCommand())
	given := MedicationAdministered{AttemptID: rxAttempt(1), OrderID: rxOrderID2, GivenAt: t0}
	cases := []struct {
		name    string
		history []Event
		event   Event
		wantOK  bool
		wantErr error
	}{
		{"another aggregate's event", nil, UserUnlocked{By: adminID}, false, nil},
		{"an order", nil, ordered, true, nil},
		{"an order id twice", []Event{ordered}, ordered, true, ErrUnexpectedEvent},
		{"discontinuing an unknown order", nil,
			OrderDiscontinued{OrderID: rxOrderID}, true, ErrUnexpectedEvent},
		{"a dose of an unknown order", []Event{ordered}, given, true, ErrUnexpectedEvent},
		{"a blocked attempt on an unknown order", []Event{ordered},
			MedicationAdministrationBlocked{AttemptID: rxAttempt(1), OrderID: rxOrderID2}, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := rxChart(t, c.history...)
			ok, err := m.Apply(c.event)
			if ok != c.wantOK || !errors.Is(err, c.wantErr) {
				t.Errorf("Apply = %v, %v; want %v, %v", ok, err, c.wantOK, c.wantErr)
			}
		})
	}
}

func TestOrderQueries(t *testing.T) {
	cmd := rxOrderCommand()
	cmd.DrugClasses = []string{"NSAIDs", "antibiotic"}
	m := rxChart(t, rxOrdered(t, cmd), rxOrdered(t, rxPRNCommand()))

	o, ok := m.Order(rxOrderID)
	if !ok {
		t.Fatal("Order: not found")
	}
	if want := []string{"nsaid", "antibiotic", "penicillin"}; !slices.Equal(o.Classes(), want) {
		t.Errorf("Classes() = %q, want %q", o.Classes(), want)
	}

	o.Ingredients[0] = "changed"
	if again, _ := m.Order(rxOrderID); again.Ingredients[0] != "amoxicillin" {
		t.Errorf("Order returned the chart's own slice")
	}
	if _, ok := m.Order(rxStudent); ok {
		t.Errorf("Order(unknown) found one")
	}

	var ids []string
	for _, o := range m.Orders() {
		ids = append(ids, o.ID)
	}
	if want := []string{rxOrderID, rxOrderID2}; !slices.Equal(ids, want) {
		t.Errorf("Orders() = %q, want %q", ids, want)
	}
}

func TestRefusalsQuoteNoValue(t *testing.T) {
	cmd := rxOrderCommand()
	cmd.DrugName = strings.Repeat("Secretdrug", 30)
	var m Medications
	_, err := m.NewOrder(cmd)
	checkRefusals(t, err, []string{"invalid drug_name"}, "Secretdrug")
}
