package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// sealedLog seeds db as seedLog does, seals it with `whitecross ledger
// seal` into a witness directory of the test's, and returns a's events.
func sealedLog(t *testing.T, db *pgtest.DB) []eventstore.Event {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("WHITECROSS_LEDGER_KEY_FILE", filepath.Join(dir, "ledger-key"))
	t.Setenv("WHITECROSS_WITNESS_DIR", filepath.Join(dir, "witness"))
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_LOG_LEVEL", "error")
	a := seedLog(t, db)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"ledger", "seal"}, &out, &errOut); code != 0 {
		t.Fatalf("ledger seal: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "checkpoint of 8 events signed") {
		t.Fatalf("ledger seal said:\n%s", out.String())
	}
	return a
}

func TestVerifyComparesWithCheckpoints(t *testing.T) {
	db := pgtest.New(t)
	sealedLog(t, db)
	code, out := verifyCLI(t, db)
	if code != 0 || !strings.Contains(out, "compared with 1 witnessed checkpoint(s), the latest of 8 events") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestVerifyDetectsWhatChainsCannot does, as a superuser, what leaves
// every stream's chain intact: it cuts off the newest events, deletes a
// whole stream, and rewrites an event and chains its stream anew. verify
// exits 1 each time and names what was done.
func TestVerifyDetectsWhatChainsCannot(t *testing.T) {
	cases := []struct {
		name string
		// tamper changes db, given a's events.
		tamper func(t *testing.T, db *pgtest.DB, a []eventstore.Event)
		// want is what the output must say, besides exit 1.
		want []string
	}{
		{
			name: "tail truncated",
			tamper: func(t *testing.T, db *pgtest.DB, _ []eventstore.Event) {
				tamper(t, db, `DELETE FROM events WHERE position > 6`)
			},
			want: []string{"the log holds 6 events", "checkpoint was witnessed for 8",
				"the newest 2 events were removed", "leaf 6 was sealed from stream student-a revision 3"},
		},
		{
			name: "tail truncated, ledger tables emptied too",
			tamper: func(t *testing.T, db *pgtest.DB, _ []eventstore.Event) {
				tamper(t, db, `DELETE FROM events WHERE position > 6`)
				wipeLedger(t, db)
			},
			want: []string{"the newest 2 events were removed"},
		},
		{
			name: "a whole stream deleted",
			tamper: func(t *testing.T, db *pgtest.DB, _ []eventstore.Event) {
				tamper(t, db, `DELETE FROM events WHERE stream = 'student-b'`)
			},
			want: []string{"leaf 1 was sealed from stream student-b revision 0",
				"the log holds 5 events", "3 of the events it covers are missing"},
		},
		{
			name: "a whole stream deleted, ledger tables emptied too",
			tamper: func(t *testing.T, db *pgtest.DB, _ []eventstore.Event) {
				tamper(t, db, `DELETE FROM events WHERE stream = 'student-b'`)
				wipeLedger(t, db)
			},
			want: []string{"the log holds 5 events", "checkpoint was witnessed for 8"},
		},
		{
			name: "history rewritten and chained anew",
			tamper: func(t *testing.T, db *pgtest.DB, a []eventstore.Event) {
				rechain(t, db, a, 1, []byte(`{"n":99,"note":"rewritten"}`))
			},
			want: []string{"stream student-a revision 1", "it was changed and sealed anew",
				"do not hash to the root"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := pgtest.New(t)
			a := sealedLog(t, db)
			c.tamper(t, db, a)
			code, out := verifyCLI(t, db)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s", code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
}

// wipeLedger empties the ledger's tables, as one who rewrites the log
// would to hide it; only the witnessed checkpoints remain.
func wipeLedger(t *testing.T, db *pgtest.DB) {
	t.Helper()
	for _, table := range []string{"ledger_leaves", "ledger_hashes", "ledger_checkpoints"} {
		_, err := db.AdminPool(t).Exec(context.Background(),
			"ALTER TABLE "+table+" DISABLE TRIGGER USER; DELETE FROM "+table+
				"; ALTER TABLE "+table+" ENABLE TRIGGER USER")
		if err != nil {
			t.Fatal(err)
		}
	}
}

// rechain gives a's event at revision from new data, then seals it and
// every later event of a anew, so that a's chain verifies again.
func rechain(t *testing.T, db *pgtest.DB, a []eventstore.Event, from int, data []byte) {
	t.Helper()
	a[from].Data = data
	a[from].DataDigest = eventstore.DigestData(a[from].DataSalt, data)
	prev := a[from-1].Hash
	var statements []string
	for i := from; i < len(a); i++ {
		a[i].PrevHash = prev
		a[i].Hash = eventstore.ComputeHash(&a[i])
		prev = a[i].Hash
	}
	ctx := context.Background()
	pool := db.AdminPool(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	statements = append(statements, "ALTER TABLE events DISABLE TRIGGER USER")
	for _, q := range statements {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for i := from; i < len(a); i++ {
		_, err := tx.Exec(ctx, `UPDATE events SET data = $1, data_digest = $2, prev_hash = $3,
			hash = $4 WHERE event_id = $5`, a[i].Data, a[i].DataDigest[:], a[i].PrevHash[:],
			a[i].Hash[:], a[i].ID)
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE events ENABLE TRIGGER USER"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	code, out := verifyStreamCLI(t, db, "student-a")
	if code != 0 {
		t.Fatalf("the rewritten stream's own chain must verify: exit %d\n%s", code, out)
	}
}

func verifyStreamCLI(t *testing.T, db *pgtest.DB, stream string) (int, string) {
	t.Helper()
	return verifyCLI(t, db, "--stream", stream)
}
