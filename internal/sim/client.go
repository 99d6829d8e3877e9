package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/whitecross/whitecross/readapi"
)

// Client sends requests to one White Cross service over HTTP. It is safe
// for concurrent use.
type Client struct {
	base string
	hc   *http.Client
	// attempts bounds how often one request is sent: a 429 is sent again
	// after its Retry-After, a 503 or a lost connection after a short
	// pause (a command only when it carries an idempotency key).
	attempts int
	// OnRetry, when not nil, is told of each request sent again: its
	// method and path (without the query), the status that asked for it
	// (0 for a lost connection) and the wait before. It is called from
	// the goroutine that sent the request, so from several at once.
	OnRetry func(request string, status int, wait time.Duration)
}

// NewClient returns a client of the service at base
// ("http://127.0.0.1:8080"). A nil hc means a client with a 30-second
// timeout.
func NewClient(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: hc, attempts: 6}
}

// APIError is an answer other than 2xx. It names the request and the
// problem's type, never a body: bodies may hold health information.
type APIError struct {
	Method, Path string
	Status       int
	Problem      readapi.Problem
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d", e.Method, e.Path, e.Status)
	if t := e.Problem.Type; t != "" {
		msg += " " + t[strings.LastIndex(t, "/")+1:]
	}
	for _, f := range e.Problem.Errors {
		msg += fmt.Sprintf("; %s %s", f.Field, f.Reason)
	}
	if len(e.Problem.Checks) > 0 {
		msg += "; checks " + strings.Join(e.checks(), ", ")
	}
	return msg
}

// checks lists the names of the failed checks, each once.
func (e *APIError) checks() []string {
	var names []string
	for _, c := range e.Problem.Checks {
		if !slices.Contains(names, c.Check) {
			names = append(names, c.Check)
		}
	}
	return names
}

// Refused reports whether err is a 422 whose failed checks include
// check: a dose blocked by the medication rules.
func Refused(err error, check string) bool {
	var e *APIError
	if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity {
		return false
	}
	return slices.Contains(e.checks(), check)
}

// Login logs in as email and returns a session that sends requests as
// that account, refreshing its tokens as they near their expiry.
func (c *Client) Login(ctx context.Context, email, password string) (*Session, error) {
	s := &Session{c: c, email: email, password: password}
	if err := s.login(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Session is one account logged in. It is safe for concurrent use.
type Session struct {
	c               *Client
	email, password string

	mu      sync.Mutex
	access  string
	refresh string
	expires time.Time
}

// Post sends body as JSON to path under the idempotency key and decodes
// the answer into out, when out is not nil. An empty key sends none; a
// command without one is never sent twice.
func (s *Session) Post(ctx context.Context, path, key string, body, out any) error {
	return s.send(ctx, request{method: http.MethodPost, path: path, key: key, body: body}, out)
}

// Get reads path and decodes the answer into out, when out is not nil.
func (s *Session) Get(ctx context.Context, path string, out any) error {
	return s.send(ctx, request{method: http.MethodGet, path: path}, out)
}

// WaitFor returns once the service's read models have applied the log
// up to position, as a command's answer names it, so that what it
// recorded can be read; it asks every 2 seconds, until ctx ends.
func (s *Session) WaitFor(ctx context.Context, position uint64) error {
	for {
		var header http.Header
		err := s.send(ctx, request{method: http.MethodGet, respHeader: &header,
			path: "/v1/districts?limit=1&after=" + strconv.FormatUint(position, 10)}, nil)
		if err != nil || header.Get("X-Read-Model-Behind") != "true" {
			return err
		}
	}
}

func (s *Session) send(ctx context.Context, r request, out any) error {
	for renewed := false; ; renewed = true {
		token, err := s.token(ctx)
		if err != nil {
			return err
		}
		r.token = token
		err = s.c.do(ctx, r, out)
		var e *APIError
		if renewed || !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
			return err
		}
		// The token was refused: the session may have been ended.
		s.mu.Lock()
		s.expires = time.Time{}
		s.mu.Unlock()
	}
}

// token returns an access token valid for at least a minute more,
// refreshing the session's tokens, or logging in again, when needed.
func (s *Session) token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Until(s.expires) > time.Minute {
		return s.access, nil
	}
	if s.refresh != "" {
		var t readapi.TokenResponse
		err := s.c.do(ctx, request{method: http.MethodPost, path: "/v1/auth/refresh",
			body: readapi.RefreshRequest{RefreshToken: s.refresh}}, &t)
		if err == nil {
			s.keep(t)
			return s.access, nil
		}
	}
	if err := s.loginLocked(ctx); err != nil {
		return "", err
	}
	return s.access, nil
}

func (s *Session) login(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loginLocked(ctx)
}

func (s *Session) loginLocked(ctx context.Context) error {
	var t readapi.TokenResponse
	err := s.c.do(ctx, request{method: http.MethodPost, path: "/v1/auth/login", retryable: true,
		body: readapi.LoginRequest{Email: s.email, Password: s.password}}, &t)
	if err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	s.keep(t)
	return nil
}

func (s *Session) keep(t readapi.TokenResponse) {
	s.access, s.refresh = t.AccessToken, t.RefreshToken
	s.expires = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
}

// request is one call of the API.
type request struct {
	method, path, key, token string
	body                     any
	// retryable marks a request that may be sent again after a lost
	// connection although it has no idempotency key (a login: the worst
	// is a second session).
	retryable bool
	// respHeader, when not nil, receives the header of the answer.
	respHeader *http.Header
}

// do sends r, again while the answer says to retry later, and decodes a
// 2xx answer into out.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("%s: %w", r, err)
		}
	}
	for attempt := 1; ; attempt++ {
		status, data, wait, err := c.once(ctx, r, body)
		again := attempt < c.attempts && (wait > 0 || err != nil && r.mayRepeat())
		if err != nil && ctx.Err() != nil {
			return err
		}
		if !again {
			if err != nil {
				return err
			}
			return decode(r, status, data, out)
		}
		if err != nil {
			wait = time.Duration(attempt) * 250 * time.Millisecond
		}
		if c.OnRetry != nil {
			c.OnRetry(r.String(), status, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// String names r by its method and path, without the query: a search
// names what it looks for.
func (r request) String() string { return r.method + " " + r.pathOnly() }

func (r request) pathOnly() string {
	path, _, _ := strings.Cut(r.path, "?")
	return path
}

// mayRepeat reports whether r may be sent again after a lost
// connection: a read, a command under an idempotency key, or one marked.
func (r request) mayRepeat() bool {
	return r.method == http.MethodGet || r.key != "" || r.retryable
}

// once sends r and returns the answer, with how long to wait before
// sending it again when the answer says to (429, 503).
func (c *Client) once(ctx context.Context, r request, body []byte) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	resp, err := c.hc.Do(req)
	if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
		err = uerr.Err // without the URL, whose query may name a student
	}
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s: %w", r, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s: %w", r, err)
	}
	if r.respHeader != nil {
		*r.respHeader = resp.Header
	}
	return resp.StatusCode, data, retryAfter(resp, r), nil
}

// retryAfter is how long to wait before sending r again: Retry-After of
// a 429, a second after a 503 that r may be repeated after; zero when
// the answer is final.
func retryAfter(resp *http.Response, r request) time.Duration {
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
		return time.Second
	case resp.StatusCode == http.StatusServiceUnavailable && r.mayRepeat():
		return time.Second
	}
	return 0
}

// decode turns an answer into out, or into an *APIError.
func decode(r request, status int, data []byte, out any) error {
	if status >= 200 && status < 300 {
		if out == nil || len(data) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s: decode the answer: %w", r, err)
		}
		return nil
	}
	e := &APIError{Method: r.method, Path: r.pathOnly(), Status: status}
	json.Unmarshal(data, &e.Problem)
	return e
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
