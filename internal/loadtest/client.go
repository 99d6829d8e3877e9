package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// Client calls the service over HTTP, as many callers at once.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the service at base that keeps up to
// conns connections open; each request gives up after 10 seconds.
func NewClient(base string, conns int) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = conns, conns
	return &Client{base: base, http: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
}

// Answer is what one request got.
type Answer struct {
	// RequestID is the X-Request-ID the request carried, which the
	// events it recorded name in their metadata.
	RequestID string
	Start     time.Time
	Latency   time.Duration
	// Status is 0 when no answer came (Err says why).
	Status int
	Body   []byte
	Err    error
}

// Do sends body, as JSON unless nil, with the bearer token when not
// empty, and returns the answer.
func (c *Client) Do(ctx context.Context, method, path, token string, body any) Answer {
	a := Answer{RequestID: uuid.NewString(), Start: time.Now()}
	var buf bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&buf).Encode(body); err != nil {
			a.Err = err
			return a
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, &buf)
	if err != nil {
		a.Err = err
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", a.RequestID)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err == nil {
		a.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		a.Status = resp.StatusCode
	}
	a.Latency, a.Err = time.Since(a.Start), err
	return a
}

// must sends body and decodes the answer into out (when not nil); it
// fails unless the answer has status want.
func (c *Client) must(ctx context.Context, want int, method, path, token string, body, out any) error {
	a := c.Do(ctx, method, path, token, body)
	if a.Err != nil {
		return fmt.Errorf("%s %s: %w", method, path, a.Err)
	}
	if a.Status != want {
		return fmt.Errorf("%s %s: %d, want %d: %s", method, path, a.Status, want, a.Body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}
