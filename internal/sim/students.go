package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// studentPlan is one student: who they are, what their chart holds when
// the days begin, and what the days need to know of them.
type studentPlan struct {
	ref      ref
	key      string
	number   string
	given    string
	family   string
	birth    time.Time
	grade    string
	gender   string
	enrolled time.Time
	// setup are the student's requests before the days, in order:
	// enrolment and contacts by the office, then the nurse's records.
	setup []step

	conditions map[condition]bool
	allergies  []allergyFact
	orders     []*orderPlan
	// heightCM and weightKG are the student's size when the days begin.
	heightCM, weightKG float64
}

// allergyFact is an allergy a student has.
type allergyFact struct {
	spec     *allergySpec
	severity string
}

func (st *studentPlan) has(c condition) bool { return st.conditions[c] }

// allergic reports whether the student has the allergy to allergen.
func (st *studentPlan) allergic(allergen string) bool {
	for _, a := range st.allergies {
		if a.spec.allergen == allergen {
			return true
		}
	}
	return false
}

// ageOn returns the student's age in whole years on day.
func (st *studentPlan) ageOn(day time.Time) int {
	years, _ := st.ageAt(day)
	return years
}

// ageAt returns the student's age at t in whole years and the whole
// months beyond them.
func (st *studentPlan) ageAt(t time.Time) (int, int) {
	t = t.In(st.birth.Location())
	m := (t.Year()-st.birth.Year())*12 + int(t.Month()-st.birth.Month())
	if t.Day() < st.birth.Day() {
		m--
	}
	return m / 12, m % 12
}

// young reports whether the student is of elementary age, who take
// liquid medicines and the smaller auto-injector.
func (st *studentPlan) young() bool {
	g := gradeNumber(st.grade)
	return g <= 5
}

// gradeNumber returns a grade as a number, K and PK as 0 and -1.
func gradeNumber(grade string) int {
	switch grade {
	case "PK":
		return -1
	case "K":
		return 0
	}
	var n int
	fmt.Sscan(grade, &n)
	return n
}

// studentsOf draws the students of school s and their charts. Which
// students have each allergy and condition is drawn for the school, so
// that every school has its share; the rest is drawn for each student.
func (p *Plan) studentsOf(s *schoolPlan) {
	size := p.schoolSize(s.index)
	src := sourceOf(p.cfg.Seed, "school", s.index)
	for i := range size {
		s.students = append(s.students, p.student(s, i))
	}
	p.assignAllergies(src, s)
	p.assignConditions(src, s)
	for _, st := range s.students {
		p.chart(st, s)
	}
}

// student draws student i of school s.
func (p *Plan) student(s *schoolPlan, i int) *studentPlan {
	src := sourceOf(p.cfg.Seed, "student", s.index, i)
	st := &studentPlan{
		ref:        ref{s.index, i},
		key:        src.uuid(),
		number:     fmt.Sprintf("S-%02d%04d", s.index+1, i+1),
		given:      pick(src, givenNames),
		family:     pick(src, familyNames),
		grade:      pick(src, s.level.grades),
		gender:     choose(src, []weighted[string]{{"female", 49}, {"male", 49}, {"nonbinary", 1}, {"unknown", 1}}),
		conditions: map[condition]bool{},
	}
	// Children start kindergarten at 5 by the 1st of September.
	cutoff := time.Date(p.start.Year(), time.September, 1, 0, 0, 0, 0, p.zone)
	st.birth = cutoff.AddDate(-5-gradeNumber(st.grade), 0, -src.between(0, 364))
	st.enrolled = p.start
	if src.chance(0.05) {
		// Moved in during the year.
		st.enrolled = p.start.AddDate(0, 0, src.between(1, int(p.days[0].Sub(p.start).Hours()/24)))
	}
	st.heightCM, st.weightKG = growthAt(src, st.ageOn(p.days[0]), st.gender == "male")
	return st
}

// assignAllergies gives each allergy to its share of the school's
// students, at least its minimum.
func (p *Plan) assignAllergies(src *source, s *schoolPlan) {
	for i := range allergies {
		spec := &allergies[i]
		for _, k := range src.sample(len(s.students), share(len(s.students), spec.prevalence, spec.minPerSchool)) {
			st := s.students[k]
			st.allergies = append(st.allergies, allergyFact{spec: spec, severity: choose(src, spec.severities)})
		}
	}
}

// assignConditions gives each condition to its share of the school's
// students, and to one student of the district's first school when the
// district would have none of a condition it should have one of.
func (p *Plan) assignConditions(src *source, s *schoolPlan) {
	for _, c := range conditions {
		n := share(len(s.students), c.prevalence, c.minPerSchool)
		if s.index == 0 && p.cfg.Students >= 40 && p.districtCount(c) < c.districtMin {
			n = max(n, c.districtMin)
		}
		for _, k := range src.sample(len(s.students), n) {
			s.students[k].conditions[c.tag] = true
		}
	}
}

// districtCount is how many students of the district a condition's
// prevalence alone gives.
func (p *Plan) districtCount(c conditionSpec) int {
	total := 0
	for i := range p.cfg.Schools {
		total += share(p.schoolSize(i), c.prevalence, c.minPerSchool)
	}
	return total
}

// share returns prevalence of n, rounded, at least least (but never more
// than n).
func share(n int, prevalence float64, least int) int {
	return min(n, max(least, int(math.Round(float64(n)*prevalence))))
}

// chart plans st's setup: enrolment, contacts, then allergies,
// conditions, immunizations and orders, each with its ID drawn from the
// student's source.
func (p *Plan) chart(st *studentPlan, s *schoolPlan) {
	src := sourceOf(p.cfg.Seed, "chart", s.index, st.ref.index)
	st.setup = append(st.setup, p.enrolment(st, s))
	st.setup = append(st.setup, p.contacts(src, st, s)...)
	nurse := s.nurses[st.ref.index%len(s.nurses)]
	add := func(resource, count string, body any) {
		st.setup = append(st.setup, post(p.start, nurse, "/v1/students/{student}/"+resource, st.ref,
			src.uuid(), body, count))
	}
	for _, a := range st.allergies {
		add("allergies", "allergies", p.allergy(src, st, a))
	}
	for _, c := range conditions {
		if st.has(c.tag) {
			add("conditions", "conditions", p.condition(src, c))
		}
	}
	imms, exemptions := p.immunizations(src, st)
	for _, im := range imms {
		add("immunizations", "immunizations", im)
	}
	for _, ex := range exemptions {
		add("exemptions", "exemptions", ex)
	}
	for _, o := range p.ordersOf(src, st) {
		st.orders = append(st.orders, o)
		add("medication-orders", "orders", o.request)
	}
}

// contacts draws one or two emergency contacts, with phone numbers of
// the range kept for fiction (555-0100 to 555-0199).
func (p *Plan) contacts(src *source, st *studentPlan, s *schoolPlan) []step {
	var out []step
	for priority := 1; priority <= src.between(1, 2); priority++ {
		rel := choose(src, contactRelationships)
		out = append(out, post(p.start, s.admin, "/v1/students/{student}/contacts", st.ref, src.uuid(),
			readapi.ContactRequest{
				ContactID: src.uuid(), Name: pick(src, givenNames) + " " + st.family, Relationship: rel,
				Phone:    fmt.Sprintf("+1%03d5550%03d", src.between(201, 989), src.between(100, 199)),
				Priority: priority, MayPickUp: rel != "aunt" && rel != "uncle",
			}, "contacts"))
	}
	return out
}

// allergy is the record of a, verified by the nurse who records it.
func (p *Plan) allergy(src *source, st *studentPlan, a allergyFact) readapi.AllergyRequest {
	r := readapi.AllergyRequest{
		EntryID: src.uuid(), Allergen: a.spec.allergen, AllergenType: a.spec.kind, Severity: a.severity,
		Reaction:   pick(src, a.spec.reactions),
		VerifiedBy: phActor, VerifiedOn: st.enrolled.AddDate(0, 0, src.between(0, 10)).Format(time.DateOnly),
	}
	if st.enrolled.AddDate(0, 0, 10).After(p.days[0]) {
		r.VerifiedOn = st.enrolled.Format(time.DateOnly)
	}
	if needsEpinephrine(a) {
		r.EpinephrineRequired = true
		r.EpinephrineLocation = pick(src, []string{"Health office, cabinet A", "Student's backpack",
			"Classroom emergency bag"})
		r.EpinephrineExpires = p.start.AddDate(1, src.between(0, 5), 0).Format(time.DateOnly)
	}
	return r
}

func needsEpinephrine(a allergyFact) bool {
	return a.spec.epinephrine && (a.severity == "severe" || a.severity == "life-threatening")
}

// condition is the record of a chronic condition.
func (p *Plan) condition(src *source, c conditionSpec) readapi.ConditionRequest {
	return readapi.ConditionRequest{
		EntryID: src.uuid(), Condition: c.name, ICD10: c.icd10,
		Status:   choose(src, []weighted[string]{{"active", 60}, {"managed", 35}, {"monitoring", 5}}),
		CarePlan: c.carePlan, EmergencyProtocol: c.protocol, Triggers: c.triggers,
		Accommodations: c.accommodate, Plan504: src.chance(c.plan504),
		NextReview: p.start.AddDate(1, 0, 0).Format(time.DateOnly),
	}
}

// immunizations are the doses of the school schedule the student was old
// enough for when enrolled, as transcribed from their records: most
// complete, some short of their last dose, a few exempt.
func (p *Plan) immunizations(src *source, st *studentPlan) ([]readapi.ImmunizationRequest, []readapi.ExemptionRequest) {
	var doses []readapi.ImmunizationRequest
	var exemptions []readapi.ExemptionRequest
	exempt := ""
	if src.chance(exemptShare) {
		exempt = choose(src, []weighted[string]{{"religious", 45}, {"personal", 40}, {"medical", 15}})
	}
	incomplete := src.chance(incompleteShare)
	for _, v := range vaccines {
		if !src.chance(v.share) {
			continue
		}
		if exempt != "" && (v.cvx == "03" || v.cvx == "21") {
			ex := readapi.ExemptionRequest{EntryID: src.uuid(), Vaccine: v.name, Kind: exempt}
			if exempt == "medical" {
				ex.Expires = p.start.AddDate(1, 0, 0).Format(time.DateOnly)
			}
			exemptions = append(exemptions, ex)
			continue
		}
		given := p.dosesGiven(src, st, v)
		if incomplete && len(given) > 1 && v.cvx == "20" {
			given = given[:len(given)-1]
		}
		doses = append(doses, given...)
	}
	return doses, exemptions
}

// dosesGiven are the doses of v the student had by enrolment.
func (p *Plan) dosesGiven(src *source, st *studentPlan, v vaccineSpec) []readapi.ImmunizationRequest {
	var out []readapi.ImmunizationRequest
	for i, months := range v.ages {
		on := st.birth.AddDate(0, months, src.between(0, 30))
		if on.After(st.enrolled) {
			break
		}
		site := "left deltoid"
		if months < 36 {
			site = "right anterolateral thigh"
		}
		out = append(out, readapi.ImmunizationRequest{
			EntryID: src.uuid(), Vaccine: v.name, CVX: v.cvx, DoseNumber: i + 1, SeriesSize: len(v.ages),
			GivenOn: on.Format(time.DateOnly), Lot: fmt.Sprintf("%c%c%04d", 'A'+src.r.IntN(26), 'A'+src.r.IntN(26),
				src.r.IntN(10000)),
			Site: site, Route: v.route,
		})
	}
	return out
}

// growthAt draws a height and a weight for age, around the CDC's
// medians.
func growthAt(src *source, age int, male bool) (float64, float64) {
	age = min(18, max(4, age))
	height := []float64{102, 110, 116, 122, 128, 133, 138, 144, 150, 157, 162, 166, 169, 170, 171}[age-4]
	weight := []float64{16.5, 18.5, 21, 23, 26, 29, 32, 36, 41, 46, 51, 56, 59, 61, 63}[age-4]
	if male && age >= 13 {
		height += float64(age-12) * 2.5
		weight += float64(age-12) * 2
	}
	return round(src.normal(height, height*0.04, 80, 200), 1),
		round(src.normal(weight, weight*0.15, 12, 120), 1)
}

// orderPlan is a medication order of a student, and the doses the days
// have given of it so far.
type orderPlan struct {
	id      string
	spec    medSpec
	request readapi.OrderRequest
	// time is the scheduled time of a fixed order ("12:00"); "" for an
	// order as needed.
	time     string
	start    time.Time
	end      time.Time
	given    []time.Time
	stopped  bool
	conflict bool // ordered although the student is allergic to it
}

// active reports whether o may be given on day.
func (o *orderPlan) active(day time.Time) bool {
	return !o.stopped && !day.Before(o.start) && !day.After(o.end)
}

// mayGive reports whether a dose of an order as needed at t keeps to its
// minimum interval and its maximum per 24 hours.
func (o *orderPlan) mayGive(t time.Time) bool {
	s := o.request.Schedule
	n := 1
	// The days are planned in order: every dose given so far is before t.
	for _, g := range o.given {
		since := t.Sub(g)
		if since < time.Duration(s.MinIntervalMinutes)*time.Minute {
			return false
		}
		if since < 24*time.Hour {
			n++
		}
	}
	return n <= s.MaxPerDay
}

// ordersOf draws the student's orders: those of their conditions and
// allergies, pain relievers with the parent's consent, a course of an
// antibiotic for a few.
func (p *Plan) ordersOf(src *source, st *studentPlan) []*orderPlan {
	var out []*orderPlan
	add := func(spec medSpec, schedule domain.DoseSchedule, critical bool) {
		out = append(out, p.order(src, st, spec, schedule, critical))
	}
	prn := func(minutes, perDay int, indication string) domain.DoseSchedule {
		return domain.DoseSchedule{Kind: domain.SchedulePRN, TimeZone: p.zone.String(),
			MinIntervalMinutes: minutes, MaxPerDay: perDay, Indication: indication}
	}
	if st.has(adhd) {
		add(choose(src, []weighted[medSpec]{{methylphenidate, 7}, {amphetamine, 3}}), p.fixed("12:00"), false)
	}
	if st.has(diabetes) {
		add(insulin, p.fixed("11:45"), true)
		add(glucagon, prn(15, 1, "severe hypoglycemia: unresponsive or unable to swallow"), false)
	}
	if st.has(asthma) {
		add(albuterol, prn(240, 3, "wheezing, coughing or shortness of breath"), false)
	}
	if st.has(epilepsy) {
		add(midazolam, prn(15, 2, "seizure lasting more than 5 minutes"), false)
	}
	for _, a := range st.allergies {
		if needsEpinephrine(a) {
			add(pickBySize(st, epinephrineJr, epinephrine), prn(15, 2, "anaphylaxis"), false)
			break
		}
	}
	if src.chance(acetaminophenShare) && !st.allergic("acetaminophen") {
		add(pickBySize(st, acetaminophenLiquid, acetaminophen), prn(240, 2, "pain or fever over 38.0 C"), false)
	}
	if src.chance(ibuprofenShare) && !st.allergic("ibuprofen") {
		add(pickBySize(st, ibuprofenLiquid, ibuprofen), prn(360, 1, "pain or menstrual cramps"), false)
	}
	if src.chance(antibioticShare) && !st.allergic("penicillin") {
		o := p.order(src, st, pickBySize(st, amoxicillinLiquid, amoxicillin), p.fixed("12:00"), false)
		o.start = p.days[0].AddDate(0, 0, -src.between(0, 4))
		o.end = o.start.AddDate(0, 0, 9)
		o.request.StartOn, o.request.EndOn = o.start.Format(time.DateOnly), o.end.Format(time.DateOnly)
		o.request.ConsentOn = o.request.StartOn
		out = append(out, o)
	}
	return out
}

// pickBySize returns the medicine for an elementary-age student, or the
// other.
func pickBySize(st *studentPlan, young, older medSpec) medSpec {
	if st.young() {
		return young
	}
	return older
}

// fixed is the schedule of one dose a day at hhmm.
func (p *Plan) fixed(hhmm string) domain.DoseSchedule {
	return domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{hhmm}, TimeZone: p.zone.String()}
}

// order draws an order of spec for the school year, with the parent's
// consent and the prescriber's name and NPI.
func (p *Plan) order(
	src *source,
	st *studentPlan,
	spec medSpec,
	schedule domain.DoseSchedule,
	critical bool,
) *orderPlan {
	start := st.enrolled.AddDate(0, 0, src.between(0, 7))
	if start.After(p.days[0]) {
		start = p.days[0]
	}
	end := time.Date(p.start.Year()+1, time.June, 15, 0, 0, 0, 0, p.zone)
	if last := p.days[len(p.days)-1]; end.Before(last) {
		end = last.AddDate(0, 1, 0)
	}
	o := &orderPlan{id: src.uuid(), spec: spec, start: start, end: end}
	if len(schedule.Times) > 0 {
		o.time = schedule.Times[0]
	}
	o.request = readapi.OrderRequest{
		OrderID: o.id, DrugName: spec.drug, Ingredients: spec.ingredients,
		Strength: spec.strength, DoseAmount: spec.doseAmount, DoseUnit: spec.doseUnit, Route: spec.route,
		Schedule: schedule, TimeCritical: critical,
		StartOn: start.Format(time.DateOnly), EndOn: end.Format(time.DateOnly),
		Prescriber:         domain.Prescriber{Name: pick(src, prescribers), NPI: npi(src)},
		ConsentOn:          start.AddDate(0, 0, -src.between(1, 10)).Format(time.DateOnly),
		ControlledSchedule: spec.controlled,
	}
	return o
}

// npi draws a National Provider Identifier: nine digits and the Luhn
// check digit computed over them with the prefix 80840.
func npi(src *source) string {
	digits := fmt.Sprintf("%d%08d", 1+src.r.IntN(2), src.r.IntN(100_000_000))
	sum := 0
	for i, c := range "80840" + digits {
		d := int(c - '0')
		// Double every other digit from the right of the full number,
		// whose check digit is still to come.
		if (14-i)%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + fmt.Sprint((10-sum%10)%10)
}
