package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the fewest characters (runes, not bytes) a
// password may have.
const MinPasswordLength = 12

// The codes of [PasswordProblem]. They are stable: clients may match on
// them.
const (
	ProblemTooShort      = "too_short"
	ProblemNoUpper       = "no_upper"
	ProblemNoLower       = "no_lower"
	ProblemNoDigit       = "no_digit"
	ProblemNoSymbol      = "no_symbol"
	ProblemContainsEmail = "contains_email"
)

// PasswordProblem is one rule a proposed password breaks. Neither field
// ever holds the password or the email address.
type PasswordProblem struct {
	// Code is one of the Problem constants.
	Code string
	// Message says the rule in a sentence a user can read.
	Message string
}

// CheckPassword returns every rule password breaks, in a fixed order, or
// nil when it breaks none. The rules: at least [MinPasswordLength]
// characters; an upper-case letter, a lower-case letter, a digit and a
// symbol (anything that is not a letter, a digit or a combining mark,
// spaces included); and, when the local part of email (before its last
// "@", or all of it when there is none) has at least 3 characters, not
// containing that local part in any case.
func CheckPassword(password, email string) []PasswordProblem {
	var problems []PasswordProblem
	add := func(code, message string) {
		problems = append(problems, PasswordProblem{Code: code, Message: message})
	}

	if utf8.RuneCountInString(password) < MinPasswordLength {
		add(ProblemTooShort, fmt.Sprintf(
			"must be at least %d characters long", MinPasswordLength))
	}

	classes := classify(password)
	if !classes.upper {
		add(ProblemNoUpper, "must contain an upper-case letter")
	}
	if !classes.lower {
		add(ProblemNoLower, "must contain a lower-case letter")
	}
	if !classes.digit {
		add(ProblemNoDigit, "must contain a digit")
	}
	if !classes.symbol {
		add(ProblemNoSymbol, "must contain a symbol")
	}

	if containsLocalPart(password, email) {
		add(ProblemContainsEmail, "must not contain the name part of your email address")
	}
	return problems
}

// runeClasses records which kinds of character a password has.
type runeClasses struct {
	upper, lower, digit, symbol bool
}

func classify(password string) runeClasses {
	var c runeClasses
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			c.upper = true
		case unicode.IsLower(r):
			c.lower = true
		case unicode.IsDigit(r):
			c.digit = true
		case !unicode.IsLetter(r) && !unicode.IsMark(r):
			c.symbol = true
		}
	}
	return c
}

// containsLocalPart reports whether password contains the local part of
// email, ignoring case. Local parts shorter than 3 characters are ignored:
// they would refuse too many good passwords.
func containsLocalPart(password, email string) bool {
	local := strings.TrimSpace(email)
	if at := strings.LastIndex(local, "@"); at >= 0 {
		local = local[:at]
	}
	if utf8.RuneCountInString(local) < 3 {
		return false
	}
	return strings.Contains(strings.ToLower(password), strings.ToLower(local))
}

// PasswordParams are the argon2id parameters of a password hash.
type PasswordParams struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLength and KeyLength are in bytes.
	SaltLength uint32
	KeyLength  uint32
}

// DefaultPasswordParams returns the parameters [HashPassword] uses: OWASP's
// recommended argon2id configuration of m=19456 KiB (19 MiB), t=2, p=1,
// with a 16-byte salt and a 32-byte key. We chose it over RFC 9106's
// 64 MiB option because a login costs 19 MiB for about as long, which keeps
// many concurrent logins affordable on a two-core server. Changing it makes
// [NeedsRehash] report true for every stored hash.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{
		Memory:     19 * 1024,
		Time:       2,
		Threads:    1,
		SaltLength: 16,
		KeyLength:  32,
	}
}

// Bounds on the parameters of hashes we make or read. The upper bounds stop
// a corrupt stored hash from costing unbounded memory or time.
const (
	maxMemory     = 1 << 20 // KiB: 1 GiB
	maxTime       = 64
	minSaltLength = 8
	minKeyLength  = 16
	maxLength     = 64
)

// Validate reports whether p makes sound hashes: 1 to 255 threads, 8 KiB
// of memory per thread up to 1 GiB in all, 1 to 64 passes, and a salt and
// a key of 16 to 64 bytes.
func (p PasswordParams) Validate() error {
	if err := p.check(); err != nil {
		return fmt.Errorf("password params: %w", err)
	}
	if p.SaltLength < 16 {
		return errors.New("password params: salt shorter than 16 bytes")
	}
	return nil
}

// check applies the bounds a stored hash must meet; they are looser than
// Validate's so that older hashes can still be verified.
func (p PasswordParams) check() error {
	switch {
	case p.Threads < 1:
		return errors.New("threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return errors.New("memory out of range")
	case p.Time < 1 || p.Time > maxTime:
		return errors.New("time out of range")
	case p.SaltLength < minSaltLength || p.SaltLength > maxLength:
		return errors.New("salt length out of range")
	case p.KeyLength < minKeyLength || p.KeyLength > maxLength:
		return errors.New("key length out of range")
	}
	return nil
}

// HashPassword hashes password with argon2id, [DefaultPasswordParams] and
// a random salt, and returns the hash in PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// where salt and key are unpadded standard base64. It does not check
// password against the policy; see [CheckPassword].
func HashPassword(password string) (string, error) {
	return DefaultPasswordParams().Hash(password)
}

// Hash hashes password as [HashPassword] does, with p's parameters.
func (p PasswordParams) Hash(password string) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}

	salt := make([]byte, p.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}

	key := p.derive(password, salt)
	return encodeHash(p, salt, key), nil
}

func (p PasswordParams) derive(password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLength)
}

func encodeHash(p PasswordParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version,
		p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt),
		b64.EncodeToString(key),
	)
}

// ErrMalformedHash is returned, wrapped, by [VerifyPassword] when the
// stored hash is not an argon2id PHC string we can read. Test for it with
// errors.Is.
var ErrMalformedHash = errors.New("malformed password hash")

// VerifyPassword reports whether password matches encoded, a hash made by
// [HashPassword] (with any parameters within bounds). It reads the
// parameters from encoded and compares in constant time. A wrong password
// is false with a nil error; an unreadable encoded is an error wrapping
// [ErrMalformedHash].
func VerifyPassword(encoded, password string) (bool, error) {
	h, err := decodeHash(encoded)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}

	got := h.params.derive(password, h.salt)
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than
// [DefaultPasswordParams], or cannot be read at all. Callers rehash the
// password after a successful login when it returns true.
func NeedsRehash(encoded string) bool {
	h, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	return h.params != DefaultPasswordParams()
}

// decodedHash is a PHC string taken apart.
type decodedHash struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

// decodeHash parses $argon2id$v=19$m=M,t=T,p=P$salt$key strictly: one
// version, the parameters in that order, unpadded base64.
func decodeHash(encoded string) (decodedHash, error) {
	var h decodedHash
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" {
		return h, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, fmt.Errorf("%w: unsupported version", ErrMalformedHash)
	}

	params, err := parseParams(fields[3])
	if err != nil {
		return h, err
	}

	b64 := base64.RawStdEncoding
	if h.salt, err = b64.DecodeString(fields[4]); err != nil {
		return h, fmt.Errorf("%w: bad salt encoding", ErrMalformedHash)
	}
	if h.key, err = b64.DecodeString(fields[5]); err != nil {
		return h, fmt.Errorf("%w: bad key encoding", ErrMalformedHash)
	}

	params.SaltLength = uint32(len(h.salt))
	params.KeyLength = uint32(len(h.key))
	if err := params.check(); err != nil {
		return h, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	h.params = params
	return h, nil
}

// parseParams parses "m=M,t=T,p=P".
func parseParams(s string) (PasswordParams, error) {
	var p PasswordParams
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return p, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}

	m, errM := parseParam(parts[0], "m=", 32)
	t, errT := parseParam(parts[1], "t=", 32)
	threads, errP := parseParam(parts[2], "p=", 8)
	if errM != nil || errT != nil || errP != nil {
		return p, fmt.Errorf("%w: bad parameters", ErrMalformedHash)
	}

	p.Memory, p.Time, p.Threads = uint32(m), uint32(t), uint8(threads)
	return p, nil
}

func parseParam(s, prefix string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, errors.New("missing prefix")
	}
	return strconv.ParseUint(digits, 10, bits)
}
