package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/auth"
)

func mustRefreshToken(t *testing.T) (string, []byte) {
	t.Helper()
	token, hash, err := auth.NewRefreshToken()
	if err != nil {
		t.Fatalf("NewRefreshToken() error = %v", err)
	}
	return token, hash
}

func TestNewRefreshToken(t *testing.T) {
	token, hash := mustRefreshToken(t)

	body, ok := strings.CutPrefix(token, auth.RefreshTokenPrefix)
	if !ok {
		t.Fatalf("token %q lacks prefix %q", token, auth.RefreshTokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("token body is not unpadded base64url: %v", err)
	}
	if len(raw) != 32 {
		t.Errorf("token holds %d random bytes, want 32", len(raw))
	}

	want := sha256.Sum256([]byte(token))
	if !bytes.Equal(hash, want[:]) {
		t.Errorf("hash = %x, want SHA-256 of the token %x", hash, want)
	}
	if got := auth.HashRefreshToken(token); !bytes.Equal(got, hash) {
		t.Errorf("HashRefreshToken() = %x, want %x", got, hash)
	}
}

func TestNewRefreshTokenUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		token, _ := mustRefreshToken(t)
		if seen[token] {
			t.Fatalf("NewRefreshToken() repeated a token")
		}
		seen[token] = true
	}
}

func TestVerifyRefreshToken(t *testing.T) {
	token, hash := mustRefreshToken(t)
	other, otherHash := mustRefreshToken(t)

	tests := []struct {
		name  string
		token string
		hash  []byte
		want  bool
	}{
		{"its own hash", token, hash, true},
		{"another token's hash", token, otherHash, false},
		{"another token", other, hash, false},
		{"without prefix", strings.TrimPrefix(token, auth.RefreshTokenPrefix), hash, false},
		{"one character changed", changeLast(token), hash, false},
		{"truncated hash", token, hash[:16], false},
		{"empty hash", token, nil, false},
		{"empty token", "", hash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.VerifyRefreshToken(tt.token, tt.hash); got != tt.want {
				t.Errorf("VerifyRefreshToken() = %v, want %v", got, tt.want)
			}
		})
	}
}

// changeLast returns s with its last byte replaced by another.
func changeLast(s string) string {
	last := byte('A')
	if s[len(s)-1] == last {
		last = 'B'
	}
	return s[:len(s)-1] + string(last)
}
