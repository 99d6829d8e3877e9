package auth

import (
	"slices"

	"github.com/whitecross/whitecross/domain"
)

// Capability is one thing a role may do. Scope (which schools, which
// district) is checked separately, by the caller, against the Principal.
type Capability string

// The capabilities. docs/access-control.md is the same table in prose.
const (
	// ReadClinical reads students' clinical records: nurses at their
	// schools, compliance officers anywhere for an investigation. Every
	// read is recorded.
	ReadClinical Capability = "clinical.read"
	// WriteClinical records clinical entries and gives medications.
	WriteClinical Capability = "clinical.write"
	// ManageRoster enrols, transfers and withdraws students (demographics,
	// no clinical detail).
	ManageRoster Capability = "roster.manage"
	// ManageUsers creates accounts, assigns roles and schools, deactivates
	// and unlocks accounts, within the caller's scope.
	ManageUsers Capability = "users.manage"
	// ReadUsers lists accounts within the caller's scope.
	ReadUsers Capability = "users.read"
	// ManageOrganisation creates districts and schools.
	ManageOrganisation Capability = "organisation.manage"
	// ReadOrganisation lists districts and schools.
	ReadOrganisation Capability = "organisation.read"
	// OpenBreakGlass opens emergency access to one student outside the
	// caller's scope, for a limited time, with a written reason.
	OpenBreakGlass Capability = "breakglass.open"
	// ReviewBreakGlass lists open and past emergency-access grants.
	ReviewBreakGlass Capability = "breakglass.review"
	// ReadHistory replays students' histories and access reports.
	ReadHistory Capability = "history.read"
	// RecordDisclosures records a disclosure of a student's health
	// information made outside the system, for the accounting of
	// disclosures.
	RecordDisclosures Capability = "disclosures.record"
	// ReadAuditLog reads the log itself, its checkpoints and exports.
	ReadAuditLog Capability = "auditlog.read"
	// OperateSystem sees the system's health and runs its tools; no
	// clinical data.
	OperateSystem Capability = "system.operate"
)

// policy is the role × capability table.
var policy = map[domain.Role][]Capability{
	domain.RoleNurse: {
		ReadClinical, WriteClinical, ManageRoster, OpenBreakGlass, ReadOrganisation,
	},
	domain.RoleSchoolAdmin: {
		ManageRoster, ManageUsers, ReadUsers, ReadOrganisation,
	},
	domain.RoleDistrictAdmin: {
		ManageRoster, ManageUsers, ReadUsers, ManageOrganisation, ReadOrganisation,
	},
	domain.RoleComplianceOfficer: {
		ReadClinical, OpenBreakGlass, ReviewBreakGlass, ReadHistory, RecordDisclosures,
		ReadAuditLog, ReadUsers, ReadOrganisation,
	},
	domain.RoleAuditor: {
		ReadAuditLog, ReadOrganisation,
	},
	domain.RoleSysadmin: {
		ManageUsers, ReadUsers, ManageOrganisation, ReadOrganisation, OperateSystem,
	},
}

// Can reports whether role has capability c.
func Can(role domain.Role, c Capability) bool {
	return slices.Contains(policy[role], c)
}

// Capabilities returns role's capabilities, in the table's order.
func Capabilities(role domain.Role) []Capability {
	return slices.Clone(policy[role])
}

// Principal is who a request comes from, as its access token says.
type Principal struct {
	UserID    string
	SessionID string
	Roles     []domain.Role
	// Schools are the schools the account is assigned to.
	Schools []string
	// District is the district of a district administrator.
	District string
}

// Can reports whether any of p's roles has capability c.
func (p Principal) Can(c Capability) bool {
	for _, r := range p.Roles {
		if Can(r, c) {
			return true
		}
	}
	return false
}

// RoleFor returns the first of p's roles that grants c, the role an event
// caused under c records; it is empty when none does.
func (p Principal) RoleFor(c Capability) domain.Role {
	for _, r := range p.Roles {
		if Can(r, c) {
			return r
		}
	}
	return ""
}

// AtSchool reports whether p is assigned to school.
func (p Principal) AtSchool(school string) bool {
	return slices.Contains(p.Schools, school)
}
