package domain

// Role is what a user account is allowed to be. docs/access-control.md has
// what each may do.
type Role string

// The roles.
const (
	RoleNurse             Role = "nurse"
	RoleSchoolAdmin       Role = "school_admin"
	RoleDistrictAdmin     Role = "district_admin"
	RoleComplianceOfficer Role = "compliance_officer"
	RoleAuditor           Role = "auditor"
	RoleSysadmin          Role = "sysadmin"
)

// Roles lists every role, in the order documents show them.
var Roles = []Role{
	RoleNurse, RoleSchoolAdmin, RoleDistrictAdmin,
	RoleComplianceOfficer, RoleAuditor, RoleSysadmin,
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}
