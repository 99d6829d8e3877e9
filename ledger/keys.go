package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// GenerateKey makes an Ed25519 key pair for signing checkpoints of the log
// named origin (for example "health.example.org/whitecross"). The signer
// key is secret; the verifier key is what auditors and other tools are
// given, in the signed-note verifier-key form "name+hash+key".
func GenerateKey(origin string) (signerKey, verifierKey string, err error) {
	if strings.ContainsAny(origin, " \t\n+") || origin == "" {
		return "", "", errors.New("origin: want a name without spaces or '+', such as example.org/whitecross")
	}
	return note.GenerateKey(rand.Reader, origin)
}

// ParseSignerKey reads a signer key as GenerateKey writes it (surrounding
// space allowed) and returns the signer and its verifier key.
func ParseSignerKey(text string) (note.Signer, string, error) {
	skey := strings.TrimSpace(text)
	s, err := note.NewSigner(skey)
	if err != nil {
		// The error never repeats the key.
		return nil, "", fmt.Errorf("ledger signer key: %w", err)
	}
	vkey, err := verifierKeyOf(skey, s.Name())
	if err != nil {
		return nil, "", err
	}
	return s, vkey, nil
}

// verifierKeyOf derives the verifier key of an Ed25519 signer key: the
// key's last field is the algorithm byte and the private seed.
func verifierKeyOf(skey, name string) (string, error) {
	// PRIVATE+KEY+name+hash+key: the key, in base64, may hold "+" itself.
	fields := strings.SplitN(skey, "+", 5)
	raw, err := base64.StdEncoding.DecodeString(fields[len(fields)-1])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return "", errors.New("ledger signer key: not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}

// ParseVerifierKey reads a verifier key ("name+hash+key").
func ParseVerifierKey(text string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("ledger verifier key: %w", err)
	}
	return v, nil
}
