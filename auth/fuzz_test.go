package auth_test

import (
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/auth"
)

// FuzzVerifyToken hands arbitrary bearer tokens to Tokens.Verify: it
// must never panic, and since only the signing key can sign, whatever it
// accepts names the account and session of a token it issued.
func FuzzVerifyToken(f *testing.F) {
	key, err := auth.GenerateSigningKey()
	if err != nil {
		f.Fatal(err)
	}
	tokens, err := auth.NewTokens(key, auth.TokenConfig{})
	if err != nil {
		f.Fatal(err)
	}
	token, _, err := tokens.Issue(nurse, issuedAt)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(token)
	f.Add(strings.Replace(token, ".", "..", 1))
	f.Add(token[:len(token)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		p, err := tokens.Verify(token, issuedAt.Add(time.Minute))
		if err != nil {
			return
		}
		if p.UserID != nurse.UserID || p.SessionID != nurse.SessionID {
			t.Fatalf("accepted %q for %+v, a principal it never issued a token to", token, p)
		}
	})
}

// FuzzOpenSealed hands arbitrary sealed values to SecretBox.Open: it must
// never panic, and whatever it opens is a value it sealed, for the
// context it was sealed for.
func FuzzOpenSealed(f *testing.F) {
	key, err := auth.GenerateSecretKey()
	if err != nil {
		f.Fatal(err)
	}
	box, err := auth.NewSecretBox(key)
	if err != nil {
		f.Fatal(err)
	}
	const plain, context = "JBSWY3DPEHPK3PXP", "user-7f9c"
	sealed, err := box.Seal(plain, context)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, context)
	f.Add(sealed, "user-other")
	f.Add(sealed[:len(sealed)-1], context)
	f.Add("v1."+box.KeyID()+".", context)
	f.Add("v2.x.y", "")
	f.Fuzz(func(t *testing.T, sealed, ctx string) {
		got, err := box.Open(sealed, ctx)
		if err != nil {
			return
		}
		if got != plain || ctx != context {
			t.Fatalf("opened %q for context %q to %q: nothing was sealed so", sealed, ctx, got)
		}
	})
}

// FuzzParseSigningKeyPEM hands arbitrary files to ParseSigningKeyPEM: it
// must never panic, and a key it accepts signs what its public half
// verifies and encodes to a file that parses to the same key.
func FuzzParseSigningKeyPEM(f *testing.F) {
	key, err := auth.GenerateSigningKey()
	if err != nil {
		f.Fatal(err)
	}
	pem, err := auth.EncodeSigningKeyPEM(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem)
	f.Add(append(pem, "trailing"...))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := auth.ParseSigningKeyPEM(data)
		if err != nil {
			return
		}
		msg := []byte("checkpoint")
		if !ed25519.Verify(key.Public().(ed25519.PublicKey), msg, ed25519.Sign(key, msg)) {
			t.Fatalf("accepted %q, a key whose signature does not verify", data)
		}
		again, err := auth.EncodeSigningKeyPEM(key)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", data, err)
		}
		if back, err := auth.ParseSigningKeyPEM(again); err != nil || !key.Equal(back) {
			t.Fatalf("the key of %q does not survive its own encoding: %v", data, err)
		}
	})
}

// FuzzPasswordInput hands arbitrary passwords and stored hashes to the
// functions that read them: CheckPassword's problems are the fixed ones
// of their codes, so that none can carry the password or the address;
// NeedsRehash never panics on a stored hash it cannot read.
func FuzzPasswordInput(f *testing.F) {
	known := map[string]string{}
	for _, p := range append(auth.CheckPassword("", ""), auth.CheckPassword("nurse", "nurse@x")...) {
		known[p.Code] = p.Message
	}
	hash, err := auth.HashPassword("Correct-Horse-Battery-9")
	if err != nil {
		f.Fatal(err)
	}
	if auth.NeedsRehash(hash) {
		f.Fatal("a hash made with the default parameters needs a rehash")
	}
	f.Add("Correct-Horse-Battery-9", "j.doe@oak.example", hash)
	f.Add("j.doe-Secret-1", "j.doe@oak.example", strings.Replace(hash, "m=", "m=9", 1))
	f.Add("short", "", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$a2V5")
	f.Fuzz(func(t *testing.T, password, email, encoded string) {
		for _, p := range auth.CheckPassword(password, email) {
			if want, ok := known[p.Code]; !ok || p.Message != want {
				t.Fatalf("CheckPassword(%q, %q) gave %+v, not a fixed problem", password, email, p)
			}
		}
		auth.NeedsRehash(encoded)
	})
}

// FuzzTOTPCode hands arbitrary codes to MatchTOTP: it must never panic,
// and it accepts only six digits, the code of a step within one period
// of now.
func FuzzTOTPCode(f *testing.F) {
	secret, _, err := auth.NewTOTPSecret("nurse@district.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("123456")
	f.Add(" 000000 ")
	f.Add("12345")
	f.Add("１２３４５６")
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := auth.MatchTOTP(secret, code, issuedAt)
		if !ok {
			return
		}
		digits := strings.TrimSpace(code)
		if len(digits) != 6 || strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("accepted %q, which is not six digits", code)
		}
		now := issuedAt.Unix() / 30
		if !slices.Contains([]int64{now - 1, now, now + 1}, step) {
			t.Fatalf("accepted %q for step %d, not within a period of %d", code, step, now)
		}
	})
}
