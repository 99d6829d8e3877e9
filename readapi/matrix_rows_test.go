package readapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// The roles, short, for the rows.
const (
	nurse = domain.RoleNurse
	sch   = domain.RoleSchoolAdmin
	dist  = domain.RoleDistrictAdmin
	co    = domain.RoleComplianceOfficer
	aud   = domain.RoleAuditor
	sys   = domain.RoleSysadmin
)

// everyRole lists every role.
var everyRole = domain.Roles

func roles(rs ...domain.Role) []domain.Role { return rs }

// matrixCase is one route's row of the matrix: how to call it on a target
// in the caller's scope or out of it, and what each role gets.
type matrixCase struct {
	request func(w *world, inScope bool) (path string, body any)
	want    expect
}

// expect states a row's statuses independently of the route's
// declaration: the roles listed in in get ok on a target in their scope,
// those in out get ok on one out of it; a role of in but not of out gets
// outStatus out of scope (403 unless set); every other role gets 403.
// inScope overrides the status of a role in scope.
type expect struct {
	ok        int
	in, out   []domain.Role
	outStatus int
	inScope   map[domain.Role]int
}

func (e expect) status(r domain.Role, inScope bool) int {
	switch {
	case inScope && e.inScope[r] != 0:
		return e.inScope[r]
	case inScope && slices.Contains(e.in, r), !inScope && slices.Contains(e.out, r):
		return e.ok
	case !inScope && slices.Contains(e.in, r) && e.outStatus != 0:
		return e.outStatus
	}
	return http.StatusForbidden
}

// anyone is a row every caller gets ok from, wherever the target.
func anyone(ok int) expect { return expect{ok: ok, in: everyRole, out: everyRole} }

// row makes a matrixCase.
func row(request func(w *world, in bool) (string, any), want expect) matrixCase {
	return matrixCase{request: request, want: want}
}

// at returns a request of path, the same in scope and out of it.
func at(path string, body any) func(*world, bool) (string, any) {
	return func(*world, bool) (string, any) { return path, body }
}

// matrixRows is the matrix: one row per route of the application, keyed
// "METHOD path" as the route declares them.
func matrixRows() map[string]matrixCase {
	rows := map[string]matrixCase{}
	for _, part := range []map[string]matrixCase{
		builtinRows(), authRows(), userRows(), organisationRows(), rosterRows(),
		entryRows(), medicationRows(), alertRows(), readRows(),
	} {
		for key, c := range part {
			if _, twice := rows[key]; twice {
				panic("matrix row " + key + " stated twice")
			}
			rows[key] = c
		}
	}
	return rows
}

func builtinRows() map[string]matrixCase {
	return map[string]matrixCase{
		"GET /healthz":         row(at("/healthz", nil), anyone(200)),
		"GET /readyz":          row(at("/readyz", nil), anyone(200)),
		"GET /v1/openapi.json": row(at("/v1/openapi.json", nil), anyone(200)),
	}
}

func authRows() map[string]matrixCase {
	return map[string]matrixCase{
		"POST /v1/auth/login": row(func(w *world, _ bool) (string, any) {
			return "/v1/auth/login", readapi.LoginRequest{Email: w.users[nurse], Password: password}
		}, anyone(200)),
		// A refresh token of no session: public, and refused.
		"POST /v1/auth/refresh": row(at("/v1/auth/refresh",
			readapi.RefreshRequest{RefreshToken: uuid.NewString() + ".x"}), anyone(401)),
		"POST /v1/auth/logout": row(at("/v1/auth/logout", nil), anyone(204)),
		// A wrong current password: every caller gets as far as the check.
		"POST /v1/auth/password": row(at("/v1/auth/password",
			readapi.PasswordChange{CurrentPassword: "not-it", NewPassword: password + "x"}), anyone(400)),
		"POST /v1/auth/totp/secret": row(at("/v1/auth/totp/secret", nil), anyone(200)),
		// A code that does not match: every caller gets as far as the check.
		"POST /v1/auth/totp": row(at("/v1/auth/totp",
			readapi.TOTPEnrolment{Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Code: "000000"}), anyone(400)),
		// In scope, a student of the caller's school, whose chart needs no
		// grant; out of scope, a student of another district, of the row's
		// own, so that no grant opens another row's student.
		"POST /v1/access/break-glass": row(func(w *world, in bool) (string, any) {
			student := w.studentIn
			if !in {
				student = w.enrol(w.districtOut, w.schoolOut)
			}
			return "/v1/access/break-glass", readapi.BreakGlassRequest{StudentID: student,
				ReasonCode: "medical_emergency", Reason: "student collapsed in the gym; chart needed for allergies"}
		}, expect{ok: 201, in: roles(nurse, co), out: roles(nurse, co), inScope: map[domain.Role]int{nurse: 409}}),
	}
}

// The answers of the account routes: administrators act on accounts of
// their scope; out of it, the system administrator still does, and the
// others are refused (403), or told there is no such account (404) where
// even its existence is theirs to know only in scope.
var (
	manages      = expect{ok: 200, in: roles(sys, dist, sch), out: roles(sys)}
	managesOrNot = expect{ok: 200, in: roles(sys, dist, sch), out: roles(sys), outStatus: 404}
)

func userRows() map[string]matrixCase {
	user := func(suffix string, body any) func(*world, bool) (string, any) {
		return func(w *world, in bool) (string, any) { return "/v1/users/" + w.target(in) + suffix, body }
	}
	created := manages
	created.ok = 201
	read := managesOrNot
	read.in, read.out = roles(sys, dist, sch, co), roles(sys, co)
	return map[string]matrixCase{
		"POST /v1/users": row(func(w *world, in bool) (string, any) {
			return "/v1/users", readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example",
				DisplayName: "New", Roles: roles(nurse), Schools: []string{w.school(in)}, Password: password}
		}, created),
		"GET /v1/users/:id":                row(user("", nil), read),
		"POST /v1/users/:id/roles":         row(user("/roles", readapi.RolesRequest{Roles: roles(sch)}), manages),
		"DELETE /v1/users/:id/roles/:role": row(user("/roles/school_admin", nil), manages),
		"POST /v1/users/:id/schools": row(func(w *world, in bool) (string, any) {
			return "/v1/users/" + w.target(in) + "/schools", readapi.SchoolsRequest{Schools: []string{w.school(in)}}
		}, manages),
		// A school the account is not at: nothing to remove, and no
		// nurse left without a school.
		"DELETE /v1/users/:id/schools/:school": row(user("/schools/"+uuid.NewString(), nil), manages),
		"POST /v1/users/:id/deactivate": row(user("/deactivate",
			readapi.DeactivateRequest{Reason: "left the district"}), manages),
		"POST /v1/users/:id/unlock":     row(user("/unlock", nil), manages),
		"GET /v1/users/:id/sessions":    row(user("/sessions", nil), managesOrNot),
		"DELETE /v1/users/:id/sessions": row(user("/sessions", nil), managesOrNot),
		"DELETE /v1/users/:id/sessions/:session": row(func(w *world, in bool) (string, any) {
			id, session := w.loggedInTarget(in)
			return "/v1/users/" + id + "/sessions/" + session, nil
		}, managesOrNot),
	}
}

func organisationRows() map[string]matrixCase {
	return map[string]matrixCase{
		"POST /v1/districts": row(at("/v1/districts", readapi.CreateDistrictRequest{Name: "Another"}),
			expect{ok: 201, in: roles(sys), out: roles(sys)}),
		"GET /v1/districts/:id": row(func(w *world, in bool) (string, any) {
			return "/v1/districts/" + w.district(in), nil
		}, anyone(200)),
		"POST /v1/schools": row(func(w *world, in bool) (string, any) {
			return "/v1/schools", readapi.CreateSchoolRequest{Name: "Another", DistrictID: w.district(in)}
		}, expect{ok: 201, in: roles(sys, dist), out: roles(sys)}),
		"GET /v1/schools/:id": row(func(w *world, in bool) (string, any) {
			return "/v1/schools/" + w.school(in), nil
		}, anyone(200)),
	}
}

// The answers of the chart routes: the roles that manage the roster, or
// nurses, on a student of their school or district; nobody out of it.
var (
	rosters  = expect{ok: 201, in: roles(nurse, sch, dist)}
	treats   = expect{ok: 201, in: roles(nurse)}
	recorded = expect{ok: 201, in: roles(nurse)}
)

// onStudent returns a request of a route on the world's student in scope
// or out of it: /v1/students/{id} followed by suffix.
func onStudent(suffix string, body func(w *world) any) func(*world, bool) (string, any) {
	return func(w *world, in bool) (string, any) {
		return "/v1/students/" + w.student(in) + suffix, body(w)
	}
}

// onFreshStudent is onStudent on a student enrolled for the one request,
// for a change that would end the world's students' enrolment.
func onFreshStudent(suffix string, body func(w *world, in bool) any) func(*world, bool) (string, any) {
	return func(w *world, in bool) (string, any) {
		district, school := w.districtOut, w.schoolOut
		if in {
			district, school = w.districtIn, w.schoolIn
		}
		return "/v1/students/" + w.enrol(district, school) + suffix, body(w, in)
	}
}

func rosterRows() map[string]matrixCase {
	enrolled := rosters
	return map[string]matrixCase{
		"POST /v1/students": row(func(w *world, in bool) (string, any) {
			return "/v1/students", readapi.EnrolRequest{StudentNumber: uuid.NewString()[:8],
				DistrictID: w.district(in), SchoolID: w.school(in), GivenName: "Ana", FamilyName: "Lee",
				BirthDate: "2015-01-09", Grade: "5", Gender: "female", EnrolledOn: "2025-08-20"}
		}, enrolled),
		"POST /v1/students/:id/demographics": row(onFreshStudent("/demographics", func(*world, bool) any {
			return readapi.DemographicsRequest{Grade: "6"}
		}), rosters),
		"POST /v1/students/:id/transfer": row(onFreshStudent("/transfer", func(w *world, in bool) any {
			to := w.schoolOut2
			if in {
				to = w.schoolIn2
			}
			return readapi.TransferRequest{ToSchoolID: to, On: "2025-09-01"}
		}), rosters),
		"POST /v1/students/:id/withdraw": row(onFreshStudent("/withdraw", func(*world, bool) any {
			return readapi.WithdrawRequest{On: "2025-09-01", Reason: "moved away"}
		}), rosters),
		"POST /v1/students/:id/contacts": row(onStudent("/contacts", func(*world) any {
			return readapi.ContactRequest{ContactID: uuid.NewString(), Name: "Rosa Lee", Relationship: "mother",
				Phone: "555-010-4477", Priority: 1}
		}), rosters),
		"POST /v1/students/:id/contacts/:contact/removal": row(func(w *world, in bool) (string, any) {
			return w.contactOf(in) + "/removal", nil
		}, enrolled),
		"POST /v1/students/:id/contacts/:contact/entered-in-error": row(func(w *world, in bool) (string, any) {
			return w.contactOf(in) + "/entered-in-error", readapi.InErrorRequest{Reason: "another family's contact"}
		}, enrolled),
	}
}

// contactOf records an emergency contact on the world's student in scope
// or out of it, for the one request, and returns its path.
func (w *world) contactOf(in bool) string {
	contact := readapi.ContactRequest{ContactID: uuid.NewString(), Name: "Rosa Lee",
		Relationship: "mother", Phone: "555-010-4477", Priority: 1}
	w.fixture(in, "/contacts", contact)
	return "/v1/students/" + w.student(in) + "/contacts/" + contact.ContactID
}

// entryKind is a kind of chart entry: a valid entry of it, and a change
// an amendment may make to it.
type entryKind struct {
	resource string
	entry    func(w *world, id string) any
	change   map[string]any
}

func entryKinds() []entryKind {
	return []entryKind{
		{"allergies", func(_ *world, id string) any {
			return readapi.AllergyRequest{EntryID: id, Allergen: "peanut", AllergenType: "food", Severity: "moderate"}
		}, map[string]any{"severity": "severe"}},
		{"conditions", func(_ *world, id string) any {
			return readapi.ConditionRequest{EntryID: id, Condition: "asthma", Status: "active"}
		}, map[string]any{"status": "managed"}},
		{"immunizations", func(_ *world, id string) any {
			return readapi.ImmunizationRequest{EntryID: id, Vaccine: "MMR", CVX: "03", DoseNumber: 1,
				SeriesSize: 2, GivenOn: "2020-05-01"}
		}, map[string]any{"lot": "A1234"}},
		{"exemptions", func(_ *world, id string) any {
			return readapi.ExemptionRequest{EntryID: id, Vaccine: "Varicella", Kind: "medical"}
		}, map[string]any{"kind": "religious"}},
		{"screenings", func(_ *world, id string) any {
			return readapi.ScreeningRequest{EntryID: id, Kind: "vision", Result: "pass"}
		}, map[string]any{"result": "refer"}},
		{"growth", func(w *world, id string) any {
			return readapi.GrowthRequest{EntryID: id, MeasuredAt: w.clock.Now().Add(-time.Hour),
				HeightCM: 130, WeightKG: 28}
		}, map[string]any{"weight_kg": 29}},
		{"vitals", func(w *world, id string) any {
			rate := 90
			return readapi.VitalsRequest{EntryID: id, MeasuredAt: w.clock.Now().Add(-time.Hour), HeartRate: &rate}
		}, map[string]any{"heart_rate": 95}},
		{"visits", func(w *world, id string) any {
			return readapi.VisitRequest{EntryID: id, TimeIn: w.clock.Now().Add(-time.Hour),
				TimeOut: w.clock.Now().Add(-30 * time.Minute), Reasons: []string{"headache"},
				Disposition: "return_to_class"}
		}, map[string]any{"assessment": "rested; feels better"}},
	}
}

// entryRows are the rows of each kind's three routes: record an entry,
// mark one in error, amend one, each correction on an entry recorded for
// the one request.
func entryRows() map[string]matrixCase {
	rows := map[string]matrixCase{}
	for _, k := range entryKinds() {
		base := "/v1/students/:id/" + k.resource
		rows["POST "+base] = row(onStudent("/"+k.resource, func(w *world) any {
			return k.entry(w, uuid.NewString())
		}), recorded)
		recordedEntry := func(w *world, in bool) string {
			id := uuid.NewString()
			w.fixture(in, "/"+k.resource, k.entry(w, id))
			return "/v1/students/" + w.student(in) + "/" + k.resource + "/" + id
		}
		rows["POST "+base+"/:entry/entered-in-error"] = row(func(w *world, in bool) (string, any) {
			return recordedEntry(w, in) + "/entered-in-error", readapi.InErrorRequest{Reason: "recorded on the wrong chart"}
		}, treats)
		rows["POST "+base+"/:entry/amendments"] = row(func(w *world, in bool) (string, any) {
			return recordedEntry(w, in) + "/amendments",
				readapi.AmendmentRequest{Reason: "corrected after a recheck", Changes: k.change}
		}, treats)
	}
	return rows
}

// prnOrder is an as-needed order of a drug no allergy of the world's
// charts concerns.
func prnOrder(w *world) readapi.OrderRequest {
	today := w.clock.Now().UTC()
	return readapi.OrderRequest{OrderID: uuid.NewString(), DrugName: "Cetirizine", Ingredients: []string{"cetirizine"},
		Strength: "5 mg/5 mL", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
		Schedule: domain.DoseSchedule{Kind: domain.SchedulePRN, TimeZone: "UTC",
			MinIntervalMinutes: 240, MaxPerDay: 2, Indication: "itching"},
		StartOn: today.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: today.AddDate(0, 0, 10).Format(time.DateOnly),
		Prescriber: domain.Prescriber{Name: "Dr. A. Chen"}, ConsentOn: today.AddDate(0, 0, -2).Format(time.DateOnly)}
}

// orderedFor records an order for the one request, on the world's
// student in scope or out of it, and returns its ID.
func (w *world) orderedFor(in bool) string {
	order := prnOrder(w)
	w.fixture(in, "/medication-orders", order)
	return order.OrderID
}

func medicationRows() map[string]matrixCase {
	return map[string]matrixCase{
		"POST /v1/students/:id/medication-orders": row(onStudent("/medication-orders", func(w *world) any {
			return prnOrder(w)
		}), recorded),
		"POST /v1/students/:id/medication-orders/:order/discontinue": row(func(w *world, in bool) (string, any) {
			return "/v1/students/" + w.student(in) + "/medication-orders/" + w.orderedFor(in) + "/discontinue",
				readapi.DiscontinueRequest{Reason: "course completed"}
		}, treats),
		"POST /v1/students/:id/administrations": row(func(w *world, in bool) (string, any) {
			return "/v1/students/" + w.student(in) + "/administrations", readapi.AdministrationRequest{
				AttemptID: uuid.NewString(), OrderID: w.orderedFor(in), StudentID: w.student(in),
				DrugName: "Cetirizine", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
				GivenAt: w.clock.Now().Add(-time.Minute)}
		}, recorded),
		"POST /v1/students/:id/medication-orders/:order/entered-in-error": row(func(w *world, in bool) (string, any) {
			return "/v1/students/" + w.student(in) + "/medication-orders/" + w.orderedFor(in) + "/entered-in-error",
				readapi.InErrorRequest{Reason: "ordered on the wrong chart"}
		}, recorded),
		"POST /v1/students/:id/administrations/refusals": row(notGiven("/refusals"), recorded),
		"POST /v1/students/:id/administrations/missed": row(func(w *world, in bool) (string, any) {
			order := prnOrder(w)
			order.Schedule = domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: []string{"08:00"},
				TimeZone: "UTC"}
			w.fixture(in, "/medication-orders", order)
			day := w.clock.Now().UTC().Truncate(24 * time.Hour)
			return "/v1/students/" + w.student(in) + "/administrations/missed", readapi.DoseNotGivenRequest{
				AttemptID: uuid.NewString(), OrderID: order.OrderID, ScheduledFor: day.Add(8 * time.Hour),
				Reason: "the student was absent"}
		}, recorded),
		"POST /v1/students/:id/administrations/holds": row(notGiven("/holds"), recorded),
		"POST /v1/students/:id/administrations/:attempt/entered-in-error": row(func(w *world, in bool) (string, any) {
			dose := readapi.AdministrationRequest{
				AttemptID: uuid.NewString(), OrderID: w.orderedFor(in), StudentID: w.student(in),
				DrugName: "Cetirizine", DoseAmount: "5", DoseUnit: "mL", Route: "oral",
				GivenAt: w.clock.Now().Add(-time.Minute)}
			w.fixture(in, "/administrations", dose)
			return "/v1/students/" + w.student(in) + "/administrations/" + dose.AttemptID + "/entered-in-error",
				readapi.InErrorRequest{Reason: "charted on the wrong student"}
		}, recorded),
		"POST /v1/schools/:id/controlled-substances/receipts": row(func(w *world, in bool) (string, any) {
			return "/v1/schools/" + w.school(in) + "/controlled-substances/receipts", readapi.ReceiptRequest{
				DrugName: "Methylphenidate", Quantity: 30, Unit: "tablet",
				Witness: readapi.WitnessCredentials{Email: w.nurseAt(w.schoolIn, "witness"), Password: password}}
		}, recorded),
		"POST /v1/schools/:id/controlled-substances/counts": row(func(w *world, in bool) (string, any) {
			return "/v1/schools/" + w.school(in) + "/controlled-substances/counts", readapi.CountRequest{
				DrugName: "Methylphenidate", Counted: 0,
				Witness: readapi.WitnessCredentials{Email: w.nurseAt(w.schoolIn, "witness"), Password: password}}
		}, recorded),
		"POST /v1/schools/:id/controlled-substances/discrepancies": row(func(w *world, in bool) (string, any) {
			return "/v1/schools/" + w.school(in) + "/controlled-substances/discrepancies", readapi.DiscrepancyRequest{
				DrugName: "Methylphenidate", Counted: 1, Reason: "a tablet found that no receipt accounts for",
				Witness: readapi.WitnessCredentials{Email: w.nurseAt(w.schoolIn, "witness"), Password: password}}
		}, recorded),
	}
}

// notGiven returns the request of a dose not given, of the kind suffix
// names, on an order recorded for the one request.
func notGiven(suffix string) func(*world, bool) (string, any) {
	return func(w *world, in bool) (string, any) {
		return "/v1/students/" + w.student(in) + "/administrations" + suffix, readapi.DoseNotGivenRequest{
			AttemptID: uuid.NewString(), OrderID: w.orderedFor(in), Reason: "the student declined the dose"}
	}
}

func alertRows() map[string]matrixCase {
	raised := func(w *world, in bool) string {
		alert := readapi.AlertRequest{AlertID: uuid.NewString(), Kind: "asthma", Location: "gym"}
		w.fixture(in, "/alerts", alert)
		return "/v1/students/" + w.student(in) + "/alerts/" + alert.AlertID
	}
	return map[string]matrixCase{
		"POST /v1/students/:id/alerts": row(onStudent("/alerts", func(*world) any {
			return readapi.AlertRequest{AlertID: uuid.NewString(), Kind: "asthma", Location: "gym"}
		}), recorded),
		"POST /v1/students/:id/alerts/:alert/acknowledge": row(func(w *world, in bool) (string, any) {
			return raised(w, in) + "/acknowledge", nil
		}, treats),
		"POST /v1/students/:id/alerts/:alert/resolve": row(func(w *world, in bool) (string, any) {
			return raised(w, in) + "/resolve", readapi.ResolveRequest{Outcome: "inhaler given; breathing eased"}
		}, treats),
		"POST /v1/students/:id/alerts/:alert/entered-in-error": row(func(w *world, in bool) (string, any) {
			return raised(w, in) + "/entered-in-error", readapi.InErrorRequest{Reason: "raised for the wrong student"}
		}, recorded),
	}
}

// The answers of the reads of health information: a nurse of the
// student's school, and a compliance officer anywhere, for an
// investigation.
var reads = expect{ok: 200, in: roles(nurse, co), out: roles(co)}

func readRows() map[string]matrixCase {
	// after= makes each read wait for the read models to hold every
	// write before it.
	read := func(path func(w *world, in bool) string) func(*world, bool) (string, any) {
		return func(w *world, in bool) (string, any) {
			return fmt.Sprintf("%s?after=%d", path(w, in), w.head()), nil
		}
	}
	student := func(suffix string) func(*world, bool) string {
		return func(w *world, in bool) string { return "/v1/students/" + w.student(in) + suffix }
	}
	school := func(suffix string) func(*world, bool) string {
		return func(w *world, in bool) string { return "/v1/schools/" + w.school(in) + suffix }
	}
	return map[string]matrixCase{
		"GET /v1/students": row(func(w *world, in bool) (string, any) {
			return fmt.Sprintf("/v1/students?school=%s&after=%d", w.school(in), w.head()), nil
		}, reads),
		"GET /v1/students/:id":                   row(read(student("")), reads),
		"GET /v1/students/:id/access":            row(read(student("/access")), expect{ok: 200, in: roles(co), out: roles(co)}),
		"GET /v1/students/:id/medication-orders": row(read(student("/medication-orders")), reads),
		"GET /v1/students/:id/administrations": row(func(w *world, in bool) (string, any) {
			return fmt.Sprintf("/v1/students/%s/administrations?kind=given&after=%d", w.student(in), w.head()), nil
		}, reads),
		"GET /v1/schools/:id/doses": row(func(w *world, in bool) (string, any) {
			return fmt.Sprintf("/v1/schools/%s/doses?date=2025-03-03&after=%d", w.school(in), w.head()), nil
		}, reads),
		"GET /v1/schools/:id/controlled-stock": row(read(school("/controlled-stock")), reads),
		"GET /v1/access/break-glass": row(read(func(*world, bool) string { return "/v1/access/break-glass" }),
			expect{ok: 200, in: roles(co), out: roles(co)}),
		"GET /v1/schools/:id/alerts": row(read(school("/alerts")), reads),
		"GET /v1/log": row(at("/v1/log?limit=5", nil),
			expect{ok: 200, in: roles(co, aud), out: roles(co, aud)}),
		// A list of accounts answers only those of the caller's scope,
		// wherever the school asked for.
		"GET /v1/users": row(func(w *world, in bool) (string, any) {
			return "/v1/users?school=" + w.school(in), nil
		}, expect{ok: 200, in: roles(sys, dist, sch, co), out: roles(sys, dist, sch, co)}),
		"GET /v1/schools":   row(at("/v1/schools", nil), anyone(200)),
		"GET /v1/districts": row(at("/v1/districts", nil), anyone(200)),
		"POST /v1/exports": row(func(w *world, _ bool) (string, any) {
			return "/v1/exports", readapi.ExportRequest{StudentID: w.studentIn, Recipient: "District counsel",
				Purpose: "records request"}
		}, expect{ok: 202, in: roles(co, aud), out: roles(co, aud)}),
		"GET /v1/exports/:id": row(func(w *world, _ bool) (string, any) {
			return "/v1/exports/" + w.doneExport(), nil
		}, expect{ok: 200, in: roles(co, aud), out: roles(co, aud)}),
		"GET /v1/exports/:id/bundle": row(func(w *world, _ bool) (string, any) {
			return "/v1/exports/" + w.doneExport() + "/bundle", nil
		}, expect{ok: 200, in: roles(co, aud), out: roles(co, aud)}),
		"GET /v1/students/:id/history":     row(read(student("/history")), investigates),
		"GET /v1/students/:id/disclosures": row(read(student("/disclosures")), investigates),
		"GET /v1/users/:id/activity": row(read(func(w *world, in bool) string {
			return "/v1/users/" + w.target(in) + "/activity"
		}), investigates),
		"POST /v1/students/:id/disclosures": row(func(w *world, in bool) (string, any) {
			return "/v1/students/" + w.student(in) + "/disclosures", readapi.DisclosureRequest{
				Recipient: "County health department", What: "immunization record",
				Purpose: "outbreak follow-up", At: w.clock.Now().Add(-time.Hour).Format(time.RFC3339)}
		}, expect{ok: 201, in: roles(co), out: roles(co)}),
	}
}

// investigates is the row of the compliance officer's reads: any student,
// any account, in scope or out of it; nobody else.
var investigates = expect{ok: 200, in: roles(co), out: roles(co)}

// target makes a fresh nurse account at the caller's school or another
// district's, so that each call changes an account of its own.
func (w *world) target(inScope bool) string {
	return w.createUser(uuid.NewString()+"@district.example", domain.RoleNurse, w.school(inScope))
}

// loggedInTarget makes a target and logs it in, and returns its ID and
// its session's.
func (w *world) loggedInTarget(inScope bool) (string, string) {
	email := uuid.NewString() + "@district.example"
	id := w.createUser(email, domain.RoleNurse, w.school(inScope))
	tokens, _, err := w.accounts.Login(w.t.Context(), commands.Meta{},
		commands.Credentials{Email: email, Password: password})
	if err != nil {
		w.t.Fatal(err)
	}
	return id, tokens.SessionID
}

func (w *world) school(inScope bool) string {
	if inScope {
		return w.schoolIn
	}
	return w.schoolOut
}

func (w *world) district(inScope bool) string {
	if inScope {
		return w.districtIn
	}
	return w.districtOut
}

// nurseAt returns the address of a nurse account at school, made once
// per name.
func (w *world) nurseAt(school, name string) string {
	key := school + "/" + name
	if email, ok := w.nurses[key]; ok {
		return email
	}
	email := name + "-" + uuid.NewString()[:8] + "@district.example"
	w.createUser(email, domain.RoleNurse, school)
	w.nurses[key] = email
	return email
}

// fixture records what a request needs on the world's student in scope
// or out of it, as a nurse of the student's school: POST
// /v1/students/{id} followed by suffix, with body.
func (w *world) fixture(in bool, suffix string, body any) {
	w.t.Helper()
	token := w.tokens[nurse]
	if !in {
		if w.fixtureToken == "" {
			w.fixtureToken = w.login(w.nurseAt(w.schoolOut, "fixture")).AccessToken
		}
		token = w.fixtureToken
	}
	path := "/v1/students/" + w.student(in) + suffix
	if status, detail := w.callDetail(http.MethodPost, path, token, body); status >= 300 {
		w.t.Fatalf("fixture POST %s: %d %s", path, status, detail)
	}
}
