package sim

import (
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// reasonSpec is a reason for an office visit: how common it is, for whom,
// what the nurse finds and does, and where the student goes after.
type reasonSpec struct {
	reason      string
	weight      int
	eligible    func(st *studentPlan) bool
	assessment  string
	actions     string
	disposition []weighted[string]
	minutes     [2]int // how long the visit lasts
	// vitals are taken in every visit of this reason; otherwise in most.
	vitals bool
	sign   sign
	// relief is what as-needed medicine the nurse may give, and how
	// often the student gets it when they have an order for it.
	relief relief
	give   float64
}

// sign is what a visit's vital signs show.
type sign int

const (
	signNone sign = iota
	signFever
	signPain
	signSeverePain
	signWheeze
	signRacing
)

// relief is the kind of as-needed medicine a visit may call for.
type relief int

const (
	reliefNone   relief = iota
	reliefPain          // acetaminophen or ibuprofen
	reliefCramps        // ibuprofen, else acetaminophen
	reliefAsthma        // albuterol
)

func anyone(*studentPlan) bool { return true }

var returnToClass = []weighted[string]{{"return_to_class", 1}}

var reasons = []reasonSpec{
	{reason: "headache", weight: 16, eligible: anyone, sign: signPain, relief: reliefPain, give: 0.6,
		assessment:  "Headache since morning; no fever, no injury to the head",
		actions:     "Rested 15 minutes with water",
		disposition: []weighted[string]{{"return_to_class", 88}, {"sent_home", 12}}, minutes: [2]int{10, 25}},
	{reason: "stomachache", weight: 15, eligible: anyone, sign: signPain,
		assessment:  "Abdominal discomfort, no vomiting, tolerating fluids",
		actions:     "Rested; crackers and water",
		disposition: []weighted[string]{{"return_to_class", 85}, {"sent_home", 15}}, minutes: [2]int{10, 25}},
	{reason: "minor injury", weight: 14, eligible: anyone, sign: signPain,
		assessment:  "Abrasion on the knee from a fall at recess; full range of motion",
		actions:     "Cleaned, bandaged, ice pack for 10 minutes",
		disposition: []weighted[string]{{"return_to_class", 95}, {"sent_home", 5}}, minutes: [2]int{5, 15}},
	{reason: "fever", weight: 7, eligible: anyone, vitals: true, sign: signFever, relief: reliefPain, give: 0.3,
		assessment:  "Feels warm and tired; temperature elevated",
		actions:     "Parent called to pick up; rested in the health office",
		disposition: []weighted[string]{{"sent_home", 1}}, minutes: [2]int{30, 70}},
	{reason: "nausea", weight: 6, eligible: anyone,
		assessment:  "Nauseated after lunch; no vomiting in the office",
		actions:     "Rested lying down; sips of water",
		disposition: []weighted[string]{{"return_to_class", 70}, {"sent_home", 30}}, minutes: [2]int{15, 40}},
	{reason: "sore throat", weight: 6, eligible: anyone,
		assessment:  "Sore throat for two days; no difficulty swallowing",
		actions:     "Water; parent informed",
		disposition: []weighted[string]{{"return_to_class", 75}, {"sent_home", 25}}, minutes: [2]int{10, 20}},
	{reason: "asthma symptoms", weight: 25, eligible: func(st *studentPlan) bool { return st.has(asthma) },
		vitals: true, sign: signWheeze, relief: reliefAsthma, give: 0.9,
		assessment:  "Wheezing and cough after recess; speaking in full sentences",
		actions:     "Albuterol per asthma action plan; breathing rechecked after 15 minutes",
		disposition: []weighted[string]{{"return_to_class", 90}, {"sent_home", 10}}, minutes: [2]int{20, 35}},
	{reason: "menstrual cramps", weight: 6, sign: signPain, relief: reliefCramps, give: 0.7,
		eligible:    func(st *studentPlan) bool { return st.gender == "female" && gradeNumber(st.grade) >= 6 },
		assessment:  "Lower abdominal cramps",
		actions:     "Heat pack; rested 20 minutes",
		disposition: []weighted[string]{{"return_to_class", 90}, {"sent_home", 10}}, minutes: [2]int{15, 30}},
	{reason: "anxiety", weight: 5, eligible: anyone, sign: signRacing,
		assessment:  "Worried before a test; breathing fast, calmed with breathing exercises",
		actions:     "Breathing exercises; counselor informed",
		disposition: returnToClass, minutes: [2]int{10, 25}},
	{reason: "nosebleed", weight: 4, eligible: anyone,
		assessment:  "Nosebleed, stopped after 10 minutes of pressure",
		actions:     "Pressure and ice",
		disposition: returnToClass, minutes: [2]int{10, 20}},
	{reason: "toothache", weight: 3, eligible: anyone, sign: signPain, relief: reliefPain, give: 0.5,
		assessment:  "Pain in a lower molar; no swelling",
		actions:     "Parent advised to see a dentist",
		disposition: []weighted[string]{{"return_to_class", 80}, {"sent_home", 20}}, minutes: [2]int{10, 20}},
	{reason: "dizziness", weight: 3, eligible: anyone,
		assessment:  "Dizzy in PE; skipped breakfast",
		actions:     "Snack and water; rested 15 minutes",
		disposition: returnToClass, minutes: [2]int{15, 25}},
	{reason: "rash", weight: 3, eligible: anyone,
		assessment:  "Itchy rash on the forearm; no breathing difficulty, no swelling of the face",
		actions:     "Cool compress; parent informed",
		disposition: []weighted[string]{{"return_to_class", 80}, {"sent_home", 20}}, minutes: [2]int{10, 20}},
	{reason: "ankle sprain", weight: 3, eligible: anyone, vitals: true, sign: signSeverePain,
		relief: reliefPain, give: 0.5,
		assessment:  "Twisted the ankle in PE; swelling over the outer ankle, able to bear some weight",
		actions:     "Ice, elevation, parent called to take the student for an X-ray",
		disposition: []weighted[string]{{"sent_home", 80}, {"other", 20}}, minutes: [2]int{25, 60}},
}

// eligibleReasons returns the reasons st may come for.
func eligibleReasons(st *studentPlan) []weighted[*reasonSpec] {
	var out []weighted[*reasonSpec]
	for i := range reasons {
		if r := &reasons[i]; r.eligible(st) {
			out = append(out, weighted[*reasonSpec]{r, r.weight})
		}
	}
	return out
}

// vitalsFor draws the vital signs of st at a visit showing sign: within
// the normal range for the student's age (domain.NormalRange), but for
// what the visit is about.
func vitalsFor(src *source, st *studentPlan, sign sign, id string, at time.Time) readapi.VitalsRequest {
	years, months := st.ageAt(at)
	normal := func(m domain.VitalMeasure) float64 {
		lo, hi, _ := domain.NormalRange(m, years, months)
		return src.normal((lo+hi)/2, (hi-lo)/6, lo, hi)
	}
	temp := src.normal(36.8, 0.25, 36.3, 37.4)
	heart := normal(domain.MeasureHeartRate)
	resp := normal(domain.MeasureRespiratoryRate)
	spo2 := float64(src.between(97, 100))
	pain := 0.0
	switch sign {
	case signFever:
		temp = src.normal(38.6, 0.4, 38.1, 39.8)
		heart += 15
	case signPain:
		pain = float64(src.between(2, 6))
	case signSeverePain:
		pain = float64(src.between(5, 8))
		heart += 10
	case signWheeze:
		resp += float64(src.between(6, 12))
		spo2 = float64(src.between(91, 96))
		heart += 15
	case signRacing:
		heart += float64(src.between(20, 35))
		resp += 4
	}
	r := readapi.VitalsRequest{EntryID: id, MeasuredAt: at.UTC(),
		TemperatureC: ptr(round(temp, 1)), HeartRate: ptr(int(heart)), RespiratoryRate: ptr(int(resp)),
		SpO2: ptr(int(spo2)), Pain: ptr(int(pain))}
	if years >= 10 || src.chance(0.3) {
		r.Systolic = ptr(int(normal(domain.MeasureSystolic)))
		r.Diastolic = ptr(int(normal(domain.MeasureDiastolic)))
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// alertSpec is a kind of emergency: who it can happen to, what the nurse
// gives, and how it ends.
type alertSpec struct {
	kind     string
	weight   int
	eligible func(st *studentPlan) bool
	// relief is the order given in the emergency, found by its
	// ingredient; given tells how often it is.
	relief      string
	given       float64
	sign        sign
	reason      string
	assessment  string
	outcome     string
	disposition string
	minutes     [2]int
}

var alertKinds = []alertSpec{
	{kind: "anaphylaxis", weight: 10, relief: "epinephrine", given: 1, sign: signWheeze,
		eligible: func(st *studentPlan) bool { return st.orderOf("epinephrine") != nil },
		reason:   "allergic reaction", assessment: "Hives, lip swelling and wheezing minutes after lunch",
		outcome:     "Epinephrine given; EMS transported the student to the emergency department; parent met them there",
		disposition: "emergency_transport", minutes: [2]int{20, 35}},
	{kind: "asthma", weight: 35, relief: "albuterol", given: 1, sign: signWheeze,
		eligible: func(st *studentPlan) bool { return st.orderOf("albuterol") != nil },
		reason:   "asthma attack", assessment: "Short of breath after running, speaking in short phrases",
		outcome:     "Breathing eased after albuterol; rechecked at 20 minutes; returned to class",
		disposition: "return_to_class", minutes: [2]int{20, 40}},
	{kind: "seizure", weight: 15, relief: "midazolam", given: 0.3,
		eligible: func(st *studentPlan) bool { return st.has(epilepsy) },
		reason:   "seizure", assessment: "Generalized seizure in class; timed by the teacher",
		outcome:     "Seizure stopped; student rested in recovery position; parent picked the student up",
		disposition: "sent_home", minutes: [2]int{30, 60}},
	{kind: "diabetic", weight: 10,
		eligible: func(st *studentPlan) bool { return st.has(diabetes) },
		reason:   "low blood glucose", assessment: "Shaky and sweaty; glucose 58 mg/dL",
		outcome:     "15 g of fast-acting carbohydrate; glucose 104 mg/dL after 15 minutes; returned to class",
		disposition: "return_to_class", minutes: [2]int{20, 35}},
	{kind: "injury", weight: 30, eligible: anyone, sign: signSeverePain,
		reason: "injury", assessment: "Fell from the climbing frame; painful wrist, no loss of consciousness",
		outcome:     "Wrist splinted; parent took the student to urgent care",
		disposition: "sent_home", minutes: [2]int{25, 50}},
}

// orderOf returns st's order whose first ingredient is ingredient, nil
// when there is none.
func (st *studentPlan) orderOf(ingredient string) *orderPlan {
	for _, o := range st.orders {
		if !o.conflict && o.spec.ingredients[0] == ingredient {
			return o
		}
	}
	return nil
}
