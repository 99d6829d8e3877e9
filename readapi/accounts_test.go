package readapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// TestAccountRulesOverHTTP: over HTTP as in the commands, administrators
// neither raise themselves nor give roles beyond their scope, the
// organisation an account names must exist, and a grant needs a student
// that exists.
func TestAccountRulesOverHTTP(t *testing.T) {
	w := newWorld(t)
	self := func(r domain.Role) string { return w.accountID(w.users[r]) }
	cases := []struct {
		name   string
		role   domain.Role
		method string
		path   string
		body   any
		status int
		field  string // the field a 400 names
	}{
		{"a district administrator makes themselves a compliance officer", dist, http.MethodPost,
			"/v1/users/" + self(dist) + "/roles", readapi.RolesRequest{Roles: roles(co)}, 403, ""},
		{"a school administrator makes themselves a nurse", sch, http.MethodPost,
			"/v1/users/" + self(sch) + "/roles", readapi.RolesRequest{Roles: roles(nurse)}, 403, ""},
		{"a system administrator removes their own role", sys, http.MethodDelete,
			"/v1/users/" + self(sys) + "/roles/sysadmin", nil, 403, ""},
		{"a district administrator creates a compliance officer", dist, http.MethodPost, "/v1/users",
			readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example", DisplayName: "CO",
				Roles: roles(co), District: w.districtIn, Password: password}, 403, ""},
		{"a made-up school", sys, http.MethodPost, "/v1/users",
			readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example", DisplayName: "N",
				Roles: roles(nurse), Schools: []string{uuid.NewString()}, Password: password}, 400, "schools[0]"},
		{"a made-up district", sys, http.MethodPost, "/v1/users",
			readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example", DisplayName: "D",
				Roles: roles(dist), District: uuid.NewString(), Password: password}, 400, "district"},
		{"no password", sys, http.MethodPost, "/v1/users",
			readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example", DisplayName: "N",
				Roles: roles(nurse), Schools: []string{w.schoolIn}}, 400, "password"},
		{"a made-up school assigned", sys, http.MethodPost, "/v1/users/" + self(nurse) + "/schools",
			readapi.SchoolsRequest{Schools: []string{uuid.NewString()}}, 400, "schools"},
		{"a grant to a student the log does not hold", nurse, http.MethodPost, "/v1/access/break-glass",
			readapi.BreakGlassRequest{StudentID: uuid.NewString(), ReasonCode: "medical_emergency",
				Reason: "student collapsed in the gym; chart needed for allergies"}, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			before := w.head()
			status, p := w.callProblem(c.method, c.path, w.tokens[c.role], c.body)
			if status != c.status {
				t.Fatalf("status %d %+v, want %d", status, p, c.status)
			}
			if c.field != "" && !slices.ContainsFunc(p.Errors, func(e readapi.FieldError) bool {
				return e.Field == c.field
			}) {
				t.Errorf("the problem names %+v, want %s", p.Errors, c.field)
			}
			if after := w.head(); after != before {
				t.Errorf("a refused command appended %d events", after-before)
			}
		})
	}
}

// TestWitnessFailuresOverHTTP: a controlled-substance count with a wrong
// witness password is refused, recorded on the witness's account, and the
// fifth locks the witness out.
func TestWitnessFailuresOverHTTP(t *testing.T) {
	w := newWorld(t)
	witness := w.nurseAt(w.schoolIn, "witness")
	count := readapi.ReceiptRequest{DrugName: "Methylphenidate", Quantity: 30, Unit: "tablet",
		Witness: readapi.WitnessCredentials{Email: witness, Password: "Not-The-Password-42"}}
	path := "/v1/schools/" + w.schoolIn + "/controlled-substances/receipts"
	for i := range 5 {
		if status, p := w.callProblem(http.MethodPost, path, w.tokens[nurse], count); status != 400 {
			t.Fatalf("wrong witness password %d: %d %+v, want 400", i, status, p)
		}
	}
	count.Witness.Password = password
	if status, p := w.callProblem(http.MethodPost, path, w.tokens[nurse], count); status != 400 {
		t.Errorf("the right password of a locked witness: %d %+v, want 400", status, p)
	}
	types := w.events(domain.UserStream(w.accountID(witness)))
	failures := 0
	for _, typ := range types {
		if typ == "WitnessConfirmationFailed" {
			failures++
		}
	}
	if failures != 6 || !slices.Contains(types, "UserLocked") {
		t.Errorf("the witness's events: %v, want 6 failures and a lock", types)
	}
	login := readapi.LoginRequest{Email: witness, Password: password}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", login, nil); got != 401 {
		t.Errorf("the witness's login while locked: %d, want 401", got)
	}
}
