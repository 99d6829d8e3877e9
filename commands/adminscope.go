package commands

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// grantable lists, for each administrator role, the roles it may give:
// the roles whose reach its own scope covers. An administrator manages
// only accounts whose roles are all among them. The roles that read
// clinical records or the log across districts (compliance officer,
// auditor) and the system administrator's are given by a system
// administrator only. docs/access-control.md is this table in prose.
var grantable = map[domain.Role][]domain.Role{
	domain.RoleSchoolAdmin:   {domain.RoleNurse, domain.RoleSchoolAdmin},
	domain.RoleDistrictAdmin: {domain.RoleNurse, domain.RoleSchoolAdmin, domain.RoleDistrictAdmin},
	domain.RoleSysadmin:      domain.Roles,
}

// mayGrant reports whether one of actor's roles may give role r.
func mayGrant(actor *auth.Principal, r domain.Role) bool {
	return slices.ContainsFunc(actor.Roles, func(own domain.Role) bool {
		return slices.Contains(grantable[own], r)
	})
}

// mayManage checks that actor may manage an account with these roles,
// schools and district: every role one actor may give, and the account
// within actor's scope (inScope). A nil actor is the system itself.
func (a *Accounts) mayManage(
	ctx context.Context,
	actor *auth.Principal,
	roles []domain.Role,
	schools []string,
	district string,
) error {
	switch {
	case actor == nil:
		return nil
	case !actor.Can(auth.ManageUsers) && actor.Can(auth.ReadUsers):
		return forbidden("your roles read accounts but do not manage them")
	case !actor.Can(auth.ManageUsers):
		return forbidden("your roles do not manage accounts")
	}
	for _, r := range roles {
		if !mayGrant(actor, r) {
			return forbidden("your roles do not give the role " + string(r))
		}
	}
	return a.inScope(ctx, actor, schools, district)
}

// mayRead checks that actor may see account u: a compliance officer any,
// an administrator one within their scope, whatever its roles.
func (a *Accounts) mayRead(ctx context.Context, actor *auth.Principal, u *domain.User) error {
	switch {
	case actor.Can(auth.ReadHistory):
		return nil
	case !actor.Can(auth.ReadUsers):
		return forbidden("your roles do not read accounts")
	}
	return a.inScope(ctx, actor, u.Schools, u.District)
}

// inScope checks that an account of these schools and district is within
// actor's scope: a system administrator's, anything; a district
// administrator's, accounts of their district or of its schools only; a
// school administrator's, accounts of their own schools only.
func (a *Accounts) inScope(
	ctx context.Context,
	actor *auth.Principal,
	schools []string,
	district string,
) error {
	switch {
	case slices.Contains(actor.Roles, domain.RoleSysadmin):
		return nil
	case slices.Contains(actor.Roles, domain.RoleDistrictAdmin):
		return a.inDistrict(ctx, actor.District, schools, district)
	case slices.Contains(actor.Roles, domain.RoleSchoolAdmin):
		return atSchools(actor, schools, district)
	}
	return forbidden("your roles have no accounts in their scope")
}

// inDistrict checks that an account of these schools and district belongs
// to district own: it names own or no district, and has a school or names
// a district, every school being one of own.
func (a *Accounts) inDistrict(ctx context.Context, own string, schools []string, district string) error {
	switch {
	case own == "":
		return forbidden("your account names no district")
	case district != "" && district != own:
		return forbidden("the account belongs to another district")
	case district == "" && len(schools) == 0:
		return forbidden("the account belongs to no district of yours")
	}
	for _, s := range schools {
		school, err := a.loadSchool(ctx, s)
		if errors.Is(err, ErrNotFound) || err == nil && school.DistrictID != own {
			return forbidden("a school of the account is not in your district")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// atSchools checks that an account of these schools and district works at
// actor's schools only: it names no district, and has schools, all of
// them actor's.
func atSchools(actor *auth.Principal, schools []string, district string) error {
	if district != "" || len(schools) == 0 {
		return forbidden("a school administrator manages accounts of their own schools only")
	}
	for _, s := range schools {
		if !actor.AtSchool(s) {
			return forbidden("a school of the account is not one of yours")
		}
	}
	return nil
}

// checkDistrict refuses, as an invalid field, a district that the log does
// not hold; "" names none and passes.
func (a *Accounts) checkDistrict(ctx context.Context, district string) error {
	if district == "" {
		return nil
	}
	_, err := a.District(ctx, district)
	if errors.Is(err, ErrNotFound) {
		return invalid("district", "names no district")
	}
	return err
}

// checkSchools refuses, as invalid fields, schools that the log does not
// hold, and schools outside district when one is named. field names the
// i-th school in the refusal.
func (a *Accounts) checkSchools(
	ctx context.Context,
	schools []string,
	district string,
	field func(i int) string,
) error {
	var errs domain.Errors
	for i, s := range schools {
		school, err := a.loadSchool(ctx, s)
		switch {
		case errors.Is(err, ErrNotFound):
			errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: field(i),
				Message: "names no school"})
		case err != nil:
			return err
		case district != "" && school.DistrictID != district:
			errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: field(i),
				Message: "is not a school of the account's district"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// indexed names the i-th element of a list field: schools[2].
func indexed(field string) func(int) string {
	return func(i int) string { return field + "[" + strconv.Itoa(i) + "]" }
}

// whole names a list field as a whole, whichever element is at fault.
func whole(field string) func(int) string {
	return func(int) string { return field }
}
