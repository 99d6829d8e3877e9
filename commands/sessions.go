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
		return Tokens{}, domain.LoginUnknownAccount, a.recordUnknown(ctx, meta, cred.Email, now)
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
			passwordOK := false
			if u.PasswordHash != "" {
				passwordOK, _ = auth.VerifyPassword(u.PasswordHash, cred.Password)
			}
			// A code is accepted once: only a step after the last one
			// accepted counts.
			step, totpOK := auth.MatchTOTP(a.totpSecret(u), cred.TOTP, now)
			totpOK = u.TOTPEnrolled() && totpOK && step > u.LastTOTPStep
			var events []domain.Event
			events, outcome = u.RecordLoginAttempt(now, passwordOK, totpOK, a.cfg.Lockout, sessionID)
			for i, e := range events {
				if ok, isOK := e.(domain.LoginSucceeded); isOK && u.TOTPEnrolled() {
					ok.TOTPStep = step
					events[i] = ok
				}
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

func (a *Accounts) recordUnknown(ctx context.Context, meta Meta, email string, now time.Time) error {
	_, err := execute(ctx, a.store, domain.LoginAttemptsStream(email), &meta,
		func([]domain.Event) ([]domain.Event, error) {
			return []domain.Event{domain.LoginFailed{ReasonCode: domain.LoginUnknownAccount, AttemptAt: now}}, nil
		})
	if err != nil {
		return err
	}
	return ErrLoginFailed
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
		return Tokens{}, errors.Join(ErrSessionEnded,
			a.endSession(ctx, meta, sessionID, domain.EndUserDeactivated))
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
	return a.endSession(ctx, meta, p.SessionID, domain.EndLogout)
}

func (a *Accounts) endSession(ctx context.Context, meta Meta, sessionID string, reason domain.EndReason) error {
	a.forget(sessionID)
	_, err := execute(ctx, a.store, domain.SessionStream(sessionID), &meta,
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
	return err
}

// Authenticate turns a bearer token into the Principal it names, if the
// token is valid and its session still runs. A session's state is read
// from the log at most once per SessionRecheck.
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
		active = !s.Ended() && now.Before(s.ExpiresAt())
	}
	a.mu.Lock()
	a.sessions[sessionID] = sessionState{active: active, checkedAt: now}
	a.mu.Unlock()
	return active, nil
}

// forget drops a session's cached state, so that this process sees an end
// at once; other processes see it within SessionRecheck.
func (a *Accounts) forget(sessionID string) {
	a.mu.Lock()
	delete(a.sessions, sessionID)
	a.mu.Unlock()
}

// Witness is who a second nurse says they are, with their own credentials,
// to witness a controlled-substance dose.
type Witness struct {
	Email    string
	Password string
	TOTP     string
}

// VerifyWitness checks a witness's own credentials without starting a
// session, and that the witness is an active nurse. It returns the
// witness's account ID and whether every check held; a refusal says
// nothing of which check failed, so it cannot be used to guess passwords
// (the blocked administration it leads to is in the log).
func (a *Accounts) VerifyWitness(ctx context.Context, w Witness) (string, bool, error) {
	id, err := a.accountOf(ctx, w.Email)
	if err != nil || id == "" {
		auth.VerifyPassword(a.decoy, w.Password)
		return "", false, err
	}
	u, err := a.loadUser(ctx, id)
	if err != nil {
		return "", false, err
	}
	now := a.cfg.Now()
	ok, _ := auth.VerifyPassword(u.PasswordHash, w.Password)
	ok = ok && u.Active && !u.Locked(now) && u.HasRole(domain.RoleNurse)
	if u.TOTPEnrolled() {
		step, codeOK := auth.MatchTOTP(a.totpSecret(u), w.TOTP, now)
		ok = ok && codeOK && step > u.LastTOTPStep
	}
	return id, ok, nil
}
