package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/auth"
)

func newBox(t *testing.T) *auth.SecretBox {
	t.Helper()
	key, err := auth.GenerateSecretKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSecretBoxRoundTrip(t *testing.T) {
	b := newBox(t)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	sealed, err := b.Seal(secret, "totp:user-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, secret) || !auth.IsSealed(sealed) {
		t.Fatalf("sealed value %q shows the secret or lacks the layout", sealed)
	}
	if !strings.Contains(sealed, "."+b.KeyID()+".") {
		t.Errorf("sealed value does not name key %s", b.KeyID())
	}
	again, _ := b.Seal(secret, "totp:user-1")
	if again == sealed {
		t.Error("two seals of one secret are equal: the nonce is not fresh")
	}
	got, err := b.Open(sealed, "totp:user-1")
	if err != nil || got != secret {
		t.Fatalf("Open = %q, %v; want the secret", got, err)
	}
}

func TestSecretBoxRefuses(t *testing.T) {
	b := newBox(t)
	sealed, err := b.Seal("JBSWY3DPEHPK3PXP", "totp:user-1")
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)-3] ^= 1
	cases := map[string]struct {
		box     *auth.SecretBox
		value   string
		context string
	}{
		"another context":  {b, sealed, "totp:user-2"},
		"another key":      {newBox(t), sealed, "totp:user-1"},
		"altered":          {b, string(tampered), "totp:user-1"},
		"plain text":       {b, "JBSWY3DPEHPK3PXP", "totp:user-1"},
		"truncated":        {b, sealed[:len("v1.")+16+3], "totp:user-1"},
		"empty":            {b, "", "totp:user-1"},
		"not base64":       {b, "v1." + b.KeyID() + ".***", "totp:user-1"},
		"no key separator": {b, "v1." + b.KeyID(), "totp:user-1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got, err := c.box.Open(c.value, c.context); !errors.Is(err, auth.ErrSealedSecret) {
				t.Errorf("Open = %q, %v; want ErrSealedSecret", got, err)
			}
		})
	}
	if _, err := auth.NewSecretBox(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key is accepted")
	}
}
