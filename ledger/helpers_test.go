package ledger_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/note"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/ledger"
)

// fixture is a fresh database with a log, the service's pool on it and a
// signing key.
type fixture struct {
	db     *pgtest.DB
	pool   *pgxpool.Pool
	log    *postgres.Log
	signer note.Signer
	vkey   string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := pgtest.New(t)
	pool := db.AppPool(t)
	l := postgres.New(pool, postgres.Config{})
	t.Cleanup(func() { l.Close() })
	skey, vkey, err := ledger.GenerateKey("test.example/whitecross")
	if err != nil {
		t.Fatal(err)
	}
	signer, derived, err := ledger.ParseSignerKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	if derived != vkey {
		t.Fatalf("verifier key derived from the signer key: got %q, want %q", derived, vkey)
	}
	return &fixture{db: db, pool: pool, log: l, signer: signer, vkey: vkey}
}

func (fx *fixture) verifier(t *testing.T) note.Verifier {
	t.Helper()
	v, err := ledger.ParseVerifierKey(fx.vkey)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// appendN appends n events spread over streams, one append each.
func (fx *fixture) appendN(t *testing.T, n, streams int) {
	t.Helper()
	for i := range n {
		_, err := fx.log.Append(t.Context(), fmt.Sprintf("student-%d", i%streams),
			eventstore.Any, eventstore.EventData{
				Type: "Tested", Data: fmt.Appendf(nil, `{"i":%d}`, i),
			})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (fx *fixture) sealer(t testing.TB, cfg ledger.SealerConfig) *ledger.Sealer {
	t.Helper()
	s, err := ledger.NewSealer(fx.log, fx.pool, fx.signer, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// changeType changes the type of the event at position behind the log's
// triggers, as a superuser bent on rewriting history would.
func (fx *fixture) changeType(t *testing.T, position int) {
	t.Helper()
	_, err := fx.db.AdminPool(t).Exec(t.Context(), fmt.Sprintf(`
		ALTER TABLE events DISABLE TRIGGER USER;
		UPDATE events SET type = 'Texted' WHERE position = %d;
		ALTER TABLE events ENABLE TRIGGER USER`, position))
	if err != nil {
		t.Fatal(err)
	}
}
