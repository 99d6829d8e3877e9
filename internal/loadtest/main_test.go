package loadtest_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whitecross/whitecross/internal/loadtest"
)

// The flags of the load and fault tests; `make load` and `make faults`
// set them (LOAD_DURATION, LOAD_CLIENTS).
var (
	duration = flag.Duration("load.duration", 5*time.Second, "how long each load runs")
	clients  = flag.Int("load.clients", 32, "how many callers a load has at once")
	reports  = flag.String("load.reports", "", "directory each test writes its figures to, "+
		"besides the test's log (load.txt, faults-crash.txt, faults-postgres.txt)")
	binary = flag.String("load.binary", "", "the whitecross binary to run; built from ./cmd/whitecross when empty")
)

// bin is the whitecross binary the tests run.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	bin = *binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "whitecross-load-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		if bin, err = loadtest.Build(dir); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// writeReport writes text to file name of the directory -load.reports
// names, if any: a relative directory is taken from the module's root.
func writeReport(t *testing.T, name, text string) {
	t.Helper()
	if *reports == "" {
		return
	}
	path := filepath.Join(*reports, name)
	if !filepath.IsAbs(path) {
		root, err := loadtest.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("figures written to %s", path)
}
