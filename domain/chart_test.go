package domain

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	chartAllergyID      = "e0000000-0000-4000-8000-0000000000a1"
	chartConditionID    = "e0000000-0000-4000-8000-0000000000a2"
	chartImmunizationID = "e0000000-0000-4000-8000-0000000000a3"
	chartExemptionID    = "e0000000-0000-4000-8000-0000000000a4"
	chartScreeningID    = "e0000000-0000-4000-8000-0000000000a5"
	chartGrowthID       = "e0000000-0000-4000-8000-0000000000a6"
	chartVitalsID       = "e0000000-0000-4000-8000-0000000000a7"
	chartVisitID        = "e0000000-0000-4000-8000-0000000000a8"
	chartOtherID        = "e0000000-0000-4000-8000-0000000000a9"
)

// refOf returns a pointer to a copy of v.
func refOf[T any](v T) *T { return &v }

// chartEvents has one event of each chart type, with every field set; the
// entries are what the valid commands below record.
var chartEvents = []Event{
	AllergyRecorded{
		EntryID:             chartAllergyID,
		RecordedAt:          t0,
		Allergen:            "Peanut",
		AllergenType:        "food",
		Severity:            "life-threatening",
		Reaction:            "Hives, swelling of the lips.",
		EpinephrineRequired: true,
		EpinephrineLocation: "Nurse's office, cabinet 2",
		EpinephrineExpires:  "2027-08-31",
		VerifiedBy:          userID,
		VerifiedOn:          "2026-09-01",
	},
	ConditionRecorded{
		EntryID:           chartConditionID,
		RecordedAt:        t0,
		Condition:         "Asthma",
		ICD10:             "J45.909",
		Status:            "managed",
		CarePlan:          "Albuterol, two puffs before PE.",
		EmergencyProtocol: "Albuterol; call 911 if no relief in 10 minutes.",
		Triggers:          "Cold air, exercise.",
		Accommodations:    "Carries her inhaler.",
		Plan504:           true,
		IEP:               true,
		NextReview:        "2027-03-01",
	},
	ImmunizationRecorded{
		EntryID:    chartImmunizationID,
		Vaccine:    "MMR",
		CVX:        "03",
		DoseNumber: 2,
		SeriesSize: 2,
		GivenOn:    "2021-06-01",
		Lot:        "Y012345",
		Site:       "left deltoid",
		Route:      "SC",
		GivenHere:  true,
	},
	ExemptionRecorded{
		EntryID:    chartExemptionID,
		RecordedAt: t0,
		Vaccine:    "Varicella",
		Kind:       "medical",
		Expires:    "2027-06-30",
	},
	ScreeningRecorded{
		EntryID:          chartScreeningID,
		RecordedAt:       t0,
		Kind:             "vision",
		Result:           "refer",
		Details:          "20/40 in the right eye.",
		ReferralFollowUp: "Letter sent to the parents.",
	},
	GrowthRecorded{
		EntryID:    chartGrowthID,
		MeasuredAt: t0.Add(-time.Hour),
		HeightCM:   134.5,
		WeightKG:   30.2,
		BMI:        16.7,
	},
	VitalsRecorded{
		EntryID:         chartVitalsID,
		MeasuredAt:      t0.Add(-30 * time.Minute),
		TemperatureC:    refOf(38.4),
		HeartRate:       refOf(96),
		RespiratoryRate: refOf(20),
		Systolic:        refOf(104),
		Diastolic:       refOf(66),
		SpO2:            refOf(98),
		Pain:            refOf(3),
		Flags: []VitalFlag{
			{Measure: MeasureTemperature, Value: 38.4, Low: 36.1, High: 38},
		},
	},
	VisitRecorded{
		EntryID:           chartVisitID,
		TimeIn:            t0.Add(-40 * time.Minute),
		TimeOut:           t0.Add(-15 * time.Minute),
		Reasons:           []string{"fever", "headache"},
		Assessment:        "Temperature 38.4 °C, alert.",
		Actions:           "Called her mother.",
		Disposition:       "sent_home",
		ParentNotified:    true,
		MinutesOutOfClass: 25,
	},
	EntryMarkedInError{EntryID: chartScreeningID, Reason: "Recorded on the wrong chart.",
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000005", Revision: 5}},
	EntryAmended{
		EntryID:  chartAllergyID,
		Original: EventRef{EventID: "0e7e0000-0000-4000-8000-000000000001", Revision: 1},
		Reason:   "Allergist's letter of 2 December.",
		Changes: map[string]any{
			"severity":             "severe",
			"epinephrine_required": false,
			"epinephrine_expires":  "",
			"reasons":              []any{"fever"},
			"height_cm":            140.5,
			"pain":                 nil,
		},
	},
}

func init() { moreEvents = append(moreEvents, chartEvents) }

func validRecordAllergy() RecordAllergy {
	return RecordAllergy{
		EntryID:             chartAllergyID,
		Allergen:            " Peanut ",
		AllergenType:        "food",
		Severity:            "life-threatening",
		Reaction:            "Hives, swelling of the lips.\n",
		EpinephrineRequired: true,
		EpinephrineLocation: "Nurse's office, cabinet 2",
		EpinephrineExpires:  "2027-08-31",
		VerifiedBy:          userID,
		VerifiedOn:          "2026-09-01",
	}
}

func validRecordCondition() RecordCondition {
	return RecordCondition{
		EntryID:           chartConditionID,
		Condition:         "Asthma",
		ICD10:             " j45.909",
		Status:            "managed",
		CarePlan:          "Albuterol, two puffs before PE.",
		EmergencyProtocol: "Albuterol; call 911 if no relief in 10 minutes.",
		Triggers:          "Cold air, exercise.",
		Accommodations:    "Carries her inhaler.",
		Plan504:           true,
		IEP:               true,
		NextReview:        "2027-03-01",
	}
}

func validRecordImmunization() RecordImmunization {
	return RecordImmunization{
		EntryID:    chartImmunizationID,
		Vaccine:    "MMR",
		CVX:        "03",
		DoseNumber: 2,
		SeriesSize: 2,
		GivenOn:    "2021-06-01",
		Lot:        "Y012345",
		Site:       "left deltoid",
		Route:      "SC",
		GivenHere:  true,
	}
}

func validRecordExemption() RecordExemption {
	return RecordExemption{
		EntryID: chartExemptionID,
		Vaccine: "Varicella",
		Kind:    "medical",
		Expires: "2027-06-30",
	}
}

func validRecordScreening() RecordScreening {
	return RecordScreening{
		EntryID:          chartScreeningID,
		Kind:             "vision",
		Result:           "refer",
		Details:          "20/40 in the right eye.",
		ReferralFollowUp: "Letter sent to the parents.",
	}
}

func validRecordGrowth() RecordGrowth {
	return RecordGrowth{
		EntryID:    chartGrowthID,
		MeasuredAt: t0.Add(-time.Hour).In(time.FixedZone("EST", -5*3600)),
		HeightCM:   134.5,
		WeightKG:   30.2,
	}
}

func validRecordVitals() RecordVitals {
	return RecordVitals{
		EntryID:         chartVitalsID,
		MeasuredAt:      t0.Add(-30 * time.Minute),
		TemperatureC:    refOf(38.4),
		HeartRate:       refOf(96),
		RespiratoryRate: refOf(20),
		Systolic:        refOf(104),
		Diastolic:       refOf(66),
		SpO2:            refOf(98),
		Pain:            refOf(3),
	}
}

func validRecordVisit() RecordVisit {
	return RecordVisit{
		EntryID:        chartVisitID,
		TimeIn:         t0.Add(-40 * time.Minute),
		TimeOut:        t0.Add(-15 * time.Minute),
		Reasons:        []string{"fever", " headache "},
		Assessment:     "Temperature 38.4 °C, alert.",
		Actions:        "Called her mother.",
		Disposition:    "sent_home",
		ParentNotified: true,
	}
}

// recordEach returns, for each kind of entry, a command that records a
// valid one.
func recordEach() map[EntryKind]func(*Student) ([]Event, error) {
	return map[EntryKind]func(*Student) ([]Event, error){
		EntryAllergy: func(s *Student) ([]Event, error) {
			return s.RecordAllergy(validRecordAllergy(), t0)
		},
		EntryCondition: func(s *Student) ([]Event, error) {
			return s.RecordCondition(validRecordCondition(), t0)
		},
		EntryImmunization: func(s *Student) ([]Event, error) {
			return s.RecordImmunization(validRecordImmunization(), t0)
		},
		EntryExemption: func(s *Student) ([]Event, error) {
			return s.RecordExemption(validRecordExemption(), t0)
		},
		EntryScreening: func(s *Student) ([]Event, error) {
			return s.RecordScreening(validRecordScreening(), t0)
		},
		EntryGrowth: func(s *Student) ([]Event, error) {
			return s.RecordGrowth(validRecordGrowth(), t0)
		},
		EntryVitals: func(s *Student) ([]Event, error) {
			return s.RecordVitals(validRecordVitals(), t0)
		},
		EntryVisit: func(s *Student) ([]Event, error) {
			return s.RecordVisit(validRecordVisit(), t0)
		},
	}
}

func TestRecordEntryEvents(t *testing.T) {
	record := recordEach()
	for i, kind := range []EntryKind{
		EntryAllergy, EntryCondition, EntryImmunization, EntryExemption,
		EntryScreening, EntryGrowth, EntryVitals, EntryVisit,
	} {
		t.Run(string(kind), func(t *testing.T) {
			s, history := chartStudent(t, nil)
			events, err := record[kind](s)
			if err != nil {
				t.Fatal(err)
			}
			if want := chartEvents[i : i+1]; !reflect.DeepEqual(events, want) {
				t.Errorf("events = %#v\nwant %#v", events, want)
			}
			checkUnchanged(t, s, history)
		})
	}
}

func TestRecordEntryRules(t *testing.T) {
	withdrawn := StudentWithdrawn{On: "2026-11-30", Reason: "moved"}
	for kind, record := range recordEach() {
		t.Run(string(kind)+" for a withdrawn student", func(t *testing.T) {
			s, _ := chartStudent(t, nil, withdrawn)
			events, err := record(s)
			checkRefusals(t, err, []string{"rule enrolled"}, "")
			if events != nil {
				t.Errorf("events = %#v, want none", events)
			}
		})
		t.Run(string(kind)+" with an entry_id already used", func(t *testing.T) {
			s, _ := chartStudent(t, nil)
			decideStudent(t, s, record)
			events, err := record(s)
			checkRefusals(t, err, []string{"conflict entry_id"}, "")
			if events != nil {
				t.Errorf("events = %#v, want none", events)
			}
		})
		t.Run(string(kind)+" by a withdrawn student, entry_id used", func(t *testing.T) {
			s, _ := chartStudent(t, nil)
			decideStudent(t, s, record)
			mustApply(t, s, []Event{withdrawn})
			_, err := record(s)
			checkRefusals(t, err, []string{"rule enrolled", "conflict entry_id"}, "")
		})
	}
}

func TestRecordEntryIDAcrossKinds(t *testing.T) {
	s, _ := chartStudent(t, nil, chartEvents[0])
	cmd := validRecordScreening()
	cmd.EntryID = chartAllergyID
	_, err := s.RecordScreening(cmd, t0)
	checkRefusals(t, err, []string{"conflict entry_id"}, "")
}

// entryCase is a change to a valid command and the refusals it brings.
type entryCase[C any] struct {
	name   string
	change func(*C)
	refuse []string
}

// runEntryCases runs each case's command, the valid one changed, on a
// new student at t0.
func runEntryCases[C any](
	t *testing.T,
	valid func() C,
	run func(*Student, C, time.Time) ([]Event, error),
	cases []entryCase[C],
) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, history := chartStudent(t, nil)
			cmd := valid()
			c.change(&cmd)
			events, err := run(s, cmd, t0)
			checkRefusals(t, err, c.refuse, "")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
			checkUnchanged(t, s, history)
		})
	}
}

func TestRecordAllergy(t *testing.T) {
	long := strings.Repeat("x", 201)
	runEntryCases(t, validRecordAllergy, (*Student).RecordAllergy, []entryCase[RecordAllergy]{
		{"valid", func(*RecordAllergy) {}, nil},
		{"without epinephrine", func(c *RecordAllergy) {
			c.EpinephrineRequired, c.EpinephrineLocation, c.EpinephrineExpires = false, "", ""
		}, nil},
		{"unverified", func(c *RecordAllergy) { c.VerifiedBy, c.VerifiedOn = "", "" }, nil},
		{"entry_id missing", func(c *RecordAllergy) { c.EntryID = "" }, []string{"invalid entry_id"}},
		{"entry_id not an ID", func(c *RecordAllergy) { c.EntryID = "peanut" },
			[]string{"invalid entry_id"}},
		{"allergen blank", func(c *RecordAllergy) { c.Allergen = " " }, []string{"invalid allergen"}},
		{"allergen of 201 characters", func(c *RecordAllergy) { c.Allergen = long },
			[]string{"invalid allergen"}},
		{"allergen_type missing", func(c *RecordAllergy) { c.AllergenType = "" },
			[]string{"invalid allergen_type"}},
		{"allergen_type unknown", func(c *RecordAllergy) { c.AllergenType = "pollen" },
			[]string{"invalid allergen_type"}},
		{"severity unknown", func(c *RecordAllergy) { c.Severity = "deadly" },
			[]string{"invalid severity"}},
		{"reaction of 4001 characters", func(c *RecordAllergy) {
			c.Reaction = strings.Repeat("x", 4001)
		}, []string{"invalid reaction"}},
		{"reaction with control character", func(c *RecordAllergy) { c.Reaction = "hives\x00" },
			[]string{"invalid reaction"}},
		{"epinephrine without location", func(c *RecordAllergy) { c.EpinephrineLocation = " " },
			[]string{"invalid epinephrine_location"}},
		{"epinephrine_location of 201 characters", func(c *RecordAllergy) {
			c.EpinephrineLocation = long
		}, []string{"invalid epinephrine_location"}},
		{"epinephrine without expiry", func(c *RecordAllergy) { c.EpinephrineExpires = "" },
			[]string{"invalid epinephrine_expires"}},
		{"epinephrine_expires not a date", func(c *RecordAllergy) { c.EpinephrineExpires = "08/27" },
			[]string{"invalid epinephrine_expires"}},
		{"verified_by not an ID", func(c *RecordAllergy) { c.VerifiedBy = "joy" },
			[]string{"invalid verified_by"}},
		{"verified_by without verified_on", func(c *RecordAllergy) { c.VerifiedOn = "" },
			[]string{"invalid verified_on"}},
		{"verified_on without verified_by", func(c *RecordAllergy) { c.VerifiedBy = "" },
			[]string{"invalid verified_by"}},
		{"verified_on in the future", func(c *RecordAllergy) { c.VerifiedOn = "2026-12-04" },
			[]string{"invalid verified_on"}},
		{"every field wrong", func(c *RecordAllergy) {
			*c = RecordAllergy{Severity: "x", EpinephrineRequired: true, VerifiedBy: "x"}
		}, []string{
			"invalid entry_id", "invalid allergen", "invalid allergen_type", "invalid severity",
			"invalid epinephrine_location", "invalid epinephrine_expires",
			"invalid verified_by", "invalid verified_on",
		}},
	})
}

func TestRecordCondition(t *testing.T) {
	note := strings.Repeat("n", 4001)
	runEntryCases(t, validRecordCondition, (*Student).RecordCondition, []entryCase[RecordCondition]{
		{"valid", func(*RecordCondition) {}, nil},
		{"icd10 missing", func(c *RecordCondition) { c.ICD10 = "" }, nil},
		{"icd10 without decimals", func(c *RecordCondition) { c.ICD10 = "E10" }, nil},
		{"icd10 with letters after the dot", func(c *RecordCondition) { c.ICD10 = "T78.40XA" }, nil},
		{"condition blank", func(c *RecordCondition) { c.Condition = "" },
			[]string{"invalid condition"}},
		{"icd10 of one digit", func(c *RecordCondition) { c.ICD10 = "J4" }, []string{"invalid icd10"}},
		{"icd10 starting with a digit", func(c *RecordCondition) { c.ICD10 = "45J" },
			[]string{"invalid icd10"}},
		{"icd10 with five after the dot", func(c *RecordCondition) { c.ICD10 = "J45.90912" },
			[]string{"invalid icd10"}},
		{"icd10 with a dash", func(c *RecordCondition) { c.ICD10 = "J45-909" },
			[]string{"invalid icd10"}},
		{"icd10 ending with a dot", func(c *RecordCondition) { c.ICD10 = "J45." },
			[]string{"invalid icd10"}},
		{"status missing", func(c *RecordCondition) { c.Status = "" }, []string{"invalid status"}},
		{"status unknown", func(c *RecordCondition) { c.Status = "cured" }, []string{"invalid status"}},
		{"care_plan too long", func(c *RecordCondition) { c.CarePlan = note },
			[]string{"invalid care_plan"}},
		{"emergency_protocol too long", func(c *RecordCondition) { c.EmergencyProtocol = note },
			[]string{"invalid emergency_protocol"}},
		{"triggers too long", func(c *RecordCondition) { c.Triggers = note },
			[]string{"invalid triggers"}},
		{"accommodations with control character", func(c *RecordCondition) {
			c.Accommodations = "rest\x1b"
		}, []string{"invalid accommodations"}},
		{"next_review not a date", func(c *RecordCondition) { c.NextReview = "next spring" },
			[]string{"invalid next_review"}},
		{"next_review missing", func(c *RecordCondition) { c.NextReview = "" }, nil},
	})
}

func TestRecordImmunization(t *testing.T) {
	cases := []entryCase[RecordImmunization]{
		{"valid", func(*RecordImmunization) {}, nil},
		{"transcribed, route unknown", func(c *RecordImmunization) {
			c.GivenHere, c.Route, c.Lot, c.Site = false, "", "", ""
		}, nil},
		{"first of three", func(c *RecordImmunization) { c.DoseNumber, c.SeriesSize = 1, 3 }, nil},
		{"vaccine blank", func(c *RecordImmunization) { c.Vaccine = "" }, []string{"invalid vaccine"}},
		{"cvx missing", func(c *RecordImmunization) { c.CVX = "" }, []string{"invalid cvx"}},
		{"cvx of four digits", func(c *RecordImmunization) { c.CVX = "1234" }, []string{"invalid cvx"}},
		{"cvx with a letter", func(c *RecordImmunization) { c.CVX = "3a" }, []string{"invalid cvx"}},
		{"dose_number 0", func(c *RecordImmunization) { c.DoseNumber = 0 },
			[]string{"invalid dose_number"}},
		{"dose_number 21", func(c *RecordImmunization) { c.DoseNumber, c.SeriesSize = 21, 21 },
			[]string{"invalid dose_number", "invalid series_size"}},
		{"series_size below dose_number", func(c *RecordImmunization) {
			c.DoseNumber, c.SeriesSize = 3, 2
		}, []string{"invalid series_size"}},
		{"series_size 0", func(c *RecordImmunization) { c.SeriesSize = 0 },
			[]string{"invalid series_size"}},
		{"given_on missing", func(c *RecordImmunization) { c.GivenOn = "" },
			[]string{"invalid given_on"}},
		{"given_on in the future", func(c *RecordImmunization) { c.GivenOn = "2026-12-04" },
			[]string{"invalid given_on"}},
		{"given_on before birth", func(c *RecordImmunization) { c.GivenOn = "2017-05-19" },
			[]string{"invalid given_on"}},
		{"given_on the day of birth", func(c *RecordImmunization) { c.GivenOn = "2017-05-20" }, nil},
		{"lot too long", func(c *RecordImmunization) { c.Lot = strings.Repeat("L", 201) },
			[]string{"invalid lot"}},
		{"site too long", func(c *RecordImmunization) { c.Site = strings.Repeat("s", 201) },
			[]string{"invalid site"}},
		{"route unknown", func(c *RecordImmunization) { c.Route = "IV" }, []string{"invalid route"}},
		{"given here without route", func(c *RecordImmunization) { c.Route = "" },
			[]string{"invalid route"}},
	}
	runEntryCases(t, validRecordImmunization, (*Student).RecordImmunization, cases)
}

func TestRecordExemption(t *testing.T) {
	runEntryCases(t, validRecordExemption, (*Student).RecordExemption, []entryCase[RecordExemption]{
		{"valid", func(*RecordExemption) {}, nil},
		{"without expiry", func(c *RecordExemption) { c.Expires = "" }, nil},
		{"vaccine blank", func(c *RecordExemption) { c.Vaccine = "\n" }, []string{"invalid vaccine"}},
		{"kind missing", func(c *RecordExemption) { c.Kind = "" }, []string{"invalid kind"}},
		{"kind unknown", func(c *RecordExemption) { c.Kind = "philosophical" },
			[]string{"invalid kind"}},
		{"expires not a date", func(c *RecordExemption) { c.Expires = "2027-06-31" },
			[]string{"invalid expires"}},
	})
}

func TestRecordScreening(t *testing.T) {
	runEntryCases(t, validRecordScreening, (*Student).RecordScreening, []entryCase[RecordScreening]{
		{"valid", func(*RecordScreening) {}, nil},
		{"pass without details", func(c *RecordScreening) {
			c.Result, c.Details, c.ReferralFollowUp = "pass", "", ""
		}, nil},
		{"kind missing", func(c *RecordScreening) { c.Kind = "" }, []string{"invalid kind"}},
		{"kind unknown", func(c *RecordScreening) { c.Kind = "lice" }, []string{"invalid kind"}},
		{"result unknown", func(c *RecordScreening) { c.Result = "fail" }, []string{"invalid result"}},
		{"details too long", func(c *RecordScreening) { c.Details = strings.Repeat("d", 4001) },
			[]string{"invalid details"}},
		{"referral_follow_up with control character", func(c *RecordScreening) {
			c.ReferralFollowUp = "sent\x07"
		}, []string{"invalid referral_follow_up"}},
	})
}

func TestRecordGrowth(t *testing.T) {
	runEntryCases(t, validRecordGrowth, (*Student).RecordGrowth, []entryCase[RecordGrowth]{
		{"valid", func(*RecordGrowth) {}, nil},
		{"smallest", func(c *RecordGrowth) { c.HeightCM, c.WeightKG = 30, 1 }, nil},
		{"largest", func(c *RecordGrowth) { c.HeightCM, c.WeightKG = 250, 300 }, nil},
		{"measured_at missing", func(c *RecordGrowth) { c.MeasuredAt = time.Time{} },
			[]string{"invalid measured_at"}},
		{"measured_at in the future", func(c *RecordGrowth) { c.MeasuredAt = t0.Add(time.Second) },
			[]string{"invalid measured_at"}},
		{"measured_at before birth", func(c *RecordGrowth) { c.MeasuredAt = noonUTC(2017, 5, 19) },
			[]string{"invalid measured_at"}},
		{"height_cm too small", func(c *RecordGrowth) { c.HeightCM = 29.9 },
			[]string{"invalid height_cm"}},
		{"height_cm too large", func(c *RecordGrowth) { c.HeightCM = 250.1 },
			[]string{"invalid height_cm"}},
		{"height_cm not a number", func(c *RecordGrowth) { c.HeightCM = math.NaN() },
			[]string{"invalid height_cm"}},
		{"weight_kg too small", func(c *RecordGrowth) { c.WeightKG = 0.9 },
			[]string{"invalid weight_kg"}},
		{"weight_kg too large", func(c *RecordGrowth) { c.WeightKG = 300.1 },
			[]string{"invalid weight_kg"}},
		{"weight_kg infinite", func(c *RecordGrowth) { c.WeightKG = math.Inf(1) },
			[]string{"invalid weight_kg"}},
	})
}

func TestBMI(t *testing.T) {
	cases := []struct {
		name             string
		heightCM, weight float64
		want             float64
	}{
		{"rounded up", 134.5, 30.2, 16.7},                  // 16.694…
		{"rounded down", 170, 66, 22.8},                    // 22.837…
		{"whole", 100, 16, 16},                             // 16.000
		{"five feet, a hundred pounds", 152.4, 45.4, 19.5}, // 19.547…
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := BMI(c.heightCM, c.weight); got != c.want {
				t.Errorf("BMI(%v, %v) = %v, want %v", c.heightCM, c.weight, got, c.want)
			}

			s, _ := chartStudent(t, nil)
			cmd := RecordGrowth{
				EntryID: chartGrowthID, MeasuredAt: t0, HeightCM: c.heightCM, WeightKG: c.weight,
			}
			events, err := s.RecordGrowth(cmd, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := events[0].(GrowthRecorded).BMI; got != c.want {
				t.Errorf("GrowthRecorded.BMI = %v, want %v", got, c.want)
			}
		})
	}
}

func TestRecordVisit(t *testing.T) {
	runEntryCases(t, validRecordVisit, (*Student).RecordVisit, []entryCase[RecordVisit]{
		{"valid", func(*RecordVisit) {}, nil},
		{"ending now", func(c *RecordVisit) { c.TimeOut = t0 }, nil},
		{"24 hours", func(c *RecordVisit) { c.TimeIn, c.TimeOut = t0.Add(-24*time.Hour), t0 }, nil},
		{"time_in missing", func(c *RecordVisit) { c.TimeIn = time.Time{} },
			[]string{"invalid time_in"}},
		{"time_in in the future", func(c *RecordVisit) {
			c.TimeIn, c.TimeOut = t0.Add(time.Minute), t0.Add(time.Hour)
		}, []string{"invalid time_in", "invalid time_out"}},
		{"time_out missing", func(c *RecordVisit) { c.TimeOut = time.Time{} },
			[]string{"invalid time_out"}},
		{"time_out equal to time_in", func(c *RecordVisit) { c.TimeOut = c.TimeIn },
			[]string{"invalid time_out"}},
		{"time_out before time_in", func(c *RecordVisit) { c.TimeOut = c.TimeIn.Add(-time.Minute) },
			[]string{"invalid time_out"}},
		{"time_out in the future", func(c *RecordVisit) { c.TimeOut = t0.Add(time.Second) },
			[]string{"invalid time_out"}},
		{"longer than 24 hours", func(c *RecordVisit) {
			c.TimeIn, c.TimeOut = t0.Add(-24*time.Hour-time.Second), t0
		}, []string{"invalid time_out"}},
		{"reasons missing", func(c *RecordVisit) { c.Reasons = nil }, []string{"invalid reasons"}},
		{"reason blank", func(c *RecordVisit) { c.Reasons = []string{"fever", " "} },
			[]string{"invalid reasons[1]"}},
		{"reason of 201 characters", func(c *RecordVisit) {
			c.Reasons = []string{strings.Repeat("r", 201)}
		}, []string{"invalid reasons[0]"}},
		{"assessment too long", func(c *RecordVisit) { c.Assessment = strings.Repeat("a", 4001) },
			[]string{"invalid assessment"}},
		{"actions with control character", func(c *RecordVisit) { c.Actions = "rest\x00" },
			[]string{"invalid actions"}},
		{"disposition missing", func(c *RecordVisit) { c.Disposition = "" },
			[]string{"invalid disposition"}},
		{"disposition unknown", func(c *RecordVisit) { c.Disposition = "detention" },
			[]string{"invalid disposition"}},
	})
}

func TestMinutesOutOfClass(t *testing.T) {
	cases := []struct {
		name     string
		duration time.Duration
		want     int
	}{
		{"whole minutes", 25 * time.Minute, 25},
		{"under half a minute more", 25*time.Minute + 29*time.Second, 25},
		{"half a minute more", 25*time.Minute + 30*time.Second, 26},
		{"an hour", time.Hour, 60},
		{"a few seconds", 10 * time.Second, 0},
		{"a school day", 7 * time.Hour, 420},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := chartStudent(t, nil)
			cmd := validRecordVisit()
			cmd.TimeIn, cmd.TimeOut = t0.Add(-c.duration), t0
			events, err := s.RecordVisit(cmd, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := events[0].(VisitRecorded).MinutesOutOfClass; got != c.want {
				t.Errorf("MinutesOutOfClass = %d, want %d", got, c.want)
			}
		})
	}
}

func TestRecordCopiesItsInput(t *testing.T) {
	s, _ := chartStudent(t, nil)
	cmd := validRecordVisit()
	events, err := s.RecordVisit(cmd, t0)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Reasons[0] = "changed"
	if got := events[0].(VisitRecorded).Reasons[0]; got != "fever" {
		t.Errorf("the event shares the command's reasons: %q", got)
	}

	vitals := validRecordVitals()
	events, err = s.RecordVitals(vitals, t0)
	if err != nil {
		t.Fatal(err)
	}
	*vitals.HeartRate = 200
	if got := *events[0].(VitalsRecorded).HeartRate; got != 96 {
		t.Errorf("the event shares the command's heart rate: %d", got)
	}
}

func TestMarkInError(t *testing.T) {
	inError := EntryMarkedInError{EntryID: chartAllergyID, Reason: "Wrong student.",
		Original: EventRef{Revision: 1}}
	mark := func(id, reason string) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) { return s.MarkInError(id, reason) }
	}
	cases := []studentCase{
		{
			name: "mark",
			run:  mark(chartAllergyID, " Wrong student.\n"),
			want: []Event{inError},
		},
		{
			name:  "mark on a withdrawn student's chart",
			setup: []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}},
			run:   mark(chartAllergyID, "Wrong student."),
			want:  []Event{inError},
		},
		{
			name:   "mark an unknown entry",
			run:    mark(chartOtherID, "Wrong student."),
			refuse: []string{"not_found entry_id"},
		},
		{
			name:   "mark twice",
			setup:  []Event{inError},
			run:    mark(chartAllergyID, "Wrong student."),
			refuse: []string{"conflict entry_id"},
		},
		{
			name:   "mark with a reason of 4 characters",
			run:    mark(chartAllergyID, " oops "),
			refuse: []string{"invalid reason"},
		},
		{
			name:   "mark with a reason of 501 characters",
			run:    mark(chartAllergyID, strings.Repeat("x", 501)),
			refuse: []string{"invalid reason"},
		},
		{
			name:   "mark an entry_id that is not an ID, for no reason",
			run:    mark("allergy", ""),
			refuse: []string{"invalid entry_id", "invalid reason"},
		},
	}
	for i := range cases {
		cases[i].setup = append(chartEvents[:1:1], cases[i].setup...)
	}
	runStudentCases(t, cases)
}

func TestAmendEntry(t *testing.T) {
	amend := func(id string, changes map[string]any) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) {
			cmd := AmendEntry{EntryID: id, Reason: " Allergist's letter. ", Changes: changes}
			return s.AmendEntry(cmd, t0)
		}
	}
	// The entries are recorded at revisions 1 to 4, after the enrolment.
	entries := []Event{chartEvents[0], chartEvents[5], chartEvents[6], chartEvents[7]}
	revisions := map[string]uint64{chartAllergyID: 1, chartGrowthID: 2, chartVitalsID: 3, chartVisitID: 4}
	amended := func(id string, changes map[string]any) []Event {
		return []Event{EntryAmended{EntryID: id, Reason: "Allergist's letter.", Changes: changes,
			Original: EventRef{Revision: revisions[id]}}}
	}
	inError := EntryMarkedInError{EntryID: chartAllergyID, Reason: "Wrong student."}

	cases := []studentCase{
		{
			name: "severity",
			run:  amend(chartAllergyID, map[string]any{"severity": "severe"}),
			want: amended(chartAllergyID, map[string]any{"severity": "severe"}),
		},
		{
			name: "only the values that change, trimmed",
			run: amend(chartAllergyID, map[string]any{
				"allergen": " Tree nuts ", "allergen_type": "food",
			}),
			want: amended(chartAllergyID, map[string]any{"allergen": "Tree nuts"}),
		},
		{
			name: "weight, and the BMI with it",
			run:  amend(chartGrowthID, map[string]any{"weight_kg": 32}),
			want: amended(chartGrowthID, map[string]any{"weight_kg": 32.0, "bmi": 17.7}),
		},
		{
			name: "temperature, and the flags with it",
			run:  amend(chartVitalsID, map[string]any{"temperature_c": 37.0}),
			want: amended(chartVitalsID, map[string]any{"temperature_c": 37.0, "flags": nil}),
		},
		{
			name: "a measurement removed",
			run:  amend(chartVitalsID, map[string]any{"pain": nil}),
			want: amended(chartVitalsID, map[string]any{"pain": nil}),
		},
		{
			name: "time out, and the minutes with it",
			run:  amend(chartVisitID, map[string]any{"time_out": "2026-12-03T03:55:00-05:00"}),
			want: amended(chartVisitID, map[string]any{
				"time_out": "2026-12-03T08:55:00Z", "minutes_out_of_class": 35.0,
			}),
		},
		{
			name:  "on a withdrawn student's chart",
			setup: []Event{StudentWithdrawn{On: "2026-11-30", Reason: "moved"}},
			run:   amend(chartAllergyID, map[string]any{"severity": "severe"}),
			want:  amended(chartAllergyID, map[string]any{"severity": "severe"}),
		},
		{
			name:   "an unknown entry",
			run:    amend(chartOtherID, map[string]any{"severity": "severe"}),
			refuse: []string{"not_found entry_id"},
		},
		{
			name:   "an entry in error",
			setup:  []Event{inError},
			run:    amend(chartAllergyID, map[string]any{"severity": "severe"}),
			refuse: []string{"conflict entry_id"},
		},
		{
			name:   "no change",
			run:    amend(chartAllergyID, nil),
			refuse: []string{"invalid changes"},
		},
		{
			name:   "changes that change nothing",
			run:    amend(chartAllergyID, map[string]any{"severity": "life-threatening"}),
			refuse: []string{"invalid changes"},
		},
		{
			name: "no reason, no entry_id",
			run: func(s *Student) ([]Event, error) {
				return s.AmendEntry(AmendEntry{Changes: map[string]any{"severity": "severe"}}, t0)
			},
			refuse: []string{"invalid entry_id", "invalid reason"},
		},
		{
			name:   "a field the entry does not have",
			run:    amend(chartAllergyID, map[string]any{"colour": "red", "Severity": "mild"}),
			refuse: []string{"invalid changes.Severity", "invalid changes.colour"},
		},
		{
			name: "fields that may not change",
			run: amend(chartGrowthID, map[string]any{
				"entry_id": chartOtherID, "bmi": 20.0,
			}),
			refuse: []string{"invalid changes.bmi", "invalid changes.entry_id"},
		},
		{
			name:   "recorded_at",
			run:    amend(chartAllergyID, map[string]any{"recorded_at": "2026-12-01T00:00:00Z"}),
			refuse: []string{"invalid changes.recorded_at"},
		},
		{
			name:   "values of the wrong type",
			run:    amend(chartAllergyID, map[string]any{"severity": 3, "epinephrine_required": "yes"}),
			refuse: []string{"invalid changes.epinephrine_required", "invalid changes.severity"},
		},
		{
			name:   "a value the command would refuse",
			run:    amend(chartAllergyID, map[string]any{"severity": "deadly"}),
			refuse: []string{"invalid changes.severity"},
		},
		{
			name:   "a change another field forbids",
			run:    amend(chartVitalsID, map[string]any{"diastolic": 110}),
			refuse: []string{"invalid changes.diastolic"},
		},
		{
			name:   "a required value removed",
			run:    amend(chartAllergyID, map[string]any{"epinephrine_expires": ""}),
			refuse: []string{"invalid changes.epinephrine_expires"},
		},
	}
	for i := range cases {
		cases[i].setup = append(slices.Clone(entries), cases[i].setup...)
	}
	runStudentCases(t, cases)
}

func TestCorrections(t *testing.T) {
	s, history := chartStudent(t, nil)
	allergy := func(
		id, allergen string,
		kind AllergenType,
		severity AllergySeverity,
	) func(*Student) ([]Event, error) {
		return func(s *Student) ([]Event, error) {
			return s.RecordAllergy(RecordAllergy{
				EntryID: id, Allergen: allergen, AllergenType: kind, Severity: severity,
			}, t0)
		}
	}
	const peanut, penicillin, latex = chartAllergyID, chartOtherID, chartConditionID
	steps := []func(*Student) ([]Event, error){
		allergy(peanut, "Peanut", "food", "life-threatening"),
		allergy(penicillin, "Penicillin", "medication", "moderate"),
		allergy(latex, "Latex", "latex", "mild"),
		func(s *Student) ([]Event, error) {
			return s.AmendEntry(AmendEntry{
				EntryID: penicillin,
				Reason:  "Allergist's letter.",
				Changes: map[string]any{"allergen": "Amoxicillin", "severity": "severe"},
			}, t0)
		},
		func(s *Student) ([]Event, error) {
			return s.MarkInError(latex, "Another student's allergy.")
		},
		func(s *Student) ([]Event, error) {
			return s.AmendEntry(AmendEntry{
				EntryID: penicillin,
				Reason:  "Reaction described by the parent.",
				Changes: map[string]any{"reaction": "Rash."},
			}, t0)
		},
	}
	for _, step := range steps {
		history = append(history, decideStudent(t, s, step)...)
	}

	want := []AllergyFact{
		{EntryID: peanut, Allergen: "Peanut", Type: "food", Severity: "life-threatening"},
		{EntryID: penicillin, Allergen: "Amoxicillin", Type: "medication", Severity: "severe"},
	}
	if got := s.ActiveAllergies(); !reflect.DeepEqual(got, want) {
		t.Errorf("ActiveAllergies = %#v\nwant %#v", got, want)
	}

	entry, ok := s.Entry(penicillin)
	current, _ := entry.Current.(AllergyRecorded)
	recorded, _ := entry.Recorded.(AllergyRecorded)
	switch {
	case !ok || entry.Kind != EntryAllergy || entry.InError:
		t.Errorf("Entry(penicillin) = %+v, %v; want an allergy not in error", entry, ok)
	case recorded.Allergen != "Penicillin" || recorded.Severity != "moderate":
		t.Errorf("Recorded = %+v, want the allergy as recorded", recorded)
	case current.Allergen != "Amoxicillin" || current.Severity != "severe" ||
		current.Reaction != "Rash.":
		t.Errorf("Current = %+v, want both amendments applied", current)
	case entry.Amendments != 2 || entry.AmendReason != "Reaction described by the parent.":
		t.Errorf("Amendments, AmendReason = %d, %q; want the second's",
			entry.Amendments, entry.AmendReason)
	case !reflect.DeepEqual(entry.Changes, map[string]any{"reaction": "Rash."}):
		t.Errorf("Changes = %v, want the second amendment's", entry.Changes)
	}

	entry, ok = s.Entry(latex)
	if !ok || !entry.InError || entry.ErrorReason != "Another student's allergy." {
		t.Errorf("Entry(latex) = %+v, %v; want it in error, with its reason", entry, ok)
	}
	if _, ok := s.Entry(chartVisitID); ok {
		t.Error("Entry of an ID not on the chart: found, want not found")
	}
	if _, err := s.AmendEntry(AmendEntry{
		EntryID: latex, Reason: "Severity.", Changes: map[string]any{"severity": "severe"},
	}, t0); ErrorCode(err) != CodeConflict {
		t.Errorf("amending an entry in error: %v, want a conflict", err)
	}

	folded, err := FoldStudent(roundTrip(t, history))
	if err != nil || !reflect.DeepEqual(folded, s) {
		t.Errorf("FoldStudent of decoded events = %#v, %v\nwant %#v", folded, err, s)
	}
}

func TestActiveAllergiesNone(t *testing.T) {
	s, _ := chartStudent(t, nil, chartEvents[1])
	if got := s.ActiveAllergies(); got != nil {
		t.Errorf("ActiveAllergies = %#v, want nil", got)
	}
}
