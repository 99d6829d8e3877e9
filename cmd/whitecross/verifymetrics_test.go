package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/internal/pgtest"
)

// readTextfile returns the samples of a metrics file: name to value.
func readTextfile(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples := map[string]float64{}
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		name, value, ok := strings.Cut(lines.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", path, lines.Text(), err)
		}
		samples[name] = v
	}
	return samples
}

// TestVerifyMetricsFile runs verify with --metrics-file over an intact
// log and then over a changed one: the file says when it ran, when it
// last found the log intact, and what it found.
func TestVerifyMetricsFile(t *testing.T) {
	db := pgtest.New(t)
	seedLog(t, db)
	path := filepath.Join(t.TempDir(), "whitecross_verify.prom")

	if code, out := verifyCLI(t, db, "--metrics-file", path); code != 0 {
		t.Fatalf("intact log: exit %d:\n%s", code, out)
	}
	intact := readTextfile(t, path)
	if intact[verifyLastRun] == 0 || intact[verifyLastSuccess] != intact[verifyLastRun] ||
		intact[verifyProblems] != 0 || intact[verifyChecked] != 8 {
		t.Fatalf("after an intact run: %v", intact)
	}

	// A success long ago, then a run over a changed log: the success
	// stays as it was.
	before := strings.ReplaceAll(mustRead(t, path),
		verifyLastSuccess+" "+strconv.FormatFloat(intact[verifyLastSuccess], 'g', -1, 64),
		verifyLastSuccess+" 1000")
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	tamper(t, db, `UPDATE events SET type = 'Texted' WHERE stream = 'student-a' AND revision = 2`)
	if code, out := verifyCLI(t, db, "--metrics-file", path); code != 1 {
		t.Fatalf("changed log: exit %d:\n%s", code, out)
	}
	bad := readTextfile(t, path)
	if bad[verifyLastSuccess] != 1000 || bad[verifyLastRun] < intact[verifyLastRun] ||
		bad[verifyProblems] < 1 || bad[verifyChecked] != 8 {
		t.Errorf("after a run that found a changed event: %v", bad)
	}
}

// TestVerifyMetricsFileRefused: a file the textfile collector would not
// read, or a verify of one stream, is refused before anything runs or is
// written.
func TestVerifyMetricsFileRefused(t *testing.T) {
	db := pgtest.New(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"suffix", []string{"--metrics-file", filepath.Join(dir, "verify.txt")}, "*.prom"},
		{"stream", []string{"--metrics-file", filepath.Join(dir, "verify.prom"), "--stream", "student-a"},
			"drop --stream"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out := verifyCLI(t, db, tt.args...)
			if code != 1 || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d, output %q; want 1 and %q", code, out, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused verify wrote %d file(s)", len(entries))
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
