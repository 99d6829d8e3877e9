package esdb_test

import (
	"os"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/esdb"
	"github.com/whitecross/whitecross/eventstore/storetest"
)

// TestContract runs the contract suite against the EventStoreDB that
// WHITECROSS_TEST_ESDB_URL names. Tests share its log and use fresh stream
// names.
func TestContract(t *testing.T) {
	url := os.Getenv("WHITECROSS_TEST_ESDB_URL")
	if url == "" {
		t.Skip("WHITECROSS_TEST_ESDB_URL is not set, so the EventStoreDB contract suite " +
			"does not run: start a server with `docker compose up -d eventstore` " +
			"and run `make esdb-test`")
	}
	open := func(t *testing.T) eventstore.Store {
		s, err := esdb.Open(t.Context(), url, esdb.Config{})
		if err != nil {
			t.Fatalf("open the EventStoreDB at WHITECROSS_TEST_ESDB_URL: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	storetest.Run(t, open, storetest.Features{
		ContiguousPositions:    false,
		UniqueIDsAcrossStreams: false,
	})
}
