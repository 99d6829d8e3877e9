package postgres_test

import (
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/eventstore/storetest"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// openLog opens a Log on db as the service's role, closed when t ends.
func openLog(t *testing.T, db *pgtest.DB) *postgres.Log {
	t.Helper()
	l := postgres.New(db.AppPool(t), postgres.Config{
		OnError: func(op string, err error) { t.Logf("%s: %v", op, err) },
	})
	t.Cleanup(func() { l.Close() })
	return l
}

func TestContract(t *testing.T) {
	db := pgtest.New(t)
	storetest.Run(t, func(t *testing.T) eventstore.Store { return openLog(t, db) },
		storetest.Features{ContiguousPositions: true, UniqueIDsAcrossStreams: true})
}
