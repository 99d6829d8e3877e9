package auth_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// issuedAt is the time every test token is issued.
var issuedAt = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

var nurse = auth.Principal{
	UserID:    "user-7f9c",
	SessionID: "session-21",
	Roles:     []domain.Role{domain.RoleNurse},
	Schools:   []string{"school-a", "school-b"},
	District:  "district-1",
}

func mustSigningKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatalf("GenerateSigningKey() error = %v", err)
	}
	return key
}

func mustTokens(t *testing.T, key ed25519.PrivateKey, cfg auth.TokenConfig) *auth.Tokens {
	t.Helper()
	tokens, err := auth.NewTokens(key, cfg)
	if err != nil {
		t.Fatalf("NewTokens() error = %v", err)
	}
	return tokens
}

func mustIssue(t *testing.T, tokens *auth.Tokens, p auth.Principal) string {
	t.Helper()
	token, _, err := tokens.Issue(p, issuedAt)
	if err != nil {
		t.Fatalf("Issue() error = %v", err)
	}
	return token
}

func TestTokensRoundTrip(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	token, expiresAt, err := tokens.Issue(nurse, issuedAt)
	if err != nil {
		t.Fatalf("Issue() error = %v", err)
	}
	if want := issuedAt.Add(auth.DefaultTokenTTL); !expiresAt.Equal(want) {
		t.Errorf("Issue() expiresAt = %v, want %v", expiresAt, want)
	}

	got, err := tokens.Verify(token, issuedAt.Add(time.Minute))
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	if !equalPrincipals(got, nurse) {
		t.Errorf("Verify() = %+v, want %+v", got, nurse)
	}
}

func equalPrincipals(a, b auth.Principal) bool {
	return a.UserID == b.UserID &&
		a.SessionID == b.SessionID &&
		slices.Equal(a.Roles, b.Roles) &&
		slices.Equal(a.Schools, b.Schools) &&
		a.District == b.District
}

func TestTokensClaims(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	claims := decodeClaims(t, mustIssue(t, tokens, nurse))

	checks := []struct {
		name string
		got  any
		want any
	}{
		{"iss", claims["iss"], "whitecross"},
		{"aud", claims["aud"], []any{"whitecross-api"}},
		{"sub", claims["sub"], nurse.UserID},
		{"sid", claims["sid"], nurse.SessionID},
		{"iat", claims["iat"], float64(issuedAt.Unix())},
		{"nbf", claims["nbf"], float64(issuedAt.Unix())},
		{"exp", claims["exp"], float64(issuedAt.Add(15 * time.Minute).Unix())},
		{"roles", claims["roles"], []any{"nurse"}},
		{"district", claims["district"], "district-1"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !jsonEqual(c.got, c.want) {
				t.Errorf("claim %s = %v, want %v", c.name, c.got, c.want)
			}
		})
	}

	if jti, _ := claims["jti"].(string); jti == "" {
		t.Errorf("claim jti = %v, want a random string", claims["jti"])
	}
	other := decodeClaims(t, mustIssue(t, tokens, nurse))
	if claims["jti"] == other["jti"] {
		t.Errorf("two tokens share jti %v", claims["jti"])
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// decodeClaims returns the payload of token, unverified.
func decodeClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("unmarshal payload: %v", err)
	}
	return claims
}

func encodeSegment(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal segment: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// validClaims are claims Verify would accept, if only they were signed
// by the right key.
func validClaims() auth.Claims {
	return auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    auth.DefaultIssuer,
			Subject:   nurse.UserID,
			Audience:  jwt.ClaimStrings{auth.DefaultAudience},
			ExpiresAt: jwt.NewNumericDate(issuedAt.Add(15 * time.Minute)),
			NotBefore: jwt.NewNumericDate(issuedAt),
			IssuedAt:  jwt.NewNumericDate(issuedAt),
			ID:        "jti-1",
		},
		Roles:     nurse.Roles,
		SessionID: nurse.SessionID,
	}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	token, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign token: %v", err)
	}
	return token
}

func TestTokensVerifyRefuses(t *testing.T) {
	key := mustSigningKey(t)
	pub := key.Public().(ed25519.PublicKey)
	tokens := mustTokens(t, key, auth.TokenConfig{})
	good := mustIssue(t, tokens, nurse)
	goodParts := strings.Split(good, ".")

	// The claims of good with the nurse made a sysadmin, not re-signed.
	tamperedClaims := decodeClaims(t, good)
	tamperedClaims["roles"] = []string{string(domain.RoleSysadmin)}
	tampered := goodParts[0] + "." + encodeSegment(t, tamperedClaims) + "." + goodParts[2]

	none := encodeSegment(t, map[string]string{"alg": "none", "typ": "JWT"}) +
		"." + encodeSegment(t, validClaims()) + "."

	noSID := validClaims()
	noSID.SessionID = ""
	noSub := validClaims()
	noSub.Subject = ""
	noExp := validClaims()
	noExp.ExpiresAt = nil

	otherIssuer := mustTokens(t, key, auth.TokenConfig{Issuer: "elsewhere"})
	otherAudience := mustTokens(t, key, auth.TokenConfig{Audience: "whitecross-ledger"})
	otherKey := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})

	const leeway = auth.DefaultTokenLeeway
	expiry := issuedAt.Add(auth.DefaultTokenTTL)
	tests := []struct {
		name  string
		token string
		now   time.Time
		fault error // the jwt sentinel also wrapped, if any
	}{
		{"algorithm none", none, issuedAt, jwt.ErrTokenSignatureInvalid},
		{
			"HS256 keyed with the public key",
			sign(t, jwt.SigningMethodHS256, validClaims(), []byte(pub)),
			issuedAt, jwt.ErrTokenSignatureInvalid,
		},
		{
			"RS-style algorithm name on an EdDSA signature",
			strings.Replace(good, goodParts[0],
				encodeSegment(t, map[string]string{"alg": "RS256", "typ": "JWT"}), 1),
			issuedAt, jwt.ErrTokenSignatureInvalid,
		},
		{"wrong key", mustIssue(t, otherKey, nurse), issuedAt, jwt.ErrTokenSignatureInvalid},
		{"tampered claims", tampered, issuedAt, jwt.ErrTokenSignatureInvalid},
		{"truncated signature", good[:len(good)-4], issuedAt, jwt.ErrTokenSignatureInvalid},
		{"expired", good, expiry.Add(leeway + time.Second), jwt.ErrTokenExpired},
		{"not yet valid", good, issuedAt.Add(-leeway - time.Second), jwt.ErrTokenNotValidYet},
		{"wrong issuer", mustIssue(t, otherIssuer, nurse), issuedAt, jwt.ErrTokenInvalidIssuer},
		{"wrong audience", mustIssue(t, otherAudience, nurse), issuedAt, jwt.ErrTokenInvalidAudience},
		{"missing sid", sign(t, jwt.SigningMethodEdDSA, noSID, key), issuedAt, nil},
		{"missing sub", sign(t, jwt.SigningMethodEdDSA, noSub, key), issuedAt, nil},
		{
			"missing exp", sign(t, jwt.SigningMethodEdDSA, noExp, key),
			issuedAt, jwt.ErrTokenRequiredClaimMissing,
		},
		{"garbage", "not a token", issuedAt, jwt.ErrTokenMalformed},
		{"empty", "", issuedAt, jwt.ErrTokenMalformed},
		{"three empty segments", "..", issuedAt, jwt.ErrTokenMalformed},
		{"bad base64", "a.b.c", issuedAt, jwt.ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tokens.Verify(tt.token, tt.now)
			if !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("Verify() error = %v, want %v", err, auth.ErrInvalidToken)
			}
			if tt.fault != nil && !errors.Is(err, tt.fault) {
				t.Errorf("Verify() error = %v, want it to wrap %v", err, tt.fault)
			}
			if p.UserID != "" || p.Roles != nil {
				t.Errorf("Verify() principal = %+v, want zero", p)
			}
			for _, part := range strings.Split(tt.token, ".") {
				if len(part) > 3 && strings.Contains(err.Error(), part) {
					t.Errorf("Verify() error %q holds part of the token", err)
				}
			}
		})
	}
}

func TestTokensLeeway(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	token := mustIssue(t, tokens, nurse)
	expiry := issuedAt.Add(auth.DefaultTokenTTL)
	const leeway = auth.DefaultTokenLeeway

	tests := []struct {
		name   string
		now    time.Time
		wantOK bool
	}{
		{"at issue", issuedAt, true},
		{"clock behind, within leeway", issuedAt.Add(-leeway + time.Second), true},
		{"clock behind, past leeway", issuedAt.Add(-leeway - time.Second), false},
		{"just before expiry", expiry.Add(-time.Second), true},
		{"expired, within leeway", expiry.Add(leeway - time.Second), true},
		{"expired, past leeway", expiry.Add(leeway + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tokens.Verify(token, tt.now)
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("Verify() error = %v, want ok %v", err, tt.wantOK)
			}
		})
	}
}

func TestTokensRotation(t *testing.T) {
	oldKey, newKey := mustSigningKey(t), mustSigningKey(t)
	oldToken := mustIssue(t, mustTokens(t, oldKey, auth.TokenConfig{}), nurse)

	rotated := mustTokens(t, newKey, auth.TokenConfig{
		VerifyKeys: []ed25519.PublicKey{oldKey.Public().(ed25519.PublicKey)},
	})
	unrotated := mustTokens(t, newKey, auth.TokenConfig{})

	tests := []struct {
		name   string
		tokens *auth.Tokens
		token  string
		wantOK bool
	}{
		{"old token, old key kept", rotated, oldToken, true},
		{"new token, old key kept", rotated, mustIssue(t, rotated, nurse), true},
		{"old token, old key dropped", unrotated, oldToken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.tokens.Verify(tt.token, issuedAt)
			if gotOK := err == nil; gotOK != tt.wantOK {
				t.Errorf("Verify() error = %v, want ok %v", err, tt.wantOK)
			}
		})
	}
}

func TestTokensIssueRefuses(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	noUser, noSession := nurse, nurse
	noUser.UserID = ""
	noSession.SessionID = ""

	tests := []struct {
		name string
		p    auth.Principal
	}{
		{"no user", noUser},
		{"no session", noSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, _, err := tokens.Issue(tt.p, issuedAt)
			if err == nil {
				t.Errorf("Issue() = %q, nil; want an error", token)
			}
		})
	}
}

func TestNewTokens(t *testing.T) {
	key := mustSigningKey(t)
	tests := []struct {
		name    string
		key     ed25519.PrivateKey
		cfg     auth.TokenConfig
		wantErr bool
	}{
		{"defaults", key, auth.TokenConfig{}, false},
		{"custom", key, auth.TokenConfig{TTL: 5 * time.Minute, Leeway: time.Second}, false},
		{"no key", nil, auth.TokenConfig{}, true},
		{"short key", key[:32], auth.TokenConfig{}, true},
		{"negative TTL", key, auth.TokenConfig{TTL: -time.Minute}, true},
		{"negative leeway", key, auth.TokenConfig{Leeway: -time.Second}, true},
		{"leeway as long as TTL", key, auth.TokenConfig{TTL: time.Minute, Leeway: time.Minute}, true},
		{
			"bad verify key", key,
			auth.TokenConfig{VerifyKeys: []ed25519.PublicKey{make(ed25519.PublicKey, 31)}},
			true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewTokens(tt.key, tt.cfg)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("NewTokens() error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
