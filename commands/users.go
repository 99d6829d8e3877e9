package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// NewAccount describes an account to create. Every field but Schools
// and District is required, the password included: nothing sets one
// later, so an account without one could never log in.
type NewAccount struct {
	Email       string
	DisplayName string
	Roles       []domain.Role
	Schools     []string
	District    string
	Password    string
}

// CreateUser opens an account. actor is nil when the system itself acts
// (the first administrator, from the command line); otherwise the actor
// must be allowed to manage an account with these roles and schools. The
// schools and the district must exist in the log.
//
// The account's stream is written first, then its address is reserved
// in the log, which refuses a second reservation: so two accounts never
// share an address, and a failure between the two writes leaves no
// address taken by an account that does not exist. The account can log
// in once the address is reserved; a retry of a failed creation, with
// the same idempotency key or without one, completes it.
func (a *Accounts) CreateUser(
	ctx context.Context,
	actor *auth.Principal,
	meta Meta,
	in NewAccount,
) (string, Result, error) {
	id := newID(meta, "user")
	events, err := newAccountEvents(id, actor, in)
	if err != nil {
		return "", Result{}, err
	}
	if err := a.checkOrganisation(ctx, in.Schools, in.District); err != nil {
		return "", Result{}, err
	}
	if err := a.mayManage(ctx, actor, in.Roles, in.Schools, in.District); err != nil {
		return "", Result{}, err
	}
	holder, err := a.accountOf(ctx, in.Email)
	if err != nil {
		return "", Result{}, err
	}
	if holder != "" && holder != id {
		return "", Result{}, emailTaken()
	}

	res, err := execute(ctx, a.store, domain.UserStream(id), &meta, onlyOnce(events))
	if err != nil {
		return "", Result{}, err
	}
	reserved, err := a.reserveEmail(ctx, meta, in.Email, id)
	if domain.ErrorCode(err) == domain.CodeConflict {
		// Another creation took the address since it was checked: this
		// account closes, so that it never holds an address another has.
		return "", Result{}, errors.Join(err, a.abandon(ctx, meta, id))
	}
	if err != nil {
		return "", Result{}, err
	}
	res.Position = max(res.Position, reserved.Position)
	return id, res, nil
}

// newAccountEvents returns the events that open account id as in
// describes, or every refusal of its fields at once, the password's
// rules included.
func newAccountEvents(id string, actor *auth.Principal, in NewAccount) ([]domain.Event, error) {
	events, err := domain.NewUser(domain.CreateUser{
		UserID: id, Email: in.Email, DisplayName: in.DisplayName, Roles: in.Roles,
		Schools: in.Schools, District: in.District, CreatedBy: actorID(actor),
	})
	refused := domain.Errors(domain.ErrorsOf(err))
	if err != nil && len(refused) == 0 {
		return nil, err
	}
	if refused = append(refused, passwordProblems(in.Password, in.Email)...); len(refused) > 0 {
		return nil, refused
	}
	hash, err := auth.HashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	return append(events, domain.PasswordSet{PasswordHash: hash, Reason: domain.PasswordInitial}), nil
}

// checkOrganisation refuses, naming the field, a district the log does
// not hold, or else schools it does not hold or that are outside the
// district.
func (a *Accounts) checkOrganisation(ctx context.Context, schools []string, district string) error {
	if err := a.checkDistrict(ctx, district); err != nil {
		return err
	}
	return a.checkSchools(ctx, schools, district, indexed("schools"))
}

// passwordProblems lists how a password breaks the policy, as refusals of
// the field password.
func passwordProblems(password, email string) domain.Errors {
	if password == "" {
		return domain.Errors{{Code: domain.CodeInvalid, Field: "password", Message: "is required"}}
	}
	var errs domain.Errors
	for _, p := range auth.CheckPassword(password, email) {
		errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: "password", Message: p.Message})
	}
	return errs
}

func emailTaken() error {
	return domain.Errors{{Code: domain.CodeConflict, Field: "email",
		Message: "is already used by another account"}}
}

// reserveEmail gives the address to account id, unless another account
// holds it.
func (a *Accounts) reserveEmail(ctx context.Context, meta Meta, email, id string) (Result, error) {
	return execute(ctx, a.store, domain.EmailStream(email), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) == 0 {
				return []domain.Event{domain.EmailReserved{UserID: id}}, nil
			}
			if r, ok := history[0].(domain.EmailReserved); ok && r.UserID == id {
				return nil, nil
			}
			return nil, emailTaken()
		})
}

// abandonedReason is why an account that lost its address to another is
// closed.
const abandonedReason = "its address was taken by another account while it was created"

// abandon closes account id, created without its address.
func (a *Accounts) abandon(ctx context.Context, meta Meta, id string) error {
	_, err := execute(ctx, a.store, domain.UserStream(id), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			return u.Deactivate(abandonedReason)
		})
	return err
}

// User returns an account as its stream says; ErrNotFound when there is
// none, or when actor may not see it. Everyone sees their own.
func (a *Accounts) User(ctx context.Context, actor auth.Principal, id string) (*domain.User, error) {
	u, err := a.loadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if actor.UserID != id && a.mayRead(ctx, &actor, u) != nil {
		return nil, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	return u, nil
}

// UserChange is one change an administrator makes to an account.
type UserChange func(u *domain.User) ([]domain.Event, error)

// ChangeUser applies change to account id, if actor may manage the
// account both as it is and as it will be, and the account is not
// actor's own: nobody changes their own roles, schools or status. Schools
// the change adds must exist in the log. A change of roles or schools
// ends the account's sessions (EndAccessChanged), and a deactivation
// ends them too (EndUserDeactivated), so that no token carries what the
// account no longer has.
func (a *Accounts) ChangeUser(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	id string,
	change UserChange,
) (Result, error) {
	if actor.UserID == id {
		return Result{}, forbidden("nobody changes their own account's roles, schools or status; " +
			"ask another administrator")
	}
	if _, err := a.loadUser(ctx, id); err != nil {
		return Result{}, err
	}
	var ending []string
	var reason domain.EndReason
	res, err := execute(ctx, a.store, domain.UserStream(id), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			if err := a.mayManage(ctx, &actor, u.Roles, u.Schools, u.District); err != nil {
				return nil, err
			}
			events, err := change(u)
			if err != nil || len(events) == 0 {
				return events, err
			}
			after, err := domain.FoldUser(append(slices.Clone(history), events...))
			if err != nil {
				return nil, err
			}
			added := slices.DeleteFunc(slices.Clone(after.Schools), func(s string) bool {
				return slices.Contains(u.Schools, s)
			})
			if err := a.checkSchools(ctx, added, after.District, whole("schools")); err != nil {
				return nil, err
			}
			if err := a.mayManage(ctx, &actor, after.Roles, after.Schools, after.District); err != nil {
				return nil, err
			}
			ending, reason = sessionsToEnd(u, after, a.cfg.Now())
			return events, nil
		})
	if err != nil {
		return res, err
	}
	ended, err := a.endSessions(ctx, meta, ending, reason)
	res.Position = max(res.Position, ended.Position)
	return res, err
}

// sessionsToEnd returns the sessions a change from before to after ends,
// and why: all that may be open when the account closes or its access
// changes; none otherwise.
func sessionsToEnd(before, after *domain.User, now time.Time) ([]string, domain.EndReason) {
	switch {
	case before.Active && !after.Active:
		return after.SessionsOpenAt(now), domain.EndUserDeactivated
	case !sameSet(before.Roles, after.Roles) || !sameSet(before.Schools, after.Schools) ||
		before.District != after.District:
		return after.SessionsOpenAt(now), domain.EndAccessChanged
	}
	return nil, ""
}

// sameSet reports whether a and b hold the same elements, each once.
func sameSet[T cmp.Ordered](a, b []T) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func actorID(actor *auth.Principal) string {
	if actor == nil {
		return ""
	}
	return actor.UserID
}

// ChangePassword sets a new password on the caller's own account, once
// the current one is confirmed.
func (a *Accounts) ChangePassword(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	current, next string,
) (Result, error) {
	return execute(ctx, a.store, domain.UserStream(actor.UserID), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			if ok, _ := auth.VerifyPassword(u.PasswordHash, current); !ok {
				return nil, invalid("current_password", "is not the account's password")
			}
			if problems := passwordProblems(next, u.Email); len(problems) > 0 {
				for _, p := range problems {
					p.Field = "new_password"
				}
				return nil, problems
			}
			hash, err := auth.HashPassword(next)
			if err != nil {
				return nil, err
			}
			return u.SetPassword(hash, domain.PasswordChanged)
		})
}

// EnrollTOTP adds a second factor to the caller's own account: secret, as
// NewTOTPSecret drew it, once code shows that the person's authenticator
// holds it.
func (a *Accounts) EnrollTOTP(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	secret, code string,
) (Result, error) {
	if !auth.VerifyTOTP(secret, code, a.cfg.Now()) {
		return Result{}, invalid("code", "does not match the secret; check the authenticator's clock")
	}
	return execute(ctx, a.store, domain.UserStream(actor.UserID), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			return u.EnrollTOTP(secret, func(secret string) (string, error) {
				return a.cfg.Secrets.Seal(secret, totpContext(u.ID))
			})
		})
}
