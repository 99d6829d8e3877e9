package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealth answers `whitecross health`: it asks the service on this
// machine whether it is ready (or, with --path /healthz, up), for a
// container's health check, where there is no shell or curl. It exits 0
// on a 200 and 1 otherwise.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := loadConfig()
	fs := flag.NewFlagSet("whitecross health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "where serve listens (WHITECROSS_HTTP_ADDR)")
	path := fs.String("path", "/readyz", "/readyz (ready to serve) or /healthz (the process is up)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path != "/readyz" && *path != "/healthz" {
		return errors.New("--path: want /readyz or /healthz")
	}
	url, err := probeURL(c)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+*path, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient().Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", *path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stdout, "GET %s: %s\n", *path, resp.Status)
		return exitError{code: 1}
	}
	fmt.Fprintf(stdout, "GET %s: ok\n", *path)
	return nil
}

// probeURL returns the base URL of the service listening on
// c.HTTPAddr, reached on the loopback address when it listens on every
// address.
func probeURL(c config) (string, error) {
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return "", fmt.Errorf("WHITECROSS_HTTP_ADDR: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// probeClient is the client of the probe. It asks this machine for a
// status code only, sending nothing and reading no body, so it does not
// check the certificate of a TLS listener, which names the service's
// public host rather than the address it is asked on.
func probeClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
}
