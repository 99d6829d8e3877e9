package ledger_test

import (
	"context"
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/internal/benchlog"
	"github.com/whitecross/whitecross/ledger"
)

const sealLogSize = 200_000

// seed fills the fixture's log with n events, vacuumed as a log at rest.
func (fx *fixture) seed(b *testing.B, n int) {
	benchlog.Seed(b, fx.log, n, "7c9e6679-7425-40de-944b-e07fc1f90ae7")
	if _, err := fx.db.AdminPool(b).Exec(context.Background(), "VACUUM (ANALYZE) events"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSeal seals a log of 200,000 events into an empty tree and
// signs its checkpoint ("seal"), beside SHA-256 of the bytes sealing
// hashes, already in memory: each event's salted data and envelope, its
// leaf, and the tree's interior nodes ("sha256").
func BenchmarkSeal(b *testing.B) {
	b.Run("seal", func(b *testing.B) {
		var sealed int64
		for range b.N {
			b.StopTimer()
			fx := newFixture(b)
			fx.seed(b, sealLogSize)
			s := fx.sealer(b, ledger.SealerConfig{})
			b.StartTimer()
			c, err := s.Checkpoint(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			sealed += c.Size
		}
		b.ReportMetric(float64(sealed)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("sha256", func(b *testing.B) {
		fx := newFixture(b)
		fx.seed(b, sealLogSize)
		msgs := sealedBytes(b, fx)
		b.ResetTimer()
		var hashed int
		for b.Loop() {
			for _, m := range msgs {
				sha256.Sum256(m)
			}
			// A tree of n leaves has n-1 interior nodes of 65 bytes each.
			var node [65]byte
			for range len(msgs)/3 - 1 {
				sha256.Sum256(node[:])
			}
			hashed += len(msgs) / 3
		}
		b.ReportMetric(float64(hashed)/b.Elapsed().Seconds(), "events/s")
	})
}

// sealedBytes returns, for each event of the log, the three messages
// sealing hashes: the salted data, the envelope and the leaf.
func sealedBytes(b *testing.B, fx *fixture) [][]byte {
	var msgs [][]byte
	for from := uint64(1); ; {
		evs, err := fx.log.ReadAll(context.Background(), from, 5000)
		if err != nil {
			b.Fatal(err)
		}
		for i := range evs {
			e := &evs[i]
			msgs = append(msgs, slices.Concat([]byte("whitecross/event-data/v1\x00"), e.DataSalt, e.Data),
				eventstore.AppendEnvelope(nil, e), append([]byte{0}, e.Hash[:]...))
		}
		if len(evs) < 5000 {
			return msgs
		}
		from = evs[len(evs)-1].Position + 1
	}
}
