package domain

import (
	"reflect"
	"testing"
	"time"
)

// bornOn changes an enrolment to a student born on birth, and enrolled
// that day.
func bornOn(birth Date) func(*EnrollStudent) {
	return func(c *EnrollStudent) { c.BirthDate, c.EnrolledOn = birth, birth }
}

func TestVitalFlags(t *testing.T) {
	const (
		neonate       = "2026-11-20" // 13 days old at t0
		infant        = "2026-06-03" // 6 months
		toddler       = "2024-10-01" // 2 years
		preschooler   = "2022-06-01" // 4 years
		schoolAge     = "2019-03-01" // 7 years
		preadolescent = "2015-06-01" // 11 years
		adolescent    = "2011-09-01" // 15 years
		adult         = "2007-01-01" // 19 years
	)
	flag := func(m VitalMeasure, value, low, high float64) VitalFlag {
		return VitalFlag{Measure: m, Value: value, Low: low, High: high}
	}
	cases := []struct {
		name   string
		birth  Date
		vitals RecordVitals
		want   []VitalFlag
	}{
		{"infant, heart rate 150", infant, RecordVitals{HeartRate: refOf(150)}, nil},
		{
			"15 years old, heart rate 150", adolescent, RecordVitals{HeartRate: refOf(150)},
			[]VitalFlag{flag(MeasureHeartRate, 150, 60, 100)},
		},
		{"neonate, heart rate 200", neonate, RecordVitals{HeartRate: refOf(200)}, nil},
		{
			"infant, heart rate 200", infant, RecordVitals{HeartRate: refOf(200)},
			[]VitalFlag{flag(MeasureHeartRate, 200, 100, 180)},
		},
		{
			"toddler, respiratory rate 40", toddler, RecordVitals{RespiratoryRate: refOf(40)},
			[]VitalFlag{flag(MeasureRespiratoryRate, 40, 22, 37)},
		},
		{"infant, respiratory rate 40", infant, RecordVitals{RespiratoryRate: refOf(40)}, nil},
		{
			"preschooler, blood pressure 88/50", preschooler,
			RecordVitals{Systolic: refOf(88), Diastolic: refOf(50)},
			[]VitalFlag{flag(MeasureSystolic, 88, 89, 112)},
		},
		{
			"school age, blood pressure 100/60", schoolAge,
			RecordVitals{Systolic: refOf(100), Diastolic: refOf(60)}, nil,
		},
		{
			"preadolescent, blood pressure 100/60", preadolescent,
			RecordVitals{Systolic: refOf(100), Diastolic: refOf(60)},
			[]VitalFlag{flag(MeasureSystolic, 100, 102, 120), flag(MeasureDiastolic, 60, 61, 80)},
		},
		{
			"adolescent, blood pressure 140/90", adolescent,
			RecordVitals{Systolic: refOf(140), Diastolic: refOf(90)},
			[]VitalFlag{flag(MeasureSystolic, 140, 110, 131), flag(MeasureDiastolic, 90, 64, 83)},
		},
		{
			"19 years old, heart rate 55", adult, RecordVitals{HeartRate: refOf(55)},
			[]VitalFlag{flag(MeasureHeartRate, 55, 60, 100)},
		},
		{
			"temperature 38.5", schoolAge, RecordVitals{TemperatureC: refOf(38.5)},
			[]VitalFlag{flag(MeasureTemperature, 38.5, 36.1, 38)},
		},
		{"temperature 38.0", schoolAge, RecordVitals{TemperatureC: refOf(38.0)}, nil},
		{
			"temperature 36.0", infant, RecordVitals{TemperatureC: refOf(36.0)},
			[]VitalFlag{flag(MeasureTemperature, 36, 36.1, 38)},
		},
		{
			"SpO2 92", adolescent, RecordVitals{SpO2: refOf(92)},
			[]VitalFlag{flag(MeasureSpO2, 92, 95, 100)},
		},
		{"SpO2 95", adolescent, RecordVitals{SpO2: refOf(95)}, nil},
		{"pain 6 is not flagged", adolescent, RecordVitals{Pain: refOf(6)}, nil},
		{"pain 7, severe, is flagged", adolescent, RecordVitals{Pain: refOf(7)},
			[]VitalFlag{flag(MeasurePain, 7, 0, 6)}},
		{"pain 10 is flagged whatever the age", infant, RecordVitals{Pain: refOf(10)},
			[]VitalFlag{flag(MeasurePain, 10, 0, 6)}},
		{
			"several, in the order of the fields", adolescent,
			RecordVitals{SpO2: refOf(90), HeartRate: refOf(130), TemperatureC: refOf(39.2)},
			[]VitalFlag{
				flag(MeasureTemperature, 39.2, 36.1, 38),
				flag(MeasureHeartRate, 130, 60, 100),
				flag(MeasureSpO2, 90, 95, 100),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := chartStudent(t, bornOn(c.birth))
			cmd := c.vitals
			cmd.EntryID, cmd.MeasuredAt = chartVitalsID, t0.Add(-time.Minute)
			events, err := s.RecordVitals(cmd, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := events[0].(VitalsRecorded).Flags; !reflect.DeepEqual(got, c.want) {
				t.Errorf("flags = %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestVitalFlagsAgeAtMeasurement(t *testing.T) {
	// Born 2025-12-10: 11 months old at t0, an infant until 2026-12-10.
	s, _ := chartStudent(t, bornOn("2025-12-10"))
	cases := []struct {
		name string
		at   time.Time
		want int // flags of a heart rate of 150
	}{
		{"measured as an infant", t0, 0},
		{"measured as a toddler", noonUTC(2026, 12, 10), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := RecordVitals{EntryID: chartVitalsID, MeasuredAt: c.at, HeartRate: refOf(150)}
			events, err := s.RecordVitals(cmd, c.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(events[0].(VitalsRecorded).Flags); got != c.want {
				t.Errorf("%d flags, want %d", got, c.want)
			}
		})
	}
}

func TestRecordVitals(t *testing.T) {
	only := func(set func(*RecordVitals)) func(*RecordVitals) {
		return func(c *RecordVitals) {
			*c = RecordVitals{EntryID: c.EntryID, MeasuredAt: c.MeasuredAt}
			set(c)
		}
	}
	runEntryCases(t, validRecordVitals, (*Student).RecordVitals, []entryCase[RecordVitals]{
		{"valid", func(*RecordVitals) {}, nil},
		{"pain 0 alone", only(func(c *RecordVitals) { c.Pain = refOf(0) }), nil},
		{"lowest possible", only(func(c *RecordVitals) {
			c.TemperatureC, c.HeartRate, c.RespiratoryRate = refOf(30.0), refOf(20), refOf(4)
			c.Systolic, c.Diastolic, c.SpO2 = refOf(40), refOf(20), refOf(50)
		}), nil},
		{"highest possible", only(func(c *RecordVitals) {
			c.TemperatureC, c.HeartRate, c.RespiratoryRate = refOf(45.0), refOf(300), refOf(100)
			c.Systolic, c.Diastolic, c.SpO2, c.Pain = refOf(300), refOf(200), refOf(100), refOf(10)
		}), nil},
		{"nothing measured", only(func(*RecordVitals) {}), []string{"invalid"}},
		{"entry_id missing", func(c *RecordVitals) { c.EntryID = "" }, []string{"invalid entry_id"}},
		{"measured_at missing", func(c *RecordVitals) { c.MeasuredAt = time.Time{} },
			[]string{"invalid measured_at"}},
		{"measured_at in the future", func(c *RecordVitals) { c.MeasuredAt = t0.Add(time.Minute) },
			[]string{"invalid measured_at"}},
		{"measured_at before birth", func(c *RecordVitals) { c.MeasuredAt = noonUTC(2016, 1, 1) },
			[]string{"invalid measured_at"}},
		{"temperature_c too low", func(c *RecordVitals) { c.TemperatureC = refOf(29.9) },
			[]string{"invalid temperature_c"}},
		{"temperature_c too high", func(c *RecordVitals) { c.TemperatureC = refOf(45.1) },
			[]string{"invalid temperature_c"}},
		{"temperature_c in Fahrenheit", func(c *RecordVitals) { c.TemperatureC = refOf(98.6) },
			[]string{"invalid temperature_c"}},
		{"heart_rate too low", func(c *RecordVitals) { c.HeartRate = refOf(19) },
			[]string{"invalid heart_rate"}},
		{"heart_rate too high", func(c *RecordVitals) { c.HeartRate = refOf(301) },
			[]string{"invalid heart_rate"}},
		{"respiratory_rate too low", func(c *RecordVitals) { c.RespiratoryRate = refOf(3) },
			[]string{"invalid respiratory_rate"}},
		{"respiratory_rate too high", func(c *RecordVitals) { c.RespiratoryRate = refOf(101) },
			[]string{"invalid respiratory_rate"}},
		{"systolic too low", func(c *RecordVitals) { c.Systolic, c.Diastolic = refOf(39), refOf(20) },
			[]string{"invalid systolic"}},
		{"systolic too high", func(c *RecordVitals) { c.Systolic = refOf(301) },
			[]string{"invalid systolic"}},
		{"diastolic too low", func(c *RecordVitals) { c.Diastolic = refOf(19) },
			[]string{"invalid diastolic"}},
		{"diastolic too high", func(c *RecordVitals) {
			c.Systolic, c.Diastolic = refOf(300), refOf(201)
		}, []string{"invalid diastolic"}},
		{"spo2 too low", func(c *RecordVitals) { c.SpO2 = refOf(49) }, []string{"invalid spo2"}},
		{"spo2 over 100", func(c *RecordVitals) { c.SpO2 = refOf(101) }, []string{"invalid spo2"}},
		{"pain below 0", func(c *RecordVitals) { c.Pain = refOf(-1) }, []string{"invalid pain"}},
		{"pain above 10", func(c *RecordVitals) { c.Pain = refOf(11) }, []string{"invalid pain"}},
		{"systolic without diastolic", func(c *RecordVitals) { c.Diastolic = nil },
			[]string{"invalid diastolic"}},
		{"diastolic without systolic", func(c *RecordVitals) { c.Systolic = nil },
			[]string{"invalid systolic"}},
		{"diastolic equal to systolic", func(c *RecordVitals) { c.Diastolic = refOf(104) },
			[]string{"invalid diastolic"}},
		{"every field wrong", func(c *RecordVitals) {
			*c = RecordVitals{TemperatureC: refOf(50.0), Systolic: refOf(120), Pain: refOf(12)}
		}, []string{
			"invalid entry_id", "invalid measured_at", "invalid temperature_c",
			"invalid pain", "invalid diastolic",
		}},
	})
}

func TestNormalRange(t *testing.T) {
	cases := []struct {
		name          string
		measure       VitalMeasure
		years, months int
		low, high     float64
	}{
		{"heart rate, newborn", MeasureHeartRate, 0, 0, 100, 205},
		{"heart rate, one month", MeasureHeartRate, 0, 1, 100, 180},
		{"heart rate, 11 months", MeasureHeartRate, 0, 11, 100, 180},
		{"heart rate, one year", MeasureHeartRate, 1, 0, 98, 140},
		{"heart rate, 2 years 11 months", MeasureHeartRate, 2, 11, 98, 140},
		{"heart rate, 3 years", MeasureHeartRate, 3, 0, 80, 120},
		{"heart rate, 5 years 11 months", MeasureHeartRate, 5, 11, 80, 120},
		{"heart rate, 6 years", MeasureHeartRate, 6, 0, 75, 118},
		{"heart rate, 11 years 11 months", MeasureHeartRate, 11, 11, 75, 118},
		{"heart rate, 12 years", MeasureHeartRate, 12, 0, 60, 100},
		{"heart rate, 25 years", MeasureHeartRate, 25, 0, 60, 100},
		{"respiratory rate, infant", MeasureRespiratoryRate, 0, 6, 30, 53},
		{"respiratory rate, school age", MeasureRespiratoryRate, 8, 0, 18, 25},
		{"respiratory rate, adolescent", MeasureRespiratoryRate, 14, 0, 12, 20},
		{"systolic, 9 years 11 months", MeasureSystolic, 9, 11, 97, 115},
		{"systolic, 10 years", MeasureSystolic, 10, 0, 102, 120},
		{"systolic, 12 years", MeasureSystolic, 12, 0, 110, 131},
		{"diastolic, newborn", MeasureDiastolic, 0, 0, 35, 53},
		{"diastolic, toddler", MeasureDiastolic, 2, 0, 42, 63},
		{"temperature, any age", MeasureTemperature, 7, 3, 36.1, 38},
		{"SpO2, any age", MeasureSpO2, 0, 2, 95, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			low, high, ok := NormalRange(c.measure, c.years, c.months)
			if !ok || low != c.low || high != c.high {
				t.Errorf("NormalRange = %v, %v, %v; want %v, %v, true", low, high, ok, c.low, c.high)
			}
		})
	}

	if low, high, ok := NormalRange(MeasurePain, 10, 0); !ok || low != 0 || high != PainFlagFrom-1 {
		t.Errorf("NormalRange of pain = %v, %v, %v; want 0, 6, true", low, high, ok)
	}
	if _, _, ok := NormalRange("weight_kg", 10, 0); ok {
		t.Error("NormalRange of weight: ok, want none")
	}
}

func TestVitalMeasureLOINC(t *testing.T) {
	cases := []struct {
		measure VitalMeasure
		want    string
	}{
		{MeasureTemperature, "8310-5"},
		{MeasureHeartRate, "8867-4"},
		{MeasureRespiratoryRate, "9279-1"},
		{MeasureSystolic, "8480-6"},
		{MeasureDiastolic, "8462-4"},
		{MeasureSpO2, "2708-6"},
		{MeasurePain, "72514-3"},
		{"weight_kg", ""},
	}
	for _, c := range cases {
		t.Run(string(c.measure), func(t *testing.T) {
			if got := c.measure.LOINC(); got != c.want {
				t.Errorf("LOINC() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestVitalFlagBelow(t *testing.T) {
	low := VitalFlag{Measure: MeasureSpO2, Value: 92, Low: 95, High: 100}
	high := VitalFlag{Measure: MeasureHeartRate, Value: 150, Low: 60, High: 100}
	if !low.Below() || high.Below() {
		t.Errorf("Below() = %v, %v; want true, false", low.Below(), high.Below())
	}
}
