package sim

// The clinical facts the district is drawn from: how common each allergy
// and chronic condition is among school-age children, what a school
// nurse gives for them, the vaccines of the usual school schedule with
// their CVX codes, and the names people and schools are given. The
// figures are rounded from published US surveys (food allergy in
// children, CDC asthma surveillance, diabetes and epilepsy prevalence,
// ADHD medication use); they make a district look like one, they are
// not epidemiology.

// allergySpec is one allergy and how often children have it.
type allergySpec struct {
	allergen     string
	kind         string  // a domain.AllergenType
	prevalence   float64 // the share of students with it
	minPerSchool int     // at least this many at every school
	severities   []weighted[string]
	reactions    []string
	// epinephrine: a severe or life-threatening case carries an
	// auto-injector and has an order for it.
	epinephrine bool
}

var allergies = []allergySpec{
	{allergen: "peanut", kind: "food", prevalence: 0.022, minPerSchool: 1, epinephrine: true,
		severities: severity(15, 35, 30, 20),
		reactions:  []string{"hives and lip swelling", "vomiting and throat tightness", "anaphylaxis at age 4"}},
	{allergen: "tree nuts", kind: "food", prevalence: 0.012, epinephrine: true,
		severities: severity(20, 35, 30, 15),
		reactions:  []string{"hives", "swelling of the face", "wheezing and hives"}},
	{allergen: "milk", kind: "food", prevalence: 0.019,
		severities: severity(45, 40, 10, 5),
		reactions:  []string{"stomach pain and diarrhea", "hives", "eczema flare"}},
	{allergen: "egg", kind: "food", prevalence: 0.009, epinephrine: true,
		severities: severity(40, 40, 15, 5),
		reactions:  []string{"hives", "vomiting"}},
	{allergen: "shellfish", kind: "food", prevalence: 0.013, epinephrine: true,
		severities: severity(20, 35, 30, 15),
		reactions:  []string{"hives and itching", "throat tightness"}},
	{allergen: "sesame", kind: "food", prevalence: 0.002, epinephrine: true,
		severities: severity(20, 40, 25, 15),
		reactions:  []string{"hives", "wheezing"}},
	{allergen: "penicillin", kind: "medication", prevalence: 0.05, minPerSchool: 1,
		severities: severity(35, 35, 20, 10),
		reactions:  []string{"rash", "hives", "facial swelling"}},
	{allergen: "sulfa", kind: "medication", prevalence: 0.01,
		severities: severity(40, 40, 15, 5),
		reactions:  []string{"rash", "hives"}},
	{allergen: "ibuprofen", kind: "medication", prevalence: 0.005,
		severities: severity(40, 40, 15, 5),
		reactions:  []string{"hives", "wheezing"}},
	{allergen: "bee venom", kind: "insect", prevalence: 0.008, epinephrine: true,
		severities: severity(30, 30, 25, 15),
		reactions:  []string{"large local swelling", "hives over the body", "anaphylaxis after a sting"}},
	{allergen: "latex", kind: "latex", prevalence: 0.004,
		severities: severity(50, 35, 10, 5),
		reactions:  []string{"contact rash", "itching"}},
	{allergen: "seasonal pollen", kind: "environmental", prevalence: 0.08,
		severities: severity(70, 30, 0, 0),
		reactions:  []string{"sneezing and itchy eyes", "runny nose"}},
	{allergen: "dust mites", kind: "environmental", prevalence: 0.03,
		severities: severity(70, 30, 0, 0),
		reactions:  []string{"sneezing", "itchy eyes"}},
}

// severity weighs mild, moderate, severe and life-threatening.
func severity(mild, moderate, severe, lifeThreatening int) []weighted[string] {
	return []weighted[string]{
		{"mild", mild}, {"moderate", moderate}, {"severe", severe}, {"life-threatening", lifeThreatening},
	}
}

// conditionSpec is one chronic condition and how often children have it.
type conditionSpec struct {
	name  string
	icd10 string
	tag   condition
	// prevalence, minPerSchool as for allergies; districtMin puts that
	// many in the district (at its first schools) when prevalence alone
	// gives fewer and the district has at least 40 students.
	prevalence   float64
	minPerSchool int
	districtMin  int
	carePlan     string
	protocol     string
	triggers     string
	accommodate  string
	plan504      float64 // the share with a 504 plan
}

// condition tags the conditions the day's events depend on.
type condition int

const (
	asthma condition = iota + 1
	diabetes
	epilepsy
	adhd
	migraine
	anxiety
)

var conditions = []conditionSpec{
	{name: "Asthma", icd10: "J45.909", tag: asthma, prevalence: 0.08, minPerSchool: 1,
		carePlan:    "Asthma action plan on file; albuterol inhaler as needed for symptoms",
		protocol:    "If no relief 20 minutes after albuterol, or lips turn blue: call 911 and the parent",
		triggers:    "exercise, cold air, pollen, respiratory infections",
		accommodate: "May carry inhaler; pre-exercise puffs before PE when needed", plan504: 0.3},
	{name: "Type 1 diabetes", icd10: "E10.9", tag: diabetes, prevalence: 0.003, districtMin: 1,
		carePlan:    "Diabetes medical management plan: glucose check before lunch, insulin per plan",
		protocol:    "Glucose under 70 mg/dL: 15 g fast-acting carbohydrate, recheck in 15 minutes; unresponsive: glucagon and 911",
		triggers:    "skipped snacks, exercise, illness",
		accommodate: "Snacks in class; unrestricted water and restroom; glucose checks in class", plan504: 0.9},
	{name: "Epilepsy", icd10: "G40.909", tag: epilepsy, prevalence: 0.01,
		carePlan:    "Seizure action plan on file; time every seizure",
		protocol:    "Seizure over 5 minutes: midazolam nasal spray per order, call 911 and the parent",
		triggers:    "missed sleep, missed doses, flashing lights",
		accommodate: "Seizure-trained staff on field trips", plan504: 0.5},
	{name: "Attention-deficit hyperactivity disorder", icd10: "F90.2", tag: adhd,
		prevalence: 0.05, minPerSchool: 1,
		carePlan:    "Midday stimulant dose at the health office",
		accommodate: "Preferential seating; extended time on tests", plan504: 0.4},
	{name: "Migraine", icd10: "G43.909", tag: migraine, prevalence: 0.03,
		carePlan: "Rest in a dark room; acetaminophen per order at onset",
		triggers: "bright light, skipped meals, poor sleep", plan504: 0.1},
	{name: "Generalized anxiety disorder", icd10: "F41.1", tag: anxiety, prevalence: 0.04,
		carePlan:    "Counselor check-ins; calm space in the health office",
		accommodate: "Breaks on request; testing in a small group", plan504: 0.3},
}

// medSpec is a medication as a school's orders name it.
type medSpec struct {
	drug        string
	ingredients []string
	strength    string
	doseAmount  string
	doseUnit    string
	route       string
	// controlled is the DEA schedule, "" when none; stockUnit is what its
	// stock is counted in.
	controlled string
	stockUnit  string
}

// The medications: a stimulant at midday, insulin before lunch, rescue
// medicines as needed, pain relievers with the parent's consent, and a
// course of an antibiotic.
var (
	methylphenidate = medSpec{drug: "Methylphenidate 10 mg tablet", ingredients: []string{"methylphenidate"},
		strength: "10 mg", doseAmount: "1", doseUnit: "tablet", route: "oral", controlled: "II", stockUnit: "tablet"}
	amphetamine = medSpec{drug: "Amphetamine/dextroamphetamine 5 mg tablet",
		ingredients: []string{"amphetamine", "dextroamphetamine"},
		strength:    "5 mg", doseAmount: "1", doseUnit: "tablet", route: "oral", controlled: "II", stockUnit: "tablet"}
	insulin = medSpec{drug: "Insulin lispro 100 units/mL", ingredients: []string{"insulin lispro"},
		strength: "100 units/mL", doseAmount: "4", doseUnit: "unit", route: "subcutaneous"}
	glucagon = medSpec{drug: "Glucagon 1 mg injection", ingredients: []string{"glucagon"},
		strength: "1 mg", doseAmount: "1", doseUnit: "mg", route: "intramuscular"}
	midazolam = medSpec{drug: "Midazolam 5 mg nasal spray", ingredients: []string{"midazolam"},
		strength: "5 mg per spray", doseAmount: "1", doseUnit: "spray", route: "nasal",
		controlled: "IV", stockUnit: "spray"}
	albuterol = medSpec{drug: "Albuterol HFA 90 mcg inhaler", ingredients: []string{"albuterol"},
		strength: "90 mcg per puff", doseAmount: "2", doseUnit: "puff", route: "inhaled"}
	epinephrineJr = medSpec{drug: "Epinephrine 0.15 mg auto-injector", ingredients: []string{"epinephrine"},
		strength: "0.15 mg", doseAmount: "0.15", doseUnit: "mg", route: "intramuscular"}
	epinephrine = medSpec{drug: "Epinephrine 0.3 mg auto-injector", ingredients: []string{"epinephrine"},
		strength: "0.3 mg", doseAmount: "0.3", doseUnit: "mg", route: "intramuscular"}
	acetaminophenLiquid = medSpec{drug: "Acetaminophen 160 mg/5 mL suspension",
		ingredients: []string{"acetaminophen"},
		strength:    "160 mg/5 mL", doseAmount: "10", doseUnit: "mL", route: "oral"}
	acetaminophen = medSpec{drug: "Acetaminophen 325 mg tablet", ingredients: []string{"acetaminophen"},
		strength: "325 mg", doseAmount: "2", doseUnit: "tablet", route: "oral"}
	ibuprofenLiquid = medSpec{drug: "Ibuprofen 100 mg/5 mL suspension", ingredients: []string{"ibuprofen"},
		strength: "100 mg/5 mL", doseAmount: "10", doseUnit: "mL", route: "oral"}
	ibuprofen = medSpec{drug: "Ibuprofen 200 mg tablet", ingredients: []string{"ibuprofen"},
		strength: "200 mg", doseAmount: "2", doseUnit: "tablet", route: "oral"}
	amoxicillinLiquid = medSpec{drug: "Amoxicillin 400 mg/5 mL suspension", ingredients: []string{"amoxicillin"},
		strength: "400 mg/5 mL", doseAmount: "5", doseUnit: "mL", route: "oral"}
	amoxicillin = medSpec{drug: "Amoxicillin 500 mg capsule", ingredients: []string{"amoxicillin"},
		strength: "500 mg", doseAmount: "1", doseUnit: "capsule", route: "oral"}
)

// The shares of students with an order for a pain reliever, with the
// parent's consent, and on a course of an antibiotic at midday.
const (
	acetaminophenShare = 0.20
	ibuprofenShare     = 0.10
	antibioticShare    = 0.005
)

// vaccineSpec is one vaccine of the school-entry schedule: the ages, in
// months, of its doses as the CDC's childhood schedule gives them.
type vaccineSpec struct {
	name  string
	cvx   string
	route string // a domain.VaccineRoute
	ages  []int
	// share of children who get it at all (1 for the required ones).
	share float64
}

var vaccines = []vaccineSpec{
	{name: "Hepatitis B, pediatric", cvx: "08", route: "IM", ages: []int{0, 2, 6}, share: 1},
	{name: "DTaP", cvx: "20", route: "IM", ages: []int{2, 4, 6, 16, 54}, share: 1},
	{name: "IPV", cvx: "10", route: "IM", ages: []int{2, 4, 8, 54}, share: 1},
	{name: "MMR", cvx: "03", route: "SC", ages: []int{13, 54}, share: 1},
	{name: "Varicella", cvx: "21", route: "SC", ages: []int{13, 54}, share: 1},
	{name: "Hepatitis A, pediatric", cvx: "83", route: "IM", ages: []int{12, 19}, share: 0.9},
	{name: "Tdap", cvx: "115", route: "IM", ages: []int{134}, share: 1},
	{name: "MenACWY", cvx: "136", route: "IM", ages: []int{134, 194}, share: 0.9},
	{name: "HPV, 9-valent", cvx: "165", route: "IM", ages: []int{135, 142}, share: 0.6},
}

// Immunization exemptions and incomplete series, as shares of students.
const (
	exemptShare     = 0.025
	incompleteShare = 0.04
)

// The names people, schools and districts are drawn from. Staff and
// students are fictional.
var (
	givenNames = []string{
		"Maya", "Liam", "Sofia", "Noah", "Amara", "Ethan", "Isabella", "Mateo", "Aaliyah", "Lucas",
		"Chloe", "Elijah", "Priya", "Oliver", "Zoe", "Jayden", "Mia", "Santiago", "Hannah", "Kai",
		"Leah", "Omar", "Grace", "Diego", "Nora", "Wei", "Ava", "Malik", "Emma", "Hiro",
		"Layla", "Caleb", "Fatima", "Owen", "Ruby", "Andre", "Lily", "Tariq", "Ella", "Ravi",
		"Aria", "Gabriel", "Naomi", "Julian", "Yuna", "Isaiah", "Camila", "Rowan", "Leila", "Samuel",
		"Eva", "Xavier", "Iris", "Dominic", "Alina", "Marcus", "Stella", "Aiden", "Mariam", "Felix",
	}
	familyNames = []string{
		"Okafor", "Nguyen", "Garcia", "Smith", "Patel", "Johnson", "Kim", "Martinez", "Brown", "Chen",
		"Williams", "Hernandez", "Jones", "Singh", "Lopez", "Davis", "Ali", "Miller", "Wilson", "Tanaka",
		"Moore", "Rodriguez", "Taylor", "Khan", "Anderson", "Thomas", "Jackson", "White", "Haddad", "Harris",
		"Martin", "Thompson", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "Wright", "Scott",
		"Torres", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
		"Mitchell", "Carter", "Roberts", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards",
	}
	schoolNames = []string{
		"Oak Hill", "Lincoln", "Jefferson", "Maple Grove", "Riverside", "Hawthorne", "Cedar Park",
		"Roosevelt", "Franklin", "Willow Creek", "Pine Ridge", "Sequoia", "Madison", "Emerson",
		"Whittier", "Lakeside", "Kennedy", "Garfield", "Meadowbrook", "Brookside", "Highland",
		"Fairview", "Sunset", "Westwood", "Parkview", "Eastgate", "Northwood", "Clearwater",
	}
	districtNames = []string{
		"Cedar Valley", "North Ridge", "Lakeview", "Pine Hollow", "Stone Creek", "Willow Bend",
		"Harbor Point", "Red Rock", "Silver Lake", "Prairie View",
	}
	// zones are the districts' time zones; orders read their times in it.
	zones = []string{
		"America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
	}
	// passwordWords make the demo passwords: two words, four digits and a
	// symbol.
	passwordWords = []string{
		"Harbor", "Lantern", "Meadow", "Granite", "Juniper", "Falcon", "Cobalt", "Orchid", "Summit",
		"Willow", "Ember", "Glacier", "Thistle", "Copper", "Saffron", "Beacon", "Timber", "Coral",
		"Heron", "Marble", "Aspen", "Indigo", "Quartz", "Sparrow", "Walnut", "Cypress", "Tundra",
		"Velvet", "Canyon", "Breeze", "Pebble", "Lotus",
	}
	prescribers = []string{
		"Dr. A. Chen", "Dr. B. Ortiz", "Dr. C. Williams", "Dr. D. Mensah", "Dr. E. Kowalski",
		"Dr. F. Haddad", "Dr. G. Ramirez", "Dr. H. Park",
	}
	contactRelationships = []weighted[string]{{"mother", 45}, {"father", 35}, {"grandparent", 10},
		{"guardian", 5}, {"aunt", 3}, {"uncle", 2}}
	alertLocations = []string{"Cafeteria", "Gym", "Playground", "Health office", "Library",
		"Room 12", "Room 27", "Hallway B", "Bus loop", "Music room"}
)
