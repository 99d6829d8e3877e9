package readapi

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
)

// UserList is the answer of GET /v1/users.
type UserList struct {
	Users []projections.AccountRow `json:"users"`
	Next  string                   `json:"next,omitempty"`
}

// SchoolList is the answer of GET /v1/schools.
type SchoolList struct {
	Schools []projections.OrganisationRow `json:"schools"`
	Next    string                        `json:"next,omitempty"`
}

// DistrictList is the answer of GET /v1/districts.
type DistrictList struct {
	Districts []projections.OrganisationRow `json:"districts"`
	Next      string                        `json:"next,omitempty"`
}

// pageParams are the query parameters of every list.
func pageParams() []QueryParam {
	return []QueryParam{
		{Name: "limit", Type: "integer", Description: "page size, 1 to 500; 50 when absent or 0"},
		{Name: "cursor", Description: "the next of the previous page"},
		{Name: "after", Type: "integer", Description: "a log position the read models must reach first"},
	}
}

// adminReadRoutes returns the lists of accounts, schools and districts,
// from their read models. They carry no health information.
func (h readModelHandlers) adminReadRoutes() []Route {
	org := Access{Capability: auth.ReadOrganisation}
	byName := QueryParam{Name: "q", Description: "start of the name, any case"}
	return []Route{
		{Method: http.MethodGet, Path: "/v1/users",
			Summary: "Accounts within the caller's scope, by email: filters role, school, district, " +
				"state (active, locked, deactivated) and q (start of the email or display name)",
			Access: Access{Capability: auth.ReadUsers}, Response: UserList{},
			Query: append([]QueryParam{
				{Name: "role"}, {Name: "school", Format: "uuid"}, {Name: "district", Format: "uuid"},
				{Name: "state", Description: "active, locked or deactivated"},
				{Name: "q", Description: "start of the email or display name, any case"},
			}, pageParams()...),
			Handler: h.listUsers},
		{Method: http.MethodGet, Path: "/v1/schools",
			Summary: "Schools within the caller's scope, by name: filters district and q",
			Access:  org, Response: SchoolList{},
			Query:   append([]QueryParam{{Name: "district", Format: "uuid"}, byName}, pageParams()...),
			Handler: h.listSchools},
		{Method: http.MethodGet, Path: "/v1/districts",
			Summary: "Districts within the caller's scope, by name: filter q",
			Access:  org, Response: DistrictList{},
			Query: append([]QueryParam{byName}, pageParams()...), Handler: h.listDistricts},
	}
}

// listUsers lists the accounts the caller may see, as GET
// /v1/users/{id} would show each.
func (h readModelHandlers) listUsers(c echo.Context) error {
	if err := h.waitAfter(c); err != nil {
		return err
	}
	var v ValidationError
	f := projections.AccountFilter{Scope: accountScope(principal(c)), Role: c.QueryParam("role"),
		School: idParam(c, "school", &v), District: idParam(c, "district", &v),
		State: c.QueryParam("state"), Query: c.QueryParam("q"), Now: h.now(),
		After: c.QueryParam("cursor"), Limit: pageLimit(c, &v)}
	if f.Role != "" && !slices.Contains(domain.Roles, domain.Role(f.Role)) {
		v.Add("role", "must be a role")
	}
	if f.State != "" && !slices.Contains(projections.AccountStates, f.State) {
		v.Add("state", "must be active, locked or deactivated")
	}
	if err := v.Err(); err != nil {
		return err
	}

	users, next, err := projections.SearchAccounts(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}
	return c.JSON(http.StatusOK, UserList{Users: orNone(users), Next: next})
}

// listSchools lists the schools the caller may see.
func (h readModelHandlers) listSchools(c echo.Context) error {
	f, err := h.organisationFilter(c)
	if err != nil {
		return err
	}
	var v ValidationError
	if f.DistrictID = idParam(c, "district", &v); v.Err() != nil {
		return v.Err()
	}
	schools, next, err := projections.SearchSchools(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}
	return c.JSON(http.StatusOK, SchoolList{Schools: orNone(schools), Next: next})
}

// listDistricts lists the districts the caller may see.
func (h readModelHandlers) listDistricts(c echo.Context) error {
	f, err := h.organisationFilter(c)
	if err != nil {
		return err
	}
	districts, next, err := projections.SearchDistricts(c.Request().Context(), h.DB, f)
	if err != nil {
		return queryFailed(err)
	}
	return c.JSON(http.StatusOK, DistrictList{Districts: orNone(districts), Next: next})
}

// organisationFilter waits for after= and reads the query shared by the
// lists of schools and districts.
func (h readModelHandlers) organisationFilter(c echo.Context) (projections.OrganisationFilter, error) {
	if err := h.waitAfter(c); err != nil {
		return projections.OrganisationFilter{}, err
	}
	var v ValidationError
	f := projections.OrganisationFilter{Scope: organisationScope(principal(c)),
		Query: c.QueryParam("q"), After: c.QueryParam("cursor"), Limit: pageLimit(c, &v)}
	return f, v.Err()
}

// accountScope returns whose accounts p may list: every one for a system
// administrator or a compliance officer; a district administrator's
// district's; the nurses and school administrators of a school
// administrator's schools; and p's own.
func accountScope(p auth.Principal) projections.AccountScope {
	s := projections.AccountScope{Self: p.UserID, All: p.Can(auth.ReadHistory)}
	for _, r := range p.Roles {
		switch r {
		case domain.RoleSysadmin:
			s.All = true
		case domain.RoleDistrictAdmin:
			s.District = p.District
		case domain.RoleSchoolAdmin:
			s.Schools = p.Schools
		}
	}
	return s
}

// organisationScope returns which districts and schools p may list:
// every one for a system administrator, a compliance officer or an
// auditor; a district administrator's district and its schools; and
// the schools p is assigned to, with their districts.
func organisationScope(p auth.Principal) projections.OrganisationScope {
	s := projections.OrganisationScope{Schools: p.Schools}
	for _, r := range p.Roles {
		switch r {
		case domain.RoleSysadmin, domain.RoleComplianceOfficer, domain.RoleAuditor:
			s.All = true
		case domain.RoleDistrictAdmin:
			s.District = p.District
		}
	}
	return s
}

// idParam returns the query parameter name, which must be an ID when it
// is set, or adds its refusal to v.
func idParam(c echo.Context, name string, v *ValidationError) string {
	id := c.QueryParam(name)
	if id != "" && !domain.ValidID(id) {
		v.Add(name, "must be an ID")
	}
	return id
}

// orNone returns rows, or an empty list for nil, so that a list with
// nothing in it is [] rather than null.
func orNone[T any](rows []T) []T {
	if rows == nil {
		return []T{}
	}
	return rows
}
