package auth

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// signingKeyPEMType is the PEM block type of a PKCS #8 private key.
const signingKeyPEMType = "PRIVATE KEY"

// GenerateSigningKey returns a new Ed25519 key for signing access tokens.
func GenerateSigningKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return key, nil
}

// EncodeSigningKeyPEM returns key as a PKCS #8 "PRIVATE KEY" PEM block, the
// form [ParseSigningKeyPEM] reads and openssl writes with
// "openssl genpkey -algorithm ed25519".
func EncodeSigningKeyPEM(key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("encode signing key: not an Ed25519 private key")
	}

	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: signingKeyPEMType, Bytes: der}), nil
}

// ParseSigningKeyPEM reads an Ed25519 private key from a single PKCS #8
// "PRIVATE KEY" PEM block. It refuses input that is not PEM, a block of
// another type, anything after the block, and keys of other algorithms.
// Its errors never hold key material.
func ParseSigningKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("parse signing key: not PEM")
	}
	if block.Type != signingKeyPEMType {
		return nil, fmt.Errorf("parse signing key: PEM type %q, want %q",
			block.Type, signingKeyPEMType)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("parse signing key: data after the PEM block")
	}

	// The parser's own error describes the DER it choked on; a fixed
	// message keeps key material out of errors and logs.
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("parse signing key: not a PKCS #8 private key")
	}

	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse signing key: %T is not an Ed25519 key", parsed)
	}
	return key, nil
}
