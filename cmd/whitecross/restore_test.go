package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// TestVerifyARestoredBackup follows docs/operations.md: a backup taken
// when the log held 8 events is restored after the log had grown to 16
// and a checkpoint of 16 was witnessed. verify says that the newest 8
// events are gone and nothing else; with the checkpoints of the lost
// events set aside, it finds the restored log intact.
func TestVerifyARestoredBackup(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: install PostgreSQL's client programs", tool)
		}
	}
	db := pgtest.New(t)
	sealedLog(t, db)
	backup := filepath.Join(t.TempDir(), "whitecross.dump")
	runProgram(t, "pg_dump", "--format=custom", "--file="+backup, db.URL)

	seedLog(t, db)
	if code, out := verifyCLI(t, db, "--max-problems", "1"); code != 0 {
		t.Fatalf("before sealing the new events: exit %d\n%s", code, out)
	}
	var sealed bytes.Buffer
	if code := run(t.Context(), []string{"ledger", "seal"}, &sealed, &sealed); code != 0 ||
		!strings.Contains(sealed.String(), "checkpoint of 16 events signed") {
		t.Fatalf("ledger seal: exit %d\n%s", code, sealed.String())
	}

	restored := emptyDatabase(t)
	runProgram(t, "pg_restore", "--exit-on-error", "--dbname="+restored.URL, backup)
	code, out := verifyCLI(t, restored)
	if code != 1 || strings.Count(out, "BAD ") != 1 {
		t.Fatalf("the restored log: exit %d, want 1 and one problem\n%s", code, out)
	}
	for _, want := range []string{"the log holds 8 events", "checkpoint was witnessed for 16",
		"the newest 8 events were removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify does not say %q:\n%s", want, out)
		}
	}

	// The checkpoints of the lost events go to a folder of their own,
	// kept as the record of what was lost.
	witness := os.Getenv("WHITECROSS_WITNESS_DIR")
	lost := filepath.Join(t.TempDir(), "lost")
	if err := os.Mkdir(lost, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"16.checkpoint", "checkpoint"} {
		if err := os.Rename(filepath.Join(witness, name), filepath.Join(lost, name)); err != nil {
			t.Fatal(err)
		}
	}
	code, out = verifyCLI(t, restored)
	if code != 0 || !strings.Contains(out, "compared with 1 witnessed checkpoint(s), the latest of 8 events") {
		t.Fatalf("the restored log, the lost checkpoints set aside: exit %d\n%s", code, out)
	}
}

// runProgram runs a program and fails t when it fails.
func runProgram(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// emptyDatabase makes a database with nothing in it, as a restore starts
// from, and drops it when the test ends.
func emptyDatabase(t *testing.T) *pgtest.DB {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	name := strings.ReplaceAll("whitecross_restore_"+strings.ToLower(t.Name()), "/", "_")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return &pgtest.DB{URL: u.String(), Name: name}
}
