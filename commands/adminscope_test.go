package commands_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// org is a small organisation in the log: two districts, two schools in
// the first and one in the second.
type org struct {
	a                *commands.Accounts
	d1, d2           string
	s1, s1b, s2      string
	sys, dist, sch   auth.Principal
	nurse, co, audit auth.Principal
}

func newOrg(t *testing.T, a *commands.Accounts) *org {
	t.Helper()
	o := &org{a: a}
	o.d1, o.d2 = o.district(t), o.district(t)
	o.s1, o.s1b, o.s2 = o.school(t, o.d1), o.school(t, o.d1), o.school(t, o.d2)
	o.sys = sysadmin
	o.dist = principal(domain.RoleDistrictAdmin)
	o.dist.District = o.d1
	o.sch = principal(domain.RoleSchoolAdmin, o.s1)
	o.nurse = principal(domain.RoleNurse, o.s1)
	o.co = principal(domain.RoleComplianceOfficer)
	o.audit = principal(domain.RoleAuditor)
	return o
}

func (o *org) district(t *testing.T) string {
	t.Helper()
	id, _, err := o.a.CreateDistrict(t.Context(), sysadmin, commands.Meta{}, "District")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (o *org) school(t *testing.T, district string) string {
	t.Helper()
	id, _, err := o.a.CreateSchool(t.Context(), sysadmin, commands.Meta{}, district, "School")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// principal is a caller with one role and the schools given.
func principal(role domain.Role, schools ...string) auth.Principal {
	return auth.Principal{UserID: uuid.NewString(), Roles: []domain.Role{role}, Schools: schools}
}

// account describes an account to create: its roles and where it works.
type account struct {
	roles    []domain.Role
	schools  []string
	district string
}

func (o *org) create(t *testing.T, actor *auth.Principal, acc account) (string, error) {
	t.Helper()
	id, _, err := o.a.CreateUser(t.Context(), actor, commands.Meta{}, commands.NewAccount{
		Email: uuid.NewString() + "@district.example", DisplayName: "Someone",
		Roles: acc.roles, Schools: acc.schools, District: acc.district, Password: password,
	})
	return id, err
}

func (o *org) mustCreate(t *testing.T, acc account) string {
	t.Helper()
	id, err := o.create(t, nil, acc)
	if err != nil {
		t.Fatalf("create %+v: %v", acc, err)
	}
	return id
}

// outcome names how a command ended: "ok", or the code and field of its
// first refusal ("forbidden", "invalid schools[0]").
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	refused := domain.ErrorsOf(err)
	if len(refused) == 0 {
		return "error: " + err.Error()
	}
	return strings.TrimSpace(refused[0].Code + " " + refused[0].Field)
}

func roles(rs ...domain.Role) []domain.Role { return rs }

// TestWhoGivesWhichRole: each administrator creates accounts only with
// the roles their own scope covers, at their own schools or district; a
// system administrator any; the others none.
func TestWhoGivesWhichRole(t *testing.T) {
	a, _ := newAccounts(t)
	o := newOrg(t, a)
	const (
		nurse  = domain.RoleNurse
		school = domain.RoleSchoolAdmin
		dist   = domain.RoleDistrictAdmin
		co     = domain.RoleComplianceOfficer
		audit  = domain.RoleAuditor
		sys    = domain.RoleSysadmin
	)
	cases := []struct {
		actor string
		who   *auth.Principal
		acc   account
		want  string
	}{
		{"school admin", &o.sch, account{roles(nurse), []string{o.s1}, ""}, "ok"},
		{"school admin", &o.sch, account{roles(school), []string{o.s1}, ""}, "ok"},
		{"school admin", &o.sch, account{roles(nurse), []string{o.s1b}, ""}, "forbidden"},
		{"school admin", &o.sch, account{roles(nurse, school), []string{o.s1, o.s1b}, ""}, "forbidden"},
		{"school admin", &o.sch, account{roles(dist), nil, o.d1}, "forbidden"},
		{"school admin", &o.sch, account{roles(co), nil, ""}, "forbidden"},
		{"school admin", &o.sch, account{roles(audit), nil, ""}, "forbidden"},
		{"school admin", &o.sch, account{roles(sys), nil, ""}, "forbidden"},

		{"district admin", &o.dist, account{roles(nurse), []string{o.s1b}, ""}, "ok"},
		{"district admin", &o.dist, account{roles(school), []string{o.s1, o.s1b}, o.d1}, "ok"},
		{"district admin", &o.dist, account{roles(dist), nil, o.d1}, "ok"},
		{"district admin", &o.dist, account{roles(nurse), []string{o.s2}, ""}, "forbidden"},
		{"district admin", &o.dist, account{roles(dist), nil, o.d2}, "forbidden"},
		{"district admin", &o.dist, account{roles(co), nil, o.d1}, "forbidden"},
		{"district admin", &o.dist, account{roles(co), nil, ""}, "forbidden"},
		{"district admin", &o.dist, account{roles(nurse, co), []string{o.s1}, ""}, "forbidden"},
		{"district admin", &o.dist, account{roles(audit), nil, ""}, "forbidden"},
		{"district admin", &o.dist, account{roles(sys), nil, ""}, "forbidden"},

		{"sysadmin", &o.sys, account{roles(nurse), []string{o.s2}, ""}, "ok"},
		{"sysadmin", &o.sys, account{roles(dist), nil, o.d2}, "ok"},
		{"sysadmin", &o.sys, account{roles(co), nil, ""}, "ok"},
		{"sysadmin", &o.sys, account{roles(audit), nil, ""}, "ok"},
		{"sysadmin", &o.sys, account{roles(sys), nil, ""}, "ok"},

		{"nurse", &o.nurse, account{roles(nurse), []string{o.s1}, ""}, "forbidden"},
		{"compliance officer", &o.co, account{roles(nurse), []string{o.s1}, ""}, "forbidden"},
		{"auditor", &o.audit, account{roles(nurse), []string{o.s1}, ""}, "forbidden"},

		// The organisation named must be in the log, whoever asks.
		{"sysadmin", &o.sys, account{roles(nurse), []string{uuid.NewString()}, ""}, "invalid schools[0]"},
		{"sysadmin", &o.sys, account{roles(dist), nil, uuid.NewString()}, "invalid district"},
		{"sysadmin", &o.sys, account{roles(nurse), []string{o.s1, o.s2}, o.d1}, "invalid schools[1]"},
		{"the system", nil, account{roles(nurse), []string{uuid.NewString()}, ""}, "invalid schools[0]"},
		{"district admin", &o.dist, account{roles(nurse), []string{uuid.NewString()}, ""},
			"invalid schools[0]"},
	}
	for _, c := range cases {
		t.Run(c.actor+" creates "+o.describe(c.acc), func(t *testing.T) {
			_, err := o.create(t, c.who, c.acc)
			if got := outcome(err); got != c.want {
				t.Errorf("got %s (%v), want %s", got, err, c.want)
			}
		})
	}
}

// describe names an account's roles and where it works, by the labels
// of the org's schools and districts.
func (o *org) describe(acc account) string {
	labels := map[string]string{o.d1: "d1", o.d2: "d2", o.s1: "s1", o.s1b: "s1b", o.s2: "s2"}
	label := func(id string) string {
		if l, ok := labels[id]; ok {
			return l
		}
		return "a made-up id"
	}
	var b strings.Builder
	for i, r := range acc.roles {
		if i > 0 {
			b.WriteString("+")
		}
		b.WriteString(string(r))
	}
	for i, s := range acc.schools {
		b.WriteString(map[bool]string{true: " at ", false: ", "}[i == 0] + label(s))
	}
	if acc.district != "" {
		b.WriteString(" of " + label(acc.district))
	}
	return b.String()
}

// TestWhoChangesWhichAccount: the same rule holds for changes, checked on
// the account as it is and as it would be, and nobody changes their own
// account.
func TestWhoChangesWhichAccount(t *testing.T) {
	a, _ := newAccounts(t)
	o := newOrg(t, a)
	nurseAtS1 := func() string { return o.mustCreate(t, account{roles(domain.RoleNurse), []string{o.s1}, ""}) }
	addRole := func(r domain.Role) commands.UserChange {
		return func(u *domain.User) ([]domain.Event, error) { return u.AssignRoles(roles(r)) }
	}
	addSchool := func(s string) commands.UserChange {
		return func(u *domain.User) ([]domain.Event, error) { return u.AssignSchools([]string{s}) }
	}
	deactivate := func(u *domain.User) ([]domain.Event, error) { return u.Deactivate("left") }

	// Accounts of the administrators themselves, to change their own.
	distSelf := o.mustCreate(t, account{roles(domain.RoleDistrictAdmin), nil, o.d1})
	schSelf := o.mustCreate(t, account{roles(domain.RoleSchoolAdmin), []string{o.s1}, ""})
	sysSelf := o.mustCreate(t, account{roles(domain.RoleSysadmin), nil, ""})
	as := func(p auth.Principal, id string) auth.Principal { p.UserID = id; return p }
	officer := o.mustCreate(t, account{roles(domain.RoleComplianceOfficer), nil, o.d1})

	cases := []struct {
		name   string
		actor  auth.Principal
		target string
		change commands.UserChange
		want   string
	}{
		{"district admin makes a nurse a school admin", o.dist, nurseAtS1(),
			addRole(domain.RoleSchoolAdmin), "ok"},
		{"district admin makes a nurse a compliance officer", o.dist, nurseAtS1(),
			addRole(domain.RoleComplianceOfficer), "forbidden"},
		{"district admin makes a nurse an auditor", o.dist, nurseAtS1(), addRole(domain.RoleAuditor), "forbidden"},
		{"district admin gives a nurse another district's school", o.dist, nurseAtS1(), addSchool(o.s2),
			"forbidden"},
		{"district admin deactivates a compliance officer of the district", o.dist, officer, deactivate,
			"forbidden"},
		{"school admin makes a nurse a school admin", o.sch, nurseAtS1(), addRole(domain.RoleSchoolAdmin), "ok"},
		{"school admin gives a nurse a school not theirs", o.sch, nurseAtS1(), addSchool(o.s1b), "forbidden"},
		{"sysadmin makes a nurse a compliance officer", o.sys, nurseAtS1(),
			addRole(domain.RoleComplianceOfficer), "ok"},
		{"sysadmin gives a made-up school", o.sys, nurseAtS1(), addSchool(uuid.NewString()), "invalid schools"},

		{"district admin makes themselves a compliance officer", as(o.dist, distSelf), distSelf,
			addRole(domain.RoleComplianceOfficer), "forbidden"},
		{"district admin makes themselves a school admin", as(o.dist, distSelf), distSelf,
			addRole(domain.RoleSchoolAdmin), "forbidden"},
		{"school admin makes themselves a nurse", as(o.sch, schSelf), schSelf, addRole(domain.RoleNurse),
			"forbidden"},
		{"school admin gives themselves a school", as(o.sch, schSelf), schSelf, addSchool(o.s1b), "forbidden"},
		{"sysadmin makes themselves a compliance officer", as(o.sys, sysSelf), sysSelf,
			addRole(domain.RoleComplianceOfficer), "forbidden"},
		{"sysadmin deactivates themselves", as(o.sys, sysSelf), sysSelf, deactivate, "forbidden"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, err := a.User(t.Context(), sysadmin, c.target)
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.ChangeUser(t.Context(), c.actor, commands.Meta{}, c.target, c.change)
			if got := outcome(err); got != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
			after, err := a.User(t.Context(), sysadmin, c.target)
			if err != nil {
				t.Fatal(err)
			}
			if changed := after.Revision != before.Revision; changed != (c.want == "ok") {
				t.Errorf("revision %d → %d: a refused change must append nothing", before.Revision, after.Revision)
			}
		})
	}
}

// TestWhoSeesWhichAccount: administrators see the accounts of their
// scope, whatever their roles; compliance officers every account.
func TestWhoSeesWhichAccount(t *testing.T) {
	a, _ := newAccounts(t)
	o := newOrg(t, a)
	officer := o.mustCreate(t, account{roles(domain.RoleComplianceOfficer), nil, o.d1})
	root := o.mustCreate(t, account{roles(domain.RoleSysadmin), nil, ""})
	elsewhere := o.mustCreate(t, account{roles(domain.RoleNurse), []string{o.s2}, ""})
	cases := []struct {
		name   string
		actor  auth.Principal
		target string
		want   bool
	}{
		{"district admin, a compliance officer of the district", o.dist, officer, true},
		{"district admin, a system administrator", o.dist, root, false},
		{"district admin, a nurse of another district", o.dist, elsewhere, false},
		{"compliance officer, a nurse of any district", o.co, elsewhere, true},
		{"nurse, another nurse", o.nurse, elsewhere, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := a.User(t.Context(), c.actor, c.target)
			if (err == nil) != c.want {
				t.Errorf("User: %v, want seen %v", err, c.want)
			}
		})
	}
}

// TestChangesEndSessions: removing a school, adding a role or
// deactivating ends the account's sessions at once, each for its reason;
// unlocking does not.
func TestChangesEndSessions(t *testing.T) {
	a, l := newAccounts(t)
	o := newOrg(t, a)
	cases := []struct {
		name   string
		change commands.UserChange
		want   domain.EndReason // "": the session goes on
	}{
		{"a school removed", func(u *domain.User) ([]domain.Event, error) {
			return u.RemoveSchools([]string{o.s1b})
		}, domain.EndAccessChanged},
		{"a role added", func(u *domain.User) ([]domain.Event, error) {
			return u.AssignRoles(roles(domain.RoleSchoolAdmin))
		}, domain.EndAccessChanged},
		{"deactivated", func(u *domain.User) ([]domain.Event, error) {
			return u.Deactivate("left the district")
		}, domain.EndUserDeactivated},
		{"unlocked", func(u *domain.User) ([]domain.Event, error) {
			return []domain.Event{domain.UserUnlocked{By: sysadmin.UserID}}, nil
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			email := uuid.NewString() + "@district.example"
			id, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
				Email: email, DisplayName: "N", Roles: roles(domain.RoleNurse),
				Schools: []string{o.s1, o.s1b}, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			tokens := login(t, a, email)
			if _, err := a.ChangeUser(t.Context(), o.dist, commands.Meta{}, id, c.change); err != nil {
				t.Fatal(err)
			}
			_, err = a.Authenticate(t.Context(), tokens.AccessToken)
			if ended := errors.Is(err, commands.ErrSessionEnded); ended != (c.want != "") {
				t.Fatalf("the token after the change: %v, want ended %v", err, c.want != "")
			}
			last := lastEvent(t, l, domain.SessionStream(tokens.SessionID))
			if ended, ok := last.(domain.SessionEnded); ok != (c.want != "") || ok && ended.Reason != c.want {
				t.Errorf("the session's last event: %#v, want reason %q", last, c.want)
			}
		})
	}
}

func login(t *testing.T, a *commands.Accounts, email string) commands.Tokens {
	t.Helper()
	tokens, _, err := a.Login(t.Context(), commands.Meta{}, commands.Credentials{Email: email, Password: password})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tokens
}

// streamEvents decodes every event of stream.
func streamEvents(t *testing.T, l eventstore.Store, stream string) []domain.Event {
	t.Helper()
	evs, err := l.ReadStream(t.Context(), stream, eventstore.ReadOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	out := make([]domain.Event, len(evs))
	for i, e := range evs {
		if out[i], err = domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func lastEvent(t *testing.T, l eventstore.Store, stream string) domain.Event {
	t.Helper()
	evs := streamEvents(t, l, stream)
	return evs[len(evs)-1]
}

// eventTypes lists the types of events.
func eventTypes(events []domain.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventType()
	}
	return slices.Clip(out)
}
