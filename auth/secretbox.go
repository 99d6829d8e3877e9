package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SecretKeySize is the size of a SecretBox key: AES-256.
const SecretKeySize = 32

// ErrSealedSecret is returned by SecretBox.Open for a value it cannot
// open: not sealed by this package, sealed under another key, bound to
// another context, or altered. Test with errors.Is.
var ErrSealedSecret = errors.New("sealed secret cannot be opened")

// sealedPrefix starts every sealed value: the layout's version.
const sealedPrefix = "v1."

// SecretBox seals the credentials that events must carry (a second
// factor's secret) so that the log, its backups and what is exported from
// it hold them only encrypted, under a key kept outside the database.
//
// A sealed value is "v1.<key id>.<base64url(nonce ‖ AES-256-GCM ciphertext)>";
// the key id is the first 8 bytes of SHA-256 of the key, in hex, so that a
// value sealed under a retired key is recognised as such. The context a
// value is sealed for (for example the account it belongs to) is
// authenticated data: a sealed value copied to another account does not
// open there.
type SecretBox struct {
	aead  cipher.AEAD
	keyID string
}

// NewSecretBox returns a SecretBox over key, which must be SecretKeySize
// bytes.
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key: %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	sum := sha256.Sum256(key)
	return &SecretBox{aead: aead, keyID: hex.EncodeToString(sum[:8])}, nil
}

// GenerateSecretKey returns a new random key for NewSecretBox.
func GenerateSecretKey() ([]byte, error) {
	key := make([]byte, SecretKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return key, nil
}

// KeyID identifies the box's key without revealing it.
func (b *SecretBox) KeyID() string { return b.keyID }

// Seal encrypts plain for context.
func (b *SecretBox) Seal(plain, context string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(plain), []byte(context))
	return sealedPrefix + b.keyID + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value Seal returned for the same context.
func (b *SecretBox) Open(sealed, context string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ErrSealedSecret
	}
	keyID, body, ok := strings.Cut(rest, ".")
	if !ok || keyID != b.keyID {
		return "", ErrSealedSecret
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", ErrSealedSecret
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(context))
	if err != nil {
		return "", ErrSealedSecret
	}
	return string(plain), nil
}

// IsSealed reports whether s has the layout of a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, sealedPrefix) }
