package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/projections"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeHealthAndReadiness starts `whitecross serve` on a fresh
// database and asks it over real HTTP whether it is up and ready.
func TestServeHealthAndReadiness(t *testing.T) {
	db := pgtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	addr, metricsAddr, done := startServe(ctx, t, db, &stderr)

	base := "http://" + addr
	waitFor(t, base+"/healthz")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, body %v", path, resp.StatusCode, body)
		}
		if path == "/readyz" {
			checks, _ := body["checks"].(map[string]any)
			for _, name := range []string{"database", "migrations", "event_log", "projections", "ledger"} {
				if checks[name] != "ok" {
					t.Errorf("readyz check %s: %v", name, checks[name])
				}
			}
		}
	}
	// The ledger's verifier key is public, in signed-note form.
	resp, err := http.Get(base + "/v1/ledger/key")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(key), "whitecross.local/log+") {
		t.Errorf("GET /v1/ledger/key: status %d, %q", resp.StatusCode, key)
	}
	// The projections start beside the server: wait until each has.
	scraped := get(t, "http://"+metricsAddr+"/metrics")
	for deadline := time.Now().Add(20 * time.Second); strings.Count(scraped,
		`state="running"} 1`) < len(projections.All(nil)) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		scraped = get(t, "http://"+metricsAddr+"/metrics")
	}
	for _, p := range projections.All(nil) {
		for _, series := range []string{
			`whitecross_projection_state{projection="` + p.Name() + `",state="running"} 1`,
			`whitecross_projection_state{projection="` + p.Name() + `",state="failed"} 0`,
			`whitecross_projection_failed_position{projection="` + p.Name() + `"} 0`,
		} {
			if !strings.Contains(scraped, series) {
				t.Errorf("/metrics lacks %s", series)
			}
		}
	}
	resp, err = http.Get(base + "/no-such-route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15s of its context ending")
	}
}

// startServe runs `whitecross serve` on db, on free addresses, until ctx
// ends; done receives its exit status.
func startServe(
	ctx context.Context,
	t *testing.T,
	db *pgtest.DB,
	stderr io.Writer,
) (addr, metricsAddr string, done <-chan int) {
	t.Helper()
	t.Setenv("WHITECROSS_DATABASE_URL", db.URL)
	t.Setenv("WHITECROSS_EVENTSTORE", "postgres")
	t.Setenv("WHITECROSS_LOG_LEVEL", "warn")
	addr, metricsAddr = freeAddr(t), freeAddr(t)
	t.Setenv("WHITECROSS_METRICS_ADDR", metricsAddr)
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"serve", "--http-addr", addr}, io.Discard, stderr) }()
	return addr, metricsAddr, exited
}

// get returns the body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func waitFor(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal(fmt.Sprintf("%s did not answer within 20s", url))
}

// served is `whitecross serve` running for a test. Its output is read
// once it has stopped. stop ends it, once, and fails the test unless it
// exits 0 within 15 seconds; it is also called when the test ends.
type served struct {
	base           string
	stdout, stderr bytes.Buffer
	stop           func()
}

// startServed runs `whitecross serve` with args on a free port and waits,
// up to two minutes (a demo is seeded first), until it is ready.
func startServed(t *testing.T, args ...string) *served {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	s := &served{base: "http://" + addr}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--http-addr", addr}, args...), &s.stdout, &s.stderr)
	}()
	var once sync.Once
	code := 0
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
				if code != 0 {
					t.Errorf("serve exited %d: %s", code, s.stderr.String())
				}
			case <-time.After(15 * time.Second):
				t.Error("serve did not stop within 15s")
			}
		})
	}
	t.Cleanup(s.stop)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case code = <-done:
			once.Do(func() {})
			t.Fatalf("serve stopped: exit %d\n%s", code, s.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.stop()
	t.Fatalf("serve not ready within two minutes: exit %d\n%s", code, s.stderr.String())
	return nil
}
