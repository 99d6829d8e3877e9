package esdb

import (
	"errors"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/whitecross/whitecross/eventstore"
)

func TestConfig(t *testing.T) {
	t.Run("zero value gets defaults", func(t *testing.T) {
		c := Config{}.withDefaults()
		if c.IdempotencyWindow != 100 || c.AppendRetries != 10 ||
			c.SubscriptionBuffer != 256 || c.PageSize != 1000 || c.ClientLogger == nil {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("set values are kept", func(t *testing.T) {
		c := Config{IdempotencyWindow: 5, AppendRetries: 1, PageSize: 7}.withDefaults()
		if c.IdempotencyWindow != 5 || c.AppendRetries != 1 || c.PageSize != 7 {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("negative values are refused", func(t *testing.T) {
		err := Config{PageSize: -1}.Validate()
		if err == nil || !strings.Contains(err.Error(), "PageSize") {
			t.Fatalf("got %v, want an error naming PageSize", err)
		}
		if err := (Config{}).Validate(); err != nil {
			t.Fatalf("zero value: %v", err)
		}
	})
}

func TestParseURL(t *testing.T) {
	conf, err := parseURL("esdb://localhost:2113?tls=false")
	if err != nil || conf.Address != "localhost:2113" || !conf.DisableTLS {
		t.Fatalf("got %+v, %v", conf, err)
	}
	_, err = parseURL("esdb://admin:s3cret@localhost:2113/%zz")
	if err == nil {
		t.Fatal("a malformed connection string was accepted")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error %q shows the password", err)
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	_, err := Open(t.Context(), "esdb://localhost:2113?tls=false", Config{AppendRetries: -1})
	if err == nil || !strings.Contains(err.Error(), "AppendRetries") {
		t.Fatalf("got %v, want an error naming AppendRetries", err)
	}
}

func TestClosedStore(t *testing.T) {
	// A store whose client never connected: Close needs no server.
	client, err := esdb.NewClient(&esdb.Configuration{Address: "localhost:1", DisableTLS: true,
		Logger: esdb.NoopLogging()})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	s := &Store{client: client, cfg: Config{}.withDefaults()}
	s.ctx, s.cancel = t.Context(), func() {}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close again: %v", err)
	}

	_, err = s.Append(t.Context(), "student-1", eventstore.Any,
		eventstore.EventData{Type: "T", Data: []byte(`{}`)})
	checkClosed(t, "append", err)
	_, err = s.ReadStream(t.Context(), "student-1", eventstore.ReadOptions{})
	checkClosed(t, "read stream", err)
	_, err = s.ReadAll(t.Context(), 0, 10)
	checkClosed(t, "read all", err)
	_, err = s.LastPosition(t.Context())
	checkClosed(t, "last position", err)
	_, err = s.Subscribe(t.Context(), 0)
	checkClosed(t, "subscribe", err)
}

func checkClosed(t *testing.T, op string, err error) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("%s after close: got %v, want %v", op, err, eventstore.ErrClosed)
	}
}
