package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
)

// RefreshTokenPrefix begins every refresh token, so that one found in a
// log or a repository can be recognised (and revoked) by secret scanners.
const RefreshTokenPrefix = "wcr_"

// NewRefreshToken returns a new opaque refresh token and its hash. The
// token is [RefreshTokenPrefix] followed by 32 random bytes in unpadded
// base64url; give it to the client once and store only the hash, which is
// [HashRefreshToken] of the token.
func NewRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("new refresh token: %w", err)
	}

	token = RefreshTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token), nil
}

// HashRefreshToken returns the SHA-256 of token, the form in which a
// refresh token is stored and looked up. A fast hash is enough: the token
// has 256 random bits, so there is nothing to guess.
func HashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// VerifyRefreshToken reports whether token hashes to hash, comparing in
// constant time. It is false for an empty hash.
func VerifyRefreshToken(token string, hash []byte) bool {
	if len(hash) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(HashRefreshToken(token), hash) == 1
}
