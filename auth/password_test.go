package auth_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/auth"
)

func TestCheckPassword(t *testing.T) {
	const email = "jane.doe@school.example"
	containsEmail := []string{auth.ProblemContainsEmail}
	tests := []struct {
		name     string
		password string
		email    string
		want     []string
	}{
		{"good", "Correct-Horse-9", email, nil},
		{"exactly 12 characters", "Abcdefgh1!xy", email, nil},
		{"11 characters", "Abcdefg1!xy", email, []string{auth.ProblemTooShort}},
		{"no upper-case letter", "abcdefgh1!xyz", email, []string{auth.ProblemNoUpper}},
		{"no lower-case letter", "ABCDEFGH1!XYZ", email, []string{auth.ProblemNoLower}},
		{"no digit", "Abcdefghi!xyz", email, []string{auth.ProblemNoDigit}},
		{"no symbol", "Abcdefghi1xyz", email, []string{auth.ProblemNoSymbol}},
		{"space is a symbol", "Correct Horse 9", email, nil},
		{
			"several rules at once", "abc", email,
			[]string{
				auth.ProblemTooShort, auth.ProblemNoUpper,
				auth.ProblemNoDigit, auth.ProblemNoSymbol,
			},
		},
		{
			"empty", "", email,
			[]string{
				auth.ProblemTooShort, auth.ProblemNoUpper, auth.ProblemNoLower,
				auth.ProblemNoDigit, auth.ProblemNoSymbol,
			},
		},
		{"unicode letters", "Ölçüm-Şifre7ğ", email, nil},
		{"greek letters", "Σωκράτης-2024", email, nil},
		// 11 runes but more than 12 bytes: length is counted in runes.
		{"short in runes, long in bytes", "Äöüßéèêë1!Ü", email, []string{auth.ProblemTooShort}},
		{"upper-case only, accented", "ÉCOLE-NURSE-7", email, []string{auth.ProblemNoLower}},
		{
			"letters without case", "看護師の記録は大切です1!", email,
			[]string{auth.ProblemNoUpper, auth.ProblemNoLower},
		},
		// A combining accent is part of a letter, not a symbol.
		{"combining mark", "Cafe\u0301latte12x", email, []string{auth.ProblemNoSymbol}},
		{"contains email local part", "Jane.doe-2024!x", email, containsEmail},
		{"email local part in other case", "xxJANE.DOE99!a", email, containsEmail},
		{"mixed-case email", "xx-jane.doe-99A", "Jane.Doe@School.ex", containsEmail},
		{"short local part ignored", "Jo-Strong-Pass1", "jo@school.example", nil},
		{"three-character local part", "Strong-Ann-Pass1", "ann@school.ex", containsEmail},
		{"email without @", "Strong-Ann-Pass1", "ann", containsEmail},
		{"no email", "Correct-Horse-9", "", nil},
		{
			"email and other rules", "janedoe", "janedoe@school.example",
			[]string{
				auth.ProblemTooShort, auth.ProblemNoUpper, auth.ProblemNoDigit,
				auth.ProblemNoSymbol, auth.ProblemContainsEmail,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := auth.CheckPassword(tt.password, tt.email)

			var got []string
			for _, p := range problems {
				got = append(got, p.Code)
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Code)
				}
				if tt.password != "" && strings.Contains(p.Message, tt.password) {
					t.Errorf("problem %s message holds the password", p.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckPassword() codes = %v, want %v", got, tt.want)
			}
		})
	}
}

// cheapParams keep the tests fast; DefaultPasswordParams is tested once.
var cheapParams = auth.PasswordParams{
	Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32,
}

func TestHashPasswordDefaults(t *testing.T) {
	const password = "Correct-Horse-9"
	encoded, err := auth.HashPassword(password)
	if err != nil {
		t.Fatalf("HashPassword() error = %v", err)
	}

	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(encoded, prefix) {
		t.Errorf("HashPassword() = %q, want prefix %q", encoded, prefix)
	}
	fields := strings.Split(encoded, "$")
	if got := decodedLen(t, fields[4]); got != 16 {
		t.Errorf("salt length = %d, want 16", got)
	}
	if got := decodedLen(t, fields[5]); got != 32 {
		t.Errorf("key length = %d, want 32", got)
	}

	if ok, err := auth.VerifyPassword(encoded, password); !ok || err != nil {
		t.Errorf("VerifyPassword(right) = %v, %v; want true, nil", ok, err)
	}
	if auth.NeedsRehash(encoded) {
		t.Errorf("NeedsRehash(default hash) = true, want false")
	}
}

func decodedLen(t *testing.T, s string) int {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return len(b)
}

func TestVerifyPassword(t *testing.T) {
	const password = "Correct-Horse-9"
	encoded, err := cheapParams.Hash(password)
	if err != nil {
		t.Fatalf("Hash() error = %v", err)
	}

	tests := []struct {
		name     string
		encoded  string
		password string
		want     bool
	}{
		{"right password", encoded, password, true},
		{"wrong password", encoded, "Correct-Horse-8", false},
		{"other case", encoded, strings.ToUpper(password), false},
		{"empty password", encoded, "", false},
		{"prefix of password", encoded, password[:len(password)-1], false},
		// The argon2 reference implementation's test vector.
		{
			"reference vector",
			"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$" +
				"CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
			"password", true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.VerifyPassword(tt.encoded, tt.password)
			if err != nil {
				t.Fatalf("VerifyPassword() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("VerifyPassword() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyPasswordUnicode(t *testing.T) {
	const password = "Schwester-Öğrenci-看護-7"
	encoded, err := cheapParams.Hash(password)
	if err != nil {
		t.Fatalf("Hash() error = %v", err)
	}
	if ok, err := auth.VerifyPassword(encoded, password); !ok || err != nil {
		t.Errorf("VerifyPassword() = %v, %v; want true, nil", ok, err)
	}
}

func TestHashPasswordSalted(t *testing.T) {
	const password = "Correct-Horse-9"
	first, err := cheapParams.Hash(password)
	if err != nil {
		t.Fatalf("Hash() error = %v", err)
	}
	second, err := cheapParams.Hash(password)
	if err != nil {
		t.Fatalf("Hash() error = %v", err)
	}

	if first == second {
		t.Errorf("two hashes of one password are equal: %q", first)
	}
	salt := func(s string) string { return strings.Split(s, "$")[4] }
	if salt(first) == salt(second) {
		t.Errorf("two hashes share the salt %q", salt(first))
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	const (
		salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
		key  = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	)
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"plain text", "Correct-Horse-9"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"parameters out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"parameter not a number", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key},
		{"negative parameter", "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key},
		{"missing parameter", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"no threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"no passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"memory too large", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$*salt*$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$a2V5"},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"no leading $", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := auth.VerifyPassword(tt.encoded, "Correct-Horse-9")
			if !errors.Is(err, auth.ErrMalformedHash) {
				t.Errorf("VerifyPassword() error = %v, want %v", err, auth.ErrMalformedHash)
			}
			if ok {
				t.Errorf("VerifyPassword() = true, want false")
			}
			if !auth.NeedsRehash(tt.encoded) {
				t.Errorf("NeedsRehash() = false, want true")
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	stronger := auth.DefaultPasswordParams()
	stronger.Time++
	longerKey := auth.DefaultPasswordParams()
	longerKey.KeyLength = 64

	tests := []struct {
		name   string
		params auth.PasswordParams
		want   bool
	}{
		{"defaults", auth.DefaultPasswordParams(), false},
		{"weaker", cheapParams, true},
		{"stronger", stronger, true},
		{"longer key", longerKey, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := tt.params.Hash("Correct-Horse-9")
			if err != nil {
				t.Fatalf("Hash() error = %v", err)
			}
			if got := auth.NeedsRehash(encoded); got != tt.want {
				t.Errorf("NeedsRehash() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPasswordParamsValidate(t *testing.T) {
	with := func(change func(*auth.PasswordParams)) auth.PasswordParams {
		p := auth.DefaultPasswordParams()
		change(&p)
		return p
	}
	tests := []struct {
		name    string
		params  auth.PasswordParams
		wantErr bool
	}{
		{"defaults", auth.DefaultPasswordParams(), false},
		{"cheap but sound", cheapParams, false},
		{"zero", auth.PasswordParams{}, true},
		{"no threads", with(func(p *auth.PasswordParams) { p.Threads = 0 }), true},
		{"no passes", with(func(p *auth.PasswordParams) { p.Time = 0 }), true},
		{"memory below 8 KiB a thread", with(func(p *auth.PasswordParams) {
			p.Threads, p.Memory = 4, 31
		}), true},
		{"memory over 1 GiB", with(func(p *auth.PasswordParams) { p.Memory = 1<<20 + 1 }), true},
		{"salt of 8 bytes", with(func(p *auth.PasswordParams) { p.SaltLength = 8 }), true},
		{"key of 8 bytes", with(func(p *auth.PasswordParams) { p.KeyLength = 8 }), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.params.Validate()
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("Validate() error = %v, want error %v", err, tt.wantErr)
			}
			if _, err := tt.params.Hash("Correct-Horse-9"); (err != nil) != tt.wantErr {
				t.Errorf("Hash() error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
