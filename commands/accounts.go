package commands

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// Config tunes the account, session and organisation services. The zero
// value works.
type Config struct {
	Lockout domain.LockoutPolicy
	// IdleTimeout ends a session not refreshed for this long; 8h.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends every session this long after login; 12h.
	AbsoluteTimeout time.Duration
	// SessionRecheck is how long a session's state is trusted before the
	// log is read again; 30s, so an ended session's access tokens stop
	// working within that.
	SessionRecheck time.Duration
	// BreakGlass is how long an emergency-access grant lasts when the
	// request names no duration; 60m.
	BreakGlass time.Duration
	// WitnessAttempts limits witness confirmations per address typed, as
	// logins are limited, so that the credentials of a witness cannot be
	// guessed faster than a login's; nil allows 10 a minute per address.
	WitnessAttempts *auth.Limiter
	// Secrets seals the second-factor secrets the log records. Nil makes
	// a box with a key that lives as long as the process: fine for tests,
	// but a second factor enrolled then does not survive a restart.
	Secrets *auth.SecretBox
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 8 * time.Hour
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	if c.SessionRecheck <= 0 {
		c.SessionRecheck = 30 * time.Second
	}
	if c.BreakGlass <= 0 {
		c.BreakGlass = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate refuses settings that cannot work together.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.IdleTimeout > c.AbsoluteTimeout {
		return fmt.Errorf("config: idle timeout %s exceeds absolute timeout %s",
			c.IdleTimeout, c.AbsoluteTimeout)
	}
	return c.Lockout.Validate()
}

// Accounts runs the commands on accounts, sessions, the organisation and
// break-glass grants.
type Accounts struct {
	store  Store
	tokens *auth.Tokens
	cfg    Config

	// decoy is a password hash checked when a login names an unknown
	// address, so that such a login costs as much as a real one.
	decoy string

	// witnesses limits witness confirmations per address.
	witnesses *auth.Limiter

	mu       sync.Mutex
	sessions map[string]sessionState
	swept    time.Time // when stale sessions were last dropped
}

type sessionState struct {
	active    bool
	checkedAt time.Time
}

// NewAccounts returns the account services over store, issuing access
// tokens with tokens.
func NewAccounts(store Store, tokens *auth.Tokens, cfg Config) (*Accounts, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	decoy, err := auth.HashPassword(rand.Text())
	if err != nil {
		return nil, err
	}
	if cfg.WitnessAttempts == nil {
		if cfg.WitnessAttempts, err = auth.NewLimiter(rate.Every(6*time.Second), 10, 100_000); err != nil {
			return nil, err
		}
	}
	if cfg.Secrets == nil {
		key, err := auth.GenerateSecretKey()
		if err != nil {
			return nil, err
		}
		if cfg.Secrets, err = auth.NewSecretBox(key); err != nil {
			return nil, err
		}
	}
	return &Accounts{
		store: store, tokens: tokens, cfg: cfg.withDefaults(), decoy: decoy,
		witnesses: cfg.WitnessAttempts, sessions: make(map[string]sessionState),
	}, nil
}

// totpContext binds a sealed second-factor secret to its account.
func totpContext(userID string) string { return "totp:" + userID }

// totpSecret returns u's second-factor secret in clear, for checking a
// code; "" when none is enrolled or when it cannot be opened (sealed
// under a key this process does not hold), so that no code matches.
func (a *Accounts) totpSecret(u *domain.User) string {
	if u.TOTPPlain {
		return u.TOTPSecret
	}
	secret, err := a.cfg.Secrets.Open(u.TOTPSecret, totpContext(u.ID))
	if err != nil {
		return ""
	}
	return secret
}

// ErrNotFound is returned when the account, school, district, session or
// student a command names does not exist. Test with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrRateLimited is returned when a caller has made too many attempts of
// a kind (witness confirmations) in too short a time; the attempt was
// not made. Test with errors.Is.
var ErrRateLimited = errors.New("too many attempts")

// newID returns a new random ID, or one made from the idempotency key and
// a purpose, so that a retried request creates the same thing.
func newID(meta Meta, purpose string) string {
	if meta.IdempotencyKey != "" {
		return uuid.NewSHA1(idempotencyNamespace, []byte(purpose+"\x00"+meta.IdempotencyKey)).String()
	}
	return uuid.NewString()
}

// invalid is a refusal of one field.
func invalid(field, message string) error {
	return domain.Errors{{Code: domain.CodeInvalid, Field: field, Message: message}}
}

// forbidden is a refusal for want of scope.
func forbidden(message string) error {
	return &domain.Error{Code: domain.CodeForbidden, Message: message}
}

// loadUser folds an account's stream; ErrNotFound when it has none.
func (a *Accounts) loadUser(ctx context.Context, id string) (*domain.User, error) {
	if !domain.ValidID(id) {
		return nil, fmt.Errorf("user: %w", ErrNotFound)
	}
	h, err := load(ctx, a.store, domain.UserStream(id))
	if err != nil {
		return nil, err
	}
	if !h.exists {
		return nil, fmt.Errorf("user %s: %w", id, ErrNotFound)
	}
	return domain.FoldUser(h.events)
}
