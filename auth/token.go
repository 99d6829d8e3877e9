package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whitecross/whitecross/domain"
)

// The defaults of [TokenConfig].
const (
	DefaultIssuer      = "whitecross"
	DefaultAudience    = "whitecross-api"
	DefaultTokenTTL    = 15 * time.Minute
	DefaultTokenLeeway = 30 * time.Second
)

// ErrInvalidToken is returned, wrapped, by [Tokens.Verify] for every token
// it refuses: malformed, badly signed, expired, not yet valid, for another
// issuer or audience, or missing a required claim. Test for it with
// errors.Is. Where the refusal has a jwt sentinel (jwt.ErrTokenExpired, for
// instance) the error wraps that too. The error never holds the token.
var ErrInvalidToken = errors.New("invalid token")

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	Roles     []domain.Role `json:"roles"`
	Schools   []string      `json:"schools,omitempty"`
	District  string        `json:"district,omitempty"`
	SessionID string        `json:"sid"`
}

// TokenConfig configures [Tokens]. A zero field takes its default.
type TokenConfig struct {
	// Issuer is the iss claim; default [DefaultIssuer].
	Issuer string
	// Audience is the aud claim; default [DefaultAudience].
	Audience string
	// TTL is how long an access token lives; default [DefaultTokenTTL].
	TTL time.Duration
	// Leeway is the clock skew allowed when checking exp, nbf and iat;
	// default [DefaultTokenLeeway].
	Leeway time.Duration
	// VerifyKeys are public keys accepted besides the signing key's own:
	// the keys of earlier signing keys, during a rotation, until every
	// token they signed has expired. Nil accepts the signing key only.
	VerifyKeys []ed25519.PublicKey
}

// withDefaults returns c with each zero field set to its default.
func (c TokenConfig) withDefaults() TokenConfig {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.TTL == 0 {
		c.TTL = DefaultTokenTTL
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultTokenLeeway
	}
	return c
}

// Validate reports whether c, with its defaults applied, is usable.
func (c TokenConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.TTL < 0:
		return errors.New("token config: negative TTL")
	case c.Leeway < 0:
		return errors.New("token config: negative leeway")
	case c.Leeway >= c.TTL:
		return errors.New("token config: leeway not shorter than TTL")
	}
	for _, k := range c.VerifyKeys {
		if len(k) != ed25519.PublicKeySize {
			return errors.New("token config: verify key is not an Ed25519 public key")
		}
	}
	return nil
}

// Tokens issues and verifies access tokens: JWTs signed with Ed25519
// (alg EdDSA). It is safe for concurrent use.
type Tokens struct {
	key      ed25519.PrivateKey
	verify   []ed25519.PublicKey
	cfg      TokenConfig
	verified *verifiedTokens
}

// NewTokens returns Tokens that sign with key and verify with key's public
// half and cfg.VerifyKeys.
func NewTokens(key ed25519.PrivateKey, cfg TokenConfig) (*Tokens, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("new tokens: key is not an Ed25519 private key")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new tokens: %w", err)
	}

	cfg = cfg.withDefaults()
	pub := key.Public().(ed25519.PublicKey)
	return &Tokens{
		key:      key,
		verify:   append([]ed25519.PublicKey{pub}, cfg.VerifyKeys...),
		cfg:      cfg,
		verified: newVerifiedTokens(),
	}, nil
}

// Issue returns a signed access token for p, issued at now, and the time
// it expires. The token carries p's user as sub, p's session as sid, a
// random jti, and iat, nbf, exp, iss and aud. Times in the token are whole
// seconds, and so is expiresAt. p must have a UserID and a SessionID.
func (t *Tokens) Issue(
	p Principal,
	now time.Time,
) (token string, expiresAt time.Time, err error) {
	if p.UserID == "" || p.SessionID == "" {
		return "", time.Time{}, errors.New("issue token: principal lacks user or session")
	}

	exp := jwt.NewNumericDate(now.Add(t.cfg.TTL))
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   p.UserID,
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: exp,
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        rand.Text(),
		},
		Roles:     p.Roles,
		Schools:   p.Schools,
		District:  p.District,
		SessionID: p.SessionID,
	}

	signed, err := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims).SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return signed, exp.Time, nil
}

// Verify checks token as of now and returns whom it was issued to. It
// accepts only EdDSA signatures by one of its keys, with this issuer and
// audience, an exp, and a sub and a sid; exp, nbf and iat are checked with
// the configured leeway. Every refusal wraps [ErrInvalidToken]. A token
// that verified before is not checked for its signature again, only for
// its times.
func (t *Tokens) Verify(token string, now time.Time) (Principal, error) {
	if p, ok := t.verified.get(token, now); ok {
		return p, nil
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(t.cfg.Issuer),
		jwt.WithAudience(t.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(t.cfg.Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)

	var claims Claims
	if _, err := parser.ParseWithClaims(token, &claims, t.keys); err != nil {
		return Principal{}, invalidToken(err)
	}

	if claims.Subject == "" || claims.SessionID == "" {
		return Principal{}, fmt.Errorf("%w: missing sub or sid", ErrInvalidToken)
	}
	p := Principal{
		UserID:    claims.Subject,
		SessionID: claims.SessionID,
		Roles:     claims.Roles,
		Schools:   claims.Schools,
		District:  claims.District,
	}
	t.verified.put(token, p, claims, t.cfg.Leeway, now)
	return p, nil
}

// keys is the parser's key function. The parser has already refused every
// algorithm but EdDSA; the check here keeps that true should its options
// ever change.
func (t *Tokens) keys(token *jwt.Token) (any, error) {
	if _, ok := token.Method.(*jwt.SigningMethodEd25519); !ok {
		return nil, errors.New("unexpected signing method")
	}

	set := jwt.VerificationKeySet{Keys: make([]jwt.VerificationKey, len(t.verify))}
	for i, k := range t.verify {
		set.Keys[i] = k
	}
	return set, nil
}

// tokenFaults are the jwt sentinels an error from Verify may wrap, the
// specific ones first. Their messages are fixed strings: unlike the
// errors that carry them, they cannot hold anything from the token.
var tokenFaults = []error{
	jwt.ErrTokenExpired,
	jwt.ErrTokenNotValidYet,
	jwt.ErrTokenUsedBeforeIssued,
	jwt.ErrTokenInvalidIssuer,
	jwt.ErrTokenInvalidAudience,
	jwt.ErrTokenRequiredClaimMissing,
	jwt.ErrTokenSignatureInvalid,
	jwt.ErrTokenMalformed,
	jwt.ErrTokenUnverifiable,
	jwt.ErrTokenInvalidClaims,
}

// invalidToken turns an error from the jwt parser into one that wraps
// ErrInvalidToken and at most one jwt sentinel, and drops the rest: the
// parser's messages can quote the token's header.
func invalidToken(err error) error {
	for _, fault := range tokenFaults {
		if errors.Is(err, fault) {
			return fmt.Errorf("%w: %w", ErrInvalidToken, fault)
		}
	}
	return ErrInvalidToken
}
