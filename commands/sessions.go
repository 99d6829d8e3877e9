package commands

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// ErrLoginFailed is returned by Login for every refused login: a wrong
// address, password or code, a locked or deactivated account. The reason
// is recorded in the log, not told to the caller. Test with errors.Is.
var ErrLoginFailed = errors.New("login failed")

// ErrSessionEnded is returned by Refresh and Authenticate for a session
// that has ended, timed out or never existed. Test with errors.Is.
var ErrSessionEnded = errors.New("session ended")

// Credentials are what a person presents to log in.
type Credentials struct {
	Email    string
	Password string
	TOTP     string
}

// Tokens are what a login or a refresh hands back.
type Tokens struct {
	AccessToken  string
	ExpiresAt    time.Time
	RefreshToken string
	SessionID    string
	UserID       string
}

// Login checks credentials and, when they hold, starts a session. Every
// attempt, refused or not, is an event: LoginSucceeded or LoginFailed (and
// UserLocked after too many failures) in the account's stream, or a
// LoginFailed in the address's login stream when no account holds it.
func (a *Accounts) Login(ctx context.Context, meta Meta, cred Credentials) (Tokens, LoginOutcome, error) {
	now := a.cfg.Now().UTC()
	id, err := a.accountOf(ctx, cred.Email)
	if err != nil {
		return Tokens{}, "", err
	}
	if id == "" {
		auth.VerifyPassword(a.decoy, cred.Password)
		failed := domain.LoginFailed{ReasonCode: domain.LoginUnknownAccount, AttemptAt: now}
		if err := a.recordUnknown(ctx, meta, cred.Email, failed); err != nil {
			return Tokens{}, domain.LoginUnknownAccount, err
		}
		return Tokens{}, domain.LoginUnknownAccount, ErrLoginFailed
	}

	sessionID := newID(Meta{}, "session")
	var user *domain.User
	var outcome domain.LoginOutcome
	meta.ActorID = id
	_, err = execute(ctx, a.store, domain.UserStream(id), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			step, totpOK := a.acceptTOTP(u, cred.TOTP, now)
			var events []domain.Event
			events, outcome = u.RecordLoginAttempt(now, passwordMatches(u, cred.Password), totpOK,
				a.cfg.Lockout, sessionID)
			if ok, isOK := events[0].(domain.LoginSucceeded); isOK {
				ok.ExpiresAt = now.Add(a.cfg.AbsoluteTimeout)
				if u.TOTPEnrolled() {
					ok.TOTPStep = step
				}
				events[0] = ok
			}
			user = u
			return events, nil
		})
	if err != nil {
		return Tokens{}, "", err
	}
	if outcome != domain.LoginOK {
		return Tokens{}, outcome, ErrLoginFailed
	}
	tokens, err := a.startSession(ctx, meta, user, sessionID, now)
	return tokens, outcome, err
}

// passwordMatches reports whether password is u's; never for an account
// without one.
func passwordMatches(u *domain.User, password string) bool {
	if u.PasswordHash == "" {
		return false
	}
	ok, _ := auth.VerifyPassword(u.PasswordHash, password)
	return ok
}

// acceptTOTP returns the step of code and whether it may be accepted for
// u at now: u has a second factor, code is its current one, and of a step
// after the last one accepted, so that a code is accepted once.
func (a *Accounts) acceptTOTP(u *domain.User, code string, now time.Time) (int64, bool) {
	step, ok := auth.MatchTOTP(a.totpSecret(u), code, now)
	return step, u.TOTPEnrolled() && ok && step > u.LastTOTPStep
}

// LoginOutcome is why a login was refused, for the operator's log; never
// for the person logging in.
type LoginOutcome = domain.LoginOutcome

// accountOf returns the account that holds email, "" when none does.
func (a *Accounts) accountOf(ctx context.Context, email string) (string, error) {
	h, err := load(ctx, a.store, domain.EmailStream(email))
	if err != nil || !h.exists {
		return "", err
	}
	r, ok := h.events[0].(domain.EmailReserved)
	if !ok {
		return "", fmt.Errorf("email stream starts with %T: %w", h.events[0], domain.ErrUnexpectedEvent)
	}
	return r.UserID, nil
}

// recordUnknown records failed, an attempt with an address no account
// holds, in the address's login-attempts stream.
func (a *Accounts) recordUnknown(ctx context.Context, meta Meta, email string, failed domain.Event) error {
	_, err := execute(ctx, a.store, domain.LoginAttemptsStream(email), &meta,
		func([]domain.Event) ([]domain.Event, error) { return []domain.Event{failed}, nil })
	return err
}

// startSession records a new session and issues its first tokens.
func (a *Accounts) startSession(
	ctx context.Context,
	meta Meta,
	u *domain.User,
	sessionID string,
	now time.Time,
) (Tokens, error) {
	secret, hash, err := auth.NewRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	events, err := domain.NewSession(domain.StartSession{
		SessionID: sessionID, UserID: u.ID, RefreshHash: hex.EncodeToString(hash),
		IdleTimeout: a.cfg.IdleTimeout, AbsoluteTimeout: a.cfg.AbsoluteTimeout,
	}, now)
	if err != nil {
		return Tokens{}, err
	}
	_, err = execute(ctx, a.store, domain.SessionStream(sessionID), &meta,
		func([]domain.Event) ([]domain.Event, error) { return events, nil })
	if err != nil {
		return Tokens{}, err
	}
	return a.issue(u, sessionID, sessionID+"."+secret, now)
}

func (a *Accounts) issue(u *domain.User, sessionID, refresh string, now time.Time) (Tokens, error) {
	access, exp, err := a.tokens.Issue(auth.Principal{
		UserID: u.ID, SessionID: sessionID, Roles: u.Roles, Schools: u.Schools, District: u.District,
	}, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, ExpiresAt: exp, RefreshToken: refresh,
		SessionID: sessionID, UserID: u.ID}, nil
}

// Refresh exchanges a refresh token for a new one and a new access token.
// A refresh token presented a second time ends the whole session (it was
// stolen, or copied): that is recorded, then refused.
func (a *Accounts) Refresh(ctx context.Context, meta Meta, refreshToken string) (Tokens, error) {
	now := a.cfg.Now().UTC()
	sessionID, secret, ok := strings.Cut(refreshToken, ".")
	if !ok || !domain.ValidID(sessionID) {
		return Tokens{}, ErrSessionEnded
	}
	newSecret, newHash, err := auth.NewRefreshToken()
	if err != nil {
		return Tokens{}, err
	}
	var userID string
	_, err = execute(ctx, a.store, domain.SessionStream(sessionID), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) == 0 {
				return nil, ErrSessionEnded
			}
			s, err := domain.FoldSession(history)
			if err != nil {
				return nil, err
			}
			userID = s.UserID
			presented := hex.EncodeToString(auth.HashRefreshToken(secret))
			return s.Refresh(presented, hex.EncodeToString(newHash), now, time.Time{})
		})
	if err != nil {
		a.forget(sessionID)
		return Tokens{}, sessionError(err)
	}
	u, err := a.loadUser(ctx, userID)
	if err != nil {
		return Tokens{}, err
	}
	if !u.Active {
		_, err := a.endSession(ctx, meta, sessionID, domain.EndUserDeactivated)
		return Tokens{}, errors.Join(ErrSessionEnded, err)
	}
	return a.issue(u, sessionID, sessionID+"."+newSecret, now)
}

// sessionError turns the domain's refusals of a session into
// ErrSessionEnded, keeping the domain error for the log.
func sessionError(err error) error {
	switch domain.ErrorCode(err) {
	case domain.CodeSessionEnded, domain.CodeRefreshReuse, domain.CodeInvalid:
		return fmt.Errorf("%w: %w", ErrSessionEnded, err)
	}
	return err
}

// Logout ends the caller's session.
func (a *Accounts) Logout(ctx context.Context, meta Meta, p auth.Principal) error {
	_, err := a.endSession(ctx, meta, p.SessionID, domain.EndLogout)
	return err
}

// endSession ends session sessionID for reason; nothing when it has ended
// already or does not exist.
func (a *Accounts) endSession(
	ctx context.Context,
	meta Meta,
	sessionID string,
	reason domain.EndReason,
) (Result, error) {
	a.forget(sessionID)
	return execute(ctx, a.store, domain.SessionStream(sessionID), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) == 0 {
				return nil, nil
			}
			s, err := domain.FoldSession(history)
			if err != nil {
				return nil, err
			}
			return s.End(reason, a.cfg.Now())
		})
}

// endSessions ends each of sessions for reason, and returns where the
// last end landed.
func (a *Accounts) endSessions(
	ctx context.Context,
	meta Meta,
	sessions []string,
	reason domain.EndReason,
) (Result, error) {
	var last Result
	for _, id := range sessions {
		res, err := a.endSession(ctx, meta, id, reason)
		if err != nil {
			return last, err
		}
		if res.Position > last.Position {
			last = res
		}
	}
	return last, nil
}

// Authenticate turns a bearer token into the Principal it names, if the
// token is valid and its session still runs: not ended, not past its
// absolute timeout, not idle. A session's state is read from the log at
// most once per SessionRecheck.
func (a *Accounts) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	now := a.cfg.Now()
	p, err := a.tokens.Verify(bearer, now)
	if err != nil {
		return auth.Principal{}, err
	}
	active, err := a.sessionActive(ctx, p.SessionID, now)
	if err != nil {
		return auth.Principal{}, err
	}
	if !active {
		return auth.Principal{}, ErrSessionEnded
	}
	return p, nil
}

func (a *Accounts) sessionActive(ctx context.Context, sessionID string, now time.Time) (bool, error) {
	a.mu.Lock()
	st, ok := a.sessions[sessionID]
	a.mu.Unlock()
	if ok && now.Sub(st.checkedAt) < a.cfg.SessionRecheck {
		return st.active, nil
	}
	h, err := load(ctx, a.store, domain.SessionStream(sessionID))
	if err != nil {
		return false, err
	}
	active := false
	if h.exists {
		s, err := domain.FoldSession(h.events)
		if err != nil {
			return false, err
		}
		// Requests are not in the log: a session is idle when it has not
		// been refreshed for its idle timeout.
		active = s.Active(now, time.Time{})
	}
	a.remember(sessionID, sessionState{active: active, checkedAt: now})
	return active, nil
}

// remember caches a session's state. Entries older than SessionRecheck
// are of no use, since the log is read again for them: they are swept at
// most once per SessionRecheck, so the cache holds only the sessions
// checked recently.
func (a *Accounts) remember(sessionID string, st sessionState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st.checkedAt.Sub(a.swept) >= a.cfg.SessionRecheck {
		for id, old := range a.sessions {
			if st.checkedAt.Sub(old.checkedAt) >= a.cfg.SessionRecheck {
				delete(a.sessions, id)
			}
		}
		a.swept = st.checkedAt
	}
	a.sessions[sessionID] = st
}

// forget drops a session's cached state, so that this process sees an end
// at once; other processes see it within SessionRecheck.
func (a *Accounts) forget(sessionID string) {
	a.mu.Lock()
	delete(a.sessions, sessionID)
	a.mu.Unlock()
}

// Sessions returns the open sessions of account id, oldest first, if
// actor may manage the account; ErrNotFound when there is no such
// account.
func (a *Accounts) Sessions(ctx context.Context, actor auth.Principal, id string) ([]*domain.Session, error) {
	u, err := a.managedUser(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return a.openSessions(ctx, u)
}

// RevokeSessions ends every open session of account id (EndRevoked), if
// actor may manage the account; its access tokens stop working as those
// of a session logged out do.
func (a *Accounts) RevokeSessions(ctx context.Context, actor auth.Principal, meta Meta, id string) (Result, error) {
	u, err := a.managedUser(ctx, actor, id)
	if err != nil {
		return Result{}, err
	}
	open, err := a.openSessions(ctx, u)
	if err != nil {
		return Result{}, err
	}
	ids := make([]string, len(open))
	for i, s := range open {
		ids[i] = s.ID
	}
	return a.endSessions(ctx, meta, ids, domain.EndRevoked)
}

// RevokeSession ends session sessionID of account id (EndRevoked), if
// actor may manage the account; ErrNotFound when the account has no such
// session. A session that has ended already stays as it is.
func (a *Accounts) RevokeSession(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	id, sessionID string,
) (Result, error) {
	if _, err := a.managedUser(ctx, actor, id); err != nil {
		return Result{}, err
	}
	s, err := a.loadSession(ctx, sessionID)
	if err != nil {
		return Result{}, err
	}
	if s.UserID != id {
		return Result{}, fmt.Errorf("session %s of user %s: %w", sessionID, id, ErrNotFound)
	}
	return a.endSession(ctx, meta, sessionID, domain.EndRevoked)
}

// managedUser returns account id if actor may manage it; ErrNotFound when
// there is none or actor may not see it.
func (a *Accounts) managedUser(ctx context.Context, actor auth.Principal, id string) (*domain.User, error) {
	u, err := a.User(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if err := a.mayManage(ctx, &actor, u.Roles, u.Schools, u.District); err != nil {
		return nil, err
	}
	return u, nil
}

// openSessions reads the sessions of u that may be open and returns those
// that are.
func (a *Accounts) openSessions(ctx context.Context, u *domain.User) ([]*domain.Session, error) {
	now := a.cfg.Now()
	var open []*domain.Session
	for _, id := range u.SessionsOpenAt(now) {
		s, err := a.loadSession(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // the login's session was never started
		}
		if err != nil {
			return nil, err
		}
		if s.Active(now, time.Time{}) {
			open = append(open, s)
		}
	}
	return open, nil
}

// loadSession folds a session's stream; ErrNotFound when it has none.
func (a *Accounts) loadSession(ctx context.Context, id string) (*domain.Session, error) {
	h, err := a.loadExisting(ctx, "session", id, domain.SessionStream)
	if err != nil {
		return nil, err
	}
	return domain.FoldSession(h.events)
}
