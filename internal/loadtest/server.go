package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ModuleRoot returns the directory that holds the module's go.mod.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the module")
	}
	return filepath.Dir(mod), nil
}

// Build compiles cmd/whitecross into dir and returns the binary's path.
func Build(dir string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "whitecross")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/whitecross")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/whitecross: %w\n%s", err, out)
	}
	return bin, nil
}

// Server is one `whitecross serve` process and the files it keeps: its
// keys and witnessed checkpoints survive a restart, as a deployment's
// do. Create it with NewServer.
type Server struct {
	tb  testing.TB
	bin string
	dir string
	env []string
	// Addr is where the server listens, the same across restarts.
	Addr string

	cmd    *exec.Cmd
	exited chan error
}

// NewServer prepares a server of binary bin on the database at
// databaseURL, as its owner; it is not started. The server's files and
// its log (server.log) are in a temporary directory; a running server is
// killed when the test ends.
func NewServer(tb testing.TB, bin, databaseURL string) *Server {
	tb.Helper()
	dir := tb.TempDir()
	addr, err := freeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: dir, Addr: addr}
	s.env = append(environWithout("WHITECROSS_"),
		"WHITECROSS_DATABASE_URL="+databaseURL,
		"WHITECROSS_EVENTSTORE=postgres",
		"WHITECROSS_HTTP_ADDR="+addr,
		"WHITECROSS_METRICS_ADDR=off",
		"WHITECROSS_LOG_LEVEL=warn",
		"WHITECROSS_TOKEN_KEY_FILE="+filepath.Join(dir, "token-key.pem"),
		"WHITECROSS_SECRET_KEY_FILE="+filepath.Join(dir, "secret-key"),
		"WHITECROSS_LEDGER_KEY_FILE="+filepath.Join(dir, "ledger-key"),
		"WHITECROSS_WITNESS_DIR="+filepath.Join(dir, "witness"),
		// Checkpoints every second, so that a fault lands among them.
		"WHITECROSS_CHECKPOINT_INTERVAL=1s",
	)
	tb.Cleanup(func() {
		if s.cmd != nil {
			s.Kill()
		}
		if tb.Failed() {
			s.keepLog()
		}
	})
	return s
}

// keepLog copies the server's log out of the test's temporary directory,
// which is removed, and says where.
func (s *Server) keepLog() {
	b, err := os.ReadFile(s.LogPath())
	if err != nil {
		return
	}
	f, err := os.CreateTemp("", "whitecross-server-*.log")
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Write(b); err == nil {
		s.tb.Logf("the server's log is kept in %s", f.Name())
	}
}

// URL returns the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Start starts the server and waits until it answers /healthz.
func (s *Server) Start() {
	s.tb.Helper()
	logFile, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.tb.Fatal(err)
	}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		s.tb.Fatalf("start whitecross serve: %v", err)
	}
	s.cmd, s.exited = cmd, make(chan error, 1)
	go func() {
		s.exited <- cmd.Wait()
		logFile.Close()
	}()
	if err := s.waitHealthy(30 * time.Second); err != nil {
		s.tb.Fatalf("%v; the end of its log:\n%s", err, s.logTail())
	}
}

// waitHealthy waits until /healthz answers, or the process exits.
func (s *Server) waitHealthy(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.cmd = nil
			return fmt.Errorf("whitecross serve exited before it answered: %v", err)
		default:
		}
		if status, _ := get(s.URL() + "/healthz"); status == http.StatusOK {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("whitecross serve did not answer /healthz within %s", limit)
}

// WaitReady waits until /readyz answers 200, for at most limit.
func (s *Server) WaitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		status, body := get(s.URL() + "/readyz")
		if status == http.StatusOK {
			return nil
		}
		last = body
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("/readyz not 200 within %s; it said %s", limit, last)
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	s.tb.Helper()
	s.signal(syscall.SIGKILL)
	<-s.exited
	s.cmd = nil
}

// Stop sends SIGTERM and fails the test unless the process exits 0
// within 30 seconds.
func (s *Server) Stop() {
	s.tb.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.cmd = nil
		if err != nil {
			s.tb.Fatalf("whitecross serve stopped with %v; the end of its log:\n%s", err, s.logTail())
		}
	case <-time.After(30 * time.Second):
		s.Kill()
		s.tb.Fatal("whitecross serve did not stop within 30s of SIGTERM")
	}
}

func (s *Server) signal(sig os.Signal) {
	s.tb.Helper()
	if s.cmd == nil {
		s.tb.Fatal("whitecross serve is not running")
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("signal whitecross serve: %v", err)
	}
}

// Run runs another command of the binary (verify, replay, users add)
// with the server's configuration, stdin as its input, and returns its
// exit status and what it wrote.
func (s *Server) Run(ctx context.Context, stdin io.Reader, args ...string) (int, string) {
	s.tb.Helper()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = s.env, stdin, &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		s.tb.Fatalf("whitecross %s: %v", strings.Join(args, " "), err)
	}
	return 0, out.String()
}

// LogPath is the file the server's standard output and error go to.
func (s *Server) LogPath() string { return filepath.Join(s.dir, "server.log") }

// logTail returns the last lines of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.LogPath())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// environWithout returns the process's environment without the
// variables whose names start with prefix.
func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// get returns the status and body of GET url; status 0 when the request
// failed.
func get(url string) (int, string) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
