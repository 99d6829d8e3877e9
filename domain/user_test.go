package domain

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests of ids.go and event.go live here too, beside the first
// aggregate that uses them.

const (
	userID     = "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70"
	adminID    = "7d1f6a2c-3b4e-4f5a-8b6c-9d0e1f2a3b4c"
	schoolA    = "11111111-2222-4333-8444-555555555555"
	schoolB    = "66666666-7777-4888-9999-aaaaaaaaaaaa"
	districtID = "d15d1c70-0000-4000-8000-000000000001"
	sessionID  = "5e551011-0000-4000-8000-000000000002"

	// hashA is an argon2id PHC string of the shape our hasher writes.
	hashA = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$" +
		"aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	// totpSecret is 160 bits of base32.
	totpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
)

// t0 is the tests' "now".
var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// refusals lists the refusals in err as "code field", in order.
func refusals(err error) []string {
	var out []string
	for _, e := range ErrorsOf(err) {
		out = append(out, strings.TrimSpace(e.Code+" "+e.Field))
	}
	return out
}

// checkRefusals fails t unless err refuses exactly want ("code field"),
// and unless no refusal quotes secret, the value the command was given.
func checkRefusals(t *testing.T, err error, want []string, secret string) {
	t.Helper()
	if got := refusals(err); !slices.Equal(got, want) {
		t.Fatalf("refusals = %q (err %v), want %q", got, err, want)
	}
	if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q quotes the value it refuses", err)
	}
}

type applier interface{ Apply(Event) error }

// mustApply applies events to a, in order.
func mustApply(t *testing.T, a applier, events []Event) {
	t.Helper()
	for _, e := range events {
		if err := a.Apply(e); err != nil {
			t.Fatalf("apply %s: %v", e.EventType(), err)
		}
	}
}

// roundTrip encodes and decodes each event.
func roundTrip(t *testing.T, events []Event) []Event {
	t.Helper()
	out := make([]Event, len(events))
	for i, e := range events {
		typ, version, data, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("encode %s: %v", e.EventType(), err)
		}
		out[i], err = DecodeEvent(typ, version, data)
		if err != nil {
			t.Fatalf("decode %s: %v", typ, err)
		}
	}
	return out
}

func TestValidID(t *testing.T) {
	cases := []struct {
		name string
		id   string
		want bool
	}{
		{"version 4", "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70", true},
		{"version 7", "01890a5d-ac96-774b-bcce-b302099a8057", true},
		{"any version", "11111111-2222-3333-4444-555555555555", true},
		{"empty", "", false},
		{"nil UUID", "00000000-0000-0000-0000-000000000000", false},
		{"upper case", "0B5E4C1E-8F2A-4D7B-9C3E-2A1F6D8E9B70", false},
		{"no hyphens", "0b5e4c1e8f2a4d7b9c3e2a1f6d8e9b70", false},
		{"hyphen misplaced", "0b5e4c1-e8f2a-4d7b-9c3e-2a1f6d8e9b70", false},
		{"braces", "{0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b7}", false},
		{"not hex", "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b7g", false},
		{"too long", "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b700", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ValidID(c.id); got != c.want {
				t.Errorf("ValidID(%q) = %v, want %v", c.id, got, c.want)
			}
		})
	}
}

func TestNewIDFrom(t *testing.T) {
	b := [16]byte{
		0x0b, 0x5e, 0x4c, 0x1e, 0x8f, 0x2a, 0x4d, 0x7b,
		0x9c, 0x3e, 0x2a, 0x1f, 0x6d, 0x8e, 0x9b, 0x70,
	}
	want := "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70"
	got := NewIDFrom(b)
	if got != want {
		t.Errorf("NewIDFrom = %q, want %q", got, want)
	}
	if !ValidID(got) {
		t.Errorf("ValidID(%q) = false, want true", got)
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"with field", invalid("email", "is required"), "invalid: email: is required"},
		{"without field", sessionEnded("over"), "session_ended: over"},
		{
			"several",
			Errors{invalid("a", "x"), ruleBroken("b", "y")},
			"invalid: a: x; rule: b: y",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("Error() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestErrorsOf(t *testing.T) {
	list := Errors{invalid("a", "x"), ruleBroken("b", "y")}
	cases := []struct {
		name     string
		err      error
		want     []string
		wantCode string
	}{
		{"nil", nil, nil, ""},
		{"not a refusal", errors.New("disk full"), nil, ""},
		{"one", invalid("a", "x"), []string{"invalid a"}, CodeInvalid},
		{"wrapped one", fmt.Errorf("create: %w", ruleBroken("b", "y")), []string{"rule b"}, CodeRule},
		{"list", list, []string{"invalid a", "rule b"}, CodeInvalid},
		{"wrapped list", fmt.Errorf("create: %w", list), []string{"invalid a", "rule b"}, CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := refusals(c.err); !slices.Equal(got, c.want) {
				t.Errorf("refusals = %q, want %q", got, c.want)
			}
			if got := ErrorCode(c.err); got != c.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, c.wantCode)
			}
		})
	}
}

// userEvents has one event of each user type, with every field set.
var userEvents = []Event{
	UserCreated{
		UserID:      userID,
		Email:       "nurse@example.org",
		DisplayName: "Joy Nurse",
		Roles:       []Role{RoleNurse, RoleSchoolAdmin},
		Schools:     []string{schoolA, schoolB},
		District:    districtID,
		CreatedBy:   adminID,
	},
	RolesAssigned{Roles: []Role{RoleComplianceOfficer}},
	RolesRemoved{Roles: []Role{RoleSchoolAdmin}},
	SchoolsAssigned{Schools: []string{schoolB}},
	SchoolsRemoved{Schools: []string{schoolA}},
	PasswordSet{PasswordHash: hashA, Reason: PasswordReset},
	UserDeactivated{Reason: "left the district"},
	UserReactivated{},
	LoginSucceeded{SessionID: sessionID, TOTPStep: 59000000, ExpiresAt: t0.Add(12 * time.Hour)},
	LoginFailed{ReasonCode: LoginBadTOTP, AttemptAt: t0.Add(123456789)},
	WitnessConfirmed{At: t0.Add(time.Minute), TOTPStep: 59000002},
	WitnessConfirmationFailed{ReasonCode: WitnessNotNurse, AttemptAt: t0.Add(2 * time.Minute)},
	UserLocked{Until: t0.Add(15 * time.Minute), Reason: LockTooManyFailures},
	UserUnlocked{By: adminID},
	TOTPEnrolled{SealedSecret: sealedTOTP},
	TOTPRemoved{},
}

// allEvents has one event of each type of the package.
// moreEvents are the example events of other files' tests, added by their
// init functions, so that the round-trip tests cover every type.
var moreEvents [][]Event

func allEvents() []Event {
	var all []Event
	lists := append([][]Event{userEvents, organisationEvents, sessionEvents, breakGlassEvents, emailEvents},
		moreEvents...)
	for _, list := range lists {
		all = append(all, list...)
	}
	return all
}

func TestEventRoundTrip(t *testing.T) {
	for _, e := range allEvents() {
		t.Run(e.EventType(), func(t *testing.T) {
			got := roundTrip(t, []Event{e})[0]
			if !reflect.DeepEqual(got, e) {
				t.Errorf("decoded %#v, want %#v", got, e)
			}
		})
	}
}

func TestEventTypesAllTested(t *testing.T) {
	var tested []string
	for _, e := range allEvents() {
		tested = append(tested, e.EventType())
	}
	slices.Sort(tested)
	if got := EventTypes(); !slices.Equal(tested, got) {
		t.Errorf("round-trip tests cover %q, EventTypes() = %q", tested, got)
	}
}

func TestEventJSONFieldNames(t *testing.T) {
	_, _, data, err := EncodeEvent(LoginFailed{ReasonCode: LoginBadPassword, AttemptAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"reason_code":"bad_password","attempt_at":"2026-12-03T09:00:00Z"}`
	if string(data) != want {
		t.Errorf("data = %s, want %s", data, want)
	}
}

type strayEvent struct{}

func (strayEvent) EventType() string { return "Stray" }

func TestEventCodecRefusals(t *testing.T) {
	cases := []struct {
		name    string
		run     func() error
		wantErr error // nil: any error
	}{
		{"encode unknown type", func() error {
			_, _, _, err := EncodeEvent(strayEvent{})
			return err
		}, ErrUnknownEventType},
		{"decode unknown type", func() error {
			_, err := DecodeEvent("Stray", 1, []byte(`{}`))
			return err
		}, ErrUnknownEventType},
		{"decode later schema version", func() error {
			_, err := DecodeEvent("UserCreated", 2, []byte(`{}`))
			return err
		}, ErrUnknownSchemaVersion},
		{"decode malformed data", func() error {
			_, err := DecodeEvent("UserCreated", 1, []byte(`{"roles":"nurse"}`))
			return err
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
		})
	}
}

func TestDecodeVersionZeroIsOne(t *testing.T) {
	got, err := DecodeEvent("UserUnlocked", 0, []byte(`{"by":"`+adminID+`"}`))
	if want := (UserUnlocked{By: adminID}); err != nil || got != want {
		t.Errorf("DecodeEvent = %#v, %v; want %#v, nil", got, err, want)
	}
}

func validCreateUser() CreateUser {
	return CreateUser{
		UserID:      userID,
		Email:       "  Nurse.Joy@Example.ORG ",
		DisplayName: " Joy Nurse ",
		Roles:       []Role{RoleNurse},
		Schools:     []string{schoolA},
		CreatedBy:   adminID,
	}
}

func TestNewUser(t *testing.T) {
	long := strings.Repeat("a", 243) + "@example.org" // 255 bytes
	nameOf := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name   string
		change func(*CreateUser)
		want   []string // refusals, "code field"
		secret string   // a value no refusal may quote
	}{
		{"valid", func(*CreateUser) {}, nil, ""},
		{"no creator", func(c *CreateUser) { c.CreatedBy = "" }, nil, ""},
		{"user_id missing", func(c *CreateUser) { c.UserID = "" }, []string{"invalid user_id"}, ""},
		{"user_id upper case", func(c *CreateUser) { c.UserID = strings.ToUpper(userID) },
			[]string{"invalid user_id"}, ""},
		{"email missing", func(c *CreateUser) { c.Email = " " }, []string{"invalid email"}, ""},
		{"email without @", func(c *CreateUser) { c.Email = "joy.example.org" },
			[]string{"invalid email"}, "joy.example.org"},
		{"email with two @", func(c *CreateUser) { c.Email = "joy@nurse@example.org" },
			[]string{"invalid email"}, "joy@nurse"},
		{"email without local part", func(c *CreateUser) { c.Email = "@example.org" },
			[]string{"invalid email"}, "@example.org"},
		{"email domain without dot", func(c *CreateUser) { c.Email = "joy@localhost" },
			[]string{"invalid email"}, "joy@localhost"},
		{"email domain ends with dot", func(c *CreateUser) { c.Email = "joy@example." },
			[]string{"invalid email"}, "joy@example."},
		{"email domain with empty label", func(c *CreateUser) { c.Email = "joy@example..org" },
			[]string{"invalid email"}, "joy@example..org"},
		{"email with space", func(c *CreateUser) { c.Email = "joy nurse@example.org" },
			[]string{"invalid email"}, "joy nurse"},
		{"email too long", func(c *CreateUser) { c.Email = long }, []string{"invalid email"}, long},
		{"email of 254 bytes", func(c *CreateUser) { c.Email = long[1:] }, nil, ""},
		{"display_name blank", func(c *CreateUser) { c.DisplayName = "   " },
			[]string{"invalid display_name"}, ""},
		{"display_name of 201 characters", func(c *CreateUser) { c.DisplayName = nameOf(201) },
			[]string{"invalid display_name"}, ""},
		{"display_name of 200 characters", func(c *CreateUser) { c.DisplayName = nameOf(200) },
			nil, ""},
		{"display_name with control character", func(c *CreateUser) { c.DisplayName = "Joy\x07Nurse" },
			[]string{"invalid display_name"}, "Joy\x07Nurse"},
		{"display_name with line break", func(c *CreateUser) { c.DisplayName = "Joy\nNurse" },
			[]string{"invalid display_name"}, ""},
		{"display_name not UTF-8", func(c *CreateUser) { c.DisplayName = "Joy\xffNurse" },
			[]string{"invalid display_name"}, ""},
		{"roles missing", func(c *CreateUser) { c.Roles = nil; c.Schools = nil },
			[]string{"invalid roles"}, ""},
		{"role unknown", func(c *CreateUser) { c.Roles = []Role{RoleNurse, "janitor"} },
			[]string{"invalid roles[1]"}, "janitor"},
		{"role repeated", func(c *CreateUser) { c.Roles = []Role{RoleNurse, RoleAuditor, RoleNurse} },
			[]string{"invalid roles[2]"}, ""},
		{"school not an ID", func(c *CreateUser) { c.Schools = []string{schoolA, "school-b"} },
			[]string{"invalid schools[1]"}, "school-b"},
		{"school repeated", func(c *CreateUser) { c.Schools = []string{schoolA, schoolA} },
			[]string{"invalid schools[1]"}, ""},
		{"nurse without school", func(c *CreateUser) { c.Schools = nil },
			[]string{"invalid schools"}, ""},
		{"school administrator without school", func(c *CreateUser) {
			c.Roles = []Role{RoleSchoolAdmin}
			c.Schools = []string{}
		}, []string{"invalid schools"}, ""},
		{"auditor without school", func(c *CreateUser) {
			c.Roles = []Role{RoleAuditor}
			c.Schools = nil
		}, nil, ""},
		{"district administrator without district", func(c *CreateUser) {
			c.Roles = []Role{RoleDistrictAdmin}
		}, []string{"invalid district"}, ""},
		{"district administrator with district", func(c *CreateUser) {
			c.Roles = []Role{RoleDistrictAdmin}
			c.District = districtID
		}, nil, ""},
		{"district not an ID", func(c *CreateUser) { c.District = "north" },
			[]string{"invalid district"}, "north"},
		{"created_by not an ID", func(c *CreateUser) { c.CreatedBy = "admin" },
			[]string{"invalid created_by"}, ""},
		{"every field wrong", func(c *CreateUser) {
			*c = CreateUser{Email: "x", Roles: []Role{RoleDistrictAdmin, "x"}, CreatedBy: "x"}
		}, []string{
			"invalid user_id", "invalid email", "invalid display_name",
			"invalid roles[1]", "invalid district", "invalid created_by",
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validCreateUser()
			c.change(&cmd)
			events, err := NewUser(cmd)
			checkRefusals(t, err, c.want, c.secret)
			wantN := 1
			if len(c.want) > 0 {
				wantN = 0
			}
			if len(events) != wantN {
				t.Errorf("got %d events, want %d", len(events), wantN)
			}
		})
	}
}

func TestNewUserNormalises(t *testing.T) {
	events, err := NewUser(validCreateUser())
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{UserCreated{
		UserID:      userID,
		Email:       "nurse.joy@example.org",
		DisplayName: "Joy Nurse",
		Roles:       []Role{RoleNurse},
		Schools:     []string{schoolA},
		CreatedBy:   adminID,
	}}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events = %#v, want %#v", events, want)
	}
}

// newUser returns the account validCreateUser describes, with change made
// to the command first.
func newUser(t *testing.T, change func(*CreateUser)) *User {
	t.Helper()
	cmd := validCreateUser()
	if change != nil {
		change(&cmd)
	}
	events, err := NewUser(cmd)
	if err != nil {
		t.Fatal(err)
	}
	u, err := FoldUser(events)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// decide runs a command on u and applies what it returns.
func decide(t *testing.T, u *User, cmd func(*User) ([]Event, error)) []Event {
	t.Helper()
	events, err := cmd(u)
	if err != nil {
		t.Fatalf("command refused: %v", err)
	}
	mustApply(t, u, events)
	return events
}

func TestUserFold(t *testing.T) {
	u := newUser(t, nil)
	history, _ := NewUser(validCreateUser())
	steps := []func(*User) ([]Event, error){
		func(u *User) ([]Event, error) { return u.SetPassword(hashA, PasswordInitial) },
		func(u *User) ([]Event, error) { return u.AssignSchools([]string{schoolB}) },
		func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleComplianceOfficer}) },
		func(u *User) ([]Event, error) { return u.RemoveSchools([]string{schoolA}) },
		func(u *User) ([]Event, error) { return u.EnrollTOTP(totpSecret, testSeal) },
		func(u *User) ([]Event, error) {
			events, _ := u.RecordLoginAttempt(t0, false, false, LockoutPolicy{}, sessionID)
			return events, nil
		},
		func(u *User) ([]Event, error) { return u.Lock(t0, t0.Add(time.Hour)) },
		func(u *User) ([]Event, error) { return u.Unlock(adminID) },
		func(u *User) ([]Event, error) {
			events, _ := u.RecordLoginAttempt(t0.Add(time.Minute), false, true, LockoutPolicy{}, sessionID)
			return events, nil
		},
		func(u *User) ([]Event, error) { return u.Deactivate("on leave") },
		func(u *User) ([]Event, error) { return u.Reactivate() },
		func(u *User) ([]Event, error) { return u.RemoveRoles([]Role{RoleNurse}) },
		func(u *User) ([]Event, error) { return u.RemoveTOTP() },
		func(u *User) ([]Event, error) { return u.SetPassword(hashA, PasswordChanged) },
	}
	for _, step := range steps {
		history = append(history, decide(t, u, step)...)
	}

	want := &User{
		ID:           userID,
		Email:        "nurse.joy@example.org",
		DisplayName:  "Joy Nurse",
		Roles:        []Role{RoleComplianceOfficer},
		Schools:      []string{schoolB},
		PasswordHash: hashA,
		Active:       true,
		Revision:     uint64(len(history) - 1),
		failures:     []time.Time{t0.Add(time.Minute)},
	}
	if !reflect.DeepEqual(u, want) {
		t.Errorf("applied one by one:\n got %#v\nwant %#v", u, want)
	}
	folded, err := FoldUser(history)
	if err != nil || !reflect.DeepEqual(folded, u) {
		t.Errorf("FoldUser = %#v, %v\nwant %#v", folded, err, u)
	}
	replayed, err := FoldUser(roundTrip(t, history))
	if err != nil || !reflect.DeepEqual(replayed, u) {
		t.Errorf("FoldUser of decoded events = %#v, %v\nwant %#v", replayed, err, u)
	}
}

func TestFoldUserRefusals(t *testing.T) {
	created := userEvents[0]
	cases := []struct {
		name   string
		events []Event
		want   error
	}{
		{"no events", nil, ErrNoEvents},
		{"first event not a creation", userEvents[1:2], ErrUnexpectedEvent},
		{"created twice", []Event{created, created}, ErrUnexpectedEvent},
		{"another aggregate's event", []Event{created, SessionEnded{}}, ErrUnexpectedEvent},
		{"pointer to an event", []Event{&UserCreated{UserID: userID}}, ErrUnexpectedEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := FoldUser(c.events)
			if !errors.Is(err, c.want) || u != nil {
				t.Errorf("FoldUser = %v, %v; want nil, %v", u, err, c.want)
			}
		})
	}
}

// commandCase is a command run on a user that change made, and what it
// should return.
type commandCase struct {
	name   string
	change func(*CreateUser) // the account, from validCreateUser
	setup  []Event           // applied after creation
	run    func(*User) ([]Event, error)
	want   []Event
	refuse []string // refusals, "code field"
	secret string   // a value no refusal may quote
}

func runCommandCases(t *testing.T, cases []commandCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := newUser(t, c.change)
			mustApply(t, u, c.setup)
			before := *u

			events, err := c.run(u)
			checkRefusals(t, err, c.refuse, c.secret)
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
			if !reflect.DeepEqual(*u, before) {
				t.Errorf("the command changed the user: %#v, was %#v", *u, before)
			}
		})
	}
}

func asAuditor(c *CreateUser) {
	c.Roles = []Role{RoleAuditor}
	c.Schools = nil
}

func TestUserRoles(t *testing.T) {
	runCommandCases(t, []commandCase{
		{
			name: "assign new roles only",
			run: func(u *User) ([]Event, error) {
				return u.AssignRoles([]Role{RoleNurse, RoleAuditor})
			},
			want: []Event{RolesAssigned{Roles: []Role{RoleAuditor}}},
		},
		{
			name: "assign roles already held",
			run:  func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleNurse}) },
		},
		{
			name:   "assign no role",
			run:    func(u *User) ([]Event, error) { return u.AssignRoles(nil) },
			refuse: []string{"invalid roles"},
		},
		{
			name:   "assign unknown role",
			run:    func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleAuditor, "root"}) },
			refuse: []string{"invalid roles[1]"},
			secret: "root",
		},
		{
			name: "assign repeated role",
			run: func(u *User) ([]Event, error) {
				return u.AssignRoles([]Role{RoleAuditor, RoleAuditor})
			},
			refuse: []string{"invalid roles[1]"},
		},
		{
			name:   "assign nurse to an account without school",
			change: asAuditor,
			run:    func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleNurse}) },
			refuse: []string{"rule schools"},
		},
		{
			name:   "assign district administrator to an account without district",
			run:    func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleDistrictAdmin}) },
			refuse: []string{"rule district"},
		},
		{
			name:   "assign district administrator to an account with a district",
			change: func(c *CreateUser) { c.District = districtID },
			run:    func(u *User) ([]Event, error) { return u.AssignRoles([]Role{RoleDistrictAdmin}) },
			want:   []Event{RolesAssigned{Roles: []Role{RoleDistrictAdmin}}},
		},
		{
			name:   "remove held roles only",
			change: func(c *CreateUser) { c.Roles = []Role{RoleNurse, RoleAuditor} },
			run: func(u *User) ([]Event, error) {
				return u.RemoveRoles([]Role{RoleAuditor, RoleSysadmin})
			},
			want: []Event{RolesRemoved{Roles: []Role{RoleAuditor}}},
		},
		{
			name: "remove roles not held",
			run:  func(u *User) ([]Event, error) { return u.RemoveRoles([]Role{RoleAuditor}) },
		},
		{
			name:   "remove the last role",
			run:    func(u *User) ([]Event, error) { return u.RemoveRoles([]Role{RoleNurse}) },
			refuse: []string{"rule roles"},
		},
		{
			name:   "remove every role",
			change: func(c *CreateUser) { c.Roles = []Role{RoleNurse, RoleAuditor} },
			run: func(u *User) ([]Event, error) {
				return u.RemoveRoles([]Role{RoleAuditor, RoleNurse})
			},
			refuse: []string{"rule roles"},
		},
	})
}

func TestUserSchools(t *testing.T) {
	runCommandCases(t, []commandCase{
		{
			name: "assign new schools only",
			run: func(u *User) ([]Event, error) {
				return u.AssignSchools([]string{schoolA, schoolB})
			},
			want: []Event{SchoolsAssigned{Schools: []string{schoolB}}},
		},
		{
			name: "assign schools already assigned",
			run:  func(u *User) ([]Event, error) { return u.AssignSchools([]string{schoolA}) },
		},
		{
			name:   "assign no school",
			run:    func(u *User) ([]Event, error) { return u.AssignSchools(nil) },
			refuse: []string{"invalid schools"},
		},
		{
			name:   "assign a school that is not an ID",
			run:    func(u *User) ([]Event, error) { return u.AssignSchools([]string{"", "x"}) },
			refuse: []string{"invalid schools[0]", "invalid schools[1]"},
		},
		{
			name:   "remove a nurse's last school",
			run:    func(u *User) ([]Event, error) { return u.RemoveSchools([]string{schoolA}) },
			refuse: []string{"rule schools"},
		},
		{
			name:   "remove one of a nurse's schools",
			change: func(c *CreateUser) { c.Schools = []string{schoolA, schoolB} },
			run:    func(u *User) ([]Event, error) { return u.RemoveSchools([]string{schoolA}) },
			want:   []Event{SchoolsRemoved{Schools: []string{schoolA}}},
		},
		{
			name: "remove an auditor's last school",
			change: func(c *CreateUser) {
				c.Roles = []Role{RoleAuditor}
			},
			run:  func(u *User) ([]Event, error) { return u.RemoveSchools([]string{schoolA}) },
			want: []Event{SchoolsRemoved{Schools: []string{schoolA}}},
		},
		{
			name: "remove a school not assigned",
			run:  func(u *User) ([]Event, error) { return u.RemoveSchools([]string{schoolB}) },
		},
	})
}

func TestUserCredentials(t *testing.T) {
	enrolled := []Event{TOTPEnrolled{SealedSecret: sealedTOTP}}
	runCommandCases(t, []commandCase{
		{
			name: "set password",
			run:  func(u *User) ([]Event, error) { return u.SetPassword(hashA, PasswordInitial) },
			want: []Event{PasswordSet{PasswordHash: hashA, Reason: PasswordInitial}},
		},
		{
			name: "set a bcrypt hash",
			run: func(u *User) ([]Event, error) {
				return u.SetPassword("$2a$10$abcdefghijklmnopqrstuu", PasswordReset)
			},
			refuse: []string{"invalid password_hash"},
			secret: "abcdefghijklmnopqrstuu",
		},
		{
			name: "set an argon2i hash",
			run: func(u *User) ([]Event, error) {
				return u.SetPassword(strings.Replace(hashA, "argon2id", "argon2i", 1), PasswordReset)
			},
			refuse: []string{"invalid password_hash"},
		},
		{
			name: "set a hash with salt not base64",
			run: func(u *User) ([]Event, error) {
				return u.SetPassword("$argon2id$v=19$m=65536,t=3,p=4$s@lt$aGFzaA", PasswordReset)
			},
			refuse: []string{"invalid password_hash"},
		},
		{
			name:   "set a password itself",
			run:    func(u *User) ([]Event, error) { return u.SetPassword("hunter22", PasswordChanged) },
			refuse: []string{"invalid password_hash"},
			secret: "hunter22",
		},
		{
			name:   "set password for no known reason",
			run:    func(u *User) ([]Event, error) { return u.SetPassword(hashA, "forgot") },
			refuse: []string{"invalid reason"},
		},
		{
			name: "enroll TOTP",
			run:  func(u *User) ([]Event, error) { return u.EnrollTOTP(totpSecret, testSeal) },
			want: []Event{TOTPEnrolled{SealedSecret: sealedTOTP}},
		},
		{
			name:   "enroll TOTP in lower case",
			run:    func(u *User) ([]Event, error) { return u.EnrollTOTP(strings.ToLower(totpSecret), testSeal) },
			refuse: []string{"invalid totp_secret"},
			secret: strings.ToLower(totpSecret),
		},
		{
			name: "enroll TOTP with padding",
			run: func(u *User) ([]Event, error) {
				return u.EnrollTOTP("JBSWY3DPEHPK3PXPJBSWY3DPEE======", testSeal)
			},
			refuse: []string{"invalid totp_secret"},
		},
		{
			name:   "enroll TOTP of 80 bits",
			run:    func(u *User) ([]Event, error) { return u.EnrollTOTP("JBSWY3DPEHPK3PXP", testSeal) },
			refuse: []string{"invalid totp_secret"},
			secret: "JBSWY3DPEHPK3PXP",
		},
		{
			name:   "enroll no TOTP",
			run:    func(u *User) ([]Event, error) { return u.EnrollTOTP("", testSeal) },
			refuse: []string{"invalid totp_secret"},
		},
		{
			name:  "enroll TOTP twice",
			setup: enrolled,
			run: func(u *User) ([]Event, error) {
				return u.EnrollTOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", testSeal)
			},
			refuse: []string{"conflict totp_secret"},
			secret: "GEZDGNBVGY3TQOJQ",
		},
		{
			name:  "remove TOTP",
			setup: enrolled,
			run:   func(u *User) ([]Event, error) { return u.RemoveTOTP() },
			want:  []Event{TOTPRemoved{}},
		},
		{
			name: "remove TOTP not enrolled",
			run:  func(u *User) ([]Event, error) { return u.RemoveTOTP() },
		},
	})
}

func TestUserStatus(t *testing.T) {
	deactivated := []Event{UserDeactivated{Reason: "left"}}
	locked := []Event{UserLocked{Until: t0.Add(time.Hour), Reason: LockByAdmin}}
	runCommandCases(t, []commandCase{
		{
			name: "deactivate",
			run:  func(u *User) ([]Event, error) { return u.Deactivate("  left the district \n") },
			want: []Event{UserDeactivated{Reason: "left the district"}},
		},
		{
			name:   "deactivate without reason",
			run:    func(u *User) ([]Event, error) { return u.Deactivate(" ") },
			refuse: []string{"invalid reason"},
		},
		{
			name:   "deactivate with a reason of 501 characters",
			run:    func(u *User) ([]Event, error) { return u.Deactivate(strings.Repeat("x", 501)) },
			refuse: []string{"invalid reason"},
		},
		{
			name:  "deactivate twice",
			setup: deactivated,
			run:   func(u *User) ([]Event, error) { return u.Deactivate("again") },
		},
		{
			name:  "reactivate",
			setup: deactivated,
			run:   func(u *User) ([]Event, error) { return u.Reactivate() },
			want:  []Event{UserReactivated{}},
		},
		{
			name: "reactivate an active account",
			run:  func(u *User) ([]Event, error) { return u.Reactivate() },
		},
		{
			name: "lock",
			run: func(u *User) ([]Event, error) {
				return u.Lock(t0, t0.Add(time.Hour).In(time.FixedZone("EST", -5*3600)))
			},
			want: []Event{UserLocked{Until: t0.Add(time.Hour), Reason: LockByAdmin}},
		},
		{
			name:   "lock until now",
			run:    func(u *User) ([]Event, error) { return u.Lock(t0, t0) },
			refuse: []string{"invalid until"},
		},
		{
			name:  "unlock",
			setup: locked,
			run:   func(u *User) ([]Event, error) { return u.Unlock(adminID) },
			want:  []Event{UserUnlocked{By: adminID}},
		},
		{
			name:  "unlock to forget failures",
			setup: []Event{LoginFailed{ReasonCode: LoginBadPassword, AttemptAt: t0}},
			run:   func(u *User) ([]Event, error) { return u.Unlock(adminID) },
			want:  []Event{UserUnlocked{By: adminID}},
		},
		{
			name: "unlock an account never locked",
			run:  func(u *User) ([]Event, error) { return u.Unlock(adminID) },
		},
		{
			name:   "unlock by no one",
			setup:  locked,
			run:    func(u *User) ([]Event, error) { return u.Unlock("") },
			refuse: []string{"invalid by"},
		},
	})
}

// attempt is one step of a lockout scenario: a login attempt, or an
// administrator's unlock.
type attempt struct {
	after    time.Duration // since t0
	password bool
	totp     bool
	unlock   bool
}

func fails(afterMinutes ...int) []attempt {
	var steps []attempt
	for _, m := range afterMinutes {
		steps = append(steps, attempt{after: time.Duration(m) * time.Minute})
	}
	return steps
}

func ok(afterMinutes int) attempt {
	return attempt{after: time.Duration(afterMinutes) * time.Minute, password: true, totp: true}
}

func unlock(afterMinutes int) attempt {
	return attempt{after: time.Duration(afterMinutes) * time.Minute, unlock: true}
}

func TestLockout(t *testing.T) {
	noPassword := func(u *User) { u.PasswordHash = "" }
	withTOTP := func(u *User) { u.TOTPSecret = totpSecret }
	inactive := func(u *User) { u.Active = false }
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	cases := []struct {
		name        string
		account     func(*User)
		policy      LockoutPolicy
		steps       []attempt
		wantOutcome LoginOutcome // of the last attempt
		wantUntil   time.Time    // LockedUntil after the last step
	}{
		{
			name:        "four failures then success",
			steps:       append(fails(0, 1, 2, 3), ok(4)),
			wantOutcome: LoginOK,
		},
		{
			name:        "five failures in fifteen minutes",
			steps:       fails(0, 3, 6, 9, 12),
			wantOutcome: LoginBadPassword,
			wantUntil:   minute(27),
		},
		{
			name:        "five failures spread over more than the window",
			steps:       fails(0, 4, 8, 12, 16, 20),
			wantOutcome: LoginBadPassword,
		},
		{
			name:        "a failure exactly the window old does not count",
			steps:       fails(0, 1, 2, 3, 15),
			wantOutcome: LoginBadPassword,
		},
		{
			name:        "success forgets earlier failures",
			steps:       append(append(fails(0, 1, 2, 3), ok(4)), fails(5, 6, 7, 8)...),
			wantOutcome: LoginBadPassword,
		},
		{
			name:        "right password while locked",
			steps:       append(fails(0, 1, 2, 3, 4), ok(10)),
			wantOutcome: LoginLocked,
			wantUntil:   minute(19),
		},
		{
			name:        "wrong passwords while locked do not extend the lock",
			steps:       fails(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
			wantOutcome: LoginLocked,
			wantUntil:   minute(19),
		},
		{
			name:        "after the lock ends, failures count afresh",
			steps:       fails(0, 1, 2, 3, 4, 19, 20, 21, 22),
			wantOutcome: LoginBadPassword,
			wantUntil:   minute(19),
		},
		{
			name:        "after the lock ends, five new failures lock again",
			steps:       fails(0, 1, 2, 3, 4, 19, 20, 21, 22, 23),
			wantOutcome: LoginBadPassword,
			wantUntil:   minute(38),
		},
		{
			name:        "unlock, then failures count afresh",
			steps:       append(append(fails(0, 1, 2, 3), unlock(4)), fails(5, 6, 7, 8)...),
			wantOutcome: LoginBadPassword,
		},
		{
			name:        "unlock, then five failures lock",
			steps:       append(append(fails(0, 1, 2, 3), unlock(4)), fails(5, 6, 7, 8, 9)...),
			wantOutcome: LoginBadPassword,
			wantUntil:   minute(24),
		},
		{
			name:        "unlock during a lock lets the user in",
			steps:       append(fails(0, 1, 2, 3, 4), unlock(5), ok(6)),
			wantOutcome: LoginOK,
		},
		{
			name:        "deactivated account",
			account:     inactive,
			steps:       append(fails(0, 1, 2, 3, 4, 5), ok(6)),
			wantOutcome: LoginDeactivated,
		},
		{
			name:        "account without password",
			account:     noPassword,
			steps:       append(fails(0, 1, 2, 3, 4, 5), ok(6)),
			wantOutcome: LoginNoPassword,
		},
		{
			name:        "TOTP enrolled and wrong code",
			account:     withTOTP,
			steps:       []attempt{{password: true, totp: false}},
			wantOutcome: LoginBadTOTP,
		},
		{
			name:    "wrong TOTP codes count towards the lock",
			account: withTOTP,
			steps: []attempt{
				{after: 0, password: true}, {after: time.Minute, password: true},
				{after: 2 * time.Minute}, {after: 3 * time.Minute, password: true},
				{after: 4 * time.Minute, password: true},
			},
			wantOutcome: LoginBadTOTP,
			wantUntil:   minute(19),
		},
		{
			name:        "TOTP not enrolled: the code is not asked",
			steps:       []attempt{{password: true, totp: false}},
			wantOutcome: LoginOK,
		},
		{
			name:        "stricter policy",
			policy:      LockoutPolicy{MaxFailures: 3, Window: time.Hour, LockFor: time.Hour},
			steps:       fails(0, 20, 40),
			wantOutcome: LoginBadPassword,
			wantUntil:   minute(100),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := newUser(t, nil)
			u.PasswordHash = hashA
			if c.account != nil {
				c.account(u)
			}

			var outcome LoginOutcome
			for _, step := range c.steps {
				outcome = runAttempt(t, u, step, c.policy)
			}
			if outcome != c.wantOutcome {
				t.Errorf("outcome = %q, want %q", outcome, c.wantOutcome)
			}
			if !u.LockedUntil.Equal(c.wantUntil) {
				t.Errorf("LockedUntil = %v, want %v", u.LockedUntil, c.wantUntil)
			}
		})
	}
}

// runAttempt runs step on u and applies its events; it returns the outcome
// of a login attempt, "" of an unlock.
func runAttempt(t *testing.T, u *User, step attempt, policy LockoutPolicy) LoginOutcome {
	t.Helper()
	if step.unlock {
		decide(t, u, func(u *User) ([]Event, error) { return u.Unlock(adminID) })
		return ""
	}

	at := t0.Add(step.after)
	events, outcome := u.RecordLoginAttempt(at, step.password, step.totp, policy, sessionID)
	mustApply(t, u, events)
	return outcome
}

func TestLoginEvents(t *testing.T) {
	u := newUser(t, nil)
	u.PasswordHash = hashA
	for _, step := range fails(0, 1, 2, 3) {
		runAttempt(t, u, step, LockoutPolicy{})
	}
	at := t0.Add(4 * time.Minute).In(time.FixedZone("CET", 3600))

	events, outcome := u.RecordLoginAttempt(at, false, false, LockoutPolicy{}, sessionID)
	want := []Event{
		LoginFailed{ReasonCode: LoginBadPassword, AttemptAt: t0.Add(4 * time.Minute)},
		UserLocked{Until: t0.Add(19 * time.Minute), Reason: LockTooManyFailures},
	}
	if outcome != LoginBadPassword || !reflect.DeepEqual(events, want) {
		t.Errorf("RecordLoginAttempt = %#v, %q\nwant %#v, %q", events, outcome, want, LoginBadPassword)
	}

	events, outcome = u.RecordLoginAttempt(at, true, true, LockoutPolicy{}, sessionID)
	want = []Event{LoginSucceeded{SessionID: sessionID}}
	if outcome != LoginOK || !reflect.DeepEqual(events, want) {
		t.Errorf("RecordLoginAttempt = %#v, %q\nwant %#v, %q", events, outcome, want, LoginOK)
	}
}

// TestWitnessConfirmation decides witness confirmations as logins are
// decided, with a nurse's role required, and their failures counting
// towards the same lockout as failed logins.
func TestWitnessConfirmation(t *testing.T) {
	nurse := func(u *User) { u.Roles = []Role{RoleNurse} }
	admin := func(u *User) { u.Roles = []Role{RoleSchoolAdmin} }
	cases := []struct {
		name        string
		account     func(*User)
		logins      []attempt // before the confirmation
		password    bool
		totp        bool
		wantOutcome LoginOutcome
		wantLocked  bool
	}{
		{"a nurse's right password", nurse, nil, true, true, LoginOK, false},
		{"a nurse's wrong password", nurse, nil, false, true, LoginBadPassword, false},
		{"a school administrator's right password", admin, nil, true, true, WitnessNotNurse, false},
		{"the fifth failure, after four failed logins", nurse, fails(0, 1, 2, 3), false, true,
			LoginBadPassword, true},
		{"a school administrator's fifth failure", admin, fails(0, 1, 2, 3), false, true,
			LoginBadPassword, true},
		{"a locked account's right password", nurse, fails(0, 1, 2, 3, 4), true, true, LoginLocked, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := newUser(t, nil)
			u.PasswordHash = hashA
			c.account(u)
			for _, step := range c.logins {
				runAttempt(t, u, step, LockoutPolicy{})
			}
			at := t0.Add(5 * time.Minute)
			events, outcome := u.ConfirmWitness(at, c.password, c.totp, LockoutPolicy{})
			mustApply(t, u, roundTrip(t, events))
			if outcome != c.wantOutcome {
				t.Errorf("outcome = %q, want %q", outcome, c.wantOutcome)
			}
			if got := u.Locked(at); got != c.wantLocked {
				t.Errorf("locked after the confirmation: %v, want %v", got, c.wantLocked)
			}
			want := Event(WitnessConfirmationFailed{ReasonCode: c.wantOutcome, AttemptAt: at})
			if c.wantOutcome == LoginOK {
				want = WitnessConfirmed{At: at}
			}
			if len(events) == 0 || !reflect.DeepEqual(events[0], want) {
				t.Errorf("events = %#v, want %#v first", events, want)
			}
		})
	}
}

// TestWitnessSuccessForgetsFailures: a confirmation with the right
// credentials forgets earlier failures, as a login does.
func TestWitnessSuccessForgetsFailures(t *testing.T) {
	u := newUser(t, nil)
	u.PasswordHash = hashA
	for _, step := range fails(0, 1, 2, 3) {
		runAttempt(t, u, step, LockoutPolicy{})
	}
	events, _ := u.ConfirmWitness(t0.Add(4*time.Minute), true, true, LockoutPolicy{})
	mustApply(t, u, events)
	events, outcome := u.ConfirmWitness(t0.Add(5*time.Minute), false, false, LockoutPolicy{})
	mustApply(t, u, events)
	if outcome != LoginBadPassword || len(events) != 1 || u.Locked(t0.Add(5*time.Minute)) {
		t.Errorf("a failure after a success: %#v %q, locked %v", events, outcome, u.LockedUntil)
	}
}

func TestSessionsOpenAt(t *testing.T) {
	u := newUser(t, nil)
	old, recent, unknown := "5e551011-0000-4000-8000-00000000000a", "5e551011-0000-4000-8000-00000000000b",
		"5e551011-0000-4000-8000-00000000000c"
	mustApply(t, u, []Event{
		LoginSucceeded{SessionID: unknown},
		LoginSucceeded{SessionID: old, ExpiresAt: t0.Add(time.Hour)},
		LoginSucceeded{SessionID: recent, ExpiresAt: t0.Add(12 * time.Hour)},
	})
	cases := []struct {
		name string
		now  time.Time
		want []string
	}{
		{"before either expires", t0, []string{unknown, old, recent}},
		{"when the first expires", t0.Add(time.Hour), []string{unknown, recent}},
		{"after both", t0.Add(13 * time.Hour), []string{unknown}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := u.SessionsOpenAt(c.now); !slices.Equal(got, c.want) {
				t.Errorf("SessionsOpenAt = %q, want %q", got, c.want)
			}
		})
	}
}

func TestLockedAt(t *testing.T) {
	u := &User{LockedUntil: t0}
	cases := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"before the end", t0.Add(-time.Nanosecond), true},
		{"at the end", t0, false},
		{"after the end", t0.Add(time.Second), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := u.Locked(c.now); got != c.want {
				t.Errorf("Locked(%v) = %v, want %v", c.now, got, c.want)
			}
		})
	}
}

func TestFailuresRemembered(t *testing.T) {
	u := newUser(t, nil)
	u.PasswordHash = hashA
	policy := LockoutPolicy{MaxFailures: 2, Window: time.Minute}
	for i := range 2 * maxTrackedFailures {
		runAttempt(t, u, attempt{after: time.Duration(i) * time.Hour}, policy)
	}
	if n := len(u.failures); n != maxTrackedFailures {
		t.Errorf("remembered %d failures, want %d", n, maxTrackedFailures)
	}
}

func TestLockoutPolicyValidate(t *testing.T) {
	cases := []struct {
		name   string
		policy LockoutPolicy
		want   []string
	}{
		{"defaults", LockoutPolicy{}, nil},
		{"set", LockoutPolicy{MaxFailures: 50, Window: time.Hour, LockFor: time.Hour}, nil},
		{"too many failures", LockoutPolicy{MaxFailures: 51}, []string{"invalid max_failures"}},
		{
			"negative",
			LockoutPolicy{MaxFailures: -1, Window: -1, LockFor: -1},
			[]string{"invalid max_failures", "invalid window", "invalid lock_for"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkRefusals(t, c.policy.Validate(), c.want, "")
		})
	}
}

// sealedTOTP is what testSeal makes of totpSecret.
var sealedTOTP = "sealed:" + totpSecret

// testSeal stands for auth.SecretBox in the domain's tests: the domain
// only asks that the secret be turned into something else.
func testSeal(secret string) (string, error) { return "sealed:" + secret, nil }

func TestTOTPEnrolledVersion1(t *testing.T) {
	data := []byte(`{"secret":"` + totpSecret + `"}`)
	decoded, err := DecodeEvent(TOTPEnrolled{}.EventType(), 1, data)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := decoded.(TOTPEnrolled)
	if !ok || e.PlainSecret != totpSecret || e.SealedSecret != "" {
		t.Fatalf("decoded %#v, want the plain secret of version 1", decoded)
	}
	var u User
	u.ID = "u"
	if !u.apply(e) || !u.TOTPPlain || u.TOTPSecret != totpSecret || !u.TOTPEnrolled() {
		t.Errorf("user after a version-1 enrolment: plain %v, enrolled %v", u.TOTPPlain, u.TOTPEnrolled())
	}
	if !u.apply(TOTPEnrolled{SealedSecret: sealedTOTP}) || u.TOTPPlain || u.TOTPSecret != sealedTOTP {
		t.Errorf("user after a sealed enrolment: plain %v", u.TOTPPlain)
	}
}

func TestEnrollTOTPNeedsSealing(t *testing.T) {
	var u User
	for name, seal := range map[string]func(string) (string, error){
		"unchanged": func(s string) (string, error) { return s, nil },
		"empty":     func(string) (string, error) { return "", nil },
		"failing":   func(string) (string, error) { return "", errors.New("no key") },
	} {
		if events, err := u.EnrollTOTP(totpSecret, seal); err == nil {
			t.Errorf("%s seal: events %v, want an error", name, events)
		}
	}
}
