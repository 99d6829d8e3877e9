package bundle_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/ledger/bundle"
)

// TestPythonVerifier checks bundles of every scope with
// testdata/verify_bundle.py, a verifier written from the documents alone
// in another language, where Python is present; then a changed bundle,
// which it must refuse.
func TestPythonVerifier(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed; the bundles are still checked by Verify")
	}
	fx := newFixture(t)
	all := fx.seedSmall(t)
	from, to := all[1].RecordedAt, all[5].RecordedAt
	key := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(key, []byte(fx.vkey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(path string) (string, error) {
		out, err := exec.Command(python, "testdata/verify_bundle.py", path, "--key", key).CombinedOutput()
		return string(out), err
	}
	var last string
	for name, scope := range map[string]bundle.Scope{
		"student": {StudentID: studentA}, "actor": {ActorID: nurseB},
		"time range": {From: &from, To: &to}, "all": {All: true},
	} {
		path, _ := fx.export(t, scope, name == "student", name == "all")
		out, err := run(path)
		if err != nil || !strings.HasPrefix(out, "OK") || !strings.Contains(out, "signatures") {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
		t.Logf("%s: %s", name, out)
		last = path
	}
	raw := mustRead(t, last)
	at := bytes.Index(raw, []byte(`"type":"VitalsRecorded"`)) + len(`"type":"`)
	raw[at] = 'W'
	changed := filepath.Join(t.TempDir(), "changed.tar")
	if err := os.WriteFile(changed, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(changed); err == nil || !strings.Contains(out, "BAD") {
		t.Errorf("a changed bundle: %v\n%s", err, out)
	}
}
