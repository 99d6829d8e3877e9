package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/whitecross/whitecross/auth"
)

func TestSigningKeyPEMRoundTrip(t *testing.T) {
	key := mustSigningKey(t)
	encoded, err := auth.EncodeSigningKeyPEM(key)
	if err != nil {
		t.Fatalf("EncodeSigningKeyPEM() error = %v", err)
	}
	if !strings.HasPrefix(string(encoded), "-----BEGIN PRIVATE KEY-----\n") {
		t.Errorf("EncodeSigningKeyPEM() = %q, want a PRIVATE KEY block", encoded)
	}

	parsed, err := auth.ParseSigningKeyPEM(encoded)
	if err != nil {
		t.Fatalf("ParseSigningKeyPEM() error = %v", err)
	}
	if !parsed.Equal(key) {
		t.Errorf("ParseSigningKeyPEM() returned another key")
	}

	// The parsed key verifies what the original signed.
	token := mustIssue(t, mustTokens(t, key, auth.TokenConfig{}), nurse)
	if _, err := mustTokens(t, parsed, auth.TokenConfig{}).Verify(token, issuedAt); err != nil {
		t.Errorf("Verify() with the parsed key error = %v", err)
	}
}

func TestGenerateSigningKeyUnique(t *testing.T) {
	a, b := mustSigningKey(t), mustSigningKey(t)
	if a.Equal(b) {
		t.Errorf("GenerateSigningKey() returned the same key twice")
	}
}

// opensslKey is an Ed25519 key written by "openssl genpkey -algorithm
// ed25519", and opensslPublic its public key as "openssl pkey -pubout"
// gives it. The key signs nothing real.
const opensslKey = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJn3Sush9yhDMWjMgCQ17ofeUHlGhi9n4xFqXaYMqxPg
-----END PRIVATE KEY-----
`

const opensslPublic = "13dffdbed18560fa96e257ddb846c3e25e20f1bbc7bd3dd2b3d4d304c3230adf"

func TestParseSigningKeyPEMOpenSSL(t *testing.T) {
	key, err := auth.ParseSigningKeyPEM([]byte(opensslKey))
	if err != nil {
		t.Fatalf("ParseSigningKeyPEM() error = %v", err)
	}
	if got := hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != opensslPublic {
		t.Errorf("public key = %s, want %s", got, opensslPublic)
	}
	if _, _, err := mustTokens(t, key, auth.TokenConfig{}).Issue(nurse, time.Now()); err != nil {
		t.Errorf("Issue() with the parsed key error = %v", err)
	}
}

func TestParseSigningKeyPEMRefuses(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate ECDSA key: %v", err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatalf("marshal ECDSA key: %v", err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})

	edPEM, err := auth.EncodeSigningKeyPEM(mustSigningKey(t))
	if err != nil {
		t.Fatalf("EncodeSigningKeyPEM() error = %v", err)
	}
	block, _ := pem.Decode(edPEM)
	wrongType := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: block.Bytes})
	garbled := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER")})

	tests := []struct {
		name    string
		data    []byte
		wantMsg string
	}{
		{"empty", nil, "not PEM"},
		{"not PEM", []byte("ed25519 key, honest"), "not PEM"},
		{"raw DER", block.Bytes, "not PEM"},
		{"other PEM type", wrongType, "PEM type"},
		{"not PKCS #8", garbled, "not a PKCS #8 private key"},
		{"ECDSA key", ecPEM, "not an Ed25519 key"},
		{"two blocks", append(edPEM, edPEM...), "data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := auth.ParseSigningKeyPEM(tt.data)
			if err == nil {
				t.Fatalf("ParseSigningKeyPEM() = %x, nil; want an error", key)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ParseSigningKeyPEM() error = %q, want it to say %q", err, tt.wantMsg)
			}
		})
	}
}

func TestEncodeSigningKeyPEMRefuses(t *testing.T) {
	if _, err := auth.EncodeSigningKeyPEM(make([]byte, 10)); err == nil {
		t.Errorf("EncodeSigningKeyPEM(short key) error = nil, want an error")
	}
}
