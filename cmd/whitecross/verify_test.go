package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// seedLog appends five events to stream a and three to stream b, taking
// turns (a, b, a, b, a, b, a, a), so that each of a's events has one of b's
// beside it in the log, and returns a's events as stored.
func seedLog(t *testing.T, db *pgtest.DB) []eventstore.Event {
	t.Helper()
	l := postgres.New(db.AppPool(t), postgres.Config{})
	defer l.Close()
	order := []string{"student-a", "student-b", "student-a", "student-b",
		"student-a", "student-b", "student-a", "student-a"}
	for i, stream := range order {
		_, err := l.Append(t.Context(), stream, eventstore.Any, eventstore.EventData{
			Type:     "Tested",
			Data:     fmt.Appendf(nil, `{"n":%d,"note":"abcdef"}`, i),
			Metadata: eventstore.Metadata{ActorID: "actor-1", ActorRole: "nurse"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	evs, err := l.ReadStream(t.Context(), "student-a", eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// verifyCLI runs `whitecross verify` on db and returns its exit status and
// output.
func verifyCLI(t *testing.T, db *pgtest.DB, args ...string) (int, string) {
	t.Helper()
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_APP_DATABASE_URL", "")
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"verify"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// tamper runs statements as the database owner with the log's triggers
// disabled, as a superuser bent on rewriting history would.
func tamper(t *testing.T, db *pgtest.DB, statements ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.AdminPool(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	statements = append(append([]string{"ALTER TABLE events DISABLE TRIGGER USER"},
		statements...), "ALTER TABLE events ENABLE TRIGGER USER")
	for _, q := range statements {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyIntact(t *testing.T) {
	db := pgtest.New(t)
	seedLog(t, db)
	code, out := verifyCLI(t, db)
	if code != 0 || !strings.Contains(out, "checked 8 events") || !strings.Contains(out, "intact") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	code, out = verifyCLI(t, db, "--stream", "student-b")
	if code != 0 || !strings.Contains(out, "checked 3 events") {
		t.Fatalf("--stream: exit %d, output:\n%s", code, out)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name string
		sql  []string
		// want lists what the first BAD line must say: the stream, the
		// revision and id of the event named, and what is wrong.
		want func(a []eventstore.Event) []string
	}{
		{
			name: "one byte of data",
			sql: []string{`UPDATE events SET data = set_byte(data, 3, get_byte(data, 3) # 1)
				WHERE stream = 'student-a' AND revision = 2`},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 2", a[2].ID.String(), "data does not match its digest"}
			},
		},
		{
			name: "one byte of metadata",
			sql: []string{`UPDATE events SET metadata = set_byte(metadata, 5, get_byte(metadata, 5) # 1)
				WHERE stream = 'student-a' AND revision = 2`},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 2", a[2].ID.String(), "does not match the recomputed hash"}
			},
		},
		{
			name: "one byte of the type",
			sql:  []string{`UPDATE events SET type = 'Texted' WHERE stream = 'student-a' AND revision = 2`},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 2", a[2].ID.String(), "does not match the recomputed hash"}
			},
		},
		{
			name: "an event deleted in the middle of a stream",
			sql:  []string{`DELETE FROM events WHERE stream = 'student-a' AND revision = 2`},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 3", a[3].ID.String(), "missing before it"}
			},
		},
		{
			// b's newest event sits between a's fourth and fifth: b's chain
			// still looks whole, and only the hole in the positions shows.
			name: "the newest event of a stream deleted, inside the log",
			sql:  []string{`DELETE FROM events WHERE stream = 'student-b' AND revision = 2`},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 3", a[3].ID.String(),
					"positions 6 to 6 are missing before it"}
			},
		},
		{
			name: "two events' revisions swapped",
			sql: []string{
				`UPDATE events SET revision = 1000 WHERE stream = 'student-a' AND revision = 1`,
				`UPDATE events SET revision = 1 WHERE stream = 'student-a' AND revision = 3`,
				`UPDATE events SET revision = 3 WHERE stream = 'student-a' AND revision = 1000`,
			},
			want: func(a []eventstore.Event) []string {
				return []string{"stream student-a revision 3", a[1].ID.String(), "revisions 1 to 2 are missing"}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := pgtest.New(t)
			a := seedLog(t, db)
			if code, out := verifyCLI(t, db); code != 0 {
				t.Fatalf("before tampering: exit %d\n%s", code, out)
			}
			tamper(t, db, c.sql...)
			code, out := verifyCLI(t, db)
			if code != 1 {
				t.Fatalf("exit %d, want 1; output:\n%s", code, out)
			}
			first := firstBad(out)
			for _, w := range c.want(a) {
				if !strings.Contains(first, w) {
					t.Errorf("first problem %q does not say %q; output:\n%s", first, w, out)
				}
			}
		})
	}
}

func firstBad(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "BAD ") {
			return line
		}
	}
	return ""
}

// TestLogIsAppendOnly checks that the service's role can neither change
// the log nor lift its protection, and that even the owner is stopped by
// the triggers.
func TestLogIsAppendOnly(t *testing.T) {
	db := pgtest.New(t)
	seedLog(t, db)
	changes := []string{
		`UPDATE events SET type = 'X' WHERE revision = 0`,
		`DELETE FROM events WHERE revision = 0`,
		`TRUNCATE events`,
	}
	escapes := append(changes,
		`ALTER TABLE events DISABLE TRIGGER USER`,
		`DROP TRIGGER events_no_update_or_delete ON events`,
		`DROP TABLE events`,
		`CREATE TABLE events_copy (LIKE events)`,
	)
	// The service's login has nothing above its role to go back to: with
	// the role reset, every statement is still refused.
	var reset []string
	for _, q := range escapes {
		reset = append(reset, "RESET ROLE; "+q)
	}
	cases := []struct {
		name       string
		pool       *pgxpool.Pool
		statements []string
	}{
		{"service role", db.AppPool(t), escapes},
		{"service login, role reset", db.AppPool(t), reset},
		{"owner", db.AdminPool(t), changes},
	}
	for _, c := range cases {
		for _, q := range c.statements {
			if _, err := c.pool.Exec(t.Context(), q); err == nil {
				t.Errorf("%s: %q succeeded", c.name, q)
			}
		}
	}
	if code, out := verifyCLI(t, db); code != 0 || !strings.Contains(out, "checked 8 events") {
		t.Fatalf("after refused changes: exit %d\n%s", code, out)
	}
}
