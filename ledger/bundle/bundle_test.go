package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/ledger"
	"github.com/whitecross/whitecross/ledger/bundle"
)

// TestRoundTrip writes a bundle of each scope, verifies it, and checks
// that it holds exactly the events of its scope, byte for byte as stored,
// with the proofs its scope calls for.
func TestRoundTrip(t *testing.T) {
	fx := newFixture(t)
	all := fx.seedSmall(t)
	from, to := all[2].RecordedAt, all[5].RecordedAt
	cases := []struct {
		name      string
		scope     bundle.Scope
		want      func(e eventstore.Event) bool
		proofKind string
		students  []string
	}{
		{"student", bundle.Scope{StudentID: studentA}, func(e eventstore.Event) bool {
			return e.Stream == "student-"+studentA || e.Type == "PHIAccessed"
		}, "inclusion", []string{studentA}},
		{"actor", bundle.Scope{ActorID: nurseB}, func(e eventstore.Event) bool {
			return strings.Contains(string(e.Metadata), nurseB)
		}, "inclusion", []string{studentA, studentB}},
		{"time range", bundle.Scope{From: &from, To: &to}, func(e eventstore.Event) bool {
			return !e.RecordedAt.Before(from) && e.RecordedAt.Before(to)
		}, "range", []string{studentA, studentB}},
		{"all", bundle.Scope{All: true}, func(eventstore.Event) bool { return true },
			"range", []string{studentA, studentB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, sum := fx.export(t, c.scope, true, true)
			rep, err := bundle.VerifyFile(path, bundle.VerifyOptions{TrustedKey: fx.vkey})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			want := slices.DeleteFunc(slices.Clone(all), func(e eventstore.Event) bool { return !c.want(e) })
			ms, _ := members(t, mustRead(t, path))
			events := lines(file(t, ms, bundle.FileEvents))
			if len(events) != len(want) || rep.Counts.Events != int64(len(want)) {
				t.Fatalf("%d events in the bundle (verify counted %d), want %d", len(events),
					rep.Counts.Events, len(want))
			}
			for i, line := range events {
				checkStoredBytes(t, line, want[i])
			}
			for _, line := range lines(file(t, ms, bundle.FileProofs)) {
				if !strings.HasPrefix(line, `{"kind":"`+c.proofKind+`"`) {
					t.Errorf("proof line %s, want a %s proof", line, c.proofKind)
				}
			}
			if got := len(lines(file(t, ms, bundle.FileAuditEvents))); got != len(want) {
				t.Errorf("%d AuditEvents, want %d", got, len(want))
			}
			if !slices.Equal(sum.Students, c.students) || rep.Manifest.Counts.Students != int64(len(c.students)) {
				t.Errorf("students %v (manifest %d), want %v", sum.Students, rep.Manifest.Counts.Students, c.students)
			}
			if !rep.Trusted || rep.Checkpoint.Size != int64(len(all)) {
				t.Errorf("report: trusted %v, checkpoint of %d", rep.Trusted, rep.Checkpoint.Size)
			}
		})
	}
}

// checkStoredBytes compares a line of events.ndjson with the event as the
// log stores it.
func checkStoredBytes(t *testing.T, line string, e eventstore.Event) {
	t.Helper()
	var got struct {
		ID           string  `json:"id"`
		Stream       string  `json:"stream"`
		Revision     uint64  `json:"revision"`
		Position     uint64  `json:"position"`
		RecordedAt   string  `json:"recorded_at"`
		RecordedAtUS int64   `json:"recorded_at_us"`
		Metadata     []byte  `json:"metadata"`
		Data         []byte  `json:"data"`
		DataSalt     []byte  `json:"data_salt"`
		DataDigest   string  `json:"data_digest"`
		PrevHash     string  `json:"prev_hash"`
		Hash         string  `json:"hash"`
		Extra        *string `json:"extra"`
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	switch {
	case got.ID != e.ID.String() || got.Stream != e.Stream || got.Revision != e.Revision ||
		got.Position != e.Position:
		t.Errorf("line %s is not event %s", line, e.ID)
	case !bytes.Equal(got.Metadata, e.Metadata) || !bytes.Equal(got.Data, e.Data) ||
		!bytes.Equal(got.DataSalt, e.DataSalt):
		t.Errorf("event %s: metadata, data or salt differ from the stored bytes", e.ID)
	case got.RecordedAtUS != e.RecordedAt.UnixMicro() ||
		got.RecordedAt != e.RecordedAt.Format("2006-01-02T15:04:05.000000Z"):
		t.Errorf("event %s: recorded %s (%d), stored %s", e.ID, got.RecordedAt, got.RecordedAtUS, e.RecordedAt)
	case got.DataDigest != e.DataDigest.String() || got.PrevHash != e.PrevHash.String() ||
		got.Hash != e.Hash.String():
		t.Errorf("event %s: digest or hashes differ", e.ID)
	}
}

// TestDigestsOnly exports without payloads: the events carry null data
// and salt, and the bundle still verifies, by the digests.
func TestDigestsOnly(t *testing.T) {
	fx := newFixture(t)
	fx.seedSmall(t)
	path, sum := fx.export(t, bundle.Scope{StudentID: studentA}, false, false)
	raw := mustRead(t, path)
	if bytes.Contains(raw, []byte("peanut")) || bytes.Contains(raw, []byte("cGVhbnV0")) {
		t.Fatal("a bundle without payloads holds a payload")
	}
	ms, _ := members(t, raw)
	for _, line := range lines(file(t, ms, bundle.FileEvents)) {
		if !strings.Contains(line, `"data":null,"data_salt":null`) {
			t.Errorf("line with a payload: %s", line)
		}
	}
	rep, err := bundle.VerifyFile(path, bundle.VerifyOptions{})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Trusted || rep.Counts.Payloads != 0 || rep.Counts.Events != sum.Events || sum.Events != 4 {
		t.Errorf("report %+v, summary %+v", rep.Counts, sum.Counts)
	}
}

// TestTrustedKey verifies a bundle against the key the log published and
// against another one.
func TestTrustedKey(t *testing.T) {
	fx := newFixture(t)
	fx.seedSmall(t)
	path, _ := fx.export(t, bundle.Scope{All: true}, false, false)
	_, other, err := ledger.GenerateKey("test.example/whitecross")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bundle.VerifyFile(path, bundle.VerifyOptions{TrustedKey: other + "\n"})
	var p *bundle.Problem
	if !errors.As(err, &p) || p.File != bundle.FileVerifierKey || !strings.Contains(p.What, "trusted") {
		t.Fatalf("verified against another key: %v", err)
	}
	if _, err := bundle.VerifyFile(path, bundle.VerifyOptions{TrustedKey: " " + fx.vkey + "\n"}); err != nil {
		t.Fatalf("the log's own key: %v", err)
	}
}

// TestWriteRefusesAChangedEvent changes an event after it was sealed:
// Write stops at it rather than hand out a bundle that does not verify.
func TestWriteRefusesAChangedEvent(t *testing.T) {
	fx := newFixture(t)
	fx.seedSmall(t)
	cp, err := fx.sealer.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = fx.db.AdminPool(t).Exec(t.Context(), `
		ALTER TABLE events DISABLE TRIGGER USER;
		UPDATE events SET type = 'AllergyRemoved' WHERE position = 3;
		ALTER TABLE events ENABLE TRIGGER USER`)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = bundle.Write(t.Context(), &out, fx.log, fx.sealer.Tree(), bundle.Options{
		Checkpoint: cp, Signer: fx.signer, VerifierKey: fx.vkey, Scope: bundle.Scope{All: true},
		TempDir: t.TempDir(),
	})
	if err == nil || !strings.Contains(err.Error(), "position 3") {
		t.Fatalf("exported a changed event: %v", err)
	}
}

// TestScopeValidation refuses scopes that are not exactly one of the
// four.
func TestScopeValidation(t *testing.T) {
	fx := newFixture(t)
	all := fx.seedSmall(t)
	at := all[0].RecordedAt
	for name, s := range map[string]bundle.Scope{
		"none":         {},
		"two":          {StudentID: studentA, All: true},
		"half a range": {From: &at},
		"empty range":  {From: &at, To: &at},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
}
