package sim

import (
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// organisation returns the steps that set the district up, in order: the
// system administrator creates the district, its administrator, the
// compliance officer and the auditor; the district administrator creates
// the schools and their staff.
func (p *Plan) organisation() []step {
	at := p.start
	none := ref{school: -1}
	district := post(at, p.admin, "/v1/districts", none, p.key,
		readapi.CreateDistrictRequest{Name: p.district + " School District"}, "districts")
	district.makes = madeDistrict
	steps := []step{district,
		p.newAccount(p.admin, p.districtAdmin, nil),
		p.newAccount(p.admin, p.officer, nil),
		p.newAccount(p.admin, p.auditor, nil),
	}
	for _, s := range p.schools {
		school := post(at, p.districtAdmin, "/v1/schools", ref{school: s.index}, s.key,
			readapi.CreateSchoolRequest{DistrictID: phDistrict, Name: s.name}, "schools")
		school.makes = madeSchool
		steps = append(steps, school, p.newAccount(p.districtAdmin, s.admin, s))
		for _, n := range s.nurses {
			steps = append(steps, p.newAccount(p.districtAdmin, n, s))
		}
	}
	return steps
}

// newAccount is the creation of a by admin: of school s's staff, or of
// the district's when s is nil.
func (p *Plan) newAccount(admin, a *Account, s *schoolPlan) step {
	body := readapi.CreateUserRequest{Email: a.Email, DisplayName: a.DisplayName,
		Roles: []domain.Role{a.Role}, Password: a.Password}
	target := ref{school: -1}
	switch {
	case s != nil:
		body.Schools, target = []string{phSchool}, ref{school: s.index}
	case a.Role == domain.RoleDistrictAdmin:
		body.District = phDistrict
	}
	st := post(p.start, admin, "/v1/users", target, a.Key, body, "accounts")
	st.makes, st.subject = madeAccount, a
	return st
}

// receive plans the receipts of controlled stock that school s's orders
// need, each counted with a witness: a bottle of 30 tablets for every
// 30 doses the days will give, and more; two nasal sprays for each
// student who may need one.
func (p *Plan) receive(s *schoolPlan) {
	s.stock = map[string]int{}
	src := sourceOf(p.cfg.Seed, "stock", s.index)
	for _, spec := range []medSpec{methylphenidate, amphetamine, midazolam} {
		users := 0
		for _, st := range s.students {
			if st.orderOf(spec.ingredients[0]) != nil {
				users++
			}
		}
		if users == 0 {
			continue
		}
		quantity := 2 * users
		if spec.route != "nasal" {
			quantity = ((users*(len(p.days)+10))/30 + 1) * 30
		}
		by, witness := s.pair()
		receipt := post(p.start, by, "/v1/schools/{school}/controlled-substances/receipts",
			ref{school: s.index}, src.uuid(), readapi.ReceiptRequest{DrugName: spec.drug,
				Quantity: quantity, Unit: spec.stockUnit,
				Witness: readapi.WitnessCredentials{Email: witness.Email, Password: witness.Password}},
			"stock_receipts")
		receipt.witness = witness
		s.receipts = append(s.receipts, receipt)
		s.stock[spec.drug] = quantity
		s.stocked = append(s.stocked, spec.drug)
	}
}

// districtDay returns the district's steps after day d: compliance
// reviews the day's blocked attempts and who read those students' charts,
// the auditor reads the log and its checkpoint, and on the first day a
// nurse reaches a student of another school, refused, then under
// break-glass; on the last day compliance records a disclosure and
// reviews a nurse's activity.
func (p *Plan) districtDay(d int, blocked []ref) []step {
	src := sourceOf(p.cfg.Seed, "district-day", d)
	day := p.days[d]
	at := time.Date(day.Year(), day.Month(), day.Day(), 16, 0, 0, 0, p.zone)
	none := ref{school: -1}
	compliance := func(path string, target ref) step {
		return get(at, p.officer, path, target, "reads_compliance")
	}
	var steps []step
	if d == 0 && len(p.schools) > 1 {
		steps = append(steps, p.emergencyAccess(src, at)...)
	}
	from := day.UTC().Format(time.RFC3339)
	review := compliance("/v1/log?outcome=blocked&from="+from, none)
	review.after = true
	steps = append(steps, review)
	if len(blocked) > 0 {
		st := pick(src, blocked)
		steps = append(steps,
			compliance("/v1/students/{student}/access", st),
			compliance("/v1/students/{student}/history", st),
			compliance("/v1/log?student={student}", st))
	}
	checkpoint := get(at, p.auditor, "/v1/ledger/checkpoint", none, "reads_auditor")
	checkpoint.expect.notFound = true // until the first one is signed
	steps = append(steps, compliance("/v1/access/break-glass", none), checkpoint,
		get(at, p.auditor, "/v1/log?order=position&limit=100", none, "reads_auditor"))
	if d == 0 {
		steps = append(steps, get(at, p.districtAdmin, "/v1/users?limit=50", none, "reads_admin"),
			get(at, p.districtAdmin, "/v1/schools", none, "reads_admin"))
	}
	if d == len(p.days)-1 {
		steps = append(steps, p.disclosure(src, at)...)
	}
	return steps
}

// emergencyAccess is a nurse of the second school reading a student of
// the first, who collapsed at an event the second school hosts: refused,
// then allowed under a break-glass grant.
func (p *Plan) emergencyAccess(src *source, at time.Time) []step {
	nurse := p.schools[1].nurses[0]
	st := ref{school: 0, index: src.r.IntN(len(p.schools[0].students))}
	refused := get(at, nurse, "/v1/students/{student}", st, "reads_refused")
	refused.expect = expect{status: 403}
	grant := post(at, nurse, "/v1/access/break-glass", st, src.uuid(), readapi.BreakGlassRequest{
		StudentID: phStudent, ReasonCode: string(domain.ReasonMedicalEmergency), Minutes: 30,
		Reason: "Student collapsed at the district track meet hosted here; checking allergies and medications for EMS",
	}, "break_glass")
	read := get(at, nurse, "/v1/students/{student}", st, "reads_nurse")
	read.after = true
	return []step{refused, grant, read}
}

// disclosure is compliance recording a disclosure to the county health
// department made outside the system, reading the student's accounting,
// and reviewing what a nurse did and read.
func (p *Plan) disclosure(src *source, at time.Time) []step {
	s := p.schools[src.r.IntN(len(p.schools))]
	st := ref{school: s.index, index: src.r.IntN(len(s.students))}
	record := post(at, p.officer, "/v1/students/{student}/disclosures", st, src.uuid(),
		readapi.DisclosureRequest{Recipient: "County health department", What: "Immunization record",
			Purpose: "Vaccination compliance review requested by the county",
			At:      at.Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, "disclosures")
	read := get(at, p.officer, "/v1/students/{student}/disclosures", st, "reads_compliance")
	read.after = true
	activity := get(at, p.officer, "/v1/users/{user}/activity", st, "reads_compliance")
	activity.subject = s.nurses[0]
	return []step{record, read, activity}
}
