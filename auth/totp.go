package auth

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP settings: those every common authenticator app supports.
const (
	TOTPIssuer = "White Cross"
	totpPeriod = 30 // seconds
	totpDigits = otp.DigitsSix
	totpAlgo   = otp.AlgorithmSHA1
	// totpSkew is how many periods either side of now a code may be from.
	totpSkew = 1
)

// NewTOTPSecret returns a new random TOTP secret for accountEmail, in
// unpadded base32, and the otpauth:// URI an authenticator app reads (as a
// QR code) to add it. The secret is a credential: store it encrypted, and
// never log it or the URI.
func NewTOTPSecret(accountEmail string) (secret, provisioningURI string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      TOTPIssuer,
		AccountName: accountEmail,
		Period:      totpPeriod,
		SecretSize:  20,
		Digits:      totpDigits,
		Algorithm:   totpAlgo,
	})
	if err != nil {
		return "", "", fmt.Errorf("new totp secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// VerifyTOTP reports whether code is secret's code at now or one period
// either side of it. It is false for a malformed code or secret. It does
// not stop a code from being used twice; [MatchTOTP] gives what is needed.
func VerifyTOTP(secret, code string, now time.Time) bool {
	_, ok := MatchTOTP(secret, code, now)
	return ok
}

// MatchTOTP is [VerifyTOTP] that also returns the time step (Unix seconds
// divided by 30) the code belongs to. RFC 6238 asks that a code be
// accepted once: callers store the step of the last accepted code and
// refuse any code whose step is not later.
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.TrimSpace(code)
	// An empty secret is an HMAC key all the same: never let it match.
	if secret == "" || len(code) != totpDigits.Length() {
		return 0, false
	}

	current := now.Unix() / totpPeriod
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		if s >= 0 && totpCodeMatches(secret, code, s) {
			return s, true
		}
	}
	return 0, false
}

func totpCodeMatches(secret, code string, step int64) bool {
	want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
		Digits:    totpDigits,
		Algorithm: totpAlgo,
	})
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
}
