package main

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/auth"
)

// TestTokenVerifyKeys reads the keys of WHITECROSS_TOKEN_VERIFY_KEY_FILES
// as the public halves of signing keys, and names the variable when a
// file cannot be read.
func TestTokenVerifyKeys(t *testing.T) {
	dir := t.TempDir()
	var want []ed25519.PublicKey
	var files []string
	for _, name := range []string{"next.pem", "previous.pem"} {
		key, err := auth.GenerateSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		pem, err := auth.EncodeSigningKeyPEM(key)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		want = append(want, key.Public().(ed25519.PublicKey))
	}

	t.Setenv("WHITECROSS_TOKEN_VERIFY_KEY_FILES", strings.Join(files, ", "))
	got, err := tokenVerifyKeys(loadConfig())
	if err != nil || len(got) != 2 || !got[0].Equal(want[0]) || !got[1].Equal(want[1]) {
		t.Fatalf("keys %v, %v; want the public halves of both files", got, err)
	}

	t.Setenv("WHITECROSS_TOKEN_VERIFY_KEY_FILES", filepath.Join(dir, "missing.pem"))
	if _, err := tokenVerifyKeys(loadConfig()); err == nil ||
		!strings.Contains(err.Error(), "WHITECROSS_TOKEN_VERIFY_KEY_FILES") {
		t.Errorf("a missing file: %v, want an error naming the variable", err)
	}
}
