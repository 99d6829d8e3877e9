package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// NewAccount describes an account to create. Password may be empty: the
// account then cannot log in until one is set.
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
// address is reserved in the log first, so two accounts never share one.
func (a *Accounts) CreateUser(
	ctx context.Context,
	actor *auth.Principal,
	meta Meta,
	in NewAccount,
) (string, Result, error) {
	id := newID(meta, "user")
	events, err := domain.NewUser(domain.CreateUser{
		UserID: id, Email: in.Email, DisplayName: in.DisplayName, Roles: in.Roles,
		Schools: in.Schools, District: in.District, CreatedBy: actorID(actor),
	})
	refused := domain.ErrorsOf(err)
	if err != nil && len(refused) == 0 {
		return "", Result{}, err
	}
	if in.Password != "" {
		// Every bad field is named at once, the password's rules included.
		if problems := passwordProblems(in.Password, in.Email); len(problems) > 0 || len(refused) > 0 {
			return "", Result{}, append(domain.Errors(refused), problems...)
		}
		hash, err := auth.HashPassword(in.Password)
		if err != nil {
			return "", Result{}, err
		}
		events = append(events, domain.PasswordSet{PasswordHash: hash, Reason: domain.PasswordInitial})
	} else if err != nil {
		return "", Result{}, err
	}
	if err := a.mayManage(ctx, actor, in.Roles, in.Schools, in.District); err != nil {
		return "", Result{}, err
	}
	if err := a.reserveEmail(ctx, meta, in.Email, id); err != nil {
		return "", Result{}, err
	}
	res, err := execute(ctx, a.store, domain.UserStream(id), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) > 0 {
				return nil, nil // created by an earlier try of this request
			}
			return events, nil
		})
	return id, res, err
}

// passwordProblems lists how a password breaks the policy, as refusals of
// the field password.
func passwordProblems(password, email string) domain.Errors {
	var errs domain.Errors
	for _, p := range auth.CheckPassword(password, email) {
		errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: "password", Message: p.Message})
	}
	return errs
}

// reserveEmail gives the address to account id, unless another account
// holds it.
func (a *Accounts) reserveEmail(ctx context.Context, meta Meta, email, id string) error {
	_, err := execute(ctx, a.store, domain.EmailStream(email), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) == 0 {
				return []domain.Event{domain.EmailReserved{UserID: id}}, nil
			}
			if r, ok := history[0].(domain.EmailReserved); ok && r.UserID == id {
				return nil, nil
			}
			return nil, domain.Errors{{Code: domain.CodeConflict, Field: "email",
				Message: "is already used by another account"}}
		})
	return err
}

// User returns an account as its stream says; ErrNotFound when there is
// none, or when actor may not see it.
func (a *Accounts) User(ctx context.Context, actor auth.Principal, id string) (*domain.User, error) {
	u, err := a.loadUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := a.mayManage(ctx, &actor, u.Roles, u.Schools, u.District); err != nil &&
		!actor.Can(auth.ReadHistory) && actor.UserID != id {
		return nil, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	return u, nil
}

// UserChange is one change an administrator makes to an account.
type UserChange func(u *domain.User) ([]domain.Event, error)

// ChangeUser applies change to account id, if actor may manage the
// account both as it is and as it will be.
func (a *Accounts) ChangeUser(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	id string,
	change UserChange,
) (Result, error) {
	if _, err := a.loadUser(ctx, id); err != nil {
		return Result{}, err
	}
	var ended []string
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
			if err := a.mayManage(ctx, &actor, after.Roles, after.Schools, after.District); err != nil {
				return nil, err
			}
			if !after.Active {
				ended = sessionsOf(history)
			}
			return events, nil
		})
	if err != nil {
		return res, err
	}
	for _, sid := range ended {
		if err := a.endSession(ctx, meta, sid, domain.EndUserDeactivated); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sessionsOf lists the sessions an account's logins started.
func sessionsOf(history []domain.Event) []string {
	var ids []string
	for _, e := range history {
		if s, ok := e.(domain.LoginSucceeded); ok {
			ids = append(ids, s.SessionID)
		}
	}
	return ids
}

// mayManage checks that actor may manage an account with these roles,
// schools and district: a system administrator any; a district
// administrator any of their district but a system administrator; a school
// administrator nurses and school administrators of their own schools.
// A nil actor is the system itself.
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
	case !actor.Can(auth.ManageUsers) && !actor.Can(auth.ReadUsers):
		return forbidden("your roles do not manage accounts")
	case slices.Contains(actor.Roles, domain.RoleSysadmin):
		return nil
	case slices.Contains(actor.Roles, domain.RoleDistrictAdmin):
		return a.inDistrict(ctx, actor.District, roles, schools, district)
	case slices.Contains(actor.Roles, domain.RoleSchoolAdmin):
		return atSchools(actor, roles, schools, district)
	case actor.Can(auth.ReadUsers):
		return forbidden("your roles read accounts but do not manage them")
	}
	return forbidden("your roles do not manage accounts")
}

func (a *Accounts) inDistrict(
	ctx context.Context,
	own string,
	roles []domain.Role,
	schools []string,
	district string,
) error {
	if slices.Contains(roles, domain.RoleSysadmin) {
		return forbidden("a district administrator cannot manage a system administrator")
	}
	if district != "" && district != own {
		return forbidden("the account belongs to another district")
	}
	for _, s := range schools {
		school, err := a.loadSchool(ctx, s)
		if err != nil || school.DistrictID != own {
			return forbidden("a school of the account is not in your district")
		}
	}
	return nil
}

func atSchools(actor *auth.Principal, roles []domain.Role, schools []string, district string) error {
	for _, r := range roles {
		if r != domain.RoleNurse && r != domain.RoleSchoolAdmin {
			return forbidden("a school administrator manages nurse and school administrator accounts only")
		}
	}
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
