package auth

import (
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// verifiedCap bounds the tokens a verifiedTokens remembers.
const verifiedCap = 4096

// verifiedTokens remembers the tokens whose signature and claims Verify
// has checked, so that the next request with the same token skips the
// Ed25519 verification, the largest cost of a request's authentication.
// A token is immutable and the keys of a Tokens never change, so the
// same bytes always verify alike; what changes is the time, which is
// checked again on every use against the window the token's exp, nbf
// and iat give, with the leeway. It is safe for concurrent use.
type verifiedTokens struct {
	mu     sync.Mutex
	tokens map[string]verifiedToken
}

// verifiedToken is a token that verified, and when it may be used.
type verifiedToken struct {
	principal Principal
	// from and until bound the times at which Verify accepts it.
	from, until time.Time
}

func newVerifiedTokens() *verifiedTokens {
	return &verifiedTokens{tokens: make(map[string]verifiedToken)}
}

// get returns whom token was issued to when it verified before and may
// be used at now; false otherwise, and then Verify checks it in full.
func (v *verifiedTokens) get(token string, now time.Time) (Principal, bool) {
	v.mu.Lock()
	t, ok := v.tokens[token]
	v.mu.Unlock()
	if !ok || now.Before(t.from) || now.After(t.until) {
		return Principal{}, false
	}
	return t.principal.clone(), true
}

// put remembers that token verified, for p, within the window that
// claims and leeway give. When full, it first forgets the tokens whose
// window has closed at now, and all of them when none has.
func (v *verifiedTokens) put(token string, p Principal, claims Claims, leeway time.Duration, now time.Time) {
	if claims.ExpiresAt == nil {
		return
	}
	t := verifiedToken{principal: p.clone(), until: claims.ExpiresAt.Add(leeway)}
	for _, at := range []*time.Time{timeOf(claims.NotBefore), timeOf(claims.IssuedAt)} {
		if at != nil && at.Add(-leeway).After(t.from) {
			t.from = at.Add(-leeway)
		}
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.tokens) >= verifiedCap {
		for k, old := range v.tokens {
			if now.After(old.until) {
				delete(v.tokens, k)
			}
		}
	}
	if len(v.tokens) >= verifiedCap {
		clear(v.tokens)
	}
	v.tokens[token] = t
}

// clone returns p with slices of its own, so that a caller cannot change
// what another is handed.
func (p Principal) clone() Principal {
	p.Roles, p.Schools = slices.Clone(p.Roles), slices.Clone(p.Schools)
	return p
}

// timeOf returns the time of d, or nil when the claim is absent.
func timeOf(d *jwt.NumericDate) *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}
