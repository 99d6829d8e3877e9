package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// TestVerifyAcrossALedgerKeyRotation signs a checkpoint, rotates the
// ledger's key as docs/operations.md says and signs another: verify
// needs the old verifier key beside the new one, and with both finds the
// log intact.
func TestVerifyAcrossALedgerKeyRotation(t *testing.T) {
	db := pgtest.New(t)
	sealedLog(t, db)
	oldKey := os.Getenv("WHITECROSS_LEDGER_KEY_FILE")
	newKey := filepath.Join(filepath.Dir(oldKey), "ledger-key-2")
	var out bytes.Buffer
	if code := run(t.Context(), []string{"keys", "generate", "--out", newKey}, &out, &out); code != 0 {
		t.Fatalf("keys generate: exit %d\n%s", code, out.String())
	}
	t.Setenv("WHITECROSS_LEDGER_KEY_FILE", newKey)
	seedLog(t, db)
	out.Reset()
	if code := run(t.Context(), []string{"ledger", "seal"}, &out, &out); code != 0 ||
		!strings.Contains(out.String(), "checkpoint of 16 events signed") {
		t.Fatalf("ledger seal with the new key: exit %d\n%s", code, out.String())
	}

	code, text := verifyCLI(t, db)
	if code != 1 || !strings.Contains(text, "witness file 8.checkpoint: not a valid signed checkpoint") {
		t.Fatalf("with the new key alone: exit %d, want 1 naming 8.checkpoint\n%s", code, text)
	}

	keys := filepath.Join(t.TempDir(), "verifier-keys")
	both := mustRead(t, oldKey+".pub") + mustRead(t, newKey+".pub")
	if err := os.WriteFile(keys, []byte(both), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WHITECROSS_LEDGER_VERIFIER_KEY_FILE", keys)
	code, text = verifyCLI(t, db)
	if code != 0 || !strings.Contains(text, "compared with 2 witnessed checkpoint(s), the latest of 16 events") {
		t.Fatalf("with both verifier keys: exit %d\n%s", code, text)
	}
}
