package domain

import (
	"fmt"
	"time"
)

// LOINC codes of the measurements a chart records, for exports that
// speak FHIR.
const (
	LOINCHeartRate       = "8867-4"
	LOINCRespiratoryRate = "9279-1"
	LOINCSpO2            = "2708-6"
	LOINCTemperature     = "8310-5"
	LOINCHeight          = "8302-2"
	LOINCWeight          = "29463-7"
	LOINCBMI             = "39156-5"
	LOINCBloodPressure   = "85354-9" // the panel of the two below
	LOINCSystolic        = "8480-6"
	LOINCDiastolic       = "8462-4"
	LOINCPain            = "72514-3" // pain severity, 0-10 numeric rating
)

// VitalMeasure names a vital sign with a normal range, as the JSON field
// of VitalsRecorded that holds it.
type VitalMeasure string

// The vital signs with a normal range.
const (
	MeasureTemperature     VitalMeasure = "temperature_c"
	MeasureHeartRate       VitalMeasure = "heart_rate"
	MeasureRespiratoryRate VitalMeasure = "respiratory_rate"
	MeasureSystolic        VitalMeasure = "systolic"
	MeasureDiastolic       VitalMeasure = "diastolic"
	MeasureSpO2            VitalMeasure = "spo2"
	// MeasurePain is the 0 to 10 numeric rating of pain, flagged from
	// severe pain on (PainFlagFrom).
	MeasurePain VitalMeasure = "pain"
)

// PainFlagFrom is the pain score from which a rating is flagged: 7, where
// the 0 to 10 numeric rating scale's usual bands put severe pain (1 to 3
// mild, 4 to 6 moderate, 7 to 10 severe). A flag of pain has the normal
// range 0 to 6.
const PainFlagFrom = 7

// LOINC returns the LOINC code of m, or "" for an unknown measure.
func (m VitalMeasure) LOINC() string {
	switch m {
	case MeasureTemperature:
		return LOINCTemperature
	case MeasureHeartRate:
		return LOINCHeartRate
	case MeasureRespiratoryRate:
		return LOINCRespiratoryRate
	case MeasureSystolic:
		return LOINCSystolic
	case MeasureDiastolic:
		return LOINCDiastolic
	case MeasureSpO2:
		return LOINCSpO2
	case MeasurePain:
		return LOINCPain
	}
	return ""
}

// VitalFlag is a measurement outside its normal range, Low to High
// inclusive, for the student's age when it was taken.
type VitalFlag struct {
	Measure VitalMeasure `json:"measure"`
	Value   float64      `json:"value"`
	Low     float64      `json:"low"`
	High    float64      `json:"high"`
}

// Below reports whether the value is under the normal range rather than
// over it.
func (f VitalFlag) Below() bool { return f.Value < f.Low }

// vitalRange is a normal range, both ends included.
type vitalRange struct{ low, high float64 }

// ageBand holds the normal ranges that depend on age, for ages under
// untilMonths (zero: no upper bound).
type ageBand struct {
	untilMonths                                     int
	heartRate, respiratoryRate, systolic, diastolic vitalRange
}

// ageBands are the normal ranges of the American Heart Association's
// Pediatric Advanced Life Support (PALS) Provider Manual (2020), tables
// "Normal heart rates", "Normal respiratory rates" and "Normal blood
// pressures": awake heart rates; respiratory rates; systolic and
// diastolic pressures, the infant band from 1 to 12 months and the
// neonatal one at 4 days. PALS splits school age at 10 years for blood
// pressure only. Its adolescent band (12 to 15 years) is used for every
// older student too: adult ranges (heart rate 60 to 100, respiratory rate
// 12 to 20) are close.
var ageBands = []ageBand{
	{untilMonths: 1, heartRate: vitalRange{100, 205}, respiratoryRate: vitalRange{30, 53},
		systolic: vitalRange{67, 84}, diastolic: vitalRange{35, 53}}, // neonate
	{untilMonths: 12, heartRate: vitalRange{100, 180}, respiratoryRate: vitalRange{30, 53},
		systolic: vitalRange{72, 104}, diastolic: vitalRange{37, 56}}, // infant
	{untilMonths: 36, heartRate: vitalRange{98, 140}, respiratoryRate: vitalRange{22, 37},
		systolic: vitalRange{86, 106}, diastolic: vitalRange{42, 63}}, // toddler, 1 to 2 years
	{untilMonths: 72, heartRate: vitalRange{80, 120}, respiratoryRate: vitalRange{20, 28},
		systolic: vitalRange{89, 112}, diastolic: vitalRange{46, 72}}, // preschool, 3 to 5
	{untilMonths: 120, heartRate: vitalRange{75, 118}, respiratoryRate: vitalRange{18, 25},
		systolic: vitalRange{97, 115}, diastolic: vitalRange{57, 76}}, // school age, 6 to 9
	{untilMonths: 144, heartRate: vitalRange{75, 118}, respiratoryRate: vitalRange{18, 25},
		systolic: vitalRange{102, 120}, diastolic: vitalRange{61, 80}}, // preadolescent, 10 to 11
	{heartRate: vitalRange{60, 100}, respiratoryRate: vitalRange{12, 20},
		systolic: vitalRange{110, 131}, diastolic: vitalRange{64, 83}}, // adolescent, 12 and older
}

// The normal ranges that do not depend on age: temperature 36.1 to 38.0
// °C, and SpO2 of 95 % or more.
//
// NOTE: the American Academy of Pediatrics counts 38.0 °C (100.4 °F)
// itself as a fever; with both ends of a range included, a reading of
// exactly 38.0 is not flagged.
var (
	normalTemperature = vitalRange{36.1, 38.0}
	normalSpO2        = vitalRange{95, 100}
	normalPain        = vitalRange{0, PainFlagFrom - 1}
)

// NormalRange returns the normal range of m, both ends included, for a
// student years and months old; false for a measure without one.
func NormalRange(m VitalMeasure, years, months int) (low, high float64, ok bool) {
	r, ok := normalRange(m, years*12+months)
	return r.low, r.high, ok
}

func normalRange(m VitalMeasure, ageMonths int) (vitalRange, bool) {
	band := bandOf(ageMonths)
	switch m {
	case MeasureTemperature:
		return normalTemperature, true
	case MeasureSpO2:
		return normalSpO2, true
	case MeasurePain:
		return normalPain, true
	case MeasureHeartRate:
		return band.heartRate, true
	case MeasureRespiratoryRate:
		return band.respiratoryRate, true
	case MeasureSystolic:
		return band.systolic, true
	case MeasureDiastolic:
		return band.diastolic, true
	}
	return vitalRange{}, false
}

func bandOf(ageMonths int) ageBand {
	for _, b := range ageBands {
		if ageMonths < b.untilMonths {
			return b
		}
	}
	return ageBands[len(ageBands)-1]
}

// vitalBounds are what a living person can show; a value outside is a
// mistake, refused as invalid, not a flag.
var vitalBounds = map[VitalMeasure]vitalRange{
	MeasureTemperature:     {30, 45},
	MeasureHeartRate:       {20, 300},
	MeasureRespiratoryRate: {4, 100},
	MeasureSystolic:        {40, 300},
	MeasureDiastolic:       {20, 200},
	MeasureSpO2:            {50, 100},
	MeasurePain:            {0, 10},
}

// measurement is one vital sign of a VitalsRecorded, nil when not taken.
type measurement struct {
	measure VitalMeasure
	value   *float64
}

// measurements returns the vital signs of e in the order of its fields.
func measurements(e VitalsRecorded) []measurement {
	return []measurement{
		{MeasureTemperature, clonePtr(e.TemperatureC)},
		{MeasureHeartRate, floatOf(e.HeartRate)},
		{MeasureRespiratoryRate, floatOf(e.RespiratoryRate)},
		{MeasureSystolic, floatOf(e.Systolic)},
		{MeasureDiastolic, floatOf(e.Diastolic)},
		{MeasureSpO2, floatOf(e.SpO2)},
		{MeasurePain, floatOf(e.Pain)},
	}
}

func floatOf(p *int) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}

// checkVitals checks e as RecordVitals says, and fills in its flags when
// it is valid.
func (s *Student) checkVitals(e VitalsRecorded, now time.Time) (Event, Errors) {
	var errs Errors
	errs.add(s.checkMeasuredAt("measured_at", e.MeasuredAt, now))
	e.MeasuredAt = e.MeasuredAt.UTC()
	errs = append(errs, checkMeasurements(e)...)
	if errs != nil {
		return e, errs
	}

	e.Flags = vitalFlags(e, monthsOld(s.BirthDate, DateOf(e.MeasuredAt)))
	return e, nil
}

// checkMeasurements refuses vitals without a measurement, or with one
// outside vitalBounds, or a blood pressure without both of its values or
// with the diastolic not below the systolic.
func checkMeasurements(e VitalsRecorded) Errors {
	var errs Errors
	taken := 0
	for _, m := range measurements(e) {
		if m.value == nil {
			continue
		}
		taken++
		b := vitalBounds[m.measure]
		if !within(*m.value, b.low, b.high) {
			errs.add(invalid(string(m.measure), fmt.Sprintf("must be %g to %g", b.low, b.high)))
		}
	}
	if taken == 0 {
		errs.add(invalid("", "must record at least one measurement"))
	}
	errs.add(checkBloodPressure(e.Systolic, e.Diastolic))
	return errs
}

func checkBloodPressure(systolic, diastolic *int) *Error {
	switch {
	case systolic == nil && diastolic != nil:
		return invalid("systolic", "is required with diastolic")
	case systolic != nil && diastolic == nil:
		return invalid("diastolic", "is required with systolic")
	case systolic != nil && *diastolic >= *systolic:
		return invalid("diastolic", "must be below systolic")
	}
	return nil
}

// vitalFlags returns a flag for each measurement of e outside its normal
// range for a student ageMonths old; nil when there is none.
func vitalFlags(e VitalsRecorded, ageMonths int) []VitalFlag {
	var flags []VitalFlag
	for _, m := range measurements(e) {
		r, ok := normalRange(m.measure, ageMonths)
		if m.value == nil || !ok || within(*m.value, r.low, r.high) {
			continue
		}
		flags = append(flags, VitalFlag{
			Measure: m.measure,
			Value:   *m.value,
			Low:     r.low,
			High:    r.high,
		})
	}
	return flags
}
