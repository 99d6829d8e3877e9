package readapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

// TestUserList: each administrator lists the accounts of their scope,
// as GET /v1/users/{id} shows each, filtered by role and state; a locked
// and a deactivated account say so; no list records an access event.
func TestUserList(t *testing.T) {
	w := newWorld(t)
	w.createUser("away-nurse@district.example", nurse, w.schoolOut)
	gone := w.createUser("gone-nurse@district.example", nurse, w.schoolIn)
	deactivate := readapi.DeactivateRequest{Reason: "left the district"}
	if got := w.call(http.MethodPost, "/v1/users/"+gone+"/deactivate", w.tokens[sys], deactivate, nil); got != 200 {
		t.Fatalf("deactivate: %d", got)
	}
	for range 5 {
		w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: w.users[nurse],
			Password: "Wrong-Password-123"}, nil)
	}

	list := func(role domain.Role, query string) map[string]string {
		t.Helper()
		var l readapi.UserList
		path := fmt.Sprintf("/v1/users?after=%d&%s", w.head(), query)
		if got := w.call(http.MethodGet, path, w.tokens[role], nil, &l); got != 200 {
			t.Fatalf("GET %s as %s: %d", path, role, got)
		}
		states := map[string]string{}
		for _, u := range l.Users {
			states[u.Email] = u.State
		}
		return states
	}
	emails := func(states map[string]string) []string {
		var out []string
		for e := range states {
			out = append(out, strings.TrimSuffix(e, "@district.example"))
		}
		slices.Sort(out)
		return out
	}

	before := w.head()
	tests := []struct {
		role  domain.Role
		query string
		want  []string
	}{
		{sch, "", []string{"gone-nurse", "nurse-user", "school_admin-user"}},
		{dist, "", []string{"district_admin-user", "gone-nurse", "nurse-user", "school_admin-user"}},
		{sys, "", []string{"auditor-user", "away-nurse", "compliance_officer-user", "district_admin-user",
			"gone-nurse", "nurse-user", "school_admin-user", "sysadmin-user"}},
		{co, "role=nurse", []string{"away-nurse", "gone-nurse", "nurse-user"}},
		{sys, "school=" + w.schoolOut, []string{"away-nurse"}},
		{sys, "state=deactivated", []string{"gone-nurse"}},
		{sys, "state=locked", []string{"nurse-user"}},
		{sys, "q=SYS", []string{"sysadmin-user"}},
	}
	for _, tt := range tests {
		if got := emails(list(tt.role, tt.query)); !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %q: %q, want %q", tt.role, tt.query, got, tt.want)
		}
	}
	if types := w.typesSince(before); len(types) != 0 {
		t.Errorf("the lists recorded %v", types)
	}

	var first readapi.UserList
	if got := w.call(http.MethodGet, "/v1/users?limit=3", w.tokens[sys], nil, &first); got != 200 || first.Next == "" {
		t.Fatalf("first page: %d %+v", got, first)
	}
	var second readapi.UserList
	w.call(http.MethodGet, "/v1/users?limit=3&cursor="+first.Next, w.tokens[sys], nil, &second)
	if len(second.Users) != 3 || second.Users[0].Email <= first.Users[2].Email {
		t.Errorf("the second page does not follow the first: %+v then %+v", first.Users, second.Users)
	}
	for _, query := range []string{"role=boss", "state=asleep", "school=x", "district=x"} {
		field, _, _ := strings.Cut(query, "=")
		resp, body := call(t, http.MethodGet, w.srv.URL+"/v1/users?"+query, w.tokens[sys], nil)
		if p := mustProblem(t, resp, body, 400, readapi.TypeValidation); len(p.Errors) != 1 ||
			p.Errors[0].Field != field {
			t.Errorf("%s: errors %+v, want one naming %s", query, p.Errors, field)
		}
	}
}

// TestOrganisationLists: a nurse lists their school and its district,
// a district administrator their district's, an auditor every one.
func TestOrganisationLists(t *testing.T) {
	w := newWorld(t)
	ids := func(role domain.Role, path string) []string {
		t.Helper()
		var schools readapi.SchoolList
		var districts readapi.DistrictList
		out := any(&schools)
		if strings.HasPrefix(path, "/v1/districts") {
			out = &districts
		}
		full := fmt.Sprintf("%s?after=%d", path, w.head())
		if got := w.call(http.MethodGet, full, w.tokens[role], nil, out); got != 200 {
			t.Fatalf("GET %s as %s: %d", path, role, got)
		}
		var got []string
		for _, o := range append(schools.Schools, districts.Districts...) {
			got = append(got, o.ID)
		}
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	tests := []struct {
		role domain.Role
		path string
		want []string
	}{
		{nurse, "/v1/schools", []string{w.schoolIn}},
		{nurse, "/v1/districts", []string{w.districtIn}},
		{dist, "/v1/schools", sorted(w.schoolIn, w.schoolIn2)},
		{domain.RoleAuditor, "/v1/schools", sorted(w.schoolIn, w.schoolIn2, w.schoolOut, w.schoolOut2)},
		{sys, "/v1/districts", sorted(w.districtIn, w.districtOut)},
	}
	for _, tt := range tests {
		if got := ids(tt.role, tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %s: %q, want %q", tt.role, tt.path, got, tt.want)
		}
	}
	var inDistrict readapi.SchoolList
	w.call(http.MethodGet, "/v1/schools?district="+w.districtOut, w.tokens[sys], nil, &inDistrict)
	if len(inDistrict.Schools) != 2 || inDistrict.Schools[0].DistrictID != w.districtOut ||
		!slices.ContainsFunc(inDistrict.Schools, func(o projections.OrganisationRow) bool {
			return o.ID == w.schoolOut && o.Name == "Out"
		}) {
		t.Errorf("the schools of a district: %+v", inDistrict.Schools)
	}
}
