package readapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/readapi"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*readapi.Config)
		want   string
	}{
		{"defaults", func(*readapi.Config) {}, ""},
		{"cert without key", func(c *readapi.Config) { c.TLSCert = "cert.pem" },
			"tls cert and key"},
		{"wildcard origin", func(c *readapi.Config) { c.AllowedOrigins = []string{"*"} },
			"wildcards"},
		{"origin with a path", func(c *readapi.Config) {
			c.AllowedOrigins = []string{"https://nurse.example.org/app"}
		}, "scheme://host"},
		{"request timeout after write timeout", func(c *readapi.Config) {
			c.RequestTimeout, c.WriteTimeout = time.Minute, time.Second
		}, "request timeout must be shorter"},
		{"negative body limit", func(c *readapi.Config) { c.MaxBodyBytes = -1 },
			"max body bytes"},
		{"negative timeout", func(c *readapi.Config) { c.IdleTimeout = -time.Second },
			"idle timeout is negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			c.change(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("Validate: got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir, and
// returns their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "whitecross test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)

	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	b := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serve runs api.Serve on a free address until the test cancels it, and
// returns the address and the channel of Serve's result.
func serve(t *testing.T, api *readapi.Server) (context.CancelFunc, string, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, addr) }()
	t.Cleanup(cancel)
	return cancel, addr, done
}

// waitUp polls url until it answers.
func waitUp(t *testing.T, client *http.Client, url string) *http.Response {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			return resp
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	api, err := readapi.New(readapi.Config{
		TLSCert: certFile, TLSKey: keyFile, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel, addr, done := serve(t, api)

	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}}
	resp := waitUp(t, client, "https://"+addr+"/healthz")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz over TLS: status %d", resp.StatusCode)
	}
	want := "max-age=63072000; includeSubDomains"
	if got := resp.Header.Get("Strict-Transport-Security"); got != want {
		t.Errorf("Strict-Transport-Security: got %q, want %q", got, want)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
}

func TestServeRefusesMissingCertificate(t *testing.T) {
	dir := t.TempDir()
	api, err := readapi.New(readapi.Config{
		TLSCert: filepath.Join(dir, "none.pem"), TLSKey: filepath.Join(dir, "none.key"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Serve(t.Context(), freeAddr(t)); err == nil {
		t.Fatal("Serve with no certificate file: got nil error")
	}
}

// TestServeLetsRequestsFinish cancels Serve while a request is in flight
// and checks that the request is still answered.
func TestServeLetsRequestsFinish(t *testing.T) {
	started := make(chan struct{})
	cfg := readapi.Config{Logger: zerolog.Nop(), Routes: []readapi.Route{{
		Method: http.MethodGet, Path: "/v1/wait", Access: readapi.Access{Public: true},
		Handler: func(c echo.Context) error {
			close(started)
			time.Sleep(100 * time.Millisecond)
			return c.NoContent(http.StatusNoContent)
		},
	}}}
	api, err := readapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cancel, addr, done := serve(t, api)
	waitUp(t, http.DefaultClient, "http://"+addr+"/healthz").Body.Close()

	answered := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/v1/wait")
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-started
	cancel()
	if status := <-answered; status != http.StatusNoContent {
		t.Errorf("request in flight at shutdown: status %d, want 204", status)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v", err)
	}
}

func TestServerTimeouts(t *testing.T) {
	cases := []struct {
		name                          string
		cfg                           readapi.Config
		readHeader, read, write, idle time.Duration
	}{
		{"defaults", readapi.Config{},
			5 * time.Second, 10 * time.Second, 30 * time.Second, 120 * time.Second},
		{"short read timeout bounds the headers", readapi.Config{
			ReadTimeout: 2 * time.Second, WriteTimeout: time.Minute,
			IdleTimeout: time.Minute, RequestTimeout: 50 * time.Second,
		}, 2 * time.Second, 2 * time.Second, time.Minute, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api, err := readapi.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := readapi.HTTPServer(api)
			if err != nil {
				t.Fatal(err)
			}
			got := []time.Duration{
				srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout,
			}
			want := []time.Duration{c.readHeader, c.read, c.write, c.idle}
			if !slices.Equal(got, want) {
				t.Errorf("header, read, write, idle timeouts: got %v, want %v", got, want)
			}
		})
	}
}
