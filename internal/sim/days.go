package sim

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// A school day is planned in two passes. The first draws what happens
// and when: who is absent, the scheduled doses and what becomes of each,
// the attempts that will be blocked, the office visits, an emergency, the
// screenings. The second walks the day in time order and turns each
// happening into requests, keeping the state they change (the controlled
// stock, the doses given as needed, which nurse witnesses next).

// happeningKind is what happens at a time of the day.
type happeningKind int

const (
	morning happeningKind = iota
	earlyAttempt
	conflictOrder
	dose
	duplicateAttempt
	conflictDose
	visit
	emergency
	screening
	shiftCount
	evening
)

// happening is one thing of a school day.
type happening struct {
	at      time.Time
	kind    happeningKind
	student *studentPlan
	order   *orderPlan
	slot    time.Time // the scheduled time of a dose
	outcome string    // of a scheduled dose: given, missed, refused or held
	reason  *reasonSpec
	alert   *alertSpec
}

// dayPlan is one school's day as it is being planned.
type dayPlan struct {
	p      *Plan
	s      *schoolPlan
	d      int
	day    time.Time
	src    *source
	absent map[*studentPlan]bool
	// primary runs the office; second helps, acknowledges alerts, and
	// tries again what the primary did.
	primary, second *Account
	// givers are who gave each scheduled dose.
	givers map[*orderPlan]*Account
	steps  []step
}

// The shares of a day: students absent, visiting the office (between
// the low and the high share), refusing or held from a scheduled dose,
// screened; the chances of an emergency, of a duplicate and of an early
// attempt on a day after the first, and of a count that finds a tablet
// missing.
const (
	absentShare     = 0.05
	visitShareLow   = 0.04
	visitShareHigh  = 0.07
	refusedShare    = 0.015
	heldShare       = 0.01
	screenedShare   = 0.04
	emergencyChance = 0.25
	duplicateChance = 0.5
	earlyChance     = 0.4
	miscountChance  = 0.02
)

// playDays plans every day of every school, then the district's steps
// after each day.
func (p *Plan) playDays() {
	p.lanes = make([][]step, len(p.days))
	for _, s := range p.schools {
		s.days = make([][]step, len(p.days))
	}
	for d := range p.days {
		var blocked []ref
		for _, s := range p.schools {
			dp := p.newDay(s, d)
			dp.plan()
			s.days[d] = dp.steps
			blocked = append(blocked, dp.blockedStudents()...)
		}
		p.lanes[d] = p.districtDay(d, blocked)
	}
}

func (p *Plan) newDay(s *schoolPlan, d int) *dayPlan {
	n := len(s.nurses)
	dp := &dayPlan{p: p, s: s, d: d, day: p.days[d], src: sourceOf(p.cfg.Seed, "day", s.index, d),
		absent: map[*studentPlan]bool{}, givers: map[*orderPlan]*Account{},
		primary: s.nurses[d%n], second: s.nurses[(d+1)%n]}
	for _, k := range dp.src.sample(len(s.students), int(math.Round(float64(len(s.students))*absentShare))) {
		dp.absent[s.students[k]] = true
	}
	return dp
}

// clock returns the time hh:mm of the day, in the district's zone.
func (dp *dayPlan) clock(hh, mm int) time.Time {
	return time.Date(dp.day.Year(), dp.day.Month(), dp.day.Day(), hh, mm, 0, 0, dp.p.zone)
}

// plan draws the day's happenings and turns them into steps.
func (dp *dayPlan) plan() {
	hs := []happening{{at: dp.clock(7, 30), kind: morning}}
	doses := dp.scheduledDoses()
	hs = append(hs, doses...)
	hs = append(hs, dp.blockedAttempts(doses)...)
	hs = append(hs, dp.visits()...)
	hs = append(hs, dp.emergencies()...)
	hs = append(hs, dp.screenings()...)
	hs = append(hs, happening{at: dp.clock(15, 15), kind: shiftCount},
		happening{at: dp.clock(15, 30), kind: evening})
	slices.SortStableFunc(hs, func(a, b happening) int { return a.at.Compare(b.at) })
	for _, h := range hs {
		dp.happen(h)
	}
}

// present returns the students at school today.
func (dp *dayPlan) present() []*studentPlan {
	return slices.DeleteFunc(slices.Clone(dp.s.students), func(st *studentPlan) bool { return dp.absent[st] })
}

// first reports whether this is the first day played, on which every
// kind of blocked attempt is made at every school that can make it.
func (dp *dayPlan) first() bool { return dp.d == 0 }

// scheduledDoses are the doses of the day's fixed orders: most given
// near their time, a few refused or held, and those of absent students
// missed.
func (dp *dayPlan) scheduledDoses() []happening {
	var out []happening
	for _, st := range dp.s.students {
		for _, o := range st.orders {
			if o.time == "" || !o.active(dp.day) {
				continue
			}
			var hh, mm int
			fmt.Sscanf(o.time, "%d:%d", &hh, &mm)
			slot := dp.clock(hh, mm)
			h := happening{at: slot, kind: dose, student: st, order: o, slot: slot, outcome: "given"}
			switch r := dp.src.r.Float64(); {
			case dp.absent[st]:
				h.outcome, h.at = "missed", slot.Add(90*time.Minute)
			case r < refusedShare:
				h.outcome, h.at = "refused", slot.Add(5*time.Minute)
			case r < refusedShare+heldShare:
				h.outcome = "held"
			default:
				late := dp.src.normal(3, 7, -15, 20)
				h.at = slot.Add(time.Duration(late * float64(time.Minute)))
			}
			out = append(out, h)
		}
	}
	return out
}

// blockedAttempts are the day's attempts the medication rules refuse: a
// scheduled dose tried again after it was given (duplicate), one tried
// hours before its time (right_time, whatever the service's window), and
// on its day at each school, an antibiotic ordered for a student allergic
// to penicillin, tried and then discontinued (allergy).
func (dp *dayPlan) blockedAttempts(doses []happening) []happening {
	var given []happening
	for _, h := range doses {
		if h.outcome == "given" {
			given = append(given, h)
		}
	}
	var out []happening
	if len(given) > 0 && (dp.first() || dp.src.chance(duplicateChance)) {
		h := dp.preferUncontrolled(given)
		out = append(out, happening{at: h.at.Add(12 * time.Minute), kind: duplicateAttempt,
			student: h.student, order: h.order, slot: h.slot})
	}
	if len(given) > 0 && (dp.first() || dp.src.chance(earlyChance)) {
		h := pick(dp.src, given)
		out = append(out, happening{at: h.slot.Add(-4*time.Hour - 20*time.Minute), kind: earlyAttempt,
			student: h.student, order: h.order, slot: h.slot})
	}
	if dp.d == dp.s.index%len(dp.p.days) {
		out = append(out, dp.conflict()...)
	}
	return out
}

// preferUncontrolled picks one of the doses, one that needs no witness
// when there is one.
func (dp *dayPlan) preferUncontrolled(doses []happening) happening {
	plain := slices.DeleteFunc(slices.Clone(doses), func(h happening) bool {
		return h.order.spec.controlled != ""
	})
	if len(plain) > 0 {
		return pick(dp.src, plain)
	}
	return pick(dp.src, doses)
}

// conflict plans an amoxicillin order for a present student allergic to
// penicillin, and its first dose, which the allergy check blocks.
func (dp *dayPlan) conflict() []happening {
	var candidates []*studentPlan
	for _, st := range dp.present() {
		if st.allergic("penicillin") && st.orderOf("amoxicillin") == nil {
			candidates = append(candidates, st)
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	st := pick(dp.src, candidates)
	o := dp.p.order(dp.src, st, pickBySize(st, amoxicillinLiquid, amoxicillin), dp.p.fixed("12:00"), false)
	o.start, o.end, o.conflict = dp.day, dp.day.AddDate(0, 0, 9), true
	o.request.StartOn, o.request.EndOn = o.start.Format(time.DateOnly), o.end.Format(time.DateOnly)
	o.request.ConsentOn = dp.day.AddDate(0, 0, -1).Format(time.DateOnly)
	st.orders = append(st.orders, o)
	slot := dp.clock(12, 0)
	return []happening{
		{at: dp.clock(9, 40), kind: conflictOrder, student: st, order: o},
		{at: slot.Add(2 * time.Minute), kind: conflictDose, student: st, order: o, slot: slot},
	}
}

// visits are the day's office visits: 4 to 7 in a hundred students
// present, at least one.
func (dp *dayPlan) visits() []happening {
	present := dp.present()
	share := visitShareLow + (visitShareHigh-visitShareLow)*dp.src.r.Float64()
	n := max(1, int(math.Round(float64(len(present))*share)))
	var out []happening
	for _, k := range dp.src.sample(len(present), n) {
		st := present[k]
		out = append(out, happening{at: dp.clock(8, 5).Add(dp.src.minutes(0, 395)), kind: visit,
			student: st, reason: choose(dp.src, eligibleReasons(st))})
	}
	return out
}

// emergencies is the day's emergency alert, if there is one: on a
// quarter of days, and on one day of the run at every school.
func (dp *dayPlan) emergencies() []happening {
	if dp.d != (dp.s.index+1)%len(dp.p.days) && !dp.src.chance(emergencyChance) {
		return nil
	}
	present := dp.present()
	var kinds []weighted[*alertSpec]
	for i := range alertKinds {
		a := &alertKinds[i]
		if slices.ContainsFunc(present, a.eligible) {
			kinds = append(kinds, weighted[*alertSpec]{a, a.weight})
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	a := choose(dp.src, kinds)
	who := slices.DeleteFunc(present, func(st *studentPlan) bool { return !a.eligible(st) })
	return []happening{{at: dp.clock(9, 30).Add(dp.src.minutes(0, 285)), kind: emergency,
		student: pick(dp.src, who), alert: a}}
}

// screenings are the day's share of the school's screening campaign.
func (dp *dayPlan) screenings() []happening {
	present := dp.present()
	n := max(1, int(math.Round(float64(len(dp.s.students))*screenedShare)))
	var out []happening
	for i, k := range dp.src.sample(len(present), n) {
		out = append(out, happening{at: dp.clock(10, 0).Add(time.Duration(i*6) * time.Minute),
			kind: screening, student: present[k]})
	}
	return out
}

// blockedStudents are the students of the day's blocked attempts.
func (dp *dayPlan) blockedStudents() []ref {
	var out []ref
	for _, st := range dp.steps {
		if st.expect.check != "" && !slices.Contains(out, st.target) {
			out = append(out, st.target)
		}
	}
	return out
}

// add appends steps to the day.
func (dp *dayPlan) add(steps ...step) { dp.steps = append(dp.steps, steps...) }

// happen turns h into its steps.
func (dp *dayPlan) happen(h happening) {
	switch h.kind {
	case morning, evening:
		dp.add(dp.read(h.at, dp.primary, "/v1/schools/{school}/doses?date="+dp.day.Format(time.DateOnly)))
		if h.kind == morning {
			dp.add(dp.read(h.at, dp.primary, "/v1/schools/{school}/alerts?state=active"))
		}
	case dose:
		dp.scheduledDose(h)
	case duplicateAttempt:
		dp.duplicate(h)
	case earlyAttempt:
		dp.early(h)
	case conflictOrder:
		dp.add(post(h.at, dp.primary, "/v1/students/{student}/medication-orders", h.student.ref,
			dp.src.uuid(), h.order.request, "orders"))
	case conflictDose:
		dp.conflictingDose(h)
	case visit:
		dp.visit(h)
	case emergency:
		dp.emergency(h)
	case screening:
		dp.screen(h)
	case shiftCount:
		dp.countStock(h.at)
	}
}

// read is a nurse's read of a school's list.
func (dp *dayPlan) read(at time.Time, by *Account, path string) step {
	return get(at, by, path, ref{school: dp.s.index}, "reads_nurse")
}

// readChart is a nurse's read of st's chart, or one of its lists.
func readChart(at time.Time, by *Account, st *studentPlan, what string) step {
	return get(at, by, "/v1/students/{student}"+what, st.ref, "reads_nurse")
}

// administration is a dose of h's order as ordered, given at at, for
// h's scheduled time.
func (dp *dayPlan) administration(h happening, at time.Time) readapi.AdministrationRequest {
	return readapi.AdministrationRequest{
		AttemptID: dp.src.uuid(), OrderID: h.order.id, StudentID: phStudent,
		DrugName: h.order.spec.drug, DoseAmount: h.order.spec.doseAmount, DoseUnit: h.order.spec.doseUnit,
		Route: h.order.spec.route, GivenAt: at.UTC(), ScheduledFor: h.slot.UTC(),
	}
}

// giver returns who gives a dose of o, and its witness when o needs one.
func (dp *dayPlan) giver(o *orderPlan) (*Account, *Account) {
	if needsWitness(o.spec) {
		return dp.s.pair()
	}
	return dp.primary, nil
}

// needsWitness reports whether every dose of spec needs a witness: a
// controlled substance of schedule II or III.
func needsWitness(spec medSpec) bool { return spec.controlled == "II" || spec.controlled == "III" }

// pair returns the next nurse to give a witnessed dose or count and the
// nurse who witnesses it, taking the school's nurses in turn.
func (s *schoolPlan) pair() (*Account, *Account) {
	n := len(s.nurses)
	k := s.witnessed
	s.witnessed++
	return s.nurses[k%n], s.nurses[(k+1)%n]
}

// countBack sets, for a dose of a controlled substance, what remains
// after it; when the dose uses the stock (it is not one the rules will
// block), the stock keeps that.
func (dp *dayPlan) countBack(r *readapi.AdministrationRequest, o *orderPlan, uses bool) {
	if o.spec.controlled == "" {
		return
	}
	left := dp.s.stock[o.spec.drug] - unitsPerDose(o.spec)
	r.RemainingCounted = ptr(left)
	if uses {
		dp.s.stock[o.spec.drug] = left
	}
}

// unitsPerDose is how many units of its stock one dose of spec uses: its
// orders dose in the stock's unit.
func unitsPerDose(spec medSpec) int {
	var n int
	fmt.Sscan(spec.doseAmount, &n)
	return n
}

// command is a step of the day on st's chart, under a key of its own.
func (dp *dayPlan) command(at time.Time, by *Account, path string, st *studentPlan, body any, count string) step {
	return post(at, by, path, st.ref, dp.src.uuid(), body, count)
}

// give is the administration r by by, with its witness when the order
// needs one: set in r's body, and the step waits for its confirmations
// to be allowed.
func (dp *dayPlan) give(at time.Time, by *Account, st *studentPlan, r readapi.AdministrationRequest,
	witness *Account, count string) step {
	if witness != nil {
		r.Witness = &readapi.WitnessCredentials{Email: witness.Email, Password: witness.Password}
	}
	s := dp.command(at, by, "/v1/students/{student}/administrations", st, r, count)
	s.witness = witness
	return s
}

// scheduledDose gives, or records as not given, a scheduled dose.
func (dp *dayPlan) scheduledDose(h happening) {
	if h.outcome != "given" {
		reason := map[string]string{
			"missed":  "Student absent",
			"refused": "Student declined the dose",
			"held":    heldReason(h.order),
		}[h.outcome]
		path := "/v1/students/{student}/administrations" + map[string]string{"missed": "/missed", "refused": "/refusals", "held": "/holds"}[h.outcome]
		dp.add(dp.command(h.at, dp.primary, path, h.student, readapi.DoseNotGivenRequest{
			AttemptID: dp.src.uuid(), OrderID: h.order.id, ScheduledFor: h.slot.UTC(),
			Reason: reason, At: h.at.UTC(),
		}, "doses_"+h.outcome))
		return
	}
	by, witness := dp.giver(h.order)
	r := dp.administration(h, h.at)
	dp.countBack(&r, h.order, true)
	if dp.src.chance(0.3) {
		dp.add(readChart(h.at.Add(-time.Minute), by, h.student, "/medication-orders"))
	}
	dp.add(dp.give(h.at, by, h.student, r, witness, "doses_given"))
	dp.givers[h.order] = by
}

func heldReason(o *orderPlan) string {
	if o.spec.ingredients[0] == "insulin lispro" {
		return "Glucose 64 mg/dL before lunch, under the plan's threshold; parent notified"
	}
	return "Student reports stomach upset and no appetite; parent consulted"
}

// duplicate tries a scheduled dose again after it was given, as another
// nurse, who then looks at the student's doses.
func (dp *dayPlan) duplicate(h happening) {
	giver := dp.givers[h.order]
	by := dp.second
	if by == giver {
		by = dp.primary
	}
	r := dp.administration(h, h.at)
	var witness *Account
	if needsWitness(h.order.spec) {
		witness = giver
	}
	dp.countBack(&r, h.order, false)
	s := dp.give(h.at, by, h.student, r, witness, "blocked_duplicate")
	s.expect = expect{status: 422, check: domain.CheckDuplicate}
	dp.add(s, readChart(h.at.Add(time.Minute), by, h.student, "/administrations?kind=given"))
}

// early tries a scheduled dose more than four hours before its time.
func (dp *dayPlan) early(h happening) {
	by, witness := dp.giver(h.order)
	r := dp.administration(h, h.at)
	dp.countBack(&r, h.order, false)
	s := dp.give(h.at, by, h.student, r, witness, "blocked_time")
	s.expect = expect{status: 422, check: domain.CheckRightTime}
	dp.add(s)
}

// conflictingDose tries the first dose of an order the student is
// allergic to, reads the blocked attempt, and discontinues the order.
func (dp *dayPlan) conflictingDose(h happening) {
	r := dp.administration(h, h.at)
	s := dp.give(h.at, dp.primary, h.student, r, nil, "blocked_allergy")
	s.expect = expect{status: 422, check: domain.CheckAllergy}
	dp.add(s, readChart(h.at.Add(time.Minute), dp.primary, h.student, "/administrations?kind=blocked"))
	dp.add(dp.command(h.at.Add(5*time.Minute), dp.primary,
		"/v1/students/{student}/medication-orders/"+h.order.id+"/discontinue", h.student,
		readapi.DiscontinueRequest{Reason: "Allergy to penicillin on the chart; prescriber called for an alternative"},
		"orders_discontinued"))
	h.order.stopped = true
}

// visit is an office visit: the nurse finds the student and reads the
// chart, takes vital signs, gives what the visit calls for, and records
// the visit.
func (dp *dayPlan) visit(h happening) {
	st, r := h.student, h.reason
	by := dp.primary
	if dp.src.chance(0.3) {
		by = dp.second
	}
	search := "/v1/students?q=" + url.QueryEscape(st.family[:3]) + "&school={school}"
	dp.add(get(h.at, by, search, st.ref, "reads_nurse"), readChart(h.at, by, st, ""))
	if r.vitals || dp.src.chance(0.6) {
		dp.add(dp.command(h.at.Add(3*time.Minute), by, "/v1/students/{student}/vitals", st,
			vitalsFor(dp.src, st, r.sign, dp.src.uuid(), h.at.Add(3*time.Minute)), "vitals"))
	}
	if o := dp.reliefFor(st, r.relief); o != nil && dp.src.chance(r.give) {
		dp.asNeeded(h.at.Add(5*time.Minute), by, st, o)
	}
	out := h.at.Add(dp.src.minutes(r.minutes[0], r.minutes[1]))
	disposition := choose(dp.src, r.disposition)
	dp.add(dp.command(out, by, "/v1/students/{student}/visits", st, readapi.VisitRequest{
		EntryID: dp.src.uuid(), TimeIn: h.at.UTC(), TimeOut: out.UTC(), Reasons: []string{r.reason},
		Assessment: r.assessment, Actions: r.actions, Disposition: disposition,
		ParentNotified: disposition != "return_to_class",
	}, "visits"))
}

// reliefFor returns the order st has for what a visit calls for.
func (dp *dayPlan) reliefFor(st *studentPlan, r relief) *orderPlan {
	switch r {
	case reliefPain:
		if o := st.orderOf("acetaminophen"); o != nil {
			return o
		}
		return st.orderOf("ibuprofen")
	case reliefCramps:
		if o := st.orderOf("ibuprofen"); o != nil {
			return o
		}
		return st.orderOf("acetaminophen")
	case reliefAsthma:
		return st.orderOf("albuterol")
	}
	return nil
}

// asNeeded gives a dose of an order as needed at at, when its minimum
// interval and its maximum per 24 hours allow it.
func (dp *dayPlan) asNeeded(at time.Time, by *Account, st *studentPlan, o *orderPlan) {
	if !o.active(dp.day) || !o.mayGive(at) {
		return
	}
	r := dp.administration(happening{order: o}, at)
	r.ScheduledFor = time.Time{}
	dp.countBack(&r, o, true)
	dp.add(dp.give(at, by, st, r, nil, "doses_prn"))
	o.given = append(o.given, at)
}

// emergency raises an alert, which the second nurse acknowledges; the
// primary gives what the emergency calls for, takes vital signs, records
// the visit and resolves the alert.
func (dp *dayPlan) emergency(h happening) {
	st, a := h.student, h.alert
	id := dp.src.uuid()
	alert := "/v1/students/{student}/alerts/" + id
	dp.add(dp.command(h.at, dp.primary, "/v1/students/{student}/alerts", st,
		readapi.AlertRequest{AlertID: id, Kind: a.kind, Location: pick(dp.src, alertLocations)}, "alerts_raised"))
	dp.add(dp.command(h.at.Add(2*time.Minute), dp.second, alert+"/acknowledge", st, nil, "alerts_acknowledged"))
	dp.add(dp.read(h.at.Add(2*time.Minute), dp.second, "/v1/schools/{school}/alerts?state=active"))
	dp.add(readChart(h.at.Add(3*time.Minute), dp.primary, st, ""))
	if a.relief != "" && dp.src.chance(a.given) {
		if o := st.orderOf(a.relief); o != nil {
			dp.asNeeded(h.at.Add(4*time.Minute), dp.primary, st, o)
		}
	}
	dp.add(dp.command(h.at.Add(6*time.Minute), dp.primary, "/v1/students/{student}/vitals", st,
		vitalsFor(dp.src, st, a.sign, dp.src.uuid(), h.at.Add(6*time.Minute)), "vitals"))
	out := h.at.Add(dp.src.minutes(a.minutes[0], a.minutes[1]))
	dp.add(dp.command(out, dp.primary, "/v1/students/{student}/visits", st, readapi.VisitRequest{
		EntryID: dp.src.uuid(), TimeIn: h.at.UTC(), TimeOut: out.UTC(), Reasons: []string{a.reason},
		Assessment: a.assessment, Actions: "Emergency alert raised; care per the student's plan",
		Disposition: a.disposition, ParentNotified: true,
	}, "visits"))
	dp.add(dp.command(out, dp.primary, alert+"/resolve", st, readapi.ResolveRequest{Outcome: a.outcome},
		"alerts_resolved"))
}

// screen records the screenings of st's grade, and height and weight
// with the BMI screening.
func (dp *dayPlan) screen(h happening) {
	st := h.student
	g := gradeNumber(st.grade)
	var kinds []string
	if slices.Contains([]int{0, 1, 2, 3, 5, 7, 9, 11}, g) {
		kinds = append(kinds, "vision", "hearing")
	}
	if g >= 5 && g <= 9 && dp.src.chance(0.5) {
		kinds = append(kinds, "scoliosis")
	}
	if g <= 3 && dp.src.chance(0.5) {
		kinds = append(kinds, "dental")
	}
	kinds = append(kinds, "bmi")
	by := dp.primary
	for _, k := range kinds {
		dp.add(dp.command(h.at, by, "/v1/students/{student}/screenings", st,
			dp.screeningResult(k, st), "screenings"))
	}
	dp.add(dp.command(h.at, by, "/v1/students/{student}/growth", st, readapi.GrowthRequest{
		EntryID: dp.src.uuid(), MeasuredAt: h.at.UTC(), HeightCM: st.heightCM, WeightKG: st.weightKG,
	}, "growth"))
}

// screeningResult draws the result of one screening of st: most pass; a
// referral says what follows.
func (dp *dayPlan) screeningResult(kind string, st *studentPlan) readapi.ScreeningRequest {
	refer := map[string]float64{"vision": 0.1, "hearing": 0.03, "scoliosis": 0.02, "dental": 0.15}[kind]
	details := map[string]string{
		"vision": "Snellen chart at 10 feet", "hearing": "Pure-tone sweep at 1, 2 and 4 kHz",
		"scoliosis": "Forward bend test", "dental": "Visual check by the nurse",
	}[kind]
	r := readapi.ScreeningRequest{EntryID: dp.src.uuid(), Kind: kind, Result: "pass", Details: details}
	referred := dp.src.chance(refer)
	if kind == "bmi" {
		bmi := st.weightKG / math.Pow(st.heightCM/100, 2)
		r.Details = fmt.Sprintf("BMI %.1f", bmi)
		referred = bmi >= bmiReferral(st.ageOn(dp.day))
	}
	if referred {
		r.Result = "refer"
		r.ReferralFollowUp = "Referral letter sent to the parent; follow up in 30 days"
	}
	return r
}

// bmiReferral is the BMI from which a child of age is referred: about
// the 95th percentile of the CDC's charts.
func bmiReferral(age int) float64 {
	switch {
	case age <= 7:
		return 18.5
	case age <= 10:
		return 21
	case age <= 13:
		return 24.5
	}
	return 28.5
}

// countStock reads the school's controlled stock, then counts each drug
// with a witness; now and then a tablet is missing, and the count
// records a discrepancy.
func (dp *dayPlan) countStock(at time.Time) {
	drugs := dp.s.stocked
	if len(drugs) == 0 {
		return
	}
	dp.add(dp.read(at, dp.primary, "/v1/schools/{school}/controlled-stock"))
	for _, drug := range drugs {
		counted := dp.s.stock[drug]
		if counted > 0 && dp.src.chance(miscountChance) {
			counted--
		}
		dp.s.stock[drug] = counted
		by, witness := dp.s.pair()
		s := post(at, by, "/v1/schools/{school}/controlled-substances/counts", ref{school: dp.s.index},
			dp.src.uuid(), readapi.CountRequest{DrugName: drug, Counted: counted,
				Witness: readapi.WitnessCredentials{Email: witness.Email, Password: witness.Password}},
			"shift_counts")
		s.witness = witness
		dp.add(s)
	}
}
