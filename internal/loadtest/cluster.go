package loadtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a private PostgreSQL cluster of one test's, which
// scripts/postgres.sh initialises, starts and stops: a test may stop it
// under the service without touching any other server of the machine.
type Cluster struct {
	tb     testing.TB
	script string
	env    []string
	// URL is the cluster's database postgres, as its superuser.
	URL string
}

// NewCluster initialises and starts a cluster in a directory of its own,
// on a free port below the kernel's range for outgoing connections (as
// scripts/postgres.sh wants), and removes it when the test ends.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	root, err := ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	// The user postgres, which the server runs as under root, must be
	// able to reach the directory: os.MkdirTemp makes it 0700.
	dir, err := os.MkdirTemp("", "whitecross-pg-")
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		tb.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{tb: tb, script: filepath.Join(root, "scripts", "postgres.sh")}
	c.env = append(environWithout("WHITECROSS_"), "WHITECROSS_PG_PRIVATE=1",
		"WHITECROSS_PG_DIR="+filepath.Join(dir, "pg"), "WHITECROSS_PG_PORT="+strconv.Itoa(port))
	tb.Cleanup(func() {
		if _, err := c.runScript("remove"); err != nil {
			tb.Logf("remove the private cluster: %v", err)
		}
		os.RemoveAll(dir)
	})
	if c.URL, err = c.runScript("postgres"); err != nil {
		tb.Fatalf("start a private cluster: %v", err)
	}
	return c
}

// Stop stops the cluster, as `pg_ctl stop -m fast` does: the server
// disconnects every client and shuts down.
func (c *Cluster) Stop() error {
	_, err := c.runScript("stop")
	return err
}

// Start starts the stopped cluster again on its port.
func (c *Cluster) Start() error {
	_, err := c.runScript("postgres")
	return err
}

// runScript runs scripts/postgres.sh with one argument and returns what it
// printed on standard output.
func (c *Cluster) runScript(arg string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", c.script, arg)
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("scripts/postgres.sh %s: %w\n%s", arg, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// freePort returns a loopback port from 20000 to 32767 that no one
// listens on now.
func freePort() (int, error) {
	for range 100 {
		port := 20000 + rand.IntN(12768)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port from 20000 to 32767")
}
