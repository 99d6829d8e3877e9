package domain

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UserStream returns the name of the stream of user id's account.
func UserStream(id string) string { return "user-" + id }

// UserCreated opens an account. Its email is normalised (NormalizeEmail).
type UserCreated struct {
	UserID      string   `json:"user_id"`
	Email       string   `json:"email"`
	DisplayName string   `json:"display_name"`
	Roles       []Role   `json:"roles"`
	Schools     []string `json:"schools"`
	District    string   `json:"district"`
	// CreatedBy is the user who created the account; empty for an account
	// the system made itself, such as the first administrator.
	CreatedBy string `json:"created_by"`
}

// RolesAssigned gives the account roles it did not hold.
type RolesAssigned struct {
	Roles []Role `json:"roles"`
}

// RolesRemoved takes roles from the account.
type RolesRemoved struct {
	Roles []Role `json:"roles"`
}

// SchoolsAssigned adds schools to the account's scope.
type SchoolsAssigned struct {
	Schools []string `json:"schools"`
}

// SchoolsRemoved takes schools out of the account's scope.
type SchoolsRemoved struct {
	Schools []string `json:"schools"`
}

// PasswordReason says why a password was set.
type PasswordReason string

// The reasons for a PasswordSet.
const (
	PasswordInitial PasswordReason = "initial" // the account's first
	PasswordChanged PasswordReason = "changed" // by its owner
	PasswordReset   PasswordReason = "reset"   // by an administrator
)

// PasswordSet records a new password as its argon2id hash in PHC string
// form ("$argon2id$v=19$m=…,t=…,p=…$salt$hash"). The aggregate never sees a
// password, only the hash the caller computed.
//
// TODO: the hash stays in the log, and so in what is exported from it,
// until its payload is destroyed; exports for auditors should leave the
// data of PasswordSet and TOTPEnrolled out.
type PasswordSet struct {
	PasswordHash string         `json:"password_hash"`
	Reason       PasswordReason `json:"reason"`
}

// UserDeactivated closes the account: it can no longer log in.
type UserDeactivated struct {
	Reason string `json:"reason"`
}

// UserReactivated opens a deactivated account again.
type UserReactivated struct{}

// LoginSucceeded records a login that started session SessionID.
type LoginSucceeded struct {
	SessionID string `json:"session_id"`
	// TOTPStep is the 30-second step of the second-factor code accepted,
	// when one was: a code is never accepted twice (RFC 6238, 5.2).
	TOTPStep int64 `json:"totp_step,omitempty"`
	// ExpiresAt is the end of the session's absolute timeout, so that the
	// account knows which of its sessions may still be open; zero in
	// events recorded before it was kept.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// LoginOutcome is the result of a login attempt: LoginOK, or the reason it
// was refused.
type LoginOutcome string

// The outcomes of a login attempt. Each but LoginOK is also the ReasonCode
// of a LoginFailed.
const (
	LoginOK          LoginOutcome = "ok"
	LoginBadPassword LoginOutcome = "bad_password"
	LoginBadTOTP     LoginOutcome = "bad_totp"
	LoginLocked      LoginOutcome = "locked"
	LoginDeactivated LoginOutcome = "deactivated"
	LoginNoPassword  LoginOutcome = "no_password"
)

// LoginFailed records a refused login. Only a bad password or a bad TOTP
// code counts towards a lockout.
type LoginFailed struct {
	ReasonCode LoginOutcome `json:"reason_code"`
	AttemptAt  time.Time    `json:"attempt_at"`
}

// WitnessNotNurse is the outcome of a witness confirmation by an account
// that is not a nurse's; it is the ReasonCode of a
// WitnessConfirmationFailed.
const WitnessNotNurse LoginOutcome = "not_nurse"

// WitnessConfirmed records that the account's holder confirmed, with
// their own credentials, a dose given or a stock counted by another
// nurse. It starts no session.
type WitnessConfirmed struct {
	At time.Time `json:"at"`
	// TOTPStep is the step of the second-factor code accepted, when one
	// was: like a login's, that code is never accepted again.
	TOTPStep int64 `json:"totp_step,omitempty"`
}

// WitnessConfirmationFailed records a refused witness confirmation, with
// the reason (a login's reason codes, or WitnessNotNurse), never the
// password. Like a failed login, a bad password or TOTP code counts
// towards the account's lockout.
type WitnessConfirmationFailed struct {
	ReasonCode LoginOutcome `json:"reason_code"`
	AttemptAt  time.Time    `json:"attempt_at"`
}

// LockReason says why an account was locked.
type LockReason string

// The reasons for a UserLocked.
const (
	LockTooManyFailures LockReason = "too_many_failures"
	LockByAdmin         LockReason = "admin"
)

// UserLocked refuses every login until Until. Failures before it no
// longer count.
type UserLocked struct {
	Until  time.Time  `json:"until"`
	Reason LockReason `json:"reason"`
}

// UserUnlocked lifts a lock before its time and forgets earlier failures.
type UserUnlocked struct {
	By string `json:"by"`
}

// TOTPEnrolled adds a second factor: a TOTP secret (RFC 6238).
//
// SealedSecret is the secret encrypted under a key kept outside the
// database (auth.SecretBox, bound to the account), so that the log, its
// backups and its exports never hold the credential itself. PlainSecret
// is set only in events of version 1, recorded before secrets were
// sealed; no new event carries it.
type TOTPEnrolled struct {
	SealedSecret string `json:"sealed_secret,omitempty"`
	PlainSecret  string `json:"plain_secret,omitempty"`
}

// upcastTOTPEnrolledV1 lifts a version-1 TOTPEnrolled, whose secret was
// stored in plain text as "secret", to version 2.
func upcastTOTPEnrolledV1(data []byte) ([]byte, error) {
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	v["plain_secret"] = v["secret"]
	delete(v, "secret")
	return json.Marshal(v)
}

// TOTPRemoved removes the second factor.
type TOTPRemoved struct{}

// EventType returns "UserCreated".
func (UserCreated) EventType() string { return "UserCreated" }

// EventType returns "RolesAssigned".
func (RolesAssigned) EventType() string { return "RolesAssigned" }

// EventType returns "RolesRemoved".
func (RolesRemoved) EventType() string { return "RolesRemoved" }

// EventType returns "SchoolsAssigned".
func (SchoolsAssigned) EventType() string { return "SchoolsAssigned" }

// EventType returns "SchoolsRemoved".
func (SchoolsRemoved) EventType() string { return "SchoolsRemoved" }

// EventType returns "PasswordSet".
func (PasswordSet) EventType() string { return "PasswordSet" }

// EventType returns "UserDeactivated".
func (UserDeactivated) EventType() string { return "UserDeactivated" }

// EventType returns "UserReactivated".
func (UserReactivated) EventType() string { return "UserReactivated" }

// EventType returns "LoginSucceeded".
func (LoginSucceeded) EventType() string { return "LoginSucceeded" }

// EventType returns "LoginFailed".
func (LoginFailed) EventType() string { return "LoginFailed" }

// EventType returns "WitnessConfirmed".
func (WitnessConfirmed) EventType() string { return "WitnessConfirmed" }

// EventType returns "WitnessConfirmationFailed".
func (WitnessConfirmationFailed) EventType() string { return "WitnessConfirmationFailed" }

// EventType returns "UserLocked".
func (UserLocked) EventType() string { return "UserLocked" }

// EventType returns "UserUnlocked".
func (UserUnlocked) EventType() string { return "UserUnlocked" }

// EventType returns "TOTPEnrolled".
func (TOTPEnrolled) EventType() string { return "TOTPEnrolled" }

// EventType returns "TOTPRemoved".
func (TOTPRemoved) EventType() string { return "TOTPRemoved" }

// User is an account, rebuilt from its stream by FoldUser. The zero User is
// an account not yet created.
type User struct {
	ID           string
	Email        string
	DisplayName  string
	Roles        []Role
	Schools      []string
	District     string
	PasswordHash string // empty until a password is set
	Active       bool
	// LockedUntil is the end of the latest lock; zero when never locked or
	// unlocked since. Locked says whether it is still in force.
	LockedUntil time.Time
	// TOTPSecret is the second factor's secret as the log holds it:
	// sealed (see TOTPEnrolled) unless TOTPPlain; empty when no second
	// factor is enrolled.
	TOTPSecret string
	TOTPPlain  bool
	// LastTOTPStep is the step of the last second-factor code accepted; a
	// login needs a code of a later step.
	LastTOTPStep int64
	// Revision is the stream revision of the last event applied: the
	// expected revision of the next append.
	Revision uint64

	// failures are the times of the failed logins and witness
	// confirmations that count towards a lockout, since the last success,
	// lock or unlock; at most maxTrackedFailures of them, the newest.
	failures []time.Time
	// sessions are the sessions the account's logins started, oldest
	// first.
	sessions []startedSession
}

// startedSession is a session a login started, and the end of its
// absolute timeout (zero when the login did not record it).
type startedSession struct {
	id        string
	expiresAt time.Time
}

// maxTrackedFailures bounds the failures a User remembers, and so the
// MaxFailures of a LockoutPolicy.
const maxTrackedFailures = 50

// FoldUser rebuilds an account from its events, oldest first. It returns
// ErrNoEvents for an empty list and ErrUnexpectedEvent for a list that
// does not start with UserCreated or holds another aggregate's events.
func FoldUser(events []Event) (*User, error) {
	return fold[User]("user", events)
}

// Apply changes u by one event of its stream. It returns ErrUnexpectedEvent
// for an event that is not a user event or is out of place.
func (u *User) Apply(e Event) error {
	created, isCreation := e.(UserCreated)
	switch {
	case u.ID == "" && !isCreation:
		return unexpected("user", e, "before UserCreated")
	case u.ID != "" && isCreation:
		return unexpected("user", e, "after UserCreated")
	case isCreation:
		u.create(created)
		return nil
	}

	if !u.apply(e) {
		return unexpected("user", e, "is not a user event")
	}
	u.Revision++
	return nil
}

func (u *User) create(e UserCreated) {
	*u = User{
		ID:          e.UserID,
		Email:       e.Email,
		DisplayName: e.DisplayName,
		Roles:       slices.Clone(e.Roles),
		Schools:     slices.Clone(e.Schools),
		District:    e.District,
		Active:      true,
	}
}

// apply changes u by e, or reports false when e is not a user event.
func (u *User) apply(e Event) bool {
	switch e := e.(type) {
	case RolesAssigned:
		u.Roles = union(u.Roles, e.Roles)
	case RolesRemoved:
		u.Roles = without(u.Roles, e.Roles)
	case SchoolsAssigned:
		u.Schools = union(u.Schools, e.Schools)
	case SchoolsRemoved:
		u.Schools = without(u.Schools, e.Schools)
	case PasswordSet:
		u.PasswordHash = e.PasswordHash
	case UserDeactivated:
		u.Active = false
	case UserReactivated:
		u.Active = true
	case LoginSucceeded:
		u.failures = nil
		u.LastTOTPStep = max(u.LastTOTPStep, e.TOTPStep)
		u.sessions = append(u.sessions, startedSession{id: e.SessionID, expiresAt: e.ExpiresAt})
	case LoginFailed:
		u.recordFailure(e.ReasonCode, e.AttemptAt)
	case WitnessConfirmed:
		u.failures = nil
		u.LastTOTPStep = max(u.LastTOTPStep, e.TOTPStep)
	case WitnessConfirmationFailed:
		u.recordFailure(e.ReasonCode, e.AttemptAt)
	case UserLocked:
		u.LockedUntil = e.Until
		u.failures = nil
	case UserUnlocked:
		u.LockedUntil = time.Time{}
		u.failures = nil
	case TOTPEnrolled:
		u.TOTPSecret, u.TOTPPlain = e.SealedSecret, false
		if e.SealedSecret == "" {
			u.TOTPSecret, u.TOTPPlain = e.PlainSecret, true
		}
	case TOTPRemoved:
		u.TOTPSecret, u.TOTPPlain = "", false
	default:
		return false
	}
	return true
}

func (u *User) recordFailure(reason LoginOutcome, at time.Time) {
	if !countsTowardsLockout(reason) {
		return
	}

	u.failures = append(u.failures, at)
	if n := len(u.failures); n > maxTrackedFailures {
		u.failures = u.failures[n-maxTrackedFailures:]
	}
}

// countsTowardsLockout reports whether a refusal for reason counts
// towards a lockout: a bad password or TOTP code does, the state of the
// account does not.
func countsTowardsLockout(reason LoginOutcome) bool {
	return reason == LoginBadPassword || reason == LoginBadTOTP
}

// SessionsOpenAt returns the sessions u's logins started that may still
// be open at now, oldest first: those whose absolute timeout has not
// passed, and those whose login did not record it. Whether one has ended
// (logout, a reused refresh token, idleness) its own stream says.
func (u *User) SessionsOpenAt(now time.Time) []string {
	var ids []string
	for _, s := range u.sessions {
		if s.expiresAt.IsZero() || s.expiresAt.After(now) {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// HasRole reports whether u holds role r.
func (u *User) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// TOTPEnrolled reports whether u has a second factor.
func (u *User) TOTPEnrolled() bool { return u.TOTPSecret != "" }

// Locked reports whether a lock is in force at now.
func (u *User) Locked(now time.Time) bool { return u.LockedUntil.After(now) }

// CreateUser is the command that opens an account.
type CreateUser struct {
	UserID      string
	Email       string // normalised by NewUser
	DisplayName string // trimmed by NewUser
	Roles       []Role
	Schools     []string
	District    string
	CreatedBy   string // empty when the system itself creates the account
}

// NewUser returns the UserCreated that opens the account cmd describes, or
// the refusal of each invalid field (Errors, code CodeInvalid):
//   - user_id: an ID;
//   - email: one @, a non-empty local part, a domain with a dot, no space,
//     at most 254 bytes;
//   - display_name: 1 to 200 characters, no control character;
//   - roles: at least one, each a known role, none repeated;
//   - schools: IDs, none repeated; at least one for a nurse or a school
//     administrator;
//   - district: an ID; required for a district administrator;
//   - created_by: an ID when set.
func NewUser(cmd CreateUser) ([]Event, error) {
	e := UserCreated{
		UserID:    cmd.UserID,
		Email:     NormalizeEmail(cmd.Email),
		Roles:     orNil(cmd.Roles),
		Schools:   orNil(cmd.Schools),
		District:  cmd.District,
		CreatedBy: cmd.CreatedBy,
	}

	var errs Errors
	errs.add(checkID("user_id", e.UserID, true))
	errs.add(checkEmail(e.Email))
	name, nameErr := checkText("display_name", cmd.DisplayName, nameRule)
	errs.add(nameErr)
	errs = append(errs, checkRoles(e.Roles)...)
	if len(e.Schools) > 0 {
		errs = append(errs, checkIDs("schools", e.Schools)...)
	}
	errs.add(checkID("district", e.District, false))
	errs = append(errs, checkScope(CodeInvalid, e.Roles, e.Schools, e.District)...)
	errs.add(checkID("created_by", e.CreatedBy, false))
	if errs != nil {
		return nil, errs
	}

	e.DisplayName = name
	return []Event{e}, nil
}

// NormalizeEmail returns email as accounts hold it: without surrounding
// white space, in lower case. Look accounts up by the normalised form.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// AssignRoles gives u roles: a RolesAssigned with those it does not hold
// yet, or no event when it holds them all. It refuses an invalid list
// (CodeInvalid), and a role whose scope u lacks (CodeRule): a nurse or
// school administrator needs a school, a district administrator a
// district.
func (u *User) AssignRoles(roles []Role) ([]Event, error) {
	if errs := checkRoles(roles); errs != nil {
		return nil, errs
	}

	added := without(roles, u.Roles)
	if len(added) == 0 {
		return nil, nil
	}

	after := union(u.Roles, added)
	if errs := checkScope(CodeRule, after, u.Schools, u.District); errs != nil {
		return nil, errs
	}
	return []Event{RolesAssigned{Roles: added}}, nil
}

// RemoveRoles takes roles from u: a RolesRemoved with those it holds, or no
// event when it holds none of them. An account keeps at least one role:
// removing the last is refused (CodeRule).
func (u *User) RemoveRoles(roles []Role) ([]Event, error) {
	if errs := checkRoles(roles); errs != nil {
		return nil, errs
	}

	removed := common(roles, u.Roles)
	if len(removed) == 0 {
		return nil, nil
	}
	if len(without(u.Roles, removed)) == 0 {
		return nil, ruleBroken("roles", "an account keeps at least one role")
	}
	return []Event{RolesRemoved{Roles: removed}}, nil
}

// AssignSchools adds schools to u's scope: a SchoolsAssigned with those
// not in it yet, or no event. It refuses an empty list, and elements that
// are not IDs or are repeated (CodeInvalid).
func (u *User) AssignSchools(schools []string) ([]Event, error) {
	if errs := checkIDs("schools", schools); errs != nil {
		return nil, errs
	}

	added := without(schools, u.Schools)
	if len(added) == 0 {
		return nil, nil
	}
	return []Event{SchoolsAssigned{Schools: added}}, nil
}

// RemoveSchools takes schools out of u's scope: a SchoolsRemoved with those
// in it, or no event. A nurse or school administrator keeps at least one
// school: removing the last is refused (CodeRule).
func (u *User) RemoveSchools(schools []string) ([]Event, error) {
	if errs := checkIDs("schools", schools); errs != nil {
		return nil, errs
	}

	removed := common(schools, u.Schools)
	if len(removed) == 0 {
		return nil, nil
	}

	after := without(u.Schools, removed)
	if errs := checkScope(CodeRule, u.Roles, after, u.District); errs != nil {
		return nil, errs
	}
	return []Event{SchoolsRemoved{Schools: removed}}, nil
}

// SetPassword records a new password hash, an argon2id PHC string the
// caller computed. It refuses another kind of hash or an unknown reason
// (CodeInvalid).
func (u *User) SetPassword(hash string, reason PasswordReason) ([]Event, error) {
	var errs Errors
	if !validArgon2idPHC(hash) {
		errs = append(errs, invalid("password_hash", "must be an argon2id PHC string"))
	}
	switch reason {
	case PasswordInitial, PasswordChanged, PasswordReset:
	default:
		errs = append(errs, invalid("reason", "must be initial, changed or reset"))
	}
	if errs != nil {
		return nil, errs
	}
	return []Event{PasswordSet{PasswordHash: hash, Reason: reason}}, nil
}

// deactivationRule bounds the reason for a deactivation.
var deactivationRule = textRule{min: 1, max: 500, multiline: true}

// Deactivate closes u: a UserDeactivated, or no event when u is already
// inactive. The reason, 1 to 500 characters, is required (CodeInvalid).
// The caller ends u's sessions (EndUserDeactivated).
func (u *User) Deactivate(reason string) ([]Event, error) {
	reason, err := checkText("reason", reason, deactivationRule)
	if err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, nil
	}
	return []Event{UserDeactivated{Reason: reason}}, nil
}

// Reactivate opens u again: a UserReactivated, or no event when u is
// active.
func (u *User) Reactivate() ([]Event, error) {
	if u.Active {
		return nil, nil
	}
	return []Event{UserReactivated{}}, nil
}

// Lock refuses u's logins until until, by an administrator's decision: a
// UserLocked. It refuses an until not after now (CodeInvalid).
func (u *User) Lock(now, until time.Time) ([]Event, error) {
	if !until.After(now) {
		return nil, invalid("until", "must be later than now")
	}
	return []Event{UserLocked{Until: until.UTC(), Reason: LockByAdmin}}, nil
}

// Unlock lifts u's lock and forgets its failed logins: a UserUnlocked, or
// no event when u was never locked and has no failure to forget. by, the
// administrator, must be an ID (CodeInvalid).
func (u *User) Unlock(by string) ([]Event, error) {
	if err := checkID("by", by, true); err != nil {
		return nil, err
	}
	if u.LockedUntil.IsZero() && len(u.failures) == 0 {
		return nil, nil
	}
	return []Event{UserUnlocked{By: by}}, nil
}

// EnrollTOTP adds a second factor with secret, base32 (RFC 4648, upper
// case, no padding) of at least 128 bits; anything else is refused
// (CodeInvalid). An account with a second factor must remove it first
// (CodeConflict), so that a stolen session cannot replace it silently.
// The event carries what seal makes of the secret, never the secret.
func (u *User) EnrollTOTP(secret string, seal func(secret string) (string, error)) ([]Event, error) {
	if err := checkTOTPSecret(secret); err != nil {
		return nil, err
	}
	if u.TOTPEnrolled() {
		return nil, &Error{
			Code:    CodeConflict,
			Field:   "totp_secret",
			Message: "a second factor is already enrolled; remove it first",
		}
	}
	sealed, err := seal(secret)
	if err != nil {
		return nil, err
	}
	if sealed == "" || sealed == secret {
		return nil, errors.New("enroll totp: the secret was not sealed")
	}
	return []Event{TOTPEnrolled{SealedSecret: sealed}}, nil
}

// RemoveTOTP removes the second factor: a TOTPRemoved, or no event when
// none is enrolled.
func (u *User) RemoveTOTP() ([]Event, error) {
	if !u.TOTPEnrolled() {
		return nil, nil
	}
	return []Event{TOTPRemoved{}}, nil
}

// LockoutPolicy says how many failed logins lock an account, and for how
// long. A zero field takes its default.
type LockoutPolicy struct {
	// MaxFailures is the number of failures within Window that locks the
	// account; 5 by default, at most 50.
	MaxFailures int
	// Window is how far back failures count; 15 minutes by default.
	Window time.Duration
	// LockFor is how long the lock lasts; 15 minutes by default.
	LockFor time.Duration
}

// Validate refuses negative fields and a MaxFailures above 50, naming each.
func (p LockoutPolicy) Validate() error {
	var errs Errors
	if p.MaxFailures < 0 || p.MaxFailures > maxTrackedFailures {
		errs = append(errs, invalid("max_failures", "must be 0 (the default) to 50"))
	}
	if p.Window < 0 {
		errs = append(errs, invalid("window", "must not be negative"))
	}
	if p.LockFor < 0 {
		errs = append(errs, invalid("lock_for", "must not be negative"))
	}
	return errs.err()
}

// withDefaults returns p with its defaults filled in, and MaxFailures
// brought within what a User remembers.
func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = 5
	}
	p.MaxFailures = min(p.MaxFailures, maxTrackedFailures)
	if p.Window <= 0 {
		p.Window = 15 * time.Minute
	}
	if p.LockFor <= 0 {
		p.LockFor = 15 * time.Minute
	}
	return p
}

// RecordLoginAttempt decides a login attempt at now, given whether the
// password and the TOTP code (when u has a second factor) were right, and
// returns the events to append and the outcome. In order:
//   - u deactivated: LoginFailed, LoginDeactivated;
//   - u locked: LoginFailed, LoginLocked; the lock is not extended;
//   - u without password: LoginFailed, LoginNoPassword;
//   - wrong password: LoginFailed, LoginBadPassword;
//   - wrong TOTP code: LoginFailed, LoginBadTOTP;
//   - otherwise LoginSucceeded for sessionID, LoginOK.
//
// A wrong password or TOTP code that makes policy.MaxFailures failures
// within policy.Window (counting neither failures before the last
// success, lock or unlock, nor those Window or more before now) adds a
// UserLocked until now + policy.LockFor.
func (u *User) RecordLoginAttempt(
	now time.Time,
	passwordOK bool,
	totpOK bool,
	policy LockoutPolicy,
	sessionID string,
) ([]Event, LoginOutcome) {
	now = now.UTC()
	outcome := u.checkCredentials(now, passwordOK, totpOK)
	if outcome != LoginOK {
		failed := LoginFailed{ReasonCode: outcome, AttemptAt: now}
		return u.refusal(failed, outcome, now, policy), outcome
	}
	return []Event{LoginSucceeded{SessionID: sessionID}}, LoginOK
}

// ConfirmWitness decides, at now, a witness confirmation made with u's
// credentials, as RecordLoginAttempt decides a login and in the same
// order, then refuses an account that is not a nurse's (WitnessNotNurse).
// It returns WitnessConfirmed and LoginOK, or WitnessConfirmationFailed
// with the reason. A wrong password or TOTP code counts towards the same
// lockout as a failed login, and may add a UserLocked; WitnessNotNurse
// does not count. The caller says nothing of the reason to the person
// confirming.
func (u *User) ConfirmWitness(
	now time.Time,
	passwordOK bool,
	totpOK bool,
	policy LockoutPolicy,
) ([]Event, LoginOutcome) {
	now = now.UTC()
	outcome := u.checkCredentials(now, passwordOK, totpOK)
	if outcome == LoginOK && !u.HasRole(RoleNurse) {
		outcome = WitnessNotNurse
	}
	if outcome != LoginOK {
		failed := WitnessConfirmationFailed{ReasonCode: outcome, AttemptAt: now}
		return u.refusal(failed, outcome, now, policy), outcome
	}
	return []Event{WitnessConfirmed{At: now}}, LoginOK
}

// checkCredentials returns why u cannot be let in at now with these
// credentials, in RecordLoginAttempt's order, or LoginOK.
func (u *User) checkCredentials(now time.Time, passwordOK, totpOK bool) LoginOutcome {
	switch {
	case !u.Active:
		return LoginDeactivated
	case u.Locked(now):
		return LoginLocked
	case u.PasswordHash == "":
		return LoginNoPassword
	case !passwordOK:
		return LoginBadPassword
	case u.TOTPEnrolled() && !totpOK:
		return LoginBadTOTP
	}
	return LoginOK
}

// refusal returns the event of a refused attempt, followed by the
// UserLocked it brings when it counts towards a lockout and is one
// failure too many.
func (u *User) refusal(
	failed Event,
	reason LoginOutcome,
	now time.Time,
	policy LockoutPolicy,
) []Event {
	events := []Event{failed}
	if !countsTowardsLockout(reason) {
		return events
	}
	p := policy.withDefaults()
	if u.failuresSince(now.Add(-p.Window))+1 >= p.MaxFailures {
		lock := UserLocked{Until: now.Add(p.LockFor), Reason: LockTooManyFailures}
		events = append(events, lock)
	}
	return events
}

// failuresSince counts the failures u remembers after t.
func (u *User) failuresSince(t time.Time) int {
	n := 0
	for _, f := range u.failures {
		if f.After(t) {
			n++
		}
	}
	return n
}

// checkEmail refuses an address that is not of the form local@domain.tld.
// The address must be normalised already.
func checkEmail(email string) *Error {
	const field = "email"
	switch {
	case email == "":
		return invalid(field, "is required")
	case len(email) > 254:
		return invalid(field, "must be at most 254 bytes")
	case !utf8.ValidString(email):
		return invalid(field, "must be valid UTF-8")
	case strings.IndexFunc(email, isSpaceOrControl) >= 0:
		return invalid(field, "must not contain spaces or control characters")
	}

	local, host, _ := strings.Cut(email, "@")
	if strings.Count(email, "@") != 1 || local == "" || !validMailDomain(host) {
		return invalid(field, "must be one local part, one @ and a domain with a dot")
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// validMailDomain reports whether host has at least two labels, none
// empty.
func validMailDomain(host string) bool {
	labels := strings.Split(host, ".")
	return len(labels) >= 2 && !slices.Contains(labels, "")
}

// checkRoles refuses an empty list, and names each element that is not a
// role or repeats an earlier one.
func checkRoles(roles []Role) Errors {
	if len(roles) == 0 {
		return Errors{invalid("roles", "must name at least one")}
	}

	var errs Errors
	for i, r := range roles {
		elem := "roles[" + strconv.Itoa(i) + "]"
		switch {
		case !r.Valid():
			errs = append(errs, invalid(elem, "is not a known role"))
		case slices.Contains(roles[:i], r):
			errs = append(errs, invalid(elem, "repeats an earlier element"))
		}
	}
	return errs
}

// checkScope refuses, with code, roles whose scope is missing: a school
// for a nurse or school administrator, a district for a district
// administrator.
func checkScope(code string, roles []Role, schools []string, district string) Errors {
	var errs Errors
	atSchool := slices.Contains(roles, RoleNurse) || slices.Contains(roles, RoleSchoolAdmin)
	if atSchool && len(schools) == 0 {
		errs = append(errs, &Error{
			Code:    code,
			Field:   "schools",
			Message: "a nurse or school administrator needs at least one school",
		})
	}
	if slices.Contains(roles, RoleDistrictAdmin) && district == "" {
		errs = append(errs, &Error{
			Code:    code,
			Field:   "district",
			Message: "a district administrator needs a district",
		})
	}
	return errs
}

// validArgon2idPHC reports whether hash has the shape of an argon2id PHC
// string: $argon2id$v=19$m=…,t=…,p=…$salt$hash, salt and hash in unpadded
// base64. It does not check the parameters' values.
func validArgon2idPHC(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false
	}
	if parts[2] != "v=19" || !strings.HasPrefix(parts[3], "m=") {
		return false
	}
	return validRawBase64(parts[4]) && validRawBase64(parts[5])
}

func validRawBase64(s string) bool {
	_, err := base64.RawStdEncoding.DecodeString(s)
	return s != "" && err == nil
}

// checkTOTPSecret refuses a secret that is not unpadded upper-case base32
// of at least 128 bits (RFC 4226 asks for at least that).
func checkTOTPSecret(secret string) *Error {
	const field = "totp_secret"
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	switch {
	case secret == "":
		return invalid(field, "is required")
	case err != nil:
		return invalid(field, "must be upper-case base32 without padding")
	case len(b) < 16:
		return invalid(field, "must hold at least 128 bits")
	}
	return nil
}

// union returns s followed by the elements of add not in s.
func union[T comparable](s, add []T) []T {
	out := slices.Clone(s)
	for _, x := range add {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// without returns the elements of s not in drop, nil when there are none.
func without[T comparable](s, drop []T) []T {
	var out []T
	for _, x := range s {
		if !slices.Contains(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// common returns the elements of s also in t, nil when there are none.
func common[T comparable](s, t []T) []T {
	var out []T
	for _, x := range s {
		if slices.Contains(t, x) {
			out = append(out, x)
		}
	}
	return out
}
