package esdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/whitecross/whitecross/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// Config tunes a Store. The zero value works.
type Config struct {
	// IdempotencyWindow is how many of a stream's newest events Append
	// searches for the IDs it is given, beyond the number it is given;
	// default 100. Each append reads that many events, so a larger window
	// recognises later retries at the cost of every append.
	IdempotencyWindow int
	// AppendRetries is how many times an Append expecting Any or
	// StreamExists starts over when another writer appended to the stream
	// between its read of the head and its write; default 10.
	AppendRetries int
	// SubscriptionBuffer is how many events a subscription holds ready for
	// its reader; default 256.
	SubscriptionBuffer int
	// PageSize is how many events a subscription reads at a time while it
	// catches up; default 1000.
	PageSize int
	// ClientLogger, when set, receives the EventStoreDB client's own log
	// lines (error texts and stream names, never event data). When nil they
	// are dropped: the client prints unstructured text to stderr.
	ClientLogger esdb.LoggingFunc
}

// Validate refuses negative sizes and counts.
func (c Config) Validate() error {
	for _, f := range []struct {
		name  string
		value int
	}{
		{"IdempotencyWindow", c.IdempotencyWindow},
		{"AppendRetries", c.AppendRetries},
		{"SubscriptionBuffer", c.SubscriptionBuffer},
		{"PageSize", c.PageSize},
	} {
		if f.value < 0 {
			return fmt.Errorf("config: %s is %d, must not be negative", f.name, f.value)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.IdempotencyWindow == 0 {
		c.IdempotencyWindow = 100
	}
	if c.AppendRetries == 0 {
		c.AppendRetries = 10
	}
	if c.SubscriptionBuffer == 0 {
		c.SubscriptionBuffer = 256
	}
	if c.PageSize == 0 {
		c.PageSize = 1000
	}
	if c.ClientLogger == nil {
		c.ClientLogger = esdb.NoopLogging()
	}
	return c
}

// Store is the event log on EventStoreDB. Create it with Open and Close it
// when done.
type Store struct {
	client *esdb.Client
	cfg    Config

	// ctx ends when Close is called, and with it every call in flight and
	// every subscription.
	ctx    context.Context
	cancel context.CancelFunc

	// mu is held for reading by every call to the client, so that Close
	// closes the client only once no call uses it: the client panics when
	// a call races with its Close.
	mu     sync.RWMutex
	closed bool
}

// Open connects to the EventStoreDB that uri names, an esdb:// or
// esdb+discover:// connection string such as
// "esdb://localhost:2113?tls=false", and checks that it answers.
func Open(ctx context.Context, uri string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open esdb: %w", err)
	}
	conf, err := parseURL(uri)
	if err != nil {
		return nil, fmt.Errorf("open esdb: %w", err)
	}
	cfg = cfg.withDefaults()
	conf.Logger = cfg.ClientLogger
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("open esdb: %w", err)
	}

	s := &Store{client: client, cfg: cfg}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// The client connects on its first call, and gives up for good when
	// that fails: better to learn it here than on the first append.
	err = s.call(ctx, func(ctx context.Context) error {
		_, err := s.readAllRaw(ctx, esdb.Backwards, esdb.End{}, 1)
		return err
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("open esdb: %w", err)
	}
	return s, nil
}

// parseURL parses a connection string without ever repeating it in an
// error: it may hold a password.
func parseURL(s string) (*esdb.Configuration, error) {
	conf, err := esdb.ParseConnectionString(s)
	var ue *url.Error
	if errors.As(err, &ue) {
		return nil, fmt.Errorf("connection string: %w", ue.Err)
	}
	return conf, err
}

// Close ends the subscriptions and the calls in flight, waits for them to
// return and closes the connection. Calls made after Close fail with
// eventstore.ErrClosed.
func (s *Store) Close() error {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.client.Close()
}

// call runs f, which uses the client, with a context that also ends when
// the store closes. When that context has ended, call returns why (the
// caller's context.Canceled or DeadlineExceeded, or eventstore.ErrClosed)
// rather than the client's report of the broken call.
func (s *Store) call(ctx context.Context, f func(context.Context) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	if err := f(ctx); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	return nil
}

// enter takes s.mu for reading, unless the store is closed. The caller
// releases it with s.mu.RUnlock.
func (s *Store) enter() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return eventstore.ErrClosed
	}
	return nil
}

// isClosed reports whether Close has been called.
func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// bind returns a context that ends with ctx, or when the store closes with
// eventstore.ErrClosed as its cause.
func (s *Store) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(s.ctx, func() { cancel(eventstore.ErrClosed) })
	return ctx, func() {
		stop()
		cancel(context.Canceled)
	}
}

// isConflict reports whether EventStoreDB refused an append because the
// stream was not at the revision it was told to expect.
func isConflict(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == esdb.ErrorCodeWrongExpectedVersion
}

// isNotFound reports whether EventStoreDB answered a read of a stream that
// has no event.
func isNotFound(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == esdb.ErrorCodeResourceNotFound
}
