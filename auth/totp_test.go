package auth_test

import (
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/whitecross/whitecross/auth"
)

// rfcSecret is RFC 6238's SHA-1 test secret, "12345678901234567890", in
// base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestVerifyTOTPRFCVectors(t *testing.T) {
	// RFC 6238 appendix B gives 8 digits; a 6-digit code is the last six.
	tests := []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if !auth.VerifyTOTP(rfcSecret, tt.code, time.Unix(tt.unix, 0)) {
				t.Errorf("VerifyTOTP(%s at %d) = false, want true", tt.code, tt.unix)
			}
		})
	}
}

func mustTOTPCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{
		Period:    30,
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		t.Fatalf("GenerateCodeCustom() error = %v", err)
	}
	return code
}

// otherDigits returns code with every digit changed.
func otherDigits(code string) string {
	b := []byte(code)
	for i, c := range b {
		b[i] = '0' + (c-'0'+1)%10
	}
	return string(b)
}

func TestVerifyTOTP(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	// 10 seconds into a period.
	now := time.Date(2026, 9, 1, 8, 0, 10, 0, time.UTC)
	step := now.Unix() / 30
	code := mustTOTPCode(t, secret, now)

	tests := []struct {
		name     string
		secret   string
		code     string
		wantOK   bool
		wantStep int64
	}{
		{"current period", secret, code, true, step},
		{"previous period", secret, mustTOTPCode(t, secret, now.Add(-30*time.Second)), true, step - 1},
		{"next period", secret, mustTOTPCode(t, secret, now.Add(30*time.Second)), true, step + 1},
		{"two periods ago", secret, mustTOTPCode(t, secret, now.Add(-60*time.Second)), false, 0},
		{"two periods ahead", secret, mustTOTPCode(t, secret, now.Add(60*time.Second)), false, 0},
		{"surrounding spaces", secret, " " + code + "\n", true, step},
		{"wrong code", secret, otherDigits(code), false, 0},
		{"five digits", secret, code[:5], false, 0},
		{"seven digits", secret, code + "0", false, 0},
		{"empty", secret, "", false, 0},
		{"letters", secret, "abcdef", false, 0},
		{"other secret", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", code, false, 0},
		{"secret not base32", "not base32!", code, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.VerifyTOTP(tt.secret, tt.code, now); got != tt.wantOK {
				t.Errorf("VerifyTOTP() = %v, want %v", got, tt.wantOK)
			}
			gotStep, gotOK := auth.MatchTOTP(tt.secret, tt.code, now)
			if gotOK != tt.wantOK || gotStep != tt.wantStep {
				t.Errorf("MatchTOTP() = %d, %v; want %d, %v",
					gotStep, gotOK, tt.wantStep, tt.wantOK)
			}
		})
	}
}

func TestNewTOTPSecret(t *testing.T) {
	const email = "nurse@school.example"
	secret, uri, err := auth.NewTOTPSecret(email)
	if err != nil {
		t.Fatalf("NewTOTPSecret() error = %v", err)
	}

	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		t.Fatalf("NewKeyFromURL() error = %v", err)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"type", key.Type(), "totp"},
		{"issuer", key.Issuer(), "White Cross"},
		{"account", key.AccountName(), email},
		{"secret", key.Secret(), secret},
		{"period", key.Period(), uint64(30)},
		{"digits", key.Digits(), otp.DigitsSix},
		{"algorithm", key.Algorithm(), otp.AlgorithmSHA1},
		// 20 bytes are 32 base32 characters.
		{"secret length", len(secret), 32},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		})
	}

	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	if code := mustTOTPCode(t, secret, now); !auth.VerifyTOTP(secret, code, now) {
		t.Errorf("VerifyTOTP(new secret, its code) = false, want true")
	}
	if other, _, _ := auth.NewTOTPSecret(email); other == secret {
		t.Errorf("NewTOTPSecret() returned the same secret twice")
	}
}

func TestNewTOTPSecretNoEmail(t *testing.T) {
	if _, _, err := auth.NewTOTPSecret(""); err == nil {
		t.Errorf("NewTOTPSecret(\"\") error = nil, want an error")
	}
}
