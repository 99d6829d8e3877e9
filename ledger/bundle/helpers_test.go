package bundle_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// fixture is a fresh database with a log, its sealer and a key.
type fixture struct {
	db     *pgtest.DB
	pool   *pgxpool.Pool
	log    *postgres.Log
	signer note.Signer
	vkey   string
	sealer *ledger.Sealer
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	db := pgtest.New(tb)
	pool := db.AppPool(tb)
	l := postgres.New(pool, postgres.Config{})
	tb.Cleanup(func() { l.Close() })
	skey, _, err := ledger.GenerateKey("test.example/whitecross")
	if err != nil {
		tb.Fatal(err)
	}
	signer, vkey, err := ledger.ParseSignerKey(skey)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := ledger.NewSealer(l, pool, signer, ledger.SealerConfig{Batch: 5000})
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{db: db, pool: pool, log: l, signer: signer, vkey: vkey, sealer: s}
}

// The accounts and students of the small log.
const (
	nurseA   = "0b5e4c1e-8f2a-4d7b-9c3e-2a1f6d8e9b70"
	nurseB   = "1c6f5d2f-9a3b-4e8c-8d4f-3b2a7e9f0c81"
	auditor  = "2d7a6e3a-0b4c-4f9d-9e5a-4c3b8f0a1d92"
	studentA = "3e8b7f4b-1c5d-4a0e-8f6b-5d4c9a1b2ea3"
	studentB = "4f9c8a5c-2d6e-4b1f-9a7c-6e5dab2c3fb4"
)

// seedSmall appends a health office's morning: two students' charts, a
// read of one by an auditor, an account's event with no actor.
func (fx *fixture) seedSmall(tb testing.TB) []eventstore.Event {
	tb.Helper()
	for _, a := range []struct {
		stream, typ, actor, data string
	}{
		{"student-" + studentA, "StudentEnrolled", nurseA, `{"student_id":"` + studentA + `","grade":"4"}`},
		{"student-" + studentB, "StudentEnrolled", nurseB, `{"student_id":"` + studentB + `"}`},
		{"student-" + studentA, "AllergyRecorded", nurseA, `{"allergen":"peanut","severity":"severe"}`},
		{"access-9a1b", "PHIAccessed", auditor, `{"student_ids":["` + studentA + `"]}`},
		{"student-" + studentB, "VitalsRecorded", nurseB, `{"temperature":"37.1"}`},
		{"user-" + nurseA, "PasswordSet", "", `{"reason":"initial"}`},
		{"student-" + studentA, "VisitRecorded", nurseB, `{"reasons":["headache"]}`},
	} {
		_, err := fx.log.Append(tb.Context(), a.stream, eventstore.Any, eventstore.EventData{
			Type: a.typ, Data: []byte(a.data),
			Metadata: eventstore.Metadata{ActorID: a.actor, ActorRole: "nurse"},
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	evs, err := fx.log.ReadAll(tb.Context(), 0, 100)
	if err != nil {
		tb.Fatal(err)
	}
	return evs
}

// describe is the tests' Describe: a chart's events are its student's, an
// access names its students.
func describe(e *eventstore.Event) bundle.Audit {
	a := bundle.Audit{Kind: bundle.KindCreate}
	if id, ok := strings.CutPrefix(e.Stream, "student-"); ok {
		a.Students = []string{id}
	}
	if e.Type == "PHIAccessed" {
		var d struct {
			StudentIDs []string `json:"student_ids"`
		}
		json.Unmarshal(e.Data, &d)
		a.Students, a.Kind = d.StudentIDs, bundle.KindRead
	}
	return a
}

// export seals the log and writes the bundle of scope to a file of the
// test's; it returns the file's path.
func (fx *fixture) export(tb testing.TB, scope bundle.Scope, payloads, fhir bool) (string, bundle.Summary) {
	tb.Helper()
	cp, err := fx.sealer.Checkpoint(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "bundle.tar")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sum, err := bundle.Write(tb.Context(), f, fx.log, fx.sealer.Tree(), bundle.Options{
		Checkpoint: cp, Signer: fx.signer, VerifierKey: fx.vkey, Scope: scope,
		Payloads: payloads, FHIR: fhir, Describe: describe, ExportID: "e-test",
		TempDir: tb.TempDir(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, sum
}

// member is one file of a tar, with where its header and content lie.
type member struct {
	name           string
	header, offset int64
	data           []byte
}

// members reads a tar with archive/tar, noting offsets by hand.
func members(tb testing.TB, raw []byte) (out []member, end int64) {
	tb.Helper()
	r := &countReader{r: bytes.NewReader(raw)}
	tr := tar.NewReader(r)
	for {
		at := (r.n + 511) / 512 * 512
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, at
		}
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, member{name: h.Name, header: at, offset: at + 512, data: data})
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func file(tb testing.TB, ms []member, name string) []byte {
	tb.Helper()
	for _, m := range ms {
		if m.name == name {
			return m.data
		}
	}
	tb.Fatalf("the bundle holds no %s", name)
	return nil
}

// lines splits NDJSON into its lines.
func lines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

func ids(events []eventstore.Event) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintln(&b, e.ID)
	}
	return b.String()
}
