package projections_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// account appends the creation of an account and returns its ID.
func account(
	h *projectiontest.Harness,
	email string,
	roles []domain.Role,
	schools []string,
	district string,
) string {
	id := newID()
	h.Append(domain.UserStream(id), domain.UserCreated{UserID: id, Email: email,
		DisplayName: "Staff " + email[:3], Roles: roles, Schools: schools, District: district})
	return id
}

// TestAccounts follows accounts through changes of roles, schools and
// state, and lists them within each administrator's scope.
func TestAccounts(t *testing.T) {
	projectiontest.Each(t, fast, func() []projections.Projection {
		return []projections.Projection{projections.Accounts{}}
	}, testAccounts)
}

func testAccounts(t *testing.T, h *projectiontest.Harness) {
	home, away := newID(), newID()
	north, south, elsewhere := newID(), newID(), newID()
	for _, s := range []struct{ school, district string }{{north, home}, {south, home}, {elsewhere, away}} {
		h.Append(domain.SchoolStream(s.school), domain.SchoolCreated{SchoolID: s.school,
			DistrictID: s.district, Name: "School"})
	}
	nurse := []domain.Role{domain.RoleNurse}
	ann := account(h, "ann@d.example", nurse, []string{north}, "")
	bob := account(h, "bob@d.example", nurse, []string{north, elsewhere}, "")
	cat := account(h, "cat@d.example", []domain.Role{domain.RoleSchoolAdmin}, []string{north}, "")
	dan := account(h, "dan@d.example", []domain.Role{domain.RoleDistrictAdmin}, nil, home)
	eve := account(h, "eve@d.example", []domain.Role{domain.RoleSysadmin}, nil, "")
	fay := account(h, "fay@d.example", nurse, []string{elsewhere}, "")
	gus := account(h, "gus@d.example", nurse, []string{south}, "")

	h.Append(domain.UserStream(ann),
		domain.RolesAssigned{Roles: []domain.Role{domain.RoleSchoolAdmin, domain.RoleNurse}},
		domain.SchoolsAssigned{Schools: []string{south, north}},
		domain.SchoolsRemoved{Schools: []string{north}},
		domain.TOTPEnrolled{SealedSecret: "sealed"},
		domain.LoginFailed{ReasonCode: domain.LoginBadPassword, AttemptAt: t0})
	h.Append(domain.UserStream(bob), domain.UserDeactivated{Reason: "left"})
	h.Append(domain.UserStream(fay), domain.UserLocked{Until: t0.Add(time.Hour), Reason: domain.LockTooManyFailures})
	h.Append(domain.UserStream(gus), domain.UserLocked{Until: t0.Add(time.Hour), Reason: domain.LockByAdmin},
		domain.UserUnlocked{By: eve}, domain.RolesRemoved{Roles: []domain.Role{domain.RoleNurse}},
		domain.RolesAssigned{Roles: []domain.Role{domain.RoleSchoolAdmin}})
	h.Sync()

	search := func(f projections.AccountFilter) []projections.AccountRow {
		t.Helper()
		f.Now = t0.Add(time.Minute)
		rows, next, err := projections.SearchAccounts(t.Context(), h.Pool, f)
		if err != nil || next != "" {
			t.Fatalf("search %+v: next %q, error %v", f, next, err)
		}
		return rows
	}
	everyone := projections.AccountScope{All: true}
	byID := map[string]projections.AccountRow{}
	for _, a := range search(projections.AccountFilter{Scope: everyone}) {
		byID[a.ID] = a
	}
	if a := byID[ann]; !slices.Equal(a.Roles, []string{"nurse", "school_admin"}) ||
		!slices.Equal(a.Schools, []string{south}) || !a.TOTPEnrolled || a.State != "active" ||
		a.Email != "ann@d.example" {
		t.Errorf("ann, roles and schools in the order given: %+v", a)
	}
	states := map[string]string{bob: "deactivated", fay: "locked", gus: "active", eve: "active"}
	for id, want := range states {
		if got := byID[id].State; got != want {
			t.Errorf("%s: state %q, want %q", byID[id].Email, got, want)
		}
	}
	if g := byID[gus]; !slices.Equal(g.Roles, []string{"school_admin"}) {
		t.Errorf("gus's roles after a removal and an assignment: %q", g.Roles)
	}

	tests := []struct {
		name string
		f    projections.AccountFilter
		want []string
	}{
		{"everyone, by email", projections.AccountFilter{Scope: everyone},
			[]string{ann, bob, cat, dan, eve, fay, gus}},
		{"a district administrator's district", projections.AccountFilter{
			Scope: projections.AccountScope{District: home}}, []string{ann, cat, dan, gus}},
		{"a school administrator's school, and their own", projections.AccountFilter{
			Scope: projections.AccountScope{Schools: []string{north}, Self: cat}}, []string{cat}},
		{"a school administrator of two schools", projections.AccountFilter{
			Scope: projections.AccountScope{Schools: []string{north, south}}}, []string{ann, cat, gus}},
		{"only oneself", projections.AccountFilter{Scope: projections.AccountScope{Self: fay}},
			[]string{fay}},
		{"a role", projections.AccountFilter{Scope: everyone, Role: "school_admin"},
			[]string{ann, cat, gus}},
		{"a school", projections.AccountFilter{Scope: everyone, School: elsewhere}, []string{bob, fay}},
		{"a district", projections.AccountFilter{Scope: everyone, District: home}, []string{dan}},
		{"locked", projections.AccountFilter{Scope: everyone, State: "locked"}, []string{fay}},
		{"deactivated", projections.AccountFilter{Scope: everyone, State: "deactivated"}, []string{bob}},
		{"by the start of the address", projections.AccountFilter{Scope: everyone, Query: "DA"},
			[]string{dan}},
		{"by the start of the name", projections.AccountFilter{Scope: everyone, Query: "staff e"},
			[]string{eve}},
		{"a wildcard is a letter", projections.AccountFilter{Scope: everyone, Query: "%"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accountIDs(search(tt.f)); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	var paged []string
	f := projections.AccountFilter{Scope: everyone, Limit: 3, Now: t0}
	for range 4 {
		rows, next, err := projections.SearchAccounts(t.Context(), h.Pool, f)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, accountIDs(rows)...)
		if f.After = next; next == "" {
			break
		}
	}
	if want := []string{ann, bob, cat, dan, eve, fay, gus}; !slices.Equal(paged, want) {
		t.Errorf("pages of 3: %q, want %q", paged, want)
	}
	_, _, err := projections.SearchAccounts(t.Context(), h.Pool, projections.AccountFilter{After: "bad"})
	if !errors.Is(err, projections.ErrInvalidCursor) {
		t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
	}
}

func accountIDs(rows []projections.AccountRow) []string {
	return each(rows, func(r projections.AccountRow) string { return r.ID })
}

// TestOrganisation lists districts and schools within each caller's
// scope, by name, filtered and page by page.
func TestOrganisation(t *testing.T) {
	projectiontest.Each(t, fast, func() []projections.Projection {
		return []projections.Projection{projections.Organisation{}}
	}, testOrganisation)
}

func testOrganisation(t *testing.T, h *projectiontest.Harness) {
	home, away := newID(), newID()
	h.Append(domain.DistrictStream(home), domain.DistrictCreated{DistrictID: home, Name: "Home"})
	h.Append(domain.DistrictStream(away), domain.DistrictCreated{DistrictID: away, Name: "Away"})
	school := func(district, name string) string {
		id := newID()
		h.Append(domain.SchoolStream(id), domain.SchoolCreated{SchoolID: id, DistrictID: district, Name: name})
		return id
	}
	north, south, west := school(home, "North"), school(home, "South"), school(away, "West")
	h.Sync()

	all := projections.OrganisationScope{All: true}
	schools := []struct {
		name string
		f    projections.OrganisationFilter
		want []string
	}{
		{"all, by name", projections.OrganisationFilter{Scope: all}, []string{north, south, west}},
		{"a district's", projections.OrganisationFilter{Scope: projections.OrganisationScope{District: home}},
			[]string{north, south}},
		{"one's own", projections.OrganisationFilter{Scope: projections.OrganisationScope{Schools: []string{west}}},
			[]string{west}},
		{"filtered by district", projections.OrganisationFilter{Scope: all, DistrictID: away}, []string{west}},
		{"by the start of the name", projections.OrganisationFilter{Scope: all, Query: "so"}, []string{south}},
		{"none", projections.OrganisationFilter{}, nil},
	}
	for _, tt := range schools {
		t.Run("schools "+tt.name, func(t *testing.T) {
			rows, _, err := projections.SearchSchools(t.Context(), h.Pool, tt.f)
			if got := orgIDs(rows); err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q (error %v), want %q", got, err, tt.want)
			}
		})
	}
	districts := []struct {
		name  string
		scope projections.OrganisationScope
		want  []string
	}{
		{"all, by name", all, []string{away, home}},
		{"one's district", projections.OrganisationScope{District: home}, []string{home}},
		{"one's schools' districts", projections.OrganisationScope{Schools: []string{west, north}},
			[]string{away, home}},
	}
	for _, tt := range districts {
		t.Run("districts "+tt.name, func(t *testing.T) {
			rows, _, err := projections.SearchDistricts(t.Context(), h.Pool,
				projections.OrganisationFilter{Scope: tt.scope})
			if got := orgIDs(rows); err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q (error %v), want %q", got, err, tt.want)
			}
		})
	}

	first, next, err := projections.SearchSchools(t.Context(), h.Pool, projections.OrganisationFilter{Scope: all, Limit: 2})
	if err != nil || next == "" || first[0].DistrictID != home {
		t.Fatalf("first page: %+v, next %q, error %v", first, next, err)
	}
	rest, last, err := projections.SearchSchools(t.Context(), h.Pool,
		projections.OrganisationFilter{Scope: all, Limit: 2, After: next})
	if err != nil || last != "" || !slices.Equal(orgIDs(append(first, rest...)), []string{north, south, west}) {
		t.Errorf("pages of 2: %+v then %+v, next %q, error %v", first, rest, last, err)
	}
}

func orgIDs(rows []projections.OrganisationRow) []string {
	return each(rows, func(r projections.OrganisationRow) string { return r.ID })
}
